package apikey

import (
	"context"
	"sync"
	"time"

	"github.com/ssod/ssod"
)

// Finder looks keys up by ID; ssod.KeyStore is one.
type Finder interface {
	FindKey(ctx context.Context, id string) (*ssod.APIKey, error)
}

// Cache remembers keys found in the store for a short time, so that a
// request does not pay a database round trip to learn who sent it. Only keys
// that exist are cached: random IDs sent by an attacker cannot fill it. A
// revocation takes effect within the TTL, on every instance.
//
// Only a success is answered from the cache. A wrong secret asks the store,
// as an unknown id does, so that a refusal takes about as long whether the
// id exists or not (BenchmarkAuthenticationFailure in httpapi measures it).
type Cache struct {
	finder Finder
	ttl    time.Duration
	max    int
	now    func() time.Time

	mu      sync.Mutex
	entries map[string]cacheEntry
}

type cacheEntry struct {
	key     *ssod.APIKey
	expires time.Time
}

// ErrWrongSecret is what FindVerified answers for a key id that exists
// with another secret.
var ErrWrongSecret = ssod.Errorf(ssod.EUnauthorized, "wrong secret")

// NewCache returns a cache of at most max keys, each trusted for ttl; a ttl
// of 0 asks the store every time.
func NewCache(f Finder, ttl time.Duration, max int, now func() time.Time) *Cache {
	return &Cache{finder: f, ttl: ttl, max: max, now: now, entries: map[string]cacheEntry{}}
}

// FindVerified returns the key with id when secret is its secret: from the
// cache while fresh, else from the store. It returns the store's ENotFound
// for an unknown id and ErrWrongSecret for a known one with another secret.
// Callers must treat the result as read-only: it is shared.
func (c *Cache) FindVerified(ctx context.Context, id, secret string) (*ssod.APIKey, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[id]
	c.mu.Unlock()
	if ok && now.Before(e.expires) && Verify(secret, e.key.SecretHash) {
		return e.key, nil
	}
	key, err := c.finder.FindKey(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.ttl > 0 {
		c.mu.Lock()
		if len(c.entries) >= c.max {
			clear(c.entries) // rare: more live keys than the cache holds
		}
		c.entries[id] = cacheEntry{key: key, expires: now.Add(c.ttl)}
		c.mu.Unlock()
	}
	if !Verify(secret, key.SecretHash) {
		return nil, ErrWrongSecret
	}
	return key, nil
}

// Forget empties the cache, so that every key is looked up again (test
// mode's reset).
func (c *Cache) Forget() {
	c.mu.Lock()
	clear(c.entries)
	c.mu.Unlock()
}

package apikey

import (
	"context"
	"testing"
	"time"

	"github.com/ssod/ssod"
)

type countingFinder struct {
	keys  map[string]*ssod.APIKey
	calls int
}

func (f *countingFinder) FindKey(_ context.Context, id string) (*ssod.APIKey, error) {
	f.calls++
	if k, ok := f.keys[id]; ok {
		copied := *k
		return &copied, nil
	}
	return nil, ssod.Errorf(ssod.ENotFound, "no key")
}

func TestCacheServesFreshKeysAndRefetchesStale(t *testing.T) {
	now := time.Unix(1000, 0)
	f := &countingFinder{keys: map[string]*ssod.APIKey{"a": {ID: "a"}, "b": {ID: "b"}}}
	c := NewCache(f, 5*time.Second, 2, func() time.Time { return now })
	ctx := context.Background()
	for range 3 {
		if k, err := c.FindKey(ctx, "a"); err != nil || k.ID != "a" {
			t.Fatalf("FindKey(a) = %v, %v", k, err)
		}
	}
	if f.calls != 1 {
		t.Fatalf("%d store lookups for one fresh key, want 1", f.calls)
	}
	f.keys["a"].RevokedAt = 99
	now = now.Add(5 * time.Second)
	if k, _ := c.FindKey(ctx, "a"); k.RevokedAt != 99 || f.calls != 2 {
		t.Fatalf("stale entry served after the TTL: %+v, %d calls", k, f.calls)
	}
	for range 3 {
		if _, err := c.FindKey(ctx, "unknown"); ssod.CodeOf(err) != ssod.ENotFound {
			t.Fatalf("unknown key: %v", err)
		}
	}
	if f.calls != 5 || len(c.entries) != 1 {
		t.Fatalf("unknown keys were cached: %d calls, %d entries", f.calls, len(c.entries))
	}
	c.FindKey(ctx, "b")
	c.FindKey(ctx, "a") // over max: the cache starts over rather than grow
	if len(c.entries) > 2 {
		t.Fatalf("cache grew to %d entries, max 2", len(c.entries))
	}
}

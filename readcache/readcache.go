// Package readcache serves certificate reads from memory. Every write that
// can change a cached certificate drops it before the write's answer goes
// out, so a read after a write never sees the old value.
//
// With New, every write must pass through this process, which is how SQLite
// is run: one `ssod serve` owns the database file. With NewCoherent, other
// processes write too (PostgreSQL): the store itself tells them of this
// process's changes, with the commit (postgres.Coherence), and passes theirs
// to Invalidate.
package readcache

import (
	"context"
	"sync"
	"time"

	"github.com/ssod/ssod"
)

// Coherence says whether this process hears of every other process's
// writes, which it passes to Invalidate. The store this cache wraps tells
// the other processes of this one's writes before it returns.
type Coherence interface {
	// Valid reports whether the cache may answer reads now. While it is
	// false, reads go to the store and nothing is cached.
	Valid() bool
}

// Store is an ssod.Store that caches GetCertificate.
type Store struct {
	ssod.Store
	max int
	coh Coherence // nil when this process sees every write
	// maxAge bounds how long a copy is trusted (0: for ever), should a
	// change ever fail to reach this process.
	maxAge time.Duration

	mu sync.Mutex
	// gen counts invalidations. A read that missed fills the cache only if
	// no invalidation happened while it read the store, so a value read
	// before a concurrent write can never be cached after it.
	gen   uint64
	certs map[int64]entry
}

type entry struct {
	ssod.Certificate
	at time.Time // when it was read from the store
}

// New wraps s, keeping at most max certificates in memory. Every write to
// s must go through the returned Store.
func New(s ssod.Store, max int) *Store {
	return &Store{Store: s, max: max, certs: map[int64]entry{}}
}

// NewCoherent wraps s, a store other processes write too, keeping at most
// max certificates in memory for at most maxAge each; c keeps them current.
// The caller passes Invalidate to whatever tells c of other processes'
// writes.
func NewCoherent(s ssod.Store, max int, maxAge time.Duration, c Coherence) *Store {
	return &Store{Store: s, max: max, coh: c, maxAge: maxAge, certs: map[int64]entry{}}
}

// GetCertificate implements ssod.CertificateStore.
func (s *Store) GetCertificate(ctx context.Context, accountID, id int64) (*ssod.Certificate, error) {
	if s.coh != nil && !s.coh.Valid() {
		return s.Store.GetCertificate(ctx, accountID, id)
	}
	var now time.Time
	if s.maxAge > 0 {
		now = time.Now()
	}
	s.mu.Lock()
	e, ok := s.certs[id]
	gen := s.gen
	s.mu.Unlock()
	if ok && e.AccountID == accountID && (s.maxAge == 0 || now.Sub(e.at) < s.maxAge) {
		c := e.Certificate
		return &c, nil
	}
	// A miss, or another account's certificate: the store answers, so a
	// foreign id reads exactly as a missing one.
	got, err := s.Store.GetCertificate(ctx, accountID, id)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.gen == gen {
		if len(s.certs) >= s.max {
			clear(s.certs) // rare: more hot certificates than the cache holds
		}
		s.certs[id] = entry{*got, now}
	}
	s.mu.Unlock()
	return got, nil
}

// Invalidate drops the given certificates, or all of them when ids is nil.
func (s *Store) Invalidate(ids ...int64) {
	s.mu.Lock()
	s.gen++
	if ids == nil {
		clear(s.certs)
	}
	for _, id := range ids {
		delete(s.certs, id)
	}
	s.mu.Unlock()
}

// UpdateCertificate implements ssod.CertificateStore. The copy is dropped
// whatever the outcome: a failed write may still have committed.
func (s *Store) UpdateCertificate(ctx context.Context, accountID, id int64, u ssod.CertificateUpdate) (*ssod.Certificate, error) {
	c, err := s.Store.UpdateCertificate(ctx, accountID, id, u)
	s.Invalidate(id)
	return result(c, err)
}

// DeleteCertificate implements ssod.CertificateStore.
func (s *Store) DeleteCertificate(ctx context.Context, accountID, id int64) (*ssod.Certificate, error) {
	c, err := s.Store.DeleteCertificate(ctx, accountID, id)
	s.Invalidate(id)
	return result(c, err)
}

// DeleteIntegration implements ssod.IntegrationStore; its certificates go
// with it, so the whole cache is dropped (integration deletes are rare).
func (s *Store) DeleteIntegration(ctx context.Context, accountID int64, id string) error {
	err := s.Store.DeleteIntegration(ctx, accountID, id)
	s.Invalidate()
	return err
}

// Import implements ssod.Importer.
func (s *Store) Import(ctx context.Context, snap *ssod.Snapshot) error {
	err := s.Store.Import(ctx, snap)
	s.Invalidate()
	return err
}

func result(c *ssod.Certificate, err error) (*ssod.Certificate, error) {
	if err != nil {
		return nil, err
	}
	return c, nil
}

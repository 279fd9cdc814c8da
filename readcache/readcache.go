// Package readcache serves certificate reads from memory for a store whose
// every write passes through this process, which is how SQLite is run: one
// `ssod serve` owns the database file. Every write that can change a cached
// certificate drops it before the write's answer goes out, so a read after
// a write never sees the old value. PostgreSQL deployments run several
// instances whose writes this process does not see, so they do not use it.
package readcache

import (
	"context"
	"sync"

	"github.com/ssod/ssod"
)

// Store is an ssod.Store that caches GetCertificate.
type Store struct {
	ssod.Store
	max int

	mu sync.Mutex
	// gen counts invalidations. A read that missed fills the cache only if
	// no invalidation happened while it read the store, so a value read
	// before a concurrent write can never be cached after it.
	gen   uint64
	certs map[int64]ssod.Certificate
}

// New wraps s, keeping at most max certificates in memory.
func New(s ssod.Store, max int) *Store {
	return &Store{Store: s, max: max, certs: map[int64]ssod.Certificate{}}
}

// GetCertificate implements ssod.CertificateStore.
func (s *Store) GetCertificate(ctx context.Context, accountID, id int64) (*ssod.Certificate, error) {
	s.mu.Lock()
	c, ok := s.certs[id]
	gen := s.gen
	s.mu.Unlock()
	if ok && c.AccountID == accountID {
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
		s.certs[id] = *got
	}
	s.mu.Unlock()
	return got, nil
}

// invalidate drops the given certificates, or all of them when ids is nil.
func (s *Store) invalidate(ids ...int64) {
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

// UpdateCertificate implements ssod.CertificateStore.
func (s *Store) UpdateCertificate(ctx context.Context, accountID, id int64, u ssod.CertificateUpdate) (*ssod.Certificate, error) {
	defer s.invalidate(id)
	return s.Store.UpdateCertificate(ctx, accountID, id, u)
}

// DeleteCertificate implements ssod.CertificateStore.
func (s *Store) DeleteCertificate(ctx context.Context, accountID, id int64) (*ssod.Certificate, error) {
	defer s.invalidate(id)
	return s.Store.DeleteCertificate(ctx, accountID, id)
}

// DeleteIntegration implements ssod.IntegrationStore; its certificates go
// with it, so the whole cache is dropped (integration deletes are rare).
func (s *Store) DeleteIntegration(ctx context.Context, accountID int64, id string) error {
	defer s.invalidate()
	return s.Store.DeleteIntegration(ctx, accountID, id)
}

// Import implements ssod.Importer.
func (s *Store) Import(ctx context.Context, snap *ssod.Snapshot) error {
	defer s.invalidate()
	return s.Store.Import(ctx, snap)
}

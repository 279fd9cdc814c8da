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

var _ ssod.Store = (*Store)(nil)

// Store is an ssod.Store that caches GetCertificate. It lists every method
// of ssod.Store rather than embedding one, so that a method added there
// cannot reach the store without being judged here: does it change
// certificates, and so drop copies?
type Store struct {
	store ssod.Store
	max   int
	coh   Coherence // nil when this process sees every write
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
	return &Store{store: s, max: max, certs: map[int64]entry{}}
}

// NewCoherent wraps s, a store other processes write too, keeping at most
// max certificates in memory for at most maxAge each; c keeps them current.
// The caller passes Invalidate to whatever tells c of other processes'
// writes.
func NewCoherent(s ssod.Store, max int, maxAge time.Duration, c Coherence) *Store {
	return &Store{store: s, max: max, coh: c, maxAge: maxAge, certs: map[int64]entry{}}
}

// GetCertificate implements ssod.CertificateStore.
func (s *Store) GetCertificate(ctx context.Context, accountID, id int64) (*ssod.Certificate, error) {
	if s.coh != nil && !s.coh.Valid() {
		return s.store.GetCertificate(ctx, accountID, id)
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
	got, err := s.store.GetCertificate(ctx, accountID, id)
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
	c, err := s.store.UpdateCertificate(ctx, accountID, id, u)
	s.Invalidate(id)
	return result(c, err)
}

// DeleteCertificate implements ssod.CertificateStore.
func (s *Store) DeleteCertificate(ctx context.Context, accountID, id int64) (*ssod.Certificate, error) {
	c, err := s.store.DeleteCertificate(ctx, accountID, id)
	s.Invalidate(id)
	return result(c, err)
}

// DeleteIntegration implements ssod.IntegrationStore; its certificates go
// with it, so the whole cache is dropped (integration deletes are rare).
func (s *Store) DeleteIntegration(ctx context.Context, accountID int64, id string) error {
	err := s.store.DeleteIntegration(ctx, accountID, id)
	s.Invalidate()
	return err
}

// Import implements ssod.Importer.
func (s *Store) Import(ctx context.Context, snap *ssod.Snapshot) error {
	err := s.store.Import(ctx, snap)
	s.Invalidate()
	return err
}

// ResetTo implements ssod.Resetter: every certificate may change.
func (s *Store) ResetTo(ctx context.Context, sd *ssod.Seed, now int64) error {
	err := s.store.ResetTo(ctx, sd, now)
	s.Invalidate()
	return err
}

// ApplySeed implements ssod.Seeder. It only adds certificates, or finds
// them as they are, so no copy can be stale; it passes straight through.
func (s *Store) ApplySeed(ctx context.Context, sd *ssod.Seed, now int64) error {
	return s.store.ApplySeed(ctx, sd, now)
}

func result(c *ssod.Certificate, err error) (*ssod.Certificate, error) {
	if err != nil {
		return nil, err
	}
	return c, nil
}

// The methods below change no certificate, or only add one (no copy of a
// new certificate exists), so they pass straight through.

// CreateCertificate implements ssod.CertificateStore.
func (s *Store) CreateCertificate(ctx context.Context, accountID int64, u ssod.CertificateUpdate) (*ssod.Certificate, error) {
	return s.store.CreateCertificate(ctx, accountID, u)
}

// ListCertificates implements ssod.CertificateStore; lists are not cached.
func (s *Store) ListCertificates(ctx context.Context, accountID int64, integrationID string) ([]ssod.Certificate, error) {
	return s.store.ListCertificates(ctx, accountID, integrationID)
}

// ListCertificateWindows passes through: caching it would need invalidation
// on every certificate and integration write, for one read per list request.
func (s *Store) ListCertificateWindows(ctx context.Context, accountID int64) ([]ssod.Certificate, error) {
	return s.store.ListCertificateWindows(ctx, accountID)
}

// ListIntegrationWindows passes through, for the reason
// ListCertificateWindows does.
func (s *Store) ListIntegrationWindows(ctx context.Context, accountID int64) ([]ssod.IntegrationWindows, error) {
	return s.store.ListIntegrationWindows(ctx, accountID)
}

// CreateIntegration implements ssod.IntegrationStore.
func (s *Store) CreateIntegration(ctx context.Context, accountID int64, u ssod.IntegrationUpdate, now int64) (*ssod.Integration, error) {
	return s.store.CreateIntegration(ctx, accountID, u, now)
}

// ListIntegrations implements ssod.IntegrationStore.
func (s *Store) ListIntegrations(ctx context.Context, accountID int64) ([]ssod.Integration, error) {
	return s.store.ListIntegrations(ctx, accountID)
}

// GetIntegration implements ssod.IntegrationStore.
func (s *Store) GetIntegration(ctx context.Context, accountID int64, id string) (*ssod.Integration, error) {
	return s.store.GetIntegration(ctx, accountID, id)
}

// UpdateIntegration implements ssod.IntegrationStore; a certificate holds
// nothing of its integration but the id, which an update cannot change.
func (s *Store) UpdateIntegration(ctx context.Context, accountID int64, id string, u ssod.IntegrationUpdate, now int64) (*ssod.Integration, error) {
	return s.store.UpdateIntegration(ctx, accountID, id, u, now)
}

// CreateAccount implements ssod.AccountStore.
func (s *Store) CreateAccount(ctx context.Context, name string, parentID int64, now int64) (*ssod.Account, error) {
	return s.store.CreateAccount(ctx, name, parentID, now)
}

// FindAccountByName implements ssod.AccountStore.
func (s *Store) FindAccountByName(ctx context.Context, name string) (*ssod.Account, error) {
	return s.store.FindAccountByName(ctx, name)
}

// ListAccounts implements ssod.AccountStore.
func (s *Store) ListAccounts(ctx context.Context) ([]ssod.Account, error) {
	return s.store.ListAccounts(ctx)
}

// HasAccounts implements ssod.AccountStore.
func (s *Store) HasAccounts(ctx context.Context) (bool, error) {
	return s.store.HasAccounts(ctx)
}

// CreateKey implements ssod.KeyStore.
func (s *Store) CreateKey(ctx context.Context, k ssod.APIKey) error {
	return s.store.CreateKey(ctx, k)
}

// FindKey implements ssod.KeyStore.
func (s *Store) FindKey(ctx context.Context, id string) (*ssod.APIKey, error) {
	return s.store.FindKey(ctx, id)
}

// ListKeys implements ssod.KeyStore.
func (s *Store) ListKeys(ctx context.Context, accountID int64) ([]ssod.APIKey, error) {
	return s.store.ListKeys(ctx, accountID)
}

// RevokeKey implements ssod.KeyStore.
func (s *Store) RevokeKey(ctx context.Context, id string, now int64) error {
	return s.store.RevokeKey(ctx, id, now)
}

// ListAuditEvents implements ssod.AuditStore.
func (s *Store) ListAuditEvents(ctx context.Context, accountID int64, limit int) ([]ssod.AuditEvent, error) {
	return s.store.ListAuditEvents(ctx, accountID, limit)
}

// FindIntegration implements ssod.SignInStore; integrations are not cached.
func (s *Store) FindIntegration(ctx context.Context, id string) (*ssod.Integration, error) {
	return s.store.FindIntegration(ctx, id)
}

// SaveAuthnRequest implements ssod.SignInStore.
func (s *Store) SaveAuthnRequest(ctx context.Context, integrationID, requestID string, expiresAt int64) error {
	return s.store.SaveAuthnRequest(ctx, integrationID, requestID, expiresAt)
}

// UseAuthnRequest implements ssod.SignInStore. One-time use is decided by
// the database, never by a copy in memory, so that it holds across
// instances.
func (s *Store) UseAuthnRequest(ctx context.Context, integrationID, requestID string, now int64) (bool, error) {
	return s.store.UseAuthnRequest(ctx, integrationID, requestID, now)
}

// UseAssertion implements ssod.SignInStore, in the database for the same
// reason.
func (s *Store) UseAssertion(ctx context.Context, integrationID, assertionID string, expiresAt, now int64) (bool, error) {
	return s.store.UseAssertion(ctx, integrationID, assertionID, expiresAt, now)
}

// AddLoginTrace implements ssod.SignInStore.
func (s *Store) AddLoginTrace(ctx context.Context, t ssod.LoginTrace) (*ssod.LoginTrace, error) {
	return s.store.AddLoginTrace(ctx, t)
}

// ListLoginTraces implements ssod.SignInStore; traces are not cached.
func (s *Store) ListLoginTraces(ctx context.Context, accountID int64, integrationID string, limit int) ([]ssod.LoginTrace, error) {
	return s.store.ListLoginTraces(ctx, accountID, integrationID, limit)
}

// Export implements ssod.Exporter.
func (s *Store) Export(ctx context.Context) (*ssod.Snapshot, error) {
	return s.store.Export(ctx)
}

// Ping implements ssod.Store.
func (s *Store) Ping(ctx context.Context) error {
	return s.store.Ping(ctx)
}

// Close implements ssod.Store.
func (s *Store) Close() error {
	return s.store.Close()
}

// Teammates are not cached, and no teammate write changes a certificate:
// every teammate method passes straight through.

// CreateTeammate implements ssod.TeammateStore.
func (s *Store) CreateTeammate(ctx context.Context, t ssod.Teammate, now int64) (*ssod.Teammate, error) {
	return s.store.CreateTeammate(ctx, t, now)
}

// GetTeammate implements ssod.TeammateStore.
func (s *Store) GetTeammate(ctx context.Context, accountID int64, username string) (*ssod.Teammate, error) {
	return s.store.GetTeammate(ctx, accountID, username)
}

// ListTeammates implements ssod.TeammateStore.
func (s *Store) ListTeammates(ctx context.Context, accountID int64, limit, offset int) ([]ssod.Teammate, error) {
	return s.store.ListTeammates(ctx, accountID, limit, offset)
}

// UpdateTeammate implements ssod.TeammateStore.
func (s *Store) UpdateTeammate(ctx context.Context, accountID int64, username string, u ssod.TeammateUpdate, now int64) (*ssod.Teammate, error) {
	return s.store.UpdateTeammate(ctx, accountID, username, u, now)
}

// DeleteTeammate implements ssod.TeammateStore.
func (s *Store) DeleteTeammate(ctx context.Context, accountID int64, username string) error {
	return s.store.DeleteTeammate(ctx, accountID, username)
}

// ProvisionTeammate implements ssod.TeammateStore.
func (s *Store) ProvisionTeammate(ctx context.Context, t ssod.Teammate, now int64) (*ssod.Teammate, bool, error) {
	return s.store.ProvisionTeammate(ctx, t, now)
}

// Expiry webhooks and their outbox are not cached, and none of their writes
// changes a certificate: every method passes straight through.

// PutExpiryWebhook implements ssod.ExpiryWebhookStore.
func (s *Store) PutExpiryWebhook(ctx context.Context, accountID int64, url string, enabled bool, key ssod.SigningKey) (*ssod.ExpiryWebhook, error) {
	return s.store.PutExpiryWebhook(ctx, accountID, url, enabled, key)
}

// GetExpiryWebhook implements ssod.ExpiryWebhookStore.
func (s *Store) GetExpiryWebhook(ctx context.Context, accountID int64) (*ssod.ExpiryWebhook, error) {
	return s.store.GetExpiryWebhook(ctx, accountID)
}

// DeleteExpiryWebhook implements ssod.ExpiryWebhookStore.
func (s *Store) DeleteExpiryWebhook(ctx context.Context, accountID int64) error {
	return s.store.DeleteExpiryWebhook(ctx, accountID)
}

// ListExpiryWatches implements ssod.ExpiryWebhookStore.
func (s *Store) ListExpiryWatches(ctx context.Context) ([]ssod.ExpiryWatch, error) {
	return s.store.ListExpiryWatches(ctx)
}

// QueueExpiryEvent implements ssod.ExpiryWebhookStore.
func (s *Store) QueueExpiryEvent(ctx context.Context, ev ssod.ExpiryEvent) (bool, error) {
	return s.store.QueueExpiryEvent(ctx, ev)
}

// ClaimExpiryEvent implements ssod.ExpiryWebhookStore.
func (s *Store) ClaimExpiryEvent(ctx context.Context, now, leaseUntil int64, token string) (*ssod.ExpiryClaim, error) {
	return s.store.ClaimExpiryEvent(ctx, now, leaseUntil, token)
}

// FinishExpiryEvent implements ssod.ExpiryWebhookStore.
func (s *Store) FinishExpiryEvent(ctx context.Context, id int64, token string, a ssod.ExpiryAttempt) (bool, error) {
	return s.store.FinishExpiryEvent(ctx, id, token, a)
}

// ListExpiryEvents implements ssod.ExpiryWebhookStore.
func (s *Store) ListExpiryEvents(ctx context.Context, accountID int64) ([]ssod.ExpiryEvent, error) {
	return s.store.ListExpiryEvents(ctx, accountID)
}

// ImportMetadata implements ssod.MetadataStore. It may disable any of the
// integration's certificates, so the whole cache is dropped (imports are
// rare: a request, or one scheduled refresh per integration in hours).
func (s *Store) ImportMetadata(ctx context.Context, accountID int64, id string, m ssod.MetadataImport, now int64) (*ssod.Integration, error) {
	in, err := s.store.ImportMetadata(ctx, accountID, id, m, now)
	s.Invalidate()
	return in, err
}

// RecordMetadataFailure implements ssod.MetadataStore; it changes no
// certificate.
func (s *Store) RecordMetadataFailure(ctx context.Context, accountID int64, id, message string) error {
	return s.store.RecordMetadataFailure(ctx, accountID, id, message)
}

// ClaimMetadataRefreshes implements ssod.MetadataStore; it changes no
// certificate.
func (s *Store) ClaimMetadataRefreshes(ctx context.Context, due, now int64, limit int) ([]ssod.Integration, error) {
	return s.store.ClaimMetadataRefreshes(ctx, due, now, limit)
}

// The console's sessions and sign-ins touch no certificate: passed through.

// CreateConsoleSession implements ssod.ConsoleStore.
func (s *Store) CreateConsoleSession(ctx context.Context, cs ssod.ConsoleSession) error {
	return s.store.CreateConsoleSession(ctx, cs)
}

// GetConsoleSession implements ssod.ConsoleStore.
func (s *Store) GetConsoleSession(ctx context.Context, tokenHash string) (*ssod.ConsoleSession, error) {
	return s.store.GetConsoleSession(ctx, tokenHash)
}

// TouchConsoleSession implements ssod.ConsoleStore.
func (s *Store) TouchConsoleSession(ctx context.Context, tokenHash string, now int64) error {
	return s.store.TouchConsoleSession(ctx, tokenHash, now)
}

// DeleteConsoleSession implements ssod.ConsoleStore.
func (s *Store) DeleteConsoleSession(ctx context.Context, tokenHash string) error {
	return s.store.DeleteConsoleSession(ctx, tokenHash)
}

// SaveConsoleSignIn implements ssod.ConsoleStore.
func (s *Store) SaveConsoleSignIn(ctx context.Context, p ssod.ConsoleSignIn) error {
	return s.store.SaveConsoleSignIn(ctx, p)
}

// VerifyConsoleSignIn implements ssod.ConsoleStore.
func (s *Store) VerifyConsoleSignIn(ctx context.Context, stateHash, integrationID, username string, now int64) (bool, error) {
	return s.store.VerifyConsoleSignIn(ctx, stateHash, integrationID, username, now)
}

// TakeConsoleSignIn implements ssod.ConsoleStore.
func (s *Store) TakeConsoleSignIn(ctx context.Context, stateHash string, now int64) (*ssod.ConsoleSignIn, error) {
	return s.store.TakeConsoleSignIn(ctx, stateHash, now)
}

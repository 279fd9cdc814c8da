// Package storetest is the contract test suite of ssod.Store, written once and
// run against every implementation, so that the SQLite and PostgreSQL stores
// cannot drift apart in what they promise: error codes, ordering, account
// isolation, cascades and behaviour under concurrent use.
//
// A store's own tests call Run:
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) ssod.Store { return openEmptyStore(t) })
//	}
//
// The suite stores opaque stand-ins for certificates: a store keeps PEM text
// as given and never parses it.
package storetest

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/ssod/ssod"
)

// Run runs the contract suite against fresh stores made by newStore. Each
// subtest calls newStore once and gets an empty, migrated store; newStore
// arranges for the store to be closed, typically with t.Cleanup. Subtests run
// in parallel, which overlaps their waits for the disk and shows that
// separate stores share no state, so newStore must be safe to call
// concurrently.
func Run(t *testing.T, newStore func(t *testing.T) ssod.Store) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"Accounts", accountTests},
		{"Keys", keyTests},
		{"Integrations", integrationTests},
		{"Certificates", certificateTests},
		{"Concurrency", concurrencyTests},
		{"Cancel", cancelTests},
		{"Limits", limitTests},
		{"Audit", auditTests},
		{"Snapshot", snapshotTests},
		{"SignIn", signInTests},
		{"Teammates", teammateTests},
		{"Seed", seedTests},
		{"Expiry", expiryTests},
		{"ExpiryWebhook", expiryWebhookTests},
		{"Metadata", metadataTests},
		{"Console", consoleTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.run(newEnv(t, newStore))
				})
			}
		})
	}
}

// test is one contract subtest.
type test struct {
	name string
	run  func(e *env)
}

// now is the clock the suite passes to stores; stores take time as an
// argument, so tests choose it.
const now int64 = 1_700_000_000

// env is a fresh store holding two unrelated accounts, the cast of every
// isolation check: alice owns things, bob must not reach them.
type env struct {
	t          *testing.T
	newStore   func(t *testing.T) ssod.Store // for tests that need a second store
	ctx        context.Context
	s          ssod.Store
	alice, bob *ssod.Account
}

func newEnv(t *testing.T, newStore func(t *testing.T) ssod.Store) *env {
	e := &env{t: t, ctx: t.Context(), s: newStore(t), newStore: newStore}
	e.alice = e.account("alice", 0)
	e.bob = e.account("bob", 0)
	return e
}

// account creates an account or stops the test.
func (e *env) account(name string, parentID int64) *ssod.Account {
	e.t.Helper()
	a, err := e.s.CreateAccount(e.ctx, name, parentID, now)
	if err != nil {
		e.t.Fatalf("CreateAccount(%q): %v", name, err)
	}
	return a
}

// integrationUpdate is a valid create request for an integration called name.
func integrationUpdate(name string) ssod.IntegrationUpdate {
	return ssod.IntegrationUpdate{
		Name:       ptr(name),
		Enabled:    ptr(true),
		SigninURL:  ptr("https://idp.example.com/" + name + "/sso"),
		SignoutURL: ptr("https://idp.example.com/" + name + "/slo"),
		EntityID:   ptr("https://idp.example.com/" + name),
	}
}

// integration creates an integration for the account or stops the test.
func (e *env) integration(accountID int64, name string) *ssod.Integration {
	e.t.Helper()
	in, err := e.s.CreateIntegration(e.ctx, accountID, integrationUpdate(name), now)
	if err != nil {
		e.t.Fatalf("CreateIntegration(%d, %q): %v", accountID, name, err)
	}
	return in
}

// testX509 is the n-th stand-in certificate; distinct n give distinct values
// in every field.
func testX509(n int) ssod.X509 {
	return ssod.X509{
		PEM:       fmt.Sprintf("-----BEGIN CERTIFICATE-----\nc3NvZCB0ZXN0%08d\n-----END CERTIFICATE-----\n", n),
		NotBefore: now + int64(n),
		NotAfter:  now + int64(n) + 365*24*3600,
	}
}

// certificate creates an enabled certificate or stops the test.
func (e *env) certificate(accountID int64, integrationID string, n int) *ssod.Certificate {
	e.t.Helper()
	c, err := e.s.CreateCertificate(e.ctx, accountID, ssod.CertificateUpdate{
		IntegrationID: ptr(integrationID),
		X509:          ptr(testX509(n)),
	})
	if err != nil {
		e.t.Fatalf("CreateCertificate(%d, %q): %v", accountID, integrationID, err)
	}
	return c
}

// getIntegration reads an integration that must exist.
func (e *env) getIntegration(accountID int64, id string) ssod.Integration {
	e.t.Helper()
	in, err := e.s.GetIntegration(e.ctx, accountID, id)
	if err != nil {
		e.t.Fatalf("GetIntegration(%d, %q): %v", accountID, id, err)
	}
	return *in
}

// getCertificate reads a certificate that must exist.
func (e *env) getCertificate(accountID, id int64) ssod.Certificate {
	e.t.Helper()
	c, err := e.s.GetCertificate(e.ctx, accountID, id)
	if err != nil {
		e.t.Fatalf("GetCertificate(%d, %d): %v", accountID, id, err)
	}
	return *c
}

// listCertificates lists an integration's certificates, which must succeed.
func (e *env) listCertificates(accountID int64, integrationID string) []ssod.Certificate {
	e.t.Helper()
	cs, err := e.s.ListCertificates(e.ctx, accountID, integrationID)
	if err != nil {
		e.t.Fatalf("ListCertificates(%d, %q): %v", accountID, integrationID, err)
	}
	return cs
}

// wantCertificates checks an integration's certificate list, in order.
func (e *env) wantCertificates(accountID int64, integrationID string, want ...ssod.Certificate) {
	e.t.Helper()
	what := fmt.Sprintf("ListCertificates(%d, %q)", accountID, integrationID)
	got := e.listCertificates(accountID, integrationID)
	if len(want) == 0 {
		wantEmpty(e.t, what, got)
		return
	}
	wantEqual(e.t, what, got, want)
}

// wantNoCertificatesBetween fails if either account can read a certificate
// with an id strictly between lo and hi. A create that reported an error in
// between must have stored nothing, and a stored row would have taken one of
// those ids.
func (e *env) wantNoCertificatesBetween(lo, hi int64) {
	e.t.Helper()
	if hi-lo > 1000 {
		e.t.Fatalf("ids %d and %d are too far apart to probe the ids between them", lo, hi)
	}
	for id := lo + 1; id < hi; id++ {
		for _, a := range []*ssod.Account{e.alice, e.bob} {
			if c, err := e.s.GetCertificate(e.ctx, a.ID, id); err == nil {
				e.t.Errorf("a failed create stored certificate %d (account %d, integration %s)", c.ID, c.AccountID, c.IntegrationID)
			}
		}
	}
}

// wantCode fails the test unless err carries the code; want "" means no error.
func wantCode(t *testing.T, err error, want ssod.Code) {
	t.Helper()
	if got := ssod.CodeOf(err); got != want {
		t.Errorf("got error %v (code %q), want code %q", err, got, want)
	}
}

// wantNotYours fails the test unless err is ssod.ErrIntegrationNotYours.
func wantNotYours(t *testing.T, err error) {
	t.Helper()
	want := ssod.ErrIntegrationNotYours()
	got := ssod.ProblemsOf(err)[0]
	if err == nil || got.Code != want.Code || got.Field != want.Field {
		t.Errorf("got error %v, want %v", err, want)
	}
}

// wantLikeMissing fails the test unless reaching another account's object
// (errOther) failed exactly as reaching a missing one (errMissing): ENotFound
// with the same field, so ids cannot be probed.
func wantLikeMissing(t *testing.T, errOther, errMissing error) {
	t.Helper()
	wantCode(t, errOther, ssod.ENotFound)
	wantCode(t, errMissing, ssod.ENotFound)
	if errOther != nil && errMissing != nil {
		if o, m := ssod.ProblemsOf(errOther)[0], ssod.ProblemsOf(errMissing)[0]; o.Field != m.Field {
			t.Errorf("another account's object reports field %q, a missing one %q", o.Field, m.Field)
		}
	}
}

// wantEqual fails the test unless got and want are deeply equal.
func wantEqual[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// wantEmpty fails the test unless a list has no element; nil and empty both
// count.
func wantEmpty[T any](t *testing.T, what string, got []T) {
	t.Helper()
	if len(got) != 0 {
		t.Errorf("%s: got %+v, want none", what, got)
	}
}

func ptr[T any](v T) *T { return &v }

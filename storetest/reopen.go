package storetest

import (
	"testing"

	"github.com/ssod/ssod"
)

// Reopen checks that a store closed and opened again returns exactly what
// was written, every row and id. open must open the same database each call;
// Reopen closes what it opens.
func Reopen(t *testing.T, open func() ssod.Store) {
	t.Helper()
	s := open()
	fill(t, s)
	before, err := s.Export(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if len(before.Accounts) != 2 || len(before.Keys) != 2 || len(before.Integrations) != 2 ||
		len(before.Certificates) != 2 || len(before.AuditEvents) != 8 ||
		len(before.AuthnRequests) != 1 || len(before.Assertions) != 1 || len(before.LoginTraces) != 2 {
		t.Fatalf("fill wrote other than it should: %+v", before)
	}

	s = open()
	defer s.Close()
	after, err := s.Export(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "export after reopen", after, before)
}

// fill writes one of everything, including updates and deletes, so that
// what a reopen must reproduce is more than a first insert.
func fill(t *testing.T, s ssod.Store) {
	t.Helper()
	ctx := t.Context()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	main, err := s.CreateAccount(ctx, "main", 0, 100)
	must(err)
	sub, err := s.CreateAccount(ctx, "sub", main.ID, 101)
	must(err)
	must(s.CreateKey(ctx, ssod.APIKey{ID: "k1", AccountID: main.ID, Name: "ci", Scopes: ssod.AllScopes(), SecretHash: []byte{0, 1, 255}, CreatedAt: 102}))
	must(s.CreateKey(ctx, ssod.APIKey{ID: "k2", AccountID: sub.ID, Name: "ro", Scopes: []ssod.Scope{ssod.ScopeSettingsRead}, SecretHash: []byte{9}, CreatedAt: 103}))
	must(s.RevokeKey(ctx, "k2", 104))
	in, err := s.CreateIntegration(ctx, main.ID, integrationUpdate("okta"), 105)
	must(err)
	_, err = s.UpdateIntegration(ctx, main.ID, in.ID, ssod.IntegrationUpdate{CompletedIntegration: ptr(true)}, 106)
	must(err)
	_, err = s.CreateIntegration(ctx, sub.ID, integrationUpdate("okta"), 107)
	must(err)
	for i := range 3 {
		c, err := s.CreateCertificate(ctx, main.ID, ssod.CertificateUpdate{IntegrationID: &in.ID, X509: ptr(testX509(i))})
		must(err)
		switch i {
		case 0:
			_, err = s.DeleteCertificate(ctx, main.ID, c.ID)
		case 1:
			_, err = s.UpdateCertificate(ctx, main.ID, c.ID, ssod.CertificateUpdate{Enabled: ptr(false)})
		}
		must(err)
	}
	must(s.SaveAuthnRequest(ctx, in.ID, "req", 1000))
	_, err = s.UseAssertion(ctx, in.ID, "assertion", 1000, 108)
	must(err)
	_, err = s.AddLoginTrace(ctx, ssod.LoginTrace{IntegrationID: in.ID, Time: 108, Result: "saml_replay", Message: "replayed"})
	must(err)
	_, err = s.AddLoginTrace(ctx, ssod.LoginTrace{IntegrationID: in.ID, Time: 109, Result: "ok", NameID: "n", AssertionID: "a",
		CertificateID: 1, InResponseTo: "i", RequestID: "r"})
	must(err)
}

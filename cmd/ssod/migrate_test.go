package main

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/internal/testcert"
	"github.com/ssod/ssod/postgres"
	"github.com/ssod/ssod/postgres/pgtest"
	"github.com/ssod/ssod/sqlite"
)

func TestMigrateSQLiteToPostgresAnswersAlike(t *testing.T) {
	pg := pgtest.DSN(t)
	const publicURL = "https://sso.example.com"
	src := startServer(t, "", "--public-url", publicURL)
	other := src.newAccountKey("other", "")
	sub := src.newAccountKey("sub", "main")
	var paths []string
	keys := map[string]string{}
	for _, key := range []string{src.Key, other, sub} {
		c := src.client(key)
		for i := range 2 {
			in := c.createIntegration(fmt.Sprint("idp ", i))
			paths = append(paths, "/v3/sso/integrations/"+in.ID+"?si=true", "/v3/sso/integrations/"+in.ID+"/certificates")
			for range 2 {
				cert := c.createCertificate(in.ID, testcert.New(t, testcert.Options{}).PEM)
				paths = append(paths, fmt.Sprintf("/v3/sso/certificates/%d", cert.ID))
			}
		}
		paths = append(paths, "/v3/sso/integrations?si=true")
		for _, p := range paths {
			if _, ok := keys[p]; !ok {
				keys[p] = key
			}
		}
	}
	// A deleted certificate, the highest id: the copy must not reuse it.
	last := src.client(src.Key).createCertificate(strings.Split(paths[0], "/")[4][:36], testcert.New(t, testcert.Options{}).PEM)
	src.client(src.Key).do("DELETE", fmt.Sprintf("/v3/sso/certificates/%d", last.ID), nil)

	// Sign-in records, written as the SAML paths would, and a trace id
	// only a deleted integration held.
	signInID := strings.Split(paths[0], "/")[4][:36]
	gone := src.client(src.Key).createIntegration("gone")
	now := time.Now().Unix()
	var traces []ssod.LoginTrace
	// Account 1 is main, and 3 its subuser "sub".
	migratedTeammates := []ssod.Teammate{
		{AccountID: 1, Username: "Jane@Example.com", FirstName: "Jane", LastName: "Doe", Persona: ssod.PersonaMarketer,
			Scopes: []string{"mail.send"}, HasRestrictedSubuserAccess: true,
			SubuserAccess: []ssod.SubuserAccess{{SubuserID: 3, PermissionType: ssod.PermissionRestricted, Scopes: []string{"stats.read"}}}},
		{AccountID: 1, Username: "admin@example.com", FirstName: "Ad", LastName: "Min", IsAdmin: true},
	}
	lastTrace := withStore(t, func(s ssod.Store) int64 {
		must(t, s.SaveAuthnRequest(t.Context(), signInID, "_req1", now+ssod.AuthnRequestLifetime))
		if ok, err := s.UseAssertion(t.Context(), signInID, "_assertion1", now+300, now); !ok || err != nil {
			t.Fatalf("UseAssertion: %v, %v", ok, err)
		}
		for i, res := range []string{"saml_signature", "ok"} {
			_, err := s.AddLoginTrace(t.Context(), ssod.LoginTrace{IntegrationID: signInID, Time: now + int64(i), Result: res,
				Message: "m", NameID: "jane@example.com"})
			must(t, err)
		}
		var err error
		traces, err = s.ListLoginTraces(t.Context(), 1, signInID, 50)
		must(t, err)
		tr, err := s.AddLoginTrace(t.Context(), ssod.LoginTrace{IntegrationID: gone.ID, Time: now, Result: "ok"})
		must(t, err)
		for _, tm := range migratedTeammates {
			_, err := s.CreateTeammate(t.Context(), tm, now)
			must(t, err)
		}
		for i := range migratedTeammates {
			got, err := s.GetTeammate(t.Context(), 1, migratedTeammates[i].Username)
			must(t, err)
			migratedTeammates[i] = *got
		}
		return tr.ID
	}, func() (ssod.Store, error) { return sqlite.OpenExisting(t.Context(), src.DSN) })
	src.client(src.Key).do("DELETE", "/v3/sso/integrations/"+gone.ID, nil)

	before := map[string][]byte{}
	for _, p := range paths {
		before[p] = src.client(keys[p]).do("GET", p, nil).Body
	}
	out, err := runCLI(t, "migrate", "--from", "sqlite:"+src.DSN, "--to", pg)
	if err != nil || !strings.HasPrefix(out, "copied 3 accounts, 3 keys, 6 integrations, 12 certificates") ||
		!strings.HasSuffix(out, "2 login traces, 1 outstanding AuthnRequests, 1 accepted assertions, 2 teammates\n") {
		t.Fatalf("migrate -> %q, %v", out, err)
	}
	if _, err := runCLI(t, "migrate", "--from", "sqlite:"+src.DSN, "--to", pg); err == nil {
		t.Fatal("a second migrate into a full database succeeded")
	}

	dst := startServer(t, pg, "--public-url", publicURL)
	for _, p := range paths {
		if got := dst.client(keys[p]).do("GET", p, nil).Body; !bytes.Equal(got, before[p]) {
			t.Errorf("GET %s differs after the copy:\n got %s\nwant %s", p, got, before[p])
		}
	}
	in := dst.client(src.Key).createIntegration("after")
	if c := dst.client(src.Key).createCertificate(in.ID, testcert.New(t, testcert.Options{}).PEM); c.ID <= last.ID {
		t.Fatalf("new certificate id %d reuses an id up to %d", c.ID, last.ID)
	}
	// One-time use survives the move, traces are those of the source, and
	// new trace ids continue after every id the source handed out.
	withStore(t, func(s ssod.Store) int64 {
		got, err := s.ListLoginTraces(t.Context(), 1, signInID, 50)
		if err != nil || !reflect.DeepEqual(got, traces) {
			t.Errorf("traces after the copy: %+v, %v; want %+v", got, err, traces)
		}
		if ok, err := s.UseAssertion(t.Context(), signInID, "_assertion1", now+300, now); ok || err != nil {
			t.Errorf("an assertion accepted before the move is accepted again: %v, %v", ok, err)
		}
		for _, want := range []bool{true, false} {
			if ok, err := s.UseAuthnRequest(t.Context(), signInID, "_req1", now); ok != want || err != nil {
				t.Errorf("UseAuthnRequest of a request saved before the move = %v, %v; want %v", ok, err, want)
			}
		}
		if tr, err := s.AddLoginTrace(t.Context(), ssod.LoginTrace{IntegrationID: signInID, Time: now, Result: "ok"}); err != nil || tr.ID <= lastTrace {
			t.Errorf("trace added after the move: %+v, %v; want an id above %d", tr, err, lastTrace)
		}
		// Teammates, with their subuser access, found by the same rule.
		for _, want := range migratedTeammates {
			local, domain, _ := strings.Cut(want.Username, "@")
			got, err := s.GetTeammate(t.Context(), 1, local+"@"+strings.ToUpper(domain))
			if err != nil || !got.Equal(want) {
				t.Errorf("teammate after the move: %+v, %v; want %+v", got, err, want)
			}
		}
		return 0
	}, func() (ssod.Store, error) { return postgres.Open(t.Context(), pg) })
	audit := dst.cli("audit", "list", "--account", "main")
	if !strings.Contains(audit, "certificate.delete") || !strings.Contains(audit, src.Key[3:25]) {
		t.Fatalf("audit trail not copied or not listed:\n%s", audit)
	}
}

func TestAuditList(t *testing.T) {
	ts := startServer(t, "")
	c := ts.client(ts.Key)
	in := c.createIntegration("audited")
	cert := testcert.New(t, testcert.Options{})
	created := c.createCertificate(in.ID, cert.PEM)
	c.do("PATCH", fmt.Sprintf("/v3/sso/certificates/%d", created.ID), map[string]any{"enabled": false})
	c.do("DELETE", "/v3/sso/integrations/"+in.ID, nil)
	out := ts.cli("audit", "list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	wantOps := []string{"integration.delete", "certificate.delete", "certificate.update", "certificate.create", "integration.create"}
	if len(lines) != len(wantOps)+1 {
		t.Fatalf("audit list:\n%s", out)
	}
	for i, op := range wantOps {
		if f := strings.Fields(lines[i+1]); len(f) < 6 || f[1] != "main" || f[2] != "main" || f[3] != ts.Key[3:25] || f[4] != op {
			t.Errorf("line %d = %q, want %s by main with the key id", i+1, lines[i+1], op)
		}
	}
	body := strings.Split(cert.PEM, "\n")[1]
	if strings.Contains(out, body) || strings.Contains(out, ts.Key[26:]) {
		t.Fatal("audit list shows a certificate body or a key secret")
	}
	if other := ts.cli("audit", "list", "--account", "main", "--limit", "2"); strings.Count(other, "\n") != 3 {
		t.Fatalf("--limit 2:\n%s", other)
	}
}

// withStore opens a store beside the running server, as the CLI would, runs
// f on it and closes it.
func withStore(t *testing.T, f func(s ssod.Store) int64, open func() (ssod.Store, error)) int64 {
	t.Helper()
	s, err := open()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	return f(s)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

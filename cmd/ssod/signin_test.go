package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ssod/ssod/internal/samltest"
	"github.com/ssod/ssod/internal/testcert"
)

// signInSetup is an integration of a running server with one IdP certificate uploaded
// through the API.
type signInSetup struct {
	c   *client
	in  integrationResp
	idp samltest.Signer
	crt certificateResp
}

func newSignInSetup(t *testing.T, c *client) signInSetup {
	t.Helper()
	in := c.createIntegration("SAML IdP")
	cert := testcert.New(t, testcert.Options{RSABits: 2048, NotBefore: time.Now().Add(-time.Hour)})
	rememberSecret(cert.PEM) // a certificate body must never reach the log either
	addSignInTeammate(t, c)
	return signInSetup{c: c, in: in, idp: samltest.NewSigner(cert), crt: c.createCertificate(in.ID, cert.PEM)}
}

// addSignInTeammate makes the NameID samltest signs in (alice@example.com) an SSO
// teammate of c's account, so that check 14 lets it in.
func addSignInTeammate(t *testing.T, c *client) {
	t.Helper()
	if r := c.do("POST", "/v3/sso/teammates", map[string]any{"email": "alice@example.com", "first_name": "Alice", "last_name": "Example", "persona": "observer"}); r.Status != 201 {
		t.Fatalf("create teammate: %d %s", r.Status, r.Body)
	}
}

// response is a response that passes every check of the integration now, answering
// inResponseTo ("" for IdP-initiated).
func (s signInSetup) response(t *testing.T, inResponseTo string) string {
	return s.signed(t, "alice@example.com", inResponseTo)
}

// responseFor is an IdP-initiated response that signs nameID in.
func (s signInSetup) responseFor(t *testing.T, nameID string) string {
	return s.signed(t, nameID, "")
}

func (s signInSetup) signed(t *testing.T, nameID, inResponseTo string) string {
	r := samltest.Valid(s.in.EntityID, s.in.SingleSignonURL, time.Now())
	r.NameID = nameID
	r.InResponseTo, r.ConfInResponseTo = inResponseTo, inResponseTo
	xml := r.SignedAssertion(t, s.idp)
	rememberDocument(xml)
	return xml
}

// post sends xml to the ACS of c's server, as a client that asks for JSON.
func (s signInSetup) post(c *client, xml string) response {
	u, err := url.Parse(s.in.SingleSignonURL)
	if err != nil {
		c.ts.t.Fatal(err)
	}
	return c.with("Content-Type", "application/x-www-form-urlencoded").with("Accept", "application/json").
		do("POST", u.Path, url.Values{"SAMLResponse": {samltest.Encode(xml)}, "RelayState": {"/home"}}.Encode())
}

// login starts an SP-initiated sign-in on c's server and reads the AuthnRequest back.
func (s signInSetup) login(t *testing.T, c *client) samltest.AuthnRequest {
	t.Helper()
	r := c.do("GET", "/v3/public/sso/saml/login/id/"+s.in.ID+"?RelayState=%2Fhome", nil)
	if r.Status != http.StatusFound {
		t.Fatalf("login: %d %s", r.Status, r.Body)
	}
	req := samltest.ParseRedirect(t, r.Header.Get("Location"))
	if req.ACSURL != s.in.SingleSignonURL || req.Issuer != s.in.AudienceURL || req.Destination != s.in.SigninURL || req.RelayState != "/home" {
		t.Fatalf("AuthnRequest %+v for %+v", req, s.in)
	}
	return req
}

type signInResp struct {
	NameID        string  `json:"name_id"`
	InResponseTo  *string `json:"in_response_to"`
	CertificateID int64   `json:"certificate_id"`
	RelayState    *string `json:"relay_state"`
}

type loginTraceResp struct {
	Result       string  `json:"result"`
	NameID       *string `json:"name_id"`
	InResponseTo *string `json:"in_response_to"`
	RequestID    *string `json:"request_id"`
}

func wantSignedIn(t *testing.T, r response, s signInSetup, inResponseTo string) {
	t.Helper()
	if r.Status != 200 {
		t.Fatalf("sign-in: %d %s", r.Status, r.Body)
	}
	got := decode[signInResp](t, r)
	if got.NameID != "alice@example.com" || got.CertificateID != s.crt.ID || got.RelayState == nil || *got.RelayState != "/home" ||
		(inResponseTo == "") != (got.InResponseTo == nil) || got.InResponseTo != nil && *got.InResponseTo != inResponseTo {
		t.Fatalf("sign-in body %s", r.Body)
	}
}

// testSignIn runs both sign-in flows through `ssod serve`: metadata, SP-initiated (login,
// then the response to it, once), IdP-initiated (once), the traces through the API and
// `ssod logins list`, and the metric.
func testSignIn(t *testing.T, dsn string) {
	ts := startServer(t, dsn)
	c := ts.client(ts.Key)
	s := newSignInSetup(t, c)
	public := ts.client("")

	r := public.do("GET", "/v3/public/sso/saml/metadata/id/"+s.in.ID, nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), `entityID="`+s.in.AudienceURL+`"`) {
		t.Fatalf("metadata: %d %s", r.Status, r.Body)
	}

	req := s.login(t, public)
	answer := s.response(t, req.ID)
	wantSignedIn(t, s.post(public, answer), s, req.ID)
	// The same response again: its request is used up (check 12 comes before 13).
	wantError(t, s.post(public, answer), 403, "", "saml_in_response_to")

	idpInitiated := s.response(t, "")
	wantSignedIn(t, s.post(public, idpInitiated), s, "")
	wantError(t, s.post(public, idpInitiated), 403, "", "saml_replay")
	wantError(t, public.with("Content-Type", "application/x-www-form-urlencoded").with("Accept", "application/json").
		do("POST", "/v3/public/sso/saml/response/id/"+s.in.ID, "SAMLResponse=bm90IFhNTA"), 400, "", "saml_malformed")

	traces := decode[[]loginTraceResp](t, c.do("GET", "/v3/sso/integrations/"+s.in.ID+"/logins", nil))
	var results []string
	for _, tr := range traces {
		results = append(results, tr.Result)
	}
	if want := "saml_malformed saml_replay ok saml_in_response_to ok"; strings.Join(results, " ") != want {
		t.Fatalf("traces %v, want %s", results, want)
	}
	if traces[0].NameID != nil || traces[0].RequestID == nil || *traces[2].NameID != "alice@example.com" || *traces[4].InResponseTo != req.ID {
		t.Errorf("traces %+v", traces)
	}
	out := ts.cli("logins", "list", "--integration", s.in.ID, "--limit", "2")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 3 || !strings.Contains(lines[1], "saml_malformed") ||
		!strings.Contains(lines[2], "saml_replay") || !strings.Contains(lines[2], "alice@example.com") {
		t.Errorf("ssod logins list:\n%s", out)
	}
	metrics := string(public.do("GET", "/metrics", nil).Body)
	for _, want := range []string{`ssod_saml_responses_total{result="ok"} 2`, `ssod_saml_responses_total{result="saml_replay"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	logs := ts.settledLogs()
	if !strings.Contains(logs, `msg="saml response" result=saml_replay`) {
		t.Errorf("no log line says the result:\n%s", logs)
	}
}

// TestClusterSignIn: on PostgreSQL, a sign-in one instance started completes on another;
// an assertion accepted by one is refused by the other.
func TestClusterSignIn(t *testing.T) {
	// One public URL for both, as behind a load balancer: the checks compare it.
	a, b, key := twoInstances(t, "--public-url", "https://sso.example.test")
	s := newSignInSetup(t, a.client(key))
	ca, cb := a.client(""), b.client("")

	req := s.login(t, ca)
	answer := s.response(t, req.ID)
	wantSignedIn(t, s.post(cb, answer), s, req.ID)
	wantError(t, s.post(ca, answer), 403, "", "saml_in_response_to")

	idpInitiated := s.response(t, "")
	wantSignedIn(t, s.post(ca, idpInitiated), s, "")
	wantError(t, s.post(cb, idpInitiated), 403, "", "saml_replay")

	// Both instances' traces are in the one database.
	traces := decode[[]loginTraceResp](t, b.client(key).do("GET", "/v3/sso/integrations/"+s.in.ID+"/logins", nil))
	if got := fmt.Sprint(len(traces)); got != "4" {
		t.Fatalf("%s traces, want 4", got)
	}
}

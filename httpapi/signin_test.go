package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/idpcert"
	"github.com/ssod/ssod/internal/samltest"
	"github.com/ssod/ssod/internal/testcert"
	"github.com/ssod/ssod/ratelimit"
	"github.com/ssod/ssod/sqlite"
)

const (
	testPublicURL = "https://sso.test"
	testEntityID  = "https://idp.example/metadata"
	testSigninURL = "https://idp.example/sso?app=7"
)

// signInTest is a Server on a real SQLite store with one account, one enabled integration
// and one IdP certificate, on a clock the test moves.
type signInTest struct {
	t       testing.TB
	srv     *Server
	store   *sqlite.Store
	account int64
	key     string // an API key of the account, every scope
	in      *ssod.Integration
	acs     string
	idp     samltest.Signer
	certID  int64
	now     time.Time
	logs    *bytes.Buffer
}

func newSignInTest(t testing.TB, cfg SAMLConfig) *signInTest {
	t.Helper()
	ks := newKeyedStore(t, filepath.Join(t.TempDir(), "ssod.db"))
	store := ks.store
	st := &signInTest{t: t, store: store, now: time.Now().Truncate(time.Second), logs: &bytes.Buffer{}}
	st.account, st.key = ks.account, ks.key
	// The NameID samltest signs in is a teammate of the account (check 14).
	st.addTeammate(st.account, "alice@example.com")
	st.in = st.newIntegration(st.account)
	st.acs = testPublicURL + "/v3/public/sso/saml/response/id/" + st.in.ID
	cert := st.newCert()
	st.idp = samltest.NewSigner(cert)
	st.certID = st.addCert(cert, true)
	if cfg.Skew == 0 {
		cfg.Skew = 3 * time.Minute
	}
	var err error
	st.srv, err = NewServer(Config{Store: store, PublicURL: testPublicURL, Now: func() time.Time { return st.now }, SAML: cfg,
		Logger: slog.New(slog.NewTextHandler(st.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func (st *signInTest) newIntegration(account int64) *ssod.Integration {
	st.t.Helper()
	name, enabled, signin, signout, entity := "IdP", true, testSigninURL, "https://idp.example/out", testEntityID
	in, err := st.store.CreateIntegration(context.Background(), account, ssod.IntegrationUpdate{
		Name: &name, Enabled: &enabled, SigninURL: &signin, SignoutURL: &signout, EntityID: &entity}, st.now.Unix())
	if err != nil {
		st.t.Fatal(err)
	}
	return in
}

// addTeammate makes username an SSO teammate of account, with the observer persona.
func (st *signInTest) addTeammate(account int64, username string) *ssod.Teammate {
	st.t.Helper()
	t, err := st.store.CreateTeammate(context.Background(), ssod.Teammate{AccountID: account, Username: username,
		FirstName: "Alice", LastName: "Example", Persona: "observer", Scopes: []string{"stats.read"}}, 1)
	if err != nil {
		st.t.Fatal(err)
	}
	return t
}

// newCert makes an RSA-2048 IdP certificate valid from a day before the test's now.
func (st *signInTest) newCert() testcert.Cert {
	return testcert.New(st.t, testcert.Options{RSABits: 2048, NotBefore: st.now.Add(-24 * time.Hour), NotAfter: st.now.Add(365 * 24 * time.Hour)})
}

func (st *signInTest) addCert(c testcert.Cert, enabled bool) int64 {
	st.t.Helper()
	x, err := idpcert.Parse(c.PEM)
	if err != nil {
		st.t.Fatal(err)
	}
	stored, err := st.store.CreateCertificate(context.Background(), st.account, ssod.CertificateUpdate{IntegrationID: &st.in.ID, Enabled: &enabled, X509: &x})
	if err != nil {
		st.t.Fatal(err)
	}
	return stored.ID
}

// valid is a response that passes every check now.
func (st *signInTest) valid() samltest.Response { return samltest.Valid(testEntityID, st.acs, st.now) }

// serve sends req through the whole server.
func (st *signInTest) serve(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	st.srv.ServeHTTP(rec, req)
	return rec
}

// post sends form to the integration's ACS; accept "" sends no Accept header (a browser's
// would not name JSON either).
func (st *signInTest) post(form url.Values, accept string) *httptest.ResponseRecorder {
	return st.postTo(st.in.ID, form, accept)
}

func (st *signInTest) postTo(integrationID string, form url.Values, accept string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/v3/public/sso/saml/response/id/"+integrationID, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	return st.serve(req)
}

// postXML posts xml as the SAMLResponse, asking for JSON.
func (st *signInTest) postXML(xml string) *httptest.ResponseRecorder {
	return st.post(url.Values{"SAMLResponse": {samltest.Encode(xml)}}, "application/json")
}

// wantRefused asserts a refusal: the status, one problem with error_id and field null.
func wantRefused(t *testing.T, rec *httptest.ResponseRecorder, status int, errorID string) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	var problems []problemJSON
	if err := json.Unmarshal(rec.Body.Bytes(), &problems); err != nil || len(problems) != 1 {
		t.Fatalf("body is not one problem: %s", rec.Body)
	}
	if p := problems[0]; p.ErrorID != errorID || p.Field != nil || p.Message == "" {
		t.Fatalf("problem %+v, want error_id %s", p, errorID)
	}
	for h, want := range map[string]string{"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Content-Type": "application/json; charset=utf-8"} {
		if got := rec.Header().Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if rec.Header().Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id")
	}
}

// traces returns the integration's login traces, newest first.
func (st *signInTest) traces() []ssod.LoginTrace {
	st.t.Helper()
	list, err := st.store.ListLoginTraces(context.Background(), st.account, st.in.ID, ssod.MaxLoginTracesPerList)
	if err != nil {
		st.t.Fatal(err)
	}
	return list
}

func (st *signInTest) lastTrace() ssod.LoginTrace {
	st.t.Helper()
	list := st.traces()
	if len(list) == 0 {
		st.t.Fatal("no login trace")
	}
	return list[0]
}

// TestSignInChecks sends, for each check of the README's "SAML sign-in", a response that
// breaks only that check, and asserts the status, the error_id and the login trace.
func TestSignInChecks(t *testing.T) {
	type breaker func(st *signInTest) url.Values
	signed := func(mutate func(r *samltest.Response)) breaker {
		return func(st *signInTest) url.Values {
			r := st.valid()
			mutate(&r)
			return url.Values{"SAMLResponse": {samltest.Encode(r.SignedAssertion(st.t, st.idp))}}
		}
	}
	cases := []struct {
		name    string
		form    breaker
		setup   func(st *signInTest)
		status  int
		errorID string
		// verified: the trace shows the signed assertion's ID, NameID and certificate.
		verified bool
	}{
		{"1 no SAMLResponse", func(*signInTest) url.Values { return url.Values{"RelayState": {"x"}} }, nil, 400, "saml_malformed", false},
		{"1 not base64", func(*signInTest) url.Values { return url.Values{"SAMLResponse": {"%%%not base64"}} }, nil, 400, "saml_malformed", false},
		{"1 not XML", func(*signInTest) url.Values { return url.Values{"SAMLResponse": {samltest.Encode("<samlp:Response")}} }, nil, 400, "saml_malformed", false},
		{"1 two SAMLResponse", func(st *signInTest) url.Values {
			x := samltest.Encode(st.valid().SignedAssertion(st.t, st.idp))
			return url.Values{"SAMLResponse": {x, x}}
		}, nil, 400, "saml_malformed", false},
		{"1 RelayState of 81 bytes", func(st *signInTest) url.Values {
			return url.Values{"SAMLResponse": {samltest.Encode(st.valid().SignedAssertion(st.t, st.idp))}, "RelayState": {strings.Repeat("r", 81)}}
		}, nil, 400, "saml_malformed", false},
		{"1 a DTD", func(st *signInTest) url.Values {
			return url.Values{"SAMLResponse": {samltest.Encode(`<!DOCTYPE x [<!ENTITY e "e">]>` + st.valid().SignedAssertion(st.t, st.idp))}}
		}, nil, 400, "saml_malformed", false},
		{"2 integration disabled", signed(func(*samltest.Response) {}), func(st *signInTest) {
			off := false
			if _, err := st.store.UpdateIntegration(context.Background(), st.account, st.in.ID, ssod.IntegrationUpdate{Enabled: &off}, st.now.Unix()); err != nil {
				st.t.Fatal(err)
			}
		}, 403, "saml_integration_disabled", false},
		{"3 status", signed(func(r *samltest.Response) { r.Status = "urn:oasis:names:tc:SAML:2.0:status:Requester" }), nil, 403, "saml_status", false},
		{"4 signature by another key", func(st *signInTest) url.Values {
			other := samltest.NewSigner(st.newCert())
			return url.Values{"SAMLResponse": {samltest.Encode(st.valid().SignedAssertion(st.t, other))}}
		}, nil, 403, "saml_signature", false},
		{"4 unsigned", func(st *signInTest) url.Values {
			r := st.valid()
			return url.Values{"SAMLResponse": {samltest.Encode(r.ResponseXML(r.AssertionXML()))}}
		}, nil, 403, "saml_signature", false},
		{"5 issuer", signed(func(r *samltest.Response) { r.AssertionIssuer, r.ResponseIssuer = "https://evil.example", "" }), nil, 403, "saml_issuer", true},
		{"6 destination", signed(func(r *samltest.Response) { r.Destination = "https://elsewhere.example/acs" }), nil, 403, "saml_destination", true},
		{"7 recipient", signed(func(r *samltest.Response) { r.Recipient = "https://elsewhere.example/acs" }), nil, 403, "saml_recipient", true},
		{"8 not yet valid", signed(func(r *samltest.Response) { r.NotBefore = samltest.Time(time.Now().Add(10 * time.Minute)) }), nil, 403, "saml_not_yet_valid", true},
		{"9 expired", signed(func(r *samltest.Response) { r.NotOnOrAfter = samltest.Time(time.Now().Add(-4 * time.Minute)) }), nil, 403, "saml_expired", true},
		{"10 audience", signed(func(r *samltest.Response) { r.Audience = "https://other-sp.example" }), nil, 403, "saml_audience", true},
		{"11 subject", signed(func(r *samltest.Response) { r.NameID = "  " }), nil, 403, "saml_subject", true},
		{"12 unknown InResponseTo", signed(func(r *samltest.Response) { r.InResponseTo, r.ConfInResponseTo = "_never-sent", "_never-sent" }), nil, 403, "saml_in_response_to", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := newSignInTest(t, SAMLConfig{})
			if tc.setup != nil {
				tc.setup(st)
			}
			rec := st.post(tc.form(st), "application/json")
			wantRefused(t, rec, tc.status, tc.errorID)
			tr := st.lastTrace()
			if tr.Result != tc.errorID || tr.Message == "" || tr.RequestID != rec.Header().Get("X-Request-Id") || tr.Time != st.now.Unix() {
				t.Errorf("trace %+v", tr)
			}
			if !tc.verified {
				if tr.NameID != "" || tr.AssertionID != "" || tr.CertificateID != 0 || tr.InResponseTo != "" {
					t.Errorf("a refusal before the signature verified shows %+v", tr)
				}
				return
			}
			wantName := "alice@example.com"
			if tc.errorID == "saml_subject" {
				wantName = ""
			}
			if tr.NameID != wantName || tr.AssertionID == "" || tr.CertificateID != st.certID {
				t.Errorf("trace of a verified assertion %+v, want name_id %q and certificate %d", tr, wantName, st.certID)
			}
			if tc.errorID == "saml_in_response_to" && tr.InResponseTo != "_never-sent" {
				t.Errorf("trace in_response_to %q", tr.InResponseTo)
			}
		})
	}
}

// TestSignInAccepted checks the success body field by field, then that the same
// assertion is refused as a replay (check 13).
func TestSignInAccepted(t *testing.T) {
	st := newSignInTest(t, SAMLConfig{})
	r := st.valid()
	r.Attributes = []samltest.Attribute{{Name: "groups", Values: []string{"admins", "dev"}}, {Name: "email", Values: []string{"alice@example.com"}}}
	form := url.Values{"SAMLResponse": {samltest.Encode(r.SignedAssertion(t, st.idp))}, "RelayState": {"/after?x=1"}}
	rec := st.post(form, "application/json")
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("%d %s: %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	authn, _ := time.Parse(time.RFC3339, r.AuthnInstant)
	want := map[string]any{
		"integration_id": st.in.ID,
		"issuer":         testEntityID,
		"name_id":        "alice@example.com",
		"name_id_format": samltest.FormatEmail,
		"session_index":  "_s1",
		"authn_instant":  float64(authn.Unix()),
		"assertion_id":   r.AssertionID,
		"in_response_to": nil,
		"attributes":     map[string]any{"groups": []any{"admins", "dev"}, "email": []any{"alice@example.com"}},
		"certificate_id": float64(st.certID),
		"relay_state":    "/after?x=1",
		"teammate": map[string]any{"username": "alice@example.com", "is_admin": false, "scopes": []any{"stats.read"},
			"has_restricted_subuser_access": false, "subuser_access": []any{}},
	}
	if len(body) != len(want) {
		t.Errorf("body has %d fields, want %d: %s", len(body), len(want), rec.Body)
	}
	for k, v := range want {
		got, ok := body[k]
		if !ok {
			t.Errorf("no %s", k)
			continue
		}
		if gj, _ := json.Marshal(got); string(gj) != mustJSON(t, v) {
			t.Errorf("%s = %s, want %s", k, gj, mustJSON(t, v))
		}
	}
	tr := st.lastTrace()
	if tr.Result != "ok" || tr.NameID != "alice@example.com" || tr.AssertionID != r.AssertionID || tr.CertificateID != st.certID || tr.InResponseTo != "" {
		t.Errorf("trace %+v", tr)
	}

	// 13: the same assertion again, even a minute later, is a replay.
	st.now = st.now.Add(time.Minute)
	wantRefused(t, st.post(form, "application/json"), 403, "saml_replay")
	if tr := st.lastTrace(); tr.Result != "saml_replay" || tr.NameID != "alice@example.com" || tr.AssertionID != r.AssertionID {
		t.Errorf("replay trace %+v", tr)
	}
	if got := st.metric("ssod_saml_responses_total{result=\"ok\"}"); got != "1" {
		t.Errorf("ok counted %q", got)
	}
	if got := st.metric("ssod_saml_responses_total{result=\"saml_replay\"}"); got != "1" {
		t.Errorf("saml_replay counted %q", got)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// metric returns the value of the /metrics series named exactly name, or "".
func (st *signInTest) metric(name string) string {
	rec := st.serve(httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for line := range strings.SplitSeq(rec.Body.String(), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	return ""
}

// TestSignInCheckOrder: where several checks fail, the first in the README's order decides.
func TestSignInCheckOrder(t *testing.T) {
	st := newSignInTest(t, SAMLConfig{})
	off := false
	if _, err := st.store.UpdateIntegration(context.Background(), st.account, st.in.ID, ssod.IntegrationUpdate{Enabled: &off}, st.now.Unix()); err != nil {
		t.Fatal(err)
	}
	// Unknown integration (404) before a malformed body, and with no trace.
	wantRefused(t, st.postTo("00000000-0000-4000-8000-000000000000", url.Values{}, "application/json"), 404, "not_found")
	wantRefused(t, st.postTo("not-an-id", url.Values{}, "application/json"), 404, "not_found")
	if n := len(st.traces()); n != 0 {
		t.Fatalf("%d traces for unknown integrations", n)
	}
	// Malformed (1) before disabled (2); disabled before a bad signature (4).
	wantRefused(t, st.post(url.Values{}, "application/json"), 400, "saml_malformed")
	other := samltest.NewSigner(st.newCert())
	wantRefused(t, st.postXML(st.valid().SignedAssertion(t, other)), 403, "saml_integration_disabled")
	on := true
	if _, err := st.store.UpdateIntegration(context.Background(), st.account, st.in.ID, ssod.IntegrationUpdate{Enabled: &on}, st.now.Unix()); err != nil {
		t.Fatal(err)
	}
	// Signature (4) before issuer (5) and audience (10).
	r := st.valid()
	r.AssertionIssuer, r.Audience = "https://evil.example", "https://evil.example"
	wantRefused(t, st.postXML(r.SignedAssertion(t, other)), 403, "saml_signature")
	// Issuer (5) before audience (10).
	wantRefused(t, st.postXML(r.SignedAssertion(t, st.idp)), 403, "saml_issuer")
	// InResponseTo (12) before replay (13): an accepted assertion replayed with its request
	// used up is refused at 12.
}

// TestSignInBodyLimits: 413 past 256 KiB of base64 (traced), 415 for another media type.
func TestSignInBodyLimits(t *testing.T) {
	st := newSignInTest(t, SAMLConfig{})
	big := strings.Repeat("A", maxSAMLResponse+4)
	wantRefused(t, st.post(url.Values{"SAMLResponse": {big}}, "application/json"), 413, "too_large")
	if tr := st.lastTrace(); tr.Result != "too_large" || tr.NameID != "" {
		t.Errorf("413 trace %+v", tr)
	}
	// Exactly at the limit is not too large (it is not a response either).
	wantRefused(t, st.post(url.Values{"SAMLResponse": {strings.Repeat("A", maxSAMLResponse)}}, "application/json"), 400, "saml_malformed")
	// A body past its own bound, whatever it holds.
	wantRefused(t, st.post(url.Values{"x": {strings.Repeat("+", maxACSBody)}}, "application/json"), 413, "too_large")

	req := httptest.NewRequest(http.MethodPost, "/v3/public/sso/saml/response/id/"+st.in.ID, strings.NewReader(`{"SAMLResponse":"x"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	wantRefused(t, st.serve(req), 415, "unsupported_media_type")
	if tr := st.lastTrace(); tr.Result != "unsupported_media_type" {
		t.Errorf("415 trace %+v", tr)
	}
	// Base64 wrapped at 76 columns with CRLF, as some IdPs send it, is read.
	b64 := samltest.Encode(st.valid().SignedAssertion(t, st.idp))
	var wrapped strings.Builder
	for i := 0; i < len(b64); i += 76 {
		wrapped.WriteString(b64[i:min(i+76, len(b64))] + "\r\n")
	}
	if rec := st.post(url.Values{"SAMLResponse": {wrapped.String()}}, "application/json"); rec.Code != 200 {
		t.Fatalf("wrapped base64: %d %s", rec.Code, rec.Body)
	}
}

// TestSignInSPInitiated: login redirects with an AuthnRequest the IdP can read; a response
// to it is accepted once; a second response to the same request, or one after the
// request's lifetime, is refused at check 12.
func TestSignInSPInitiated(t *testing.T) {
	st := newSignInTest(t, SAMLConfig{})
	login := func(relay string) samltest.AuthnRequest {
		t.Helper()
		target := "/v3/public/sso/saml/login/id/" + st.in.ID
		if relay != "" {
			target += "?RelayState=" + url.QueryEscape(relay)
		}
		rec := st.serve(httptest.NewRequest(http.MethodGet, target, nil))
		if rec.Code != http.StatusFound {
			t.Fatalf("login: %d %s", rec.Code, rec.Body)
		}
		if rec.Header().Get("Cache-Control") != "no-store" || rec.Header().Get("X-Request-Id") == "" {
			t.Errorf("login headers %v", rec.Header())
		}
		return samltest.ParseRedirect(t, rec.Header().Get("Location"))
	}
	req := login("/dashboard")
	if got := req.Location.Scheme + "://" + req.Location.Host + req.Location.Path; got != "https://idp.example/sso" || req.Location.Query().Get("app") != "7" {
		t.Errorf("redirect %s: want the signin_url with its own query kept", req.Location)
	}
	if req.Issuer != st.acs || req.ACSURL != st.acs || req.Destination != testSigninURL || req.RelayState != "/dashboard" {
		t.Errorf("AuthnRequest %+v", req)
	}
	if req.ID == "" || !(req.ID[0] == '_' || req.ID[0] >= 'a' && req.ID[0] <= 'z' || req.ID[0] >= 'A' && req.ID[0] <= 'Z') {
		t.Errorf("ID %q must start with a letter or _", req.ID)
	}
	if other := login(""); other.ID == req.ID || other.RelayState != "" {
		t.Errorf("second login: %+v", other)
	}

	answer := func(id string) string {
		r := st.valid()
		r.InResponseTo, r.ConfInResponseTo = id, id
		return r.SignedAssertion(t, st.idp)
	}
	rec := st.postXML(answer(req.ID))
	if rec.Code != 200 {
		t.Fatalf("response to the request: %d %s", rec.Code, rec.Body)
	}
	var body signInJSON
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.InResponseTo == nil || *body.InResponseTo != req.ID {
		t.Fatalf("in_response_to in %s", rec.Body)
	}
	if tr := st.lastTrace(); tr.Result != "ok" || tr.InResponseTo != req.ID {
		t.Errorf("trace %+v", tr)
	}
	// The request is used up: another (new) assertion answering it is refused.
	wantRefused(t, st.postXML(answer(req.ID)), 403, "saml_in_response_to")

	// A request older than its lifetime is refused.
	late := login("")
	st.now = st.now.Add((ssod.AuthnRequestLifetime + 1) * time.Second)
	r := st.valid() // valid at the new now
	r.InResponseTo, r.ConfInResponseTo = late.ID, late.ID
	wantRefused(t, st.postXML(r.SignedAssertion(t, st.idp)), 403, "saml_in_response_to")

	// Another integration's request is no request of this one.
	otherIn := st.newIntegration(st.account)
	rec = st.serve(httptest.NewRequest(http.MethodGet, "/v3/public/sso/saml/login/id/"+otherIn.ID, nil))
	foreign := samltest.ParseRedirect(t, rec.Header().Get("Location"))
	r = st.valid()
	r.InResponseTo, r.ConfInResponseTo = foreign.ID, foreign.ID
	wantRefused(t, st.postXML(r.SignedAssertion(t, st.idp)), 403, "saml_in_response_to")

	// RelayState over 80 bytes is refused at login too; an unknown integration is 404.
	rec = st.serve(httptest.NewRequest(http.MethodGet, "/v3/public/sso/saml/login/id/"+st.in.ID+"?RelayState="+strings.Repeat("r", 81), nil))
	if rec.Code != 400 {
		t.Errorf("long RelayState at login: %d", rec.Code)
	}
	rec = st.serve(httptest.NewRequest(http.MethodGet, "/v3/public/sso/saml/login/id/00000000-0000-4000-8000-000000000000", nil))
	if rec.Code != 404 {
		t.Errorf("login to an unknown integration: %d", rec.Code)
	}
}

// TestSignInRotation: of two enabled certificates the one that signed is named; a
// disabled, expired or not-yet-valid certificate never verifies.
func TestSignInRotation(t *testing.T) {
	st := newSignInTest(t, SAMLConfig{})
	next := st.newCert()
	nextID := st.addCert(next, true)
	for _, c := range []struct {
		signer samltest.Signer
		want   int64
	}{{st.idp, st.certID}, {samltest.NewSigner(next), nextID}, {samltest.Signer{Key: next.Key, DER: next.DER, NoKeyInfo: true}, nextID}} {
		rec := st.postXML(st.valid().SignedAssertion(t, c.signer))
		var body signInJSON
		if err := json.Unmarshal(rec.Body.Bytes(), &body); rec.Code != 200 || err != nil || body.CertificateID != c.want {
			t.Fatalf("%d %s: want certificate_id %d", rec.Code, rec.Body, c.want)
		}
	}
	// Disabled: the old one no longer verifies, the new one still does.
	off := false
	if _, err := st.store.UpdateCertificate(context.Background(), st.account, st.certID, ssod.CertificateUpdate{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, st.postXML(st.valid().SignedAssertion(t, st.idp)), 403, "saml_signature")

	expired := testcert.New(t, testcert.Options{RSABits: 2048, NotBefore: st.now.Add(-48 * time.Hour), NotAfter: st.now.Add(-time.Hour)})
	early := testcert.New(t, testcert.Options{RSABits: 2048, NotBefore: st.now.Add(time.Hour), NotAfter: st.now.Add(48 * time.Hour)})
	st.addCert(expired, true)
	st.addCert(early, true)
	wantRefused(t, st.postXML(st.valid().SignedAssertion(t, samltest.NewSigner(expired))), 403, "saml_signature")
	wantRefused(t, st.postXML(st.valid().SignedAssertion(t, samltest.NewSigner(early))), 403, "saml_signature")

	// A certificate whose body a PATCH replaced verifies with the new body only (the parsed
	// copy is keyed by its PEM too).
	replacement := st.newCert()
	x, _ := idpcert.Parse(replacement.PEM)
	if _, err := st.store.UpdateCertificate(context.Background(), st.account, nextID, ssod.CertificateUpdate{X509: &x}); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, st.postXML(st.valid().SignedAssertion(t, samltest.NewSigner(next))), 403, "saml_signature")
	if rec := st.postXML(st.valid().SignedAssertion(t, samltest.NewSigner(replacement))); rec.Code != 200 {
		t.Fatalf("replaced certificate: %d %s", rec.Code, rec.Body)
	}
}

// TestSignInBrowserPages: without Accept: application/json the answers are small HTML
// pages that escape what the document said.
func TestSignInBrowserPages(t *testing.T) {
	st := newSignInTest(t, SAMLConfig{})
	r := st.valid()
	// A NameID signs in only as a teammate (check 14), and a teammate's username is an
	// email address: the document's hostile text reaches the success page in an attribute.
	r.Attributes = []samltest.Attribute{{Name: "note", Values: []string{"<script>alert(1)</script>"}}}
	rec := st.post(url.Values{"SAMLResponse": {samltest.Encode(r.SignedAssertion(t, st.idp))}, "RelayState": {`"><img src=x>`}},
		"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	body := rec.Body.String()
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" || !strings.Contains(body, "Signed in") {
		t.Fatalf("%d %s:\n%s", rec.Code, rec.Header().Get("Content-Type"), body)
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, "<img") || !strings.Contains(body, "&lt;script&gt;") {
		t.Errorf("page does not escape:\n%s", body)
	}
	if !strings.Contains(rec.Header().Get("Content-Security-Policy"), "default-src 'none'") || rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("headers %v", rec.Header())
	}

	rec = st.post(url.Values{"SAMLResponse": {samltest.Encode(r.SignedAssertion(t, samltest.NewSigner(st.newCert())))}}, "")
	body = rec.Body.String()
	if rec.Code != 403 || !strings.Contains(body, "saml_signature") || !strings.Contains(body, rec.Header().Get("X-Request-Id")) || strings.Contains(body, "Assertion") && strings.Contains(body, "<saml") {
		t.Errorf("refusal page %d:\n%s", rec.Code, body)
	}
	// A hostile NameID is refused at check 14, and its page escapes it too.
	hostile := st.valid()
	hostile.NameID = "&lt;script&gt;alert(1)&lt;/script&gt;@example.com"
	rec = st.post(url.Values{"SAMLResponse": {samltest.Encode(hostile.SignedAssertion(t, st.idp))}}, "")
	body = rec.Body.String()
	if rec.Code != 403 || !strings.Contains(body, "saml_unknown_teammate") || strings.Contains(body, "<script>") || !strings.Contains(body, "&lt;script&gt;") {
		t.Errorf("refusal page of a hostile NameID %d:\n%s", rec.Code, body)
	}
	// Accept: application/json;q=0 does not ask for JSON.
	if rec := st.post(url.Values{}, "application/json;q=0, text/html"); rec.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("q=0: %s", rec.Header().Get("Content-Type"))
	}
}

// TestSignInMetadata checks the SP metadata an IdP imports.
func TestSignInMetadata(t *testing.T) {
	st := newSignInTest(t, SAMLConfig{})
	rec := st.serve(httptest.NewRequest(http.MethodGet, "/v3/public/sso/saml/metadata/id/"+st.in.ID, nil))
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/samlmetadata+xml" || rec.Header().Get("X-Request-Id") == "" {
		t.Fatalf("%d %v", rec.Code, rec.Header())
	}
	for _, want := range []string{`entityID="` + st.acs + `"`, `WantAssertionsSigned="true"`,
		`Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="` + st.acs + `"`,
		"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metadata lacks %s:\n%s", want, rec.Body)
		}
	}
	req := httptest.NewRequest(http.MethodGet, "/v3/public/sso/saml/metadata/id/00000000-0000-4000-8000-000000000000", nil)
	req.Header.Set("Accept", "application/json")
	wantRefused(t, st.serve(req), 404, "not_found")
}

// TestLoginTraceList checks GET /v3/sso/integrations/{id}/logins: newest first, the limit,
// another account's integration.
func TestLoginTraceList(t *testing.T) {
	st := newSignInTest(t, SAMLConfig{})
	st.post(url.Values{}, "application/json")
	st.postXML(st.valid().SignedAssertion(t, st.idp))
	get := func(path string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer "+st.key)
		return st.serve(req)
	}
	base := "/v3/sso/integrations/" + st.in.ID + "/logins"
	rec := get(base)
	var list []map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &list); rec.Code != 200 || err != nil || len(list) != 2 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if list[0]["result"] != "ok" || list[1]["result"] != "saml_malformed" || list[0]["name_id"] != "alice@example.com" || list[1]["name_id"] != nil || list[1]["certificate_id"] != nil {
		t.Errorf("list %v", list)
	}
	for _, k := range []string{"id", "time", "result", "message", "name_id", "assertion_id", "certificate_id", "in_response_to", "request_id"} {
		if _, ok := list[0][k]; !ok || len(list[0]) != 9 {
			t.Errorf("element %v: want exactly the nine fields", list[0])
		}
	}
	if err := json.Unmarshal(get(base+"?limit=1").Body.Bytes(), &list); err != nil || len(list) != 1 || list[0]["result"] != "ok" {
		t.Errorf("limit=1: %v", list)
	}
	for _, bad := range []string{"0", "1001", "x", "-1", "1&limit=2"} {
		if rec := get(base + "?limit=" + bad); rec.Code != 400 {
			t.Errorf("limit=%s: %d", bad, rec.Code)
		}
	}
	if rec := get(base + "?limit=1000"); rec.Code != 200 {
		t.Errorf("limit=1000: %d", rec.Code)
	}
	// Another account's integration is not found.
	acct, err := st.store.CreateAccount(context.Background(), "other", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	foreign := st.newIntegration(acct.ID)
	if rec := get("/v3/sso/integrations/" + foreign.ID + "/logins"); rec.Code != 404 {
		t.Errorf("other account's integration: %d", rec.Code)
	}
}

// TestSignInRateLimit: the public paths are budgeted per client address, with a 429 that
// says when to retry; X-Forwarded-For counts only from a trusted proxy.
func TestSignInRateLimit(t *testing.T) {
	st := newSignInTest(t, SAMLConfig{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	st.srv.saml.Limiter = ratelimit.NewMemory(ratelimit.Config{Limit: 2, Window: time.Minute}, func() time.Time { return st.now })
	send := func(remote, xff string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/v3/public/sso/saml/metadata/id/"+st.in.ID, nil)
		req.RemoteAddr = remote
		req.Header.Set("Accept", "application/json")
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		return st.serve(req)
	}
	for range 2 {
		if rec := send("192.0.2.1:1000", ""); rec.Code != 200 {
			t.Fatalf("within budget: %d", rec.Code)
		}
	}
	rec := send("192.0.2.1:1001", "198.51.100.7")
	wantRefused(t, rec, 429, "rate_limited")
	if rec.Header().Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	if rec := send("192.0.2.2:1000", ""); rec.Code != 200 {
		t.Errorf("another address: %d", rec.Code)
	}
	// Through the trusted proxy, each client has its own budget...
	for range 2 {
		if rec := send("10.1.1.1:5000", "198.51.100.9, 10.2.2.2"); rec.Code != 200 {
			t.Fatalf("client behind the proxy: %d", rec.Code)
		}
	}
	wantRefused(t, send("10.1.1.1:5000", "198.51.100.9"), 429, "rate_limited")
	if rec := send("10.1.1.1:5000", "198.51.100.10"); rec.Code != 200 {
		t.Errorf("another client behind the proxy: %d", rec.Code)
	}
	// ...and the ACS counts a 429 as a result.
	for range 3 {
		st.postTo(st.in.ID, url.Values{}, "application/json")
	}
	if got := st.metric(`ssod_saml_responses_total{result="rate_limited"}`); got == "" {
		t.Error("ACS 429 not counted")
	}
}

func TestClientAddress(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	for _, c := range []struct{ remote, xff, want string }{
		{"192.0.2.1:1", "", "192.0.2.1"},
		{"192.0.2.1:1", "198.51.100.1", "192.0.2.1"}, // an untrusted peer's header is ignored
		{"10.0.0.1:1", "198.51.100.1", "198.51.100.1"},
		{"10.0.0.1:1", "1.1.1.1, 198.51.100.1, 10.0.0.2", "198.51.100.1"}, // the client's own claim (1.1.1.1) is left of it
		{"10.0.0.1:1", "garbage, 10.0.0.2", "10.0.0.2"},
		{"10.0.0.1:1", "", "10.0.0.1"},
		{"[2001:db8:1:2:3:4:5:6]:1", "", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:ffff::1]:1", "", "2001:db8:1:2::/64"},
		{"[::ffff:192.0.2.9]:1", "", "192.0.2.9"},
		{"[fd00::1]:1", "2001:db8:9::1", "2001:db8:9::/64"},
	} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.RemoteAddr = c.remote
		if c.xff != "" {
			req.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := clientAddress(req, trusted); got != c.want {
			t.Errorf("%s via %q: %s, want %s", c.remote, c.xff, got, c.want)
		}
	}
}

// TestSignInLogsNoDocument: the log says the result and request id, never the XML, the
// NameID or a certificate.
func TestSignInLogsNoDocument(t *testing.T) {
	st := newSignInTest(t, SAMLConfig{})
	xml := st.valid().SignedAssertion(t, st.idp)
	st.postXML(xml)
	st.postXML(xml) // a replay
	logs := st.logs.String()
	if !strings.Contains(logs, `msg="saml response" result=ok`) || !strings.Contains(logs, "result=saml_replay") {
		t.Fatalf("log lacks the results:\n%s", logs)
	}
	encoded := samltest.Encode(xml)
	for _, secret := range []string{"alice@example.com", "<saml", "Assertion", "BEGIN CERTIFICATE", encoded[:40], encoded[len(encoded)-40:]} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds %q:\n%s", secret, logs)
		}
	}
}

// TestReplayHorizon: an accepted assertion is remembered at least as long as Verify could
// still accept it (now - skew < NotOnOrAfter), in whole seconds rounded up.
func TestReplayHorizon(t *testing.T) {
	base := time.Unix(1_800_000_000, 0)
	for _, c := range []struct {
		notOnOrAfter time.Time
		skew         time.Duration
		want         int64
	}{
		{base, 3 * time.Minute, 1_800_000_180},
		{base.Add(500 * time.Millisecond), 0, 1_800_000_001},
		{base.Add(time.Nanosecond), time.Minute, 1_800_000_061},
		{base, -time.Minute, 1_800_000_000}, // a negative skew counts as none
	} {
		if got := replayHorizon(c.notOnOrAfter, c.skew); got != c.want {
			t.Errorf("replayHorizon(%v, %v) = %d, want %d", c.notOnOrAfter, c.skew, got, c.want)
		}
	}
}

// TestSignInClientGone: a client that resets its connection while posting a response
// gets no answer and leaves no trace (nothing was checked); the metric counts it as
// client_closed, never as internal, and nothing is logged at ERROR.
func TestSignInClientGone(t *testing.T) {
	st := newSignInTest(t, SAMLConfig{})
	reset := &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	req := httptest.NewRequest(http.MethodPost, "/v3/public/sso/saml/response/id/"+st.in.ID,
		&failingBody{data: "SAMLResponse=PHNhbWxwOlJlc3Bvbn", err: reset})
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	rec := httptest.NewRecorder()
	func() {
		defer func() {
			if v := recover(); v != http.ErrAbortHandler {
				t.Errorf("handler ended with %v, want the abort that sends nothing", v)
			}
		}()
		st.srv.ServeHTTP(rec, req)
	}()
	if rec.Body.Len() != 0 {
		t.Errorf("answered a client that left: %d %s", rec.Code, rec.Body)
	}
	if list := st.traces(); len(list) != 0 {
		t.Errorf("traced a response that never arrived: %+v", list)
	}
	if got := st.metric(`ssod_saml_responses_total{result="client_closed"}`); got != "1" {
		t.Errorf("client_closed counted %q, want 1", got)
	}
	if got := st.metric(`ssod_saml_responses_total{result="internal"}`); got != "" {
		t.Errorf("internal counted %q, want none", got)
	}
	if strings.Contains(st.logs.String(), "level=ERROR") {
		t.Errorf("logged an ERROR:\n%s", st.logs)
	}
}

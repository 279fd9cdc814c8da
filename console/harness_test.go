package console_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/apikey"
	"github.com/ssod/ssod/console"
	"github.com/ssod/ssod/httpapi"
	"github.com/ssod/ssod/idpcert"
	"github.com/ssod/ssod/internal/samltest"
	"github.com/ssod/ssod/internal/testcert"
	"github.com/ssod/ssod/persona"
	"github.com/ssod/ssod/sqlite"
)

// harness is ssod's API with the console, on a real SQLite store, behind a
// test server, with a clock the test moves, and an IdP the test runs.
type harness struct {
	t       *testing.T
	store   *sqlite.Store
	account int64
	key     string
	srv     *httptest.Server
	idp     *testIdP

	mu  sync.Mutex
	now time.Time
}

func (h *harness) clock() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

func (h *harness) advance(d time.Duration) {
	h.mu.Lock()
	h.now = h.now.Add(d)
	h.mu.Unlock()
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ssod.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	acct, err := store.CreateAccount(ctx, "main", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, store: store, account: acct.ID, now: time.Now().Truncate(time.Second)}
	h.key = h.newKey(ssod.AllScopes())
	var handler http.Handler
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(h.srv.Close)
	con, err := console.New(console.Config{Store: store, PublicURL: h.srv.URL, Now: h.clock,
		IdleTimeout: 30 * time.Minute, Lifetime: 12 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	api, err := httpapi.NewServer(httpapi.Config{Store: store, PublicURL: h.srv.URL, Now: h.clock, Console: con,
		SAML: httpapi.SAMLConfig{Skew: 3 * time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	handler = api
	h.idp = newTestIdP(t, h)
	return h
}

func (h *harness) newKey(scopes []ssod.Scope) string {
	h.t.Helper()
	key, id, hash, err := apikey.New()
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.store.CreateKey(context.Background(), ssod.APIKey{ID: id, AccountID: h.account, Name: "test", Scopes: scopes, SecretHash: hash, CreatedAt: 1}); err != nil {
		h.t.Fatal(err)
	}
	return key
}

// testIdP signs a response for whatever AuthnRequest reaches it and sends
// the browser back to the ACS with a form that posts itself.
type testIdP struct {
	srv    *httptest.Server
	cert   testcert.Cert
	signer samltest.Signer
	nameID string // who signs in
}

const idpEntityID = "https://idp.test/entity"

func newTestIdP(t *testing.T, h *harness) *testIdP {
	cert := testcert.New(t, testcert.Options{CommonName: "Test IdP signing", NotBefore: h.now.Add(-time.Hour), NotAfter: h.now.Add(20 * 24 * time.Hour)})
	idp := &testIdP{cert: cert, signer: samltest.NewSigner(cert), nameID: "jane@example.com"}
	mux := http.NewServeMux()
	idp.srv = httptest.NewServer(mux)
	mux.HandleFunc("GET /sso", func(w http.ResponseWriter, r *http.Request) {
		req := samltest.ParseRedirect(t, idp.srv.URL+r.URL.RequestURI())
		resp := samltest.Valid(idpEntityID, req.ACSURL, h.clock())
		resp.NameID = idp.nameID
		resp.InResponseTo, resp.ConfInResponseTo = req.ID, req.ID
		signed := resp.SignedAssertion(t, idp.signer)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="en"><head><title>Test IdP</title></head><body onload="document.forms[0].submit()">
<form method="post" action="%s"><input type="hidden" name="SAMLResponse" value="%s"><input type="hidden" name="RelayState" value="%s">
<noscript><button>Continue</button></noscript></form></body></html>`,
			html.EscapeString(req.ACSURL), samltest.Encode(signed), html.EscapeString(req.RelayState))
	})
	t.Cleanup(idp.srv.Close)
	return idp
}

// browser is an HTTP client with its own cookies that follows no redirect,
// so a test sees each step.
type browser struct {
	t      *testing.T
	h      *harness
	client *http.Client
}

func (h *harness) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: h.t, h: h, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	status   int
	location string
	body     string
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return page{status: resp.StatusCode, location: resp.Header.Get("Location"), body: sb.String()}
}

func (b *browser) get(path string) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.abs(path), nil)
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.abs(path), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func (b *browser) postMultipart(path string, fields map[string]string) page {
	b.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, b.abs(path), &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

func (b *browser) abs(path string) string {
	if strings.HasPrefix(path, "http") {
		return path
	}
	return b.h.srv.URL + path
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the token the page's forms carry.
func csrf(t *testing.T, p page) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no CSRF token in the page (status %d): %.300s", p.status, p.body)
	}
	return m[1]
}

// signInWithKey signs b in with key and returns the signed-in page's CSRF token.
func (b *browser) signInWithKey(key string) string {
	b.t.Helper()
	pre := csrf(b.t, b.get("/console/signin"))
	p := b.post("/console/signin/key", url.Values{"csrf": {pre}, "key": {key}})
	if p.status != http.StatusSeeOther || p.location != "/console" {
		b.t.Fatalf("key sign-in: %d to %q: %.300s", p.status, p.location, p.body)
	}
	return csrf(b.t, b.get("/console/integrations"))
}

// cookie is b's value of the named cookie for the server, or "".
func (b *browser) cookie(name string) string {
	u, _ := url.Parse(b.h.srv.URL)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

var formField = regexp.MustCompile(`name="(SAMLResponse|RelayState)" value="([^"]*)"`)

// ssoSignIn walks b through an SSO sign-in as email up to the IdP's
// answer, and returns the form the IdP would post.
func (b *browser) ssoStart(email string) url.Values {
	b.t.Helper()
	pre := csrf(b.t, b.get("/console/signin"))
	p := b.post("/console/signin/sso", url.Values{"csrf": {pre}, "email": {email}})
	if p.status != http.StatusSeeOther {
		b.t.Fatalf("SSO start: %d: %.300s", p.status, p.body)
	}
	p = b.get(p.location) // ssod's login path
	if p.status != http.StatusFound || !strings.HasPrefix(p.location, b.h.idp.srv.URL) {
		b.t.Fatalf("login path: %d to %q", p.status, p.location)
	}
	p = b.get(p.location) // the IdP
	form := url.Values{}
	for _, m := range formField.FindAllStringSubmatch(p.body, -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	return form
}

// integrationWithIdP creates an enabled integration trusting the test IdP,
// and the SSO teammate jane@example.com.
func (h *harness) integrationWithIdP() *ssod.Integration {
	h.t.Helper()
	in := h.integrationWithIdPNamed("Test IdP")
	h.teammate("jane@example.com", true)
	return in
}

// integrationWithIdPNamed creates an enabled integration trusting the test IdP.
func (h *harness) integrationWithIdPNamed(name string) *ssod.Integration {
	h.t.Helper()
	ctx := ssod.WithActor(context.Background(), ssod.Actor{AccountID: h.account, KeyID: "test"})
	yes, url, entity := true, h.idp.srv.URL+"/sso", idpEntityID
	in, err := h.store.CreateIntegration(ctx, h.account, ssod.IntegrationUpdate{Name: &name, Enabled: &yes, SigninURL: &url, SignoutURL: &url, EntityID: &entity}, h.now.Unix())
	if err != nil {
		h.t.Fatal(err)
	}
	x, err := idpcert.Parse(h.idp.cert.PEM)
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.store.CreateCertificate(ctx, h.account, ssod.CertificateUpdate{IntegrationID: &in.ID, X509: &x}); err != nil {
		h.t.Fatal(err)
	}
	return in
}

func (h *harness) teammate(email string, admin bool) {
	h.t.Helper()
	first, last := "Jane", "Doe"
	u := ssod.TeammateUpdate{Email: &email, FirstName: &first, LastName: &last, IsAdmin: &admin}
	if !admin {
		p := "observer"
		u.Persona = &p
	}
	tm, err := persona.NewTeammate(h.account, u)
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.store.CreateTeammate(context.Background(), tm, h.now.Unix()); err != nil {
		h.t.Fatal(err)
	}
}

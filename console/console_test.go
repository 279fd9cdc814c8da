package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ssod/ssod"
)

func TestKeySignInCreatesAndListsIntegration(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	tok := b.signInWithKey(h.key)
	p := b.post("/console/integrations", url.Values{"csrf": {tok}, "name": {"Okta"}, "enabled": {"on"},
		"signin_url": {"https://idp.example/sso"}, "signout_url": {"https://idp.example/slo"}, "entity_id": {"http://www.okta.com/x"}, "jit_persona": {"observer"}})
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/console/integrations/") {
		t.Fatalf("create: %d to %q: %.400s", p.status, p.location, p.body)
	}
	list, err := h.store.ListIntegrations(context.Background(), h.account)
	if err != nil || len(list) != 1 || list[0].Name != "Okta" {
		t.Fatalf("stored integrations %+v, %v", list, err)
	}
	page := b.get(p.location)
	for _, want := range []string{h.srv.URL + "/v3/public/sso/saml/response/id/" + list[0].ID, "/v3/public/sso/saml/metadata/id/" + list[0].ID, "No certificate yet"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("integration page lacks %q", want)
		}
	}
	// The audit trail names the key that made the change.
	events, err := h.store.ListAuditEvents(context.Background(), h.account, 10)
	if err != nil || len(events) == 0 || events[0].KeyID == "" {
		t.Fatalf("audit events %+v, %v", events, err)
	}
}

func TestErrorsShownNextToTheirField(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	tok := b.signInWithKey(h.key)
	p := b.post("/console/integrations", url.Values{"csrf": {tok}, "name": {"Okta"}, "signin_url": {"ftp://nope"},
		"signout_url": {"https://idp.example/slo"}, "entity_id": {""}})
	if p.status != http.StatusBadRequest {
		t.Fatalf("status %d", p.status)
	}
	for _, want := range []string{`id="signin_url-error"`, `id="entity_id-error"`, `value="Okta"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if list, _ := h.store.ListIntegrations(context.Background(), h.account); len(list) != 0 {
		t.Errorf("a refused form stored %d integrations", len(list))
	}
}

func TestCSRFRefused(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	tok := b.signInWithKey(h.key)
	form := url.Values{"name": {"Okta"}, "enabled": {"on"}, "signin_url": {"https://idp.example/sso"},
		"signout_url": {"https://idp.example/slo"}, "entity_id": {"e"}}
	for name, csrf := range map[string]string{"none": "", "wrong": tok[:len(tok)-2] + "xx", "pre-login": b.cookie("ssod_console_pre")} {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		if csrf != "" {
			f.Set("csrf", csrf)
		}
		if p := b.post("/console/integrations", f); p.status != http.StatusForbidden {
			t.Errorf("%s token: status %d", name, p.status)
		}
	}
	// The right token from another site is refused too.
	form.Set("csrf", tok)
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/console/integrations", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	if p := b.do(req); p.status != http.StatusForbidden {
		t.Errorf("foreign Origin: status %d", p.status)
	}
	// Signing in needs the pre-login token too (login CSRF).
	other := h.browser()
	if p := other.post("/console/signin/key", url.Values{"key": {h.key}}); p.status != http.StatusForbidden {
		t.Errorf("sign-in without the pre-login token: status %d", p.status)
	}
	if list, _ := h.store.ListIntegrations(context.Background(), h.account); len(list) != 0 {
		t.Errorf("refused posts stored %d integrations", len(list))
	}
	if p := b.post("/console/integrations", form); p.status != http.StatusSeeOther {
		t.Errorf("with the token: status %d", p.status)
	}
}

func TestSessionFixationRefused(t *testing.T) {
	h := newHarness(t)
	// An attacker's own session token, planted in the victim's browser.
	attacker := h.browser()
	attacker.signInWithKey(h.newKey([]ssod.Scope{ssod.ScopeSettingsRead}))
	planted := attacker.cookie("ssod_console")
	victim := h.browser()
	u, _ := url.Parse(h.srv.URL)
	victim.client.Jar.SetCookies(u, []*http.Cookie{{Name: "ssod_console", Value: planted, Path: "/"}})
	victim.signInWithKey(h.key)
	if got := victim.cookie("ssod_console"); got == planted || got == "" {
		t.Fatalf("the session token was not replaced at sign-in")
	}
	// The planted session ended with the sign-in: the attacker holds nothing.
	if p := attacker.get("/console/integrations"); p.status != http.StatusSeeOther || p.location != "/console/signin" {
		t.Errorf("the planted session still works: %d", p.status)
	}
	// A made-up token signs nobody in.
	guess := h.browser()
	guess.client.Jar.SetCookies(u, []*http.Cookie{{Name: "ssod_console", Value: "made-up", Path: "/"}})
	if p := guess.get("/console/integrations"); p.status != http.StatusSeeOther {
		t.Errorf("a made-up token: %d", p.status)
	}
}

func TestSessionTimeoutsAndSignOut(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	b.signInWithKey(h.key)
	// Used every 20 minutes, the session lives past the idle timeout...
	for range 3 {
		h.advance(20 * time.Minute)
		if p := b.get("/console/integrations"); p.status != http.StatusOK {
			t.Fatalf("active session: %d", p.status)
		}
	}
	// ...but not past 30 idle minutes.
	h.advance(31 * time.Minute)
	if p := b.get("/console/integrations"); p.status != http.StatusSeeOther {
		t.Fatalf("idle session: %d", p.status)
	}
	// The absolute timeout ends even a busy session.
	b.signInWithKey(h.key)
	for range 12 * 3 {
		h.advance(20 * time.Minute)
		b.get("/console/integrations")
	}
	if p := b.get("/console/integrations"); p.status != http.StatusSeeOther {
		t.Fatalf("a session older than its lifetime: %d", p.status)
	}
	// Sign-out deletes the session on the server.
	tok := b.signInWithKey(h.key)
	token := b.cookie("ssod_console")
	if p := b.post("/console/signout", url.Values{"csrf": {tok}}); p.status != http.StatusSeeOther {
		t.Fatalf("sign out: %d", p.status)
	}
	replay := h.browser()
	u, _ := url.Parse(h.srv.URL)
	replay.client.Jar.SetCookies(u, []*http.Cookie{{Name: "ssod_console", Value: token, Path: "/"}})
	if p := replay.get("/console/integrations"); p.status != http.StatusSeeOther {
		t.Errorf("the signed-out token still works: %d", p.status)
	}
}

func TestScopesDecideWhatIsOffered(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	tok := b.signInWithKey(h.newKey([]ssod.Scope{ssod.ScopeSettingsRead}))
	p := b.get("/console/integrations")
	if strings.Contains(p.body, "New integration") || strings.Contains(p.body, "/console/teammates") {
		t.Errorf("a read-only key is offered what it may not do")
	}
	p = b.post("/console/integrations", url.Values{"csrf": {tok}, "name": {"x"}, "enabled": {"on"},
		"signin_url": {"https://a.example"}, "signout_url": {"https://a.example"}, "entity_id": {"e"}})
	if p.status != http.StatusForbidden {
		t.Errorf("create without the scope: %d", p.status)
	}
	if p := b.get("/console/teammates"); p.status != http.StatusForbidden {
		t.Errorf("teammates without the scope: %d", p.status)
	}
}

func TestSSOSignIn(t *testing.T) {
	h := newHarness(t)
	in := h.integrationWithIdP()
	b := h.browser()
	form := b.ssoStart("jane@example.com")
	if !strings.HasPrefix(form.Get("RelayState"), "console.") {
		t.Fatalf("RelayState %q", form.Get("RelayState"))
	}
	p := b.post("/v3/public/sso/saml/response/id/"+in.ID, form)
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/console/signin/finish?") {
		t.Fatalf("ACS: %d to %q: %.300s", p.status, p.location, p.body)
	}
	p = b.get(p.location)
	if p.status != http.StatusSeeOther || p.location != "/console" {
		t.Fatalf("finish: %d to %q: %.300s", p.status, p.location, p.body)
	}
	if p := b.get("/console/teammates"); p.status != http.StatusOK || !strings.Contains(p.body, "jane@example.com") {
		t.Fatalf("teammates page as jane: %d", p.status)
	}
	// The sign-in shows in the integration's traces.
	if p := b.get("/console/integrations/" + in.ID); !strings.Contains(p.body, "Signed in") {
		t.Errorf("the trace is not shown")
	}
	// Removing the teammate ends their session at once.
	if err := h.store.DeleteTeammate(context.Background(), h.account, "jane@example.com"); err != nil {
		t.Fatal(err)
	}
	if p := b.get("/console/teammates"); p.status != http.StatusSeeOther {
		t.Errorf("a removed teammate's session: %d", p.status)
	}
}

func TestSSOSignInBoundToItsBrowser(t *testing.T) {
	h := newHarness(t)
	in := h.integrationWithIdP()
	// The attacker starts a sign-in as themselves and has the victim's
	// browser post the response (login CSRF), or steals the finish link.
	attacker := h.browser()
	form := attacker.ssoStart("jane@example.com")
	victim := h.browser()
	victim.get("/console/signin") // the victim has a pre-login cookie of their own
	p := victim.post("/v3/public/sso/saml/response/id/"+in.ID, form)
	if p.status != http.StatusSeeOther {
		t.Fatalf("ACS: %d", p.status)
	}
	if p := victim.get(p.location); p.status != http.StatusForbidden {
		t.Fatalf("finished in another browser: %d", p.status)
	}
	if victim.cookie("ssod_console") != "" {
		t.Errorf("the victim got a session")
	}
	// A RelayState the console never issued signs nobody in.
	form = attacker.ssoStart("jane@example.com")
	form.Set("RelayState", "console.forged")
	if p := attacker.post("/v3/public/sso/saml/response/id/"+in.ID, form); p.status != http.StatusForbidden {
		t.Errorf("forged RelayState: %d", p.status)
	}
	// An email no integration signs in is told so, next to the field.
	b := h.browser()
	pre := csrf(t, b.get("/console/signin"))
	p = b.post("/console/signin/sso", url.Values{"csrf": {pre}, "email": {"nobody@example.com"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="email-error"`) {
		t.Errorf("unknown email: %d", p.status)
	}
}

func TestEveryPageRenders(t *testing.T) {
	h := newHarness(t)
	in := h.integrationWithIdP()
	b := h.browser()
	b.signInWithKey(h.key)
	certs, err := h.store.ListCertificates(context.Background(), h.account, in.ID)
	if err != nil || len(certs) != 1 {
		t.Fatal(certs, err)
	}
	for _, path := range []string{"/console/integrations", "/console/integrations/" + in.ID, "/console/integrations/" + in.ID + "/delete",
		"/console/certificates/" + strconv.FormatInt(certs[0].ID, 10) + "/delete", "/console/teammates", "/console/teammates/jane@example.com",
		"/console/teammates/jane@example.com/delete", "/console/audit"} {
		p := b.get(path)
		if p.status != http.StatusOK || !strings.Contains(p.body, "</main>") {
			t.Errorf("GET %s: %d: %.300s", path, p.status, p.body)
		}
	}
	for _, path := range []string{"/console/integrations/" + missingID, "/console/teammates/nobody@example.com", "/console/certificates/999/delete", "/console/nothing"} {
		if p := b.get(path); p.status != http.StatusNotFound {
			t.Errorf("GET %s: %d", path, p.status)
		}
	}
}

const missingID = "00000000-0000-4000-8000-000000000000"

// TestChangesReachTheStore runs every change the pages offer and reads the
// result back from the store.
func TestChangesReachTheStore(t *testing.T) {
	h := newHarness(t)
	in := h.integrationWithIdP()
	ctx := context.Background()
	b := h.browser()
	tok := b.signInWithKey(h.key)
	certs, _ := h.store.ListCertificates(ctx, h.account, in.ID)
	certPath := "/console/certificates/" + strconv.FormatInt(certs[0].ID, 10)
	steps := []struct {
		path string
		form url.Values
	}{
		{"/console/integrations/" + in.ID + "/enabled", url.Values{"enabled": {"false"}}},
		{"/console/integrations/" + in.ID, url.Values{"name": {"Renamed"}, "signin_url": {"https://idp.example/sso"},
			"signout_url": {"https://idp.example/slo"}, "entity_id": {"e2"}, "jit_provisioning": {"on"}, "jit_persona": {"developer"}}},
		{certPath + "/enabled", url.Values{"enabled": {"false"}}},
		{"/console/teammates/jane@example.com", url.Values{"first_name": {"Janet"}, "last_name": {"Doe"}, "access": {"marketer"}}},
		{"/console/teammates", url.Values{"email": {"max@example.com"}, "first_name": {"Max"}, "last_name": {"M"}, "access": {"scopes"}, "scopes": {"sso.settings.read\nteammates.read"}}},
	}
	for _, s := range steps {
		s.form.Set("csrf", tok)
		if p := b.post(s.path, s.form); p.status != http.StatusSeeOther {
			t.Fatalf("POST %s: %d: %.400s", s.path, p.status, p.body)
		}
	}
	got, err := h.store.GetIntegration(ctx, h.account, in.ID)
	if err != nil || got.Enabled || got.Name != "Renamed" || got.EntityID != "e2" || !got.JITProvisioning || got.JITPersona != "developer" {
		t.Errorf("integration after the changes: %+v, %v", got, err)
	}
	if c, err := h.store.GetCertificate(ctx, h.account, certs[0].ID); err != nil || c.Enabled {
		t.Errorf("certificate after disabling: %+v, %v", c, err)
	}
	if tm, err := h.store.GetTeammate(ctx, h.account, "jane@example.com"); err != nil || tm.FirstName != "Janet" || tm.Persona != "marketer" || tm.IsAdmin {
		t.Errorf("teammate after the edit: %+v, %v", tm, err)
	}
	if tm, err := h.store.GetTeammate(ctx, h.account, "max@example.com"); err != nil || strings.Join(tm.Scopes, ",") != "sso.settings.read,teammates.read" {
		t.Errorf("new teammate: %+v, %v", tm, err)
	}
	// A persona and scopes at once are refused by the API's rule, next to the field.
	p := b.post("/console/teammates", url.Values{"csrf": {tok}, "email": {"x@example.com"}, "first_name": {"X"}, "last_name": {"Y"}, "access": {"nope"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="scopes-error"`) {
		t.Errorf("unknown persona: %d", p.status)
	}
	for _, path := range []string{certPath + "/delete", "/console/teammates/max@example.com/delete", "/console/integrations/" + in.ID + "/delete"} {
		if p := b.post(path, url.Values{"csrf": {tok}}); p.status != http.StatusSeeOther {
			t.Fatalf("POST %s: %d", path, p.status)
		}
	}
	if _, err := h.store.GetIntegration(ctx, h.account, in.ID); ssod.CodeOf(err) != ssod.ENotFound {
		t.Errorf("integration after delete: %v", err)
	}
	if _, err := h.store.GetTeammate(ctx, h.account, "max@example.com"); ssod.CodeOf(err) != ssod.ENotFound {
		t.Errorf("teammate after delete: %v", err)
	}
	// A private key pasted as a certificate is refused and not shown back.
	in2 := h.integrationWithIdPNamed("Second")
	key := h.idp.cert.KeyPEM(t)
	p = b.postMultipart("/console/integrations/"+in2.ID+"/certificates", map[string]string{"csrf": tok, "public_certificate": key})
	if p.status != http.StatusBadRequest || strings.Contains(p.body, "PRIVATE KEY") || !strings.Contains(p.body, `id="cert-error"`) {
		t.Errorf("private key paste: %d, echoed: %v", p.status, strings.Contains(p.body, "PRIVATE KEY"))
	}
}

// The expiry report page rates integrations by the console's clock and the
// window asked, and names a bad window next to its field.
func TestExpiryPage(t *testing.T) {
	h := newHarness(t)
	in := h.integrationWithIdP()
	b := h.browser()
	b.signInWithKey(h.key)
	certs, err := h.store.ListCertificates(context.Background(), h.account, in.ID)
	if err != nil || len(certs) != 1 {
		t.Fatal(certs, err)
	}
	p := b.get("/console/expiry")
	if p.status != http.StatusOK || !strings.Contains(p.body, in.Name) || !strings.Contains(p.body, `aria-current="page">Certificate expiry`) {
		t.Fatalf("GET /console/expiry: %d: %.500s", p.status, p.body)
	}
	// A window longer than the certificate has left flags it as expiring.
	left := time.Duration(certs[0].NotAfter-h.now.Unix()) * time.Second
	within := fmt.Sprintf("%dd", int(left/ssod.Day)+1)
	if p := b.get("/console/expiry?within=" + within); !strings.Contains(p.body, ">expiring<") {
		t.Errorf("within=%s: no expiring badge: %.800s", within, p.body)
	}
	if p := b.get("/console/expiry?within=0"); strings.Contains(p.body, ">expiring<") || !strings.Contains(p.body, ">ok<") {
		t.Errorf("within=0: want ok: %.800s", p.body)
	}
	p = b.get("/console/expiry?within=soon")
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="within-error"`) {
		t.Errorf("within=soon: %d, want 400 with the error by the field: %.800s", p.status, p.body)
	}
}

// The metadata import form creates the integration through the API's
// importer and store call, and shows what is wrong next to its field: a
// document with no signing certificate, and a URL the outbound policy
// refuses (loopback), which ssod must not fetch.
func TestMetadataImport(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	b.signInWithKey(h.key)
	tok := csrf(t, b.get("/console/integrations"))
	b64 := strings.Join(strings.Split(strings.TrimSpace(pemBody(h.idp.cert.PEM)), "\n"), "")
	doc := `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://idp.example.com/meta">
<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>` + b64 + `</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso"/>
</md:IDPSSODescriptor></md:EntityDescriptor>`
	p := b.postMultipart("/console/integrations/metadata", map[string]string{"csrf": tok, "name": "From metadata", "enabled": "on", "metadata_xml": doc})
	if p.status != http.StatusSeeOther {
		t.Fatalf("import: %d, want 303 to the new integration: %.800s", p.status, p.body)
	}
	list, err := h.store.ListIntegrations(context.Background(), h.account)
	if err != nil || len(list) != 1 || list[0].EntityID != "https://idp.example.com/meta" || list[0].SigninURL != "https://idp.example.com/sso" || !list[0].Enabled {
		t.Fatalf("stored: %+v, %v", list, err)
	}
	certs, err := h.store.ListCertificates(context.Background(), h.account, list[0].ID)
	if err != nil || len(certs) != 1 || !certs[0].Enabled {
		t.Fatalf("certificates: %+v, %v", certs, err)
	}

	noCert := strings.Replace(doc, `use="signing"`, `use="encryption"`, 1)
	p = b.postMultipart("/console/integrations/metadata", map[string]string{"csrf": tok, "name": "No cert", "metadata_xml": noCert})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="metadata_xml-error"`) || !strings.Contains(p.body, "signing certificate") {
		t.Errorf("no signing certificate: %d: %.1200s", p.status, p.body)
	}
	p = b.postMultipart("/console/integrations/metadata", map[string]string{"csrf": tok, "name": "Loopback", "metadata_url": h.srv.URL + "/metadata"})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="metadata_url-error"`) {
		t.Errorf("loopback URL: %d: %.1200s", p.status, p.body)
	}
	if list, _ := h.store.ListIntegrations(context.Background(), h.account); len(list) != 1 {
		t.Errorf("refused imports stored something: %d integrations", len(list))
	}
	// Without the session's token nothing is imported.
	if p := b.postMultipart("/console/integrations/metadata", map[string]string{"name": "x", "metadata_xml": doc}); p.status != http.StatusForbidden {
		t.Errorf("no CSRF token: %d", p.status)
	}
}

// pemBody is the base64 between a PEM block's armour lines.
func pemBody(pem string) string {
	var lines []string
	for _, l := range strings.Split(pem, "\n") {
		if !strings.HasPrefix(l, "-----") {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

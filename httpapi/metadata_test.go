package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/idpmeta"
	"github.com/ssod/ssod/internal/testcert"
	"github.com/ssod/ssod/outbound"
)

// idpMetadata is an IdP metadata document publishing certs as signing keys.
func idpMetadata(entityID string, certs ...testcert.Cert) string {
	var b strings.Builder
	b.WriteString(`<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="` + entityID + `">` +
		`<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">`)
	for _, c := range certs {
		body := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(c.PEM), "-----BEGIN CERTIFICATE-----"), "-----END CERTIFICATE-----")
		b.WriteString(`<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>` + body + `</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`)
	}
	b.WriteString(`<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.test/slo"/>` +
		`<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.test/sso/post"/>` +
		`<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.test/sso"/>` +
		`</md:IDPSSODescriptor></md:EntityDescriptor>`)
	return b.String()
}

// metadataAPI is a server on a real SQLite store whose outbound client may
// reach this machine, and a metadata document it serves over HTTP.
type metadataAPI struct {
	*Server
	ks  keyedStore
	idp *httptest.Server
	mu  sync.Mutex
	doc string // what idp serves; "" answers 500
	now time.Time
}

func newMetadataAPI(t *testing.T) *metadataAPI {
	t.Helper()
	a := &metadataAPI{ks: newKeyedStore(t, filepath.Join(t.TempDir(), "ssod.db")), now: time.Unix(1_800_000_000, 0)}
	a.idp = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.doc == "" {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/samlmetadata+xml")
		w.Write([]byte(a.doc))
	}))
	t.Cleanup(a.idp.Close)
	srv, err := NewServer(Config{Store: a.ks.store, PublicURL: "http://api.test", Outbound: outbound.New(outbound.Policy{AllowPrivate: true}),
		Now: func() time.Time { a.mu.Lock(); defer a.mu.Unlock(); return a.now }})
	if err != nil {
		t.Fatal(err)
	}
	a.Server = srv
	return a
}

func (a *metadataAPI) serve(doc string) {
	a.mu.Lock()
	a.doc = doc
	a.mu.Unlock()
}

func (a *metadataAPI) advance(d time.Duration) {
	a.mu.Lock()
	a.now = a.now.Add(d)
	a.mu.Unlock()
}

// call sends a request with the full-scope key and a JSON body (none when "").
func (a *metadataAPI) call(t *testing.T, method, path, body string) (int, map[string]any, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body == "" {
		req.Body, req.ContentLength = http.NoBody, 0
	} else {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+a.ks.key)
	w := httptest.NewRecorder()
	a.ServeHTTP(w, req)
	var obj map[string]any
	json.Unmarshal(w.Body.Bytes(), &obj)
	return w.Code, obj, w.Body.String()
}

func jsonBody(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// certificateStates maps each certificate's PEM to whether it is enabled.
func (a *metadataAPI) certificateStates(t *testing.T, id string) map[string]bool {
	t.Helper()
	cs, err := a.ks.store.ListCertificates(context.Background(), a.ks.account, id)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]bool{}
	for _, c := range cs {
		m[c.PEM] = c.Enabled
	}
	return m
}

func TestMetadataImportFromXML(t *testing.T) {
	a := newMetadataAPI(t)
	c1, c2 := testcert.New(t, testcert.Options{}), testcert.New(t, testcert.Options{})
	code, in, raw := a.call(t, "POST", "/v3/sso/integrations/metadata", jsonBody(t, map[string]any{
		"name": "Okta", "enabled": true, "metadata_xml": idpMetadata("https://idp.test/entity", c1, c2, c1)}))
	if code != 200 {
		t.Fatalf("create: %d %s", code, raw)
	}
	for k, want := range map[string]any{"name": "Okta", "enabled": true, "entity_id": "https://idp.test/entity",
		"signin_url": "https://idp.test/sso", "signout_url": "https://idp.test/slo", "metadata_url": nil,
		"metadata_refreshed_at": float64(a.now.Unix()), "metadata_error": nil} {
		if in[k] != want {
			t.Errorf("%s = %v, want %v", k, in[k], want)
		}
	}
	id := in["id"].(string)
	if got := a.certificateStates(t, id); len(got) != 2 || !got[c1.PEM] || !got[c2.PEM] {
		t.Errorf("certificates: %v, want c1 and c2 enabled", got)
	}
	// The other integration responses carry the fields too.
	for _, path := range []string{"/v3/sso/integrations/" + id, "/v3/sso/integrations"} {
		_, _, body := a.call(t, "GET", path, "")
		if !strings.Contains(body, `"metadata_url":null`) || !strings.Contains(body, `"metadata_refreshed_at":1800000000`) {
			t.Errorf("GET %s lacks the metadata fields: %s", path, body)
		}
	}
	// An empty body has no URL to read again.
	if code, _, raw := a.call(t, "POST", "/v3/sso/integrations/"+id+"/metadata", ""); code != 400 || !strings.Contains(raw, `"field":"metadata_url"`) {
		t.Errorf("refresh without a URL: %d %s", code, raw)
	}

	// Bad requests name the field and store nothing.
	for _, tc := range []struct{ body, field, msg string }{
		{jsonBody(t, map[string]any{"name": "x", "enabled": true, "metadata_xml": idpMetadata("https://idp.test/e")}), "metadata_xml", "no signing certificate"},
		{jsonBody(t, map[string]any{"name": "x", "enabled": true, "metadata_xml": "<x/>"}), "metadata_xml", "not a SAML 2.0 metadata"},
		{jsonBody(t, map[string]any{"name": "x", "enabled": true, "metadata_xml": strings.Replace(idpMetadata("https://idp.test/e", c1), "https://idp.test/sso", "javascript:alert(1)", 2)}), "metadata_xml", "signin_url must be an absolute http or https URL"},
		{jsonBody(t, map[string]any{"name": "x", "enabled": true}), "metadata_xml", "metadata_xml or metadata_url is required"},
		{jsonBody(t, map[string]any{"name": "x", "enabled": true, "metadata_xml": "<x/>", "metadata_url": "https://idp.test/m"}), "metadata_url", "not both"},
		{jsonBody(t, map[string]any{"enabled": true, "metadata_xml": idpMetadata("https://idp.test/e", c1)}), "name", "name is required"},
		{jsonBody(t, map[string]any{"name": "x", "enabled": true, "metadata_url": "ftp://idp.test/m"}), "metadata_url", "metadata_url is not allowed"},
	} {
		code, _, raw := a.call(t, "POST", "/v3/sso/integrations/metadata", tc.body)
		if code != 400 || !strings.Contains(raw, `"field":"`+tc.field+`"`) || !strings.Contains(raw, tc.msg) {
			t.Errorf("%.80s: %d %s, want 400 on %s saying %q", tc.body, code, raw, tc.field, tc.msg)
		}
	}
	list, _ := a.ks.store.ListIntegrations(context.Background(), a.ks.account)
	if len(list) != 1 {
		t.Errorf("%d integrations after refused creates, want 1", len(list))
	}
}

// TestMetadataURLRefresh: metadata served over HTTP announces a new signing
// certificate and drops an old one; a refresh, on demand and on schedule,
// adds the new one enabled and disables the old one, with audit events; a
// failed fetch keeps everything and says why.
func TestMetadataURLRefresh(t *testing.T) {
	a := newMetadataAPI(t)
	ctx := context.Background()
	old, cur, next := testcert.New(t, testcert.Options{}), testcert.New(t, testcert.Options{}), testcert.New(t, testcert.Options{})
	a.serve(idpMetadata("https://idp.test/entity", old, cur))
	url := a.idp.URL + "/metadata"
	code, in, raw := a.call(t, "POST", "/v3/sso/integrations/metadata", jsonBody(t, map[string]any{"name": "IdP", "enabled": true, "metadata_url": url}))
	if code != 200 || in["metadata_url"] != url {
		t.Fatalf("create from URL: %d %s", code, raw)
	}
	id := in["id"].(string)
	if got := a.certificateStates(t, id); len(got) != 2 || !got[old.PEM] || !got[cur.PEM] {
		t.Fatalf("certificates after create: %v", got)
	}

	// The IdP rolls over; an empty POST reads the URL again.
	a.serve(idpMetadata("https://idp.test/entity", cur, next))
	a.advance(time.Minute)
	code, in, raw = a.call(t, "POST", "/v3/sso/integrations/"+id+"/metadata", "")
	if code != 200 || in["metadata_refreshed_at"] != float64(a.now.Unix()) {
		t.Fatalf("refresh: %d %s", code, raw)
	}
	if got := a.certificateStates(t, id); len(got) != 3 || got[old.PEM] || !got[cur.PEM] || !got[next.PEM] {
		t.Fatalf("certificates after refresh: %v, want old disabled, cur and next enabled", got)
	}
	evs, err := a.ks.store.ListAuditEvents(ctx, a.ks.account, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) < 2 || evs[0].Operation != ssod.AuditCertificateUpdate || !strings.Contains(evs[0].After, `"enabled":false`) ||
		evs[1].Operation != ssod.AuditCertificateCreate || evs[0].KeyID != a.ks.keyID {
		t.Errorf("audit after refresh: %+v", evs)
	}

	// The IdP fails: the request says so, the integration keeps its
	// certificates, and metadata_error shows it until the next success.
	a.serve("")
	code, _, raw = a.call(t, "POST", "/v3/sso/integrations/"+id+"/metadata", "")
	if code != 400 || !strings.Contains(raw, `"field":"metadata_url"`) || !strings.Contains(raw, "500") {
		t.Errorf("refresh of a failing URL: %d %s", code, raw)
	}
	_, in, _ = a.call(t, "GET", "/v3/sso/integrations/"+id, "")
	if msg, _ := in["metadata_error"].(string); !strings.Contains(msg, "500") {
		t.Errorf("metadata_error after a failure = %v", in["metadata_error"])
	}
	if got := a.certificateStates(t, id); len(got) != 3 || !got[cur.PEM] || !got[next.PEM] {
		t.Errorf("a failed refresh changed certificates: %v", got)
	}

	// On schedule: nothing is due until the interval has passed since the
	// last read; then the next document is read by the loop's step.
	a.serve(idpMetadata("https://idp.test/entity", next))
	a.metadata.RunOnce(ctx, time.Hour)
	if got := a.certificateStates(t, id); !got[cur.PEM] {
		t.Fatalf("refreshed before due: %v", got)
	}
	a.advance(time.Hour)
	a.metadata.RunOnce(ctx, time.Hour)
	if got := a.certificateStates(t, id); got[cur.PEM] || !got[next.PEM] {
		t.Errorf("scheduled refresh: %v, want cur disabled, next enabled", got)
	}
	_, in, _ = a.call(t, "GET", "/v3/sso/integrations/"+id, "")
	if in["metadata_error"] != nil || in["metadata_refreshed_at"] != float64(a.now.Unix()) {
		t.Errorf("after a scheduled success: error %v, refreshed %v", in["metadata_error"], in["metadata_refreshed_at"])
	}
	evs, _ = a.ks.store.ListAuditEvents(ctx, a.ks.account, 1)
	if len(evs) != 1 || evs[0].Operation != ssod.AuditCertificateUpdate || evs[0].KeyID != idpmeta.RefreshKeyID || evs[0].ActorAccountID != 0 {
		t.Errorf("the scheduled refresh's audit event: %+v, want a certificate.update by key id %s, no account", evs, idpmeta.RefreshKeyID)
	}

	// New XML replaces the URL; another account's integration is 404.
	code, in, raw = a.call(t, "POST", "/v3/sso/integrations/"+id+"/metadata", jsonBody(t, map[string]any{"metadata_xml": idpMetadata("https://idp.test/entity", next)}))
	if code != 200 || in["metadata_url"] != nil {
		t.Errorf("update from XML: %d %s", code, raw)
	}
	if code, _, _ := a.call(t, "POST", "/v3/sso/integrations/00000000-0000-4000-8000-000000000000/metadata", jsonBody(t, map[string]any{"metadata_xml": idpMetadata("x", next)})); code != 404 {
		t.Errorf("unknown integration: %d", code)
	}
}

// TestMetadataURLPolicy: with the default outbound policy, a URL on this
// machine is refused when it is given, naming metadata_url.
func TestMetadataURLPolicy(t *testing.T) {
	ks := newKeyedStore(t, filepath.Join(t.TempDir(), "ssod.db"))
	srv, err := NewServer(Config{Store: ks.store, PublicURL: "http://api.test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, url := range []string{"http://127.0.0.1:9/m", "https://127.0.0.1/m", "https://10.0.0.1/m", "https://169.254.169.254/latest", "https://localhost/m", "https://[::1]/m"} {
		req := httptest.NewRequest("POST", "/v3/sso/integrations/metadata", strings.NewReader(jsonBody(t, map[string]any{"name": "x", "enabled": true, "metadata_url": url})))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+ks.key)
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code != 400 || !strings.Contains(w.Body.String(), `"field":"metadata_url"`) {
			t.Errorf("%s: %d %s, want 400 on metadata_url", url, w.Code, w.Body)
		}
	}
}

// TestMetadataRoutes: the literal path beside /v3/sso/integrations/{id}
// answers 405 with its own Allow for other methods, and the integration
// paths keep theirs.
func TestMetadataRoutes(t *testing.T) {
	a := newMetadataAPI(t)
	for _, tc := range []struct{ method, path, allow string }{
		{"GET", "/v3/sso/integrations/metadata", "POST"},
		{"DELETE", "/v3/sso/integrations/metadata", "POST"},
		{"GET", "/v3/sso/integrations/00000000-0000-4000-8000-000000000000/metadata", "POST"},
		{"PUT", "/v3/sso/integrations/00000000-0000-4000-8000-000000000000", "GET, PATCH, DELETE, HEAD"},
	} {
		req := httptest.NewRequest(tc.method, tc.path, nil)
		req.Header.Set("Authorization", "Bearer "+a.ks.key)
		w := httptest.NewRecorder()
		a.ServeHTTP(w, req)
		if w.Code != 405 || w.Header().Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d Allow %q, want 405 Allow %q", tc.method, tc.path, w.Code, w.Header().Get("Allow"), tc.allow)
		}
	}
}

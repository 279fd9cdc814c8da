package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ssod/ssod/internal/testcert"
	"github.com/ssod/ssod/internal/testenv"
)

type integrationResp struct {
	ID                   string `json:"id"`
	Name                 string `json:"name"`
	Enabled              bool   `json:"enabled"`
	SigninURL            string `json:"signin_url"`
	SignoutURL           string `json:"signout_url"`
	EntityID             string `json:"entity_id"`
	CompletedIntegration *bool  `json:"completed_integration"`
	LastUpdated          int64  `json:"last_updated"`
	SingleSignonURL      string `json:"single_signon_url"`
	AudienceURL          string `json:"audience_url"`
}

type certificateResp struct {
	ID                int64  `json:"id"`
	PublicCertificate string `json:"public_certificate"`
	NotBefore         int64  `json:"not_before"`
	NotAfter          int64  `json:"not_after"`
	IntergrationID    string `json:"intergration_id"`
	IntegrationID     string `json:"integration_id"`
	Enabled           *bool  `json:"enabled"`
}

func integrationBody(name string) map[string]any {
	return map[string]any{
		"name":        name,
		"enabled":     true,
		"signin_url":  "https://idp.example.com/sso/saml",
		"signout_url": "https://idp.example.com/slo",
		"entity_id":   "https://idp.example.com/entity",
	}
}

func (c *client) createIntegration(name string) integrationResp {
	c.ts.t.Helper()
	r := c.do("POST", "/v3/sso/integrations", integrationBody(name))
	if r.Status != http.StatusOK {
		c.ts.t.Fatalf("create integration: %d %s", r.Status, r.Body)
	}
	return decode[integrationResp](c.ts.t, r)
}

func (c *client) createCertificate(integrationID, pemText string) certificateResp {
	c.ts.t.Helper()
	r := c.do("POST", "/v3/sso/certificates", map[string]any{"public_certificate": pemText, "integration_id": integrationID})
	if r.Status != http.StatusOK {
		c.ts.t.Fatalf("create certificate: %d %s", r.Status, r.Body)
	}
	return decode[certificateResp](c.ts.t, r)
}

func testLifecycle(t *testing.T, dsn string) {
	ts := startServer(t, dsn)
	if ts.Key == "" {
		t.Fatalf("first start printed no key:\n%s", ts.Logs)
	}
	c := ts.client(ts.Key)

	in := c.createIntegration("Okta")
	if !strings.HasPrefix(in.SingleSignonURL, ts.URL+"/v3/public/sso/saml/response/id/"+in.ID) || in.AudienceURL != in.SingleSignonURL {
		t.Errorf("SAML URLs %q / %q do not point at this server", in.SingleSignonURL, in.AudienceURL)
	}
	if in.CompletedIntegration != nil {
		t.Error("completed_integration shown without si=true")
	}

	expired := testcert.New(t, testcert.Options{NotBefore: time.Unix(1_500_000_000, 0), NotAfter: time.Unix(1_600_000_000, 0)})
	future := testcert.New(t, testcert.Options{NotBefore: time.Now().Add(48 * time.Hour), RSABits: 2048})
	first := c.createCertificate(in.ID, expired.PEM)
	second := c.createCertificate(in.ID, future.PEM)
	if first.NotBefore != 1_500_000_000 || first.NotAfter != 1_600_000_000 {
		t.Errorf("window %d..%d, want the certificate's", first.NotBefore, first.NotAfter)
	}
	if first.IntergrationID != in.ID || first.IntegrationID != in.ID || first.Enabled == nil || !*first.Enabled {
		t.Errorf("created certificate %+v", first)
	}
	if first.PublicCertificate != expired.PEM {
		t.Errorf("stored PEM differs from canonical PEM")
	}
	if second.ID <= first.ID {
		t.Errorf("ids %d then %d: want increasing", first.ID, second.ID)
	}

	list := decode[[]certificateResp](t, c.do("GET", "/v3/sso/integrations/"+in.ID+"/certificates", nil))
	if len(list) != 2 || list[0].ID != first.ID || list[1].ID != second.ID {
		t.Fatalf("list = %+v, want both by id", list)
	}
	got := decode[certificateResp](t, c.do("GET", fmt.Sprintf("/v3/sso/certificates/%d", first.ID), nil))
	if got.ID != first.ID || got.PublicCertificate != first.PublicCertificate || got.NotBefore != first.NotBefore ||
		got.NotAfter != first.NotAfter || got.IntegrationID != first.IntegrationID || *got.Enabled != *first.Enabled {
		t.Fatalf("get = %+v, want %+v", got, first)
	}

	replacement := testcert.New(t, testcert.Options{NotBefore: time.Unix(1_700_000_000, 0), NotAfter: time.Unix(1_800_000_000, 0)})
	r := c.do("PATCH", fmt.Sprintf("/v3/sso/certificates/%d", first.ID), map[string]any{"enabled": false, "public_certificate": replacement.PEM})
	patched := decode[certificateResp](t, r)
	if r.Status != 200 || *patched.Enabled || patched.NotBefore != 1_700_000_000 || patched.NotAfter != 1_800_000_000 || patched.PublicCertificate != replacement.PEM || patched.IntegrationID != in.ID {
		t.Fatalf("PATCH -> %d %+v", r.Status, patched)
	}
	again := decode[certificateResp](t, c.do("GET", fmt.Sprintf("/v3/sso/certificates/%d", first.ID), nil))
	if *again.Enabled || again.NotAfter != 1_800_000_000 {
		t.Fatalf("PATCH not stored: %+v", again)
	}

	r = c.do("DELETE", fmt.Sprintf("/v3/sso/certificates/%d", second.ID), nil)
	if deleted := decode[certificateResp](t, r); r.Status != 200 || deleted.ID != second.ID {
		t.Fatalf("DELETE certificate -> %d %s", r.Status, r.Body)
	}
	wantError(t, c.do("GET", fmt.Sprintf("/v3/sso/certificates/%d", second.ID), nil), 404, "", "not_found")

	if r := c.do("DELETE", "/v3/sso/integrations/"+in.ID, nil); r.Status != http.StatusNoContent {
		t.Fatalf("DELETE integration -> %d %s", r.Status, r.Body)
	}
	wantError(t, c.do("GET", fmt.Sprintf("/v3/sso/certificates/%d", first.ID), nil), 404, "", "not_found")
	wantError(t, c.do("GET", "/v3/sso/integrations/"+in.ID+"/certificates", nil), 404, "", "not_found")
	wantError(t, c.do("GET", "/v3/sso/integrations/"+in.ID, nil), 404, "", "not_found")
}

func testIntegrations(t *testing.T, dsn string) {
	ts := startServer(t, dsn, "--public-url", "https://sso.example.org/")
	c := ts.client(ts.Key)

	if r := c.do("GET", "/v3/sso/integrations", nil); r.Status != 200 || string(r.Body) != "[]" {
		t.Fatalf("empty list -> %d %s, want []", r.Status, r.Body)
	}
	a := c.createIntegration("A")
	b := c.createIntegration("B")
	if a.SingleSignonURL != "https://sso.example.org/v3/public/sso/saml/response/id/"+a.ID {
		t.Errorf("single_signon_url %q ignores --public-url", a.SingleSignonURL)
	}
	if len(a.ID) != 36 || a.ID != strings.ToLower(a.ID) || a.ID[14] != '4' {
		t.Errorf("id %q is not a lower-case UUID v4", a.ID)
	}
	list := decode[[]integrationResp](t, c.do("GET", "/v3/sso/integrations?si=true", nil))
	if len(list) != 2 || list[0].ID != a.ID || list[1].ID != b.ID {
		t.Fatalf("list %+v, want A then B", list)
	}
	if list[0].CompletedIntegration == nil || *list[0].CompletedIntegration {
		t.Errorf("si=true: completed_integration %v, want false", list[0].CompletedIntegration)
	}

	r := c.do("PATCH", "/v3/sso/integrations/"+a.ID+"?si=true", map[string]any{"name": "A2", "completed_integration": true})
	patched := decode[integrationResp](t, r)
	if r.Status != 200 || patched.Name != "A2" || patched.SigninURL != a.SigninURL || !patched.Enabled || patched.CompletedIntegration == nil || !*patched.CompletedIntegration {
		t.Fatalf("partial PATCH -> %d %+v", r.Status, patched)
	}
	if patched.LastUpdated < a.LastUpdated {
		t.Errorf("last_updated went back: %d < %d", patched.LastUpdated, a.LastUpdated)
	}
	got := decode[integrationResp](t, c.do("GET", "/v3/sso/integrations/"+a.ID, nil))
	if got.Name != "A2" || got.CompletedIntegration != nil {
		t.Fatalf("GET after PATCH: %+v", got)
	}

	bad := map[string]any{"name": "", "enabled": "yes", "signin_url": "ftp://x", "signout_url": "not a url", "completed_integration": 1}
	wantError(t, c.do("POST", "/v3/sso/integrations", bad), 400,
		"enabled", "invalid", "completed_integration", "invalid", "entity_id", "required",
		"name", "invalid", "signin_url", "invalid", "signout_url", "invalid")
	wantError(t, c.do("POST", "/v3/sso/integrations", map[string]any{}), 400,
		"name", "required", "enabled", "required", "signin_url", "required", "signout_url", "required", "entity_id", "required")
	wantError(t, c.do("GET", "/v3/sso/integrations?si=maybe", nil), 400, "si", "invalid")
	wantError(t, c.do("PATCH", "/v3/sso/integrations/"+a.ID, map[string]any{"entity_id": "a\x00b"}), 400, "entity_id", "invalid")
	wantError(t, c.do("PATCH", "/v3/sso/integrations/00000000-0000-4000-8000-000000000000", map[string]any{"name": "x"}), 404, "", "not_found")
	wantError(t, c.do("GET", "/v3/sso/integrations/NOT-A-UUID", nil), 404, "", "not_found")
	wantError(t, c.do("DELETE", "/v3/sso/integrations/"+strings.ToUpper(a.ID), nil), 404, "", "not_found")
}

func testCertificateInput(t *testing.T, dsn string) {
	ts := startServer(t, dsn)
	c := ts.client(ts.Key)
	in := c.createIntegration("Okta")
	again := c.createIntegration("Okta, again")
	cert := testcert.New(t, testcert.Options{})
	post := func(body map[string]any) response { return c.do("POST", "/v3/sso/certificates", body) }

	// Every real IdP certificate, pasted as the IdP shows it, on an
	// integration of its own.
	t.Run("RealIdPCertificates", func(t *testing.T) {
		dir := testenv.Dir(t, testenv.IdPCerts, "real IdP certificates through the API")
		idp := c.createIntegration("IdP certificates")
		for _, name := range []string{"adfs_idp_signing_cert.pem", "auth0_cert.pem", "okta_cert.pem", "onelogin_cert.pem"} {
			raw, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			body := strings.TrimSpace(string(raw))
			body = strings.TrimPrefix(body, "-----BEGIN CERTIFICATE-----")
			body = strings.TrimSuffix(body, "-----END CERTIFICATE-----")
			asPEM := c.createCertificate(idp.ID, string(raw))
			asBase64 := c.createCertificate(again.ID, strings.ReplaceAll(body, "\n", "\r\n")) // in idp it is a duplicate
			if asPEM.PublicCertificate != asBase64.PublicCertificate || asPEM.NotAfter != asBase64.NotAfter || asPEM.NotBefore == 0 {
				t.Errorf("%s: PEM and bare base64 differ: %+v vs %+v", name, asPEM, asBase64)
			}
		}
	})

	r := c.do("POST", "/v3/sso/certificates", map[string]any{"public_certificate": cert.PEM, "intergration_id": in.ID, "enabled": false})
	if got := decode[certificateResp](t, r); r.Status != 200 || got.IntegrationID != in.ID || *got.Enabled {
		t.Fatalf("create with the spec's spelling and enabled=false -> %d %s", r.Status, r.Body)
	}

	keyPEM := cert.KeyPEM(t)
	rememberSecret(keyPEM)
	wantError(t, post(map[string]any{"public_certificate": keyPEM, "integration_id": in.ID}), 400, "public_certificate", "private_key_rejected")
	wantError(t, post(map[string]any{"public_certificate": cert.PEM + keyPEM, "integration_id": in.ID}), 400, "public_certificate", "private_key_rejected")
	wantError(t, post(map[string]any{"public_certificate": "hello", "integration_id": in.ID}), 400, "public_certificate", "invalid_certificate")
	wantError(t, post(map[string]any{"public_certificate": cert.PEM + cert.PEM, "integration_id": in.ID}), 400, "public_certificate", "invalid_certificate")
	wantError(t, post(map[string]any{"public_certificate": strings.Repeat("A", 17<<10), "integration_id": in.ID}), 400, "public_certificate", "too_large")
	wantError(t, post(map[string]any{}), 400, "public_certificate", "required", "integration_id", "required")
	wantError(t, post(map[string]any{"public_certificate": cert.PEM, "integration_id": "00000000-0000-4000-8000-000000000000"}), 400, "integration_id", "invalid")
	wantError(t, post(map[string]any{"public_certificate": cert.PEM, "integration_id": "'; DROP TABLE certificates; --"}), 400, "integration_id", "invalid")
	wantError(t, post(map[string]any{"public_certificate": cert.PEM, "integration_id": in.ID, "intergration_id": "00000000-0000-4000-8000-000000000000"}), 400, "integration_id", "invalid")
	wantError(t, post(map[string]any{"public_certificate": 42, "integration_id": in.ID, "enabled": "no"}), 400, "public_certificate", "invalid", "enabled", "invalid")
	if logs := ts.settledLogs(); strings.Contains(logs, "PRIVATE KEY") || strings.Contains(logs, strings.Split(keyPEM, "\n")[1]) {
		t.Error("the server logged private key material")
	}
	list := decode[[]certificateResp](t, c.do("GET", "/v3/sso/integrations/"+in.ID+"/certificates", nil))
	if len(list) != 1 {
		t.Errorf("%d certificates stored, want the one accepted", len(list))
	}

	id := fmt.Sprint(list[0].ID)
	other := c.createIntegration("Other")
	r = c.do("PATCH", "/v3/sso/certificates/"+id, map[string]any{"intergration_id": other.ID})
	if moved := decode[certificateResp](t, r); r.Status != 200 || moved.IntergrationID != other.ID {
		t.Fatalf("moving a certificate -> %d %s", r.Status, r.Body)
	}
	wantError(t, c.do("PATCH", "/v3/sso/certificates/"+id, map[string]any{"integration_id": "00000000-0000-4000-8000-000000000000"}), 400, "integration_id", "invalid")
	wantError(t, c.do("PATCH", "/v3/sso/certificates/"+id, map[string]any{"public_certificate": keyPEM}), 400, "public_certificate", "private_key_rejected")
	for _, path := range []string{"0", "-1", "007", "abc", "99999999999999999999", "1.5"} {
		wantError(t, c.do("GET", "/v3/sso/certificates/"+path, nil), 404, "", "not_found")
	}
	if got := decode[certificateResp](t, c.do("GET", "/v3/sso/certificates/"+id, nil)); got.IntegrationID != other.ID || got.PublicCertificate != list[0].PublicCertificate {
		t.Fatalf("refused PATCHes changed the certificate: %+v", got)
	}
}

func testRequestErrors(t *testing.T, dsn string) {
	ts := startServer(t, dsn)
	c := ts.client(ts.Key)
	in := c.createIntegration("X")

	t.Run("routes", func(t *testing.T) {
		wantError(t, c.do("GET", "/v3/nothing", nil), 404, "", "not_found")
		wantError(t, c.do("GET", "/v3/sso/integrations/", nil), 404, "", "not_found")
		r := c.do("PUT", "/v3/sso/certificates/1", nil)
		wantError(t, r, 405, "", "method_not_allowed")
		if allow := r.Header.Get("Allow"); allow != "GET, PATCH, DELETE, HEAD" {
			t.Errorf("Allow = %q", allow)
		}
		// The route is judged before the key.
		wantError(t, ts.client("").do("DELETE", "/v3/sso/integrations", nil), 405, "", "method_not_allowed")
	})
	t.Run("authentication", func(t *testing.T) {
		revoked := ts.newKey("main")
		id := revoked[3:25]
		ts.cli("keys", "revoke", id)
		forged := ts.Key[:30] + strings.Map(func(r rune) rune {
			if r == 'A' {
				return 'B'
			}
			return 'A'
		}, ts.Key[30:])
		for name, key := range map[string]string{"none": "", "malformed": "SG.short", "unknown secret": forged, "revoked": revoked} {
			r := ts.client(key).do("GET", "/v3/sso/integrations", nil)
			wantError(t, r, 401, "", "unauthorized")
			if r.Header.Get("X-RateLimit-Limit") != "" {
				t.Errorf("%s: unauthenticated response carries rate-limit headers", name)
			}
		}
		r := ts.client("").with("Authorization", "Basic "+ts.Key).do("GET", "/v3/sso/integrations", nil)
		wantError(t, r, 401, "", "unauthorized")
	})
	t.Run("scopes", func(t *testing.T) {
		readOnly := ts.client(ts.newKey("main", "sso.settings.read"))
		if r := readOnly.do("GET", "/v3/sso/integrations/"+in.ID, nil); r.Status != 200 {
			t.Fatalf("read with read scope -> %d", r.Status)
		}
		wantError(t, readOnly.do("POST", "/v3/sso/integrations", integrationBody("n")), 403, "", "forbidden")
		wantError(t, readOnly.do("PATCH", "/v3/sso/integrations/"+in.ID, map[string]any{"name": "n"}), 403, "", "forbidden")
		wantError(t, readOnly.do("DELETE", "/v3/sso/integrations/"+in.ID, nil), 403, "", "forbidden")
		createOnly := ts.client(ts.newKey("main", "sso.settings.create"))
		wantError(t, createOnly.do("GET", "/v3/sso/integrations", nil), 403, "", "forbidden")
		// The scope is judged before the body.
		wantError(t, createOnly.do("PATCH", "/v3/sso/certificates/1", "{"), 403, "", "forbidden")
	})
	t.Run("bodies", func(t *testing.T) {
		text := c.with("Content-Type", "text/plain")
		wantError(t, text.do("POST", "/v3/sso/integrations", integrationBody("n")), 415, "", "unsupported_media_type")
		wantError(t, c.with("Content-Type", "").do("POST", "/v3/sso/integrations", integrationBody("n")), 415, "", "unsupported_media_type")
		if r := c.with("Content-Type", "application/json; charset=utf-8").do("POST", "/v3/sso/integrations", integrationBody("n")); r.Status != 200 {
			t.Errorf("charset parameter refused: %d", r.Status)
		}
		wantError(t, c.do("POST", "/v3/sso/integrations", `{"name":"`+strings.Repeat("a", 70<<10)+`"}`), 413, "", "too_large")
		for name, body := range map[string]string{
			"malformed":     `{"name":`,
			"empty":         ``,
			"array":         `[]`,
			"trailing data": `{"name":"a"} {}`,
			"invalid utf-8": "{\"name\":\"\xff\"}",
			"deep nesting":  `{"name":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`,
		} {
			t.Run(name, func(t *testing.T) {
				wantError(t, c.do("POST", "/v3/sso/integrations", body), 400, "", "invalid")
			})
		}
		wantError(t, c.do("POST", "/v3/sso/integrations", `{"name":"a","name":"b"}`), 400, "name", "invalid")
		// Unknown fields are ignored; null means absent.
		body := integrationBody("n")
		body["unknown"] = map[string]any{"x": 1}
		body["completed_integration"] = nil
		if r := c.do("POST", "/v3/sso/integrations", body); r.Status != 200 {
			t.Errorf("unknown field or null refused: %d %s", r.Status, r.Body)
		}
		// The body is judged before the object.
		wantError(t, c.do("PATCH", "/v3/sso/certificates/999999", `{"enabled":"x"}`), 400, "enabled", "invalid")
		wantError(t, c.do("PATCH", "/v3/sso/certificates/999999", `{"enabled":true}`), 404, "", "not_found")
	})
}

func testAccountIsolation(t *testing.T, dsn string) {
	ts := startServer(t, dsn)
	alice := ts.client(ts.newAccountKey("alice", ""))
	bob := ts.client(ts.newAccountKey("bob", ""))
	in := alice.createIntegration("Alice's IdP")
	cert := alice.createCertificate(in.ID, testcert.New(t, testcert.Options{}).PEM)
	certPath := fmt.Sprintf("/v3/sso/certificates/%d", cert.ID)

	if list := decode[[]integrationResp](t, bob.do("GET", "/v3/sso/integrations", nil)); len(list) != 0 {
		t.Fatalf("bob lists alice's integrations: %+v", list)
	}
	for _, probe := range []struct{ method, path string }{
		{"GET", "/v3/sso/integrations/" + in.ID},
		{"DELETE", "/v3/sso/integrations/" + in.ID},
		{"GET", "/v3/sso/integrations/" + in.ID + "/certificates"},
		{"GET", certPath},
		{"DELETE", certPath},
	} {
		wantError(t, bob.do(probe.method, probe.path, nil), 404, "", "not_found")
	}
	wantError(t, bob.do("PATCH", "/v3/sso/integrations/"+in.ID, map[string]any{"name": "pwned"}), 404, "", "not_found")
	wantError(t, bob.do("PATCH", certPath, map[string]any{"enabled": false}), 404, "", "not_found")
	wantError(t, bob.do("POST", "/v3/sso/certificates", map[string]any{"public_certificate": cert.PublicCertificate, "integration_id": in.ID}), 400, "integration_id", "invalid")
	bobs := bob.createIntegration("Bob's IdP")
	wantError(t, alice.do("PATCH", certPath, map[string]any{"integration_id": bobs.ID}), 400, "integration_id", "invalid")

	if got := decode[certificateResp](t, alice.do("GET", certPath, nil)); got.ID != cert.ID || !*got.Enabled || got.IntegrationID != in.ID {
		t.Fatalf("alice's certificate changed: %+v", got)
	}
	if got := decode[integrationResp](t, alice.do("GET", "/v3/sso/integrations/"+in.ID, nil)); got.Name != "Alice's IdP" {
		t.Fatalf("alice's integration changed: %+v", got)
	}
}

func testSubusers(t *testing.T, dsn string) {
	ts := startServer(t, dsn)
	parent := ts.client(ts.newAccountKey("parent", ""))
	subKey := ts.newAccountKey("child", "parent")
	ts.newAccountKey("stranger", "")
	child := ts.client(subKey)

	parentsOwn := parent.createIntegration("parent's")
	onBehalf := parent.with("On-Behalf-Of", "child")
	made := onBehalf.createIntegration("made for child")
	if list := decode[[]integrationResp](t, child.do("GET", "/v3/sso/integrations", nil)); len(list) != 1 || list[0].ID != made.ID {
		t.Fatalf("child sees %+v, want the integration made on its behalf", list)
	}
	childCert := child.createCertificate(made.ID, testcert.New(t, testcert.Options{}).PEM)
	if r := onBehalf.do("GET", fmt.Sprintf("/v3/sso/certificates/%d", childCert.ID), nil); r.Status != 200 {
		t.Fatalf("parent on behalf of child cannot read child's certificate: %d", r.Status)
	}
	wantError(t, child.do("GET", "/v3/sso/integrations/"+parentsOwn.ID, nil), 404, "", "not_found")
	wantError(t, parent.do("GET", "/v3/sso/integrations/"+made.ID, nil), 404, "", "not_found")
	wantError(t, parent.with("On-Behalf-Of", "stranger").do("GET", "/v3/sso/integrations", nil), 403, "", "forbidden")
	wantError(t, parent.with("On-Behalf-Of", "nobody").do("GET", "/v3/sso/integrations", nil), 403, "", "forbidden")
	wantError(t, child.with("On-Behalf-Of", "parent").do("GET", "/v3/sso/integrations", nil), 403, "", "forbidden")
	wantError(t, parent.with("On-Behalf-Of", "parent").do("GET", "/v3/sso/integrations", nil), 403, "", "forbidden")
}

func testRateLimit(t *testing.T, dsn string) {
	ts := startServer(t, dsn, "--rate-limit", "3/60s")
	c := ts.client(ts.Key)
	other := ts.client(ts.newKey("main"))
	for i := 2; i >= 0; i-- {
		r := c.do("GET", "/v3/sso/integrations", nil)
		if r.Status != 200 || r.Header.Get("X-RateLimit-Limit") != "3" || r.Header.Get("X-RateLimit-Remaining") != fmt.Sprint(i) {
			t.Fatalf("request with %d left: %d, headers %v", i, r.Status, r.Header)
		}
	}
	r := c.do("GET", "/v3/sso/integrations", nil)
	wantError(t, r, 429, "", "rate_limited")
	reset := r.Header.Get("X-RateLimit-Reset")
	if reset == "" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("429 without X-RateLimit-Reset / Retry-After: %v", r.Header)
	}
	if r := other.do("GET", "/v3/sso/integrations", nil); r.Status != 200 {
		t.Fatalf("another key was limited too: %d", r.Status)
	}
	// A flood of unknown keys does not spend the real key's budget.
	for range 10 {
		ts.client(strings.Replace(ts.Key, ts.Key[40:45], "AAAAA", 1)).do("GET", "/v3/sso/integrations", nil)
	}
	if r := other.do("GET", "/v3/sso/integrations", nil); r.Header.Get("X-RateLimit-Remaining") != "1" {
		t.Fatalf("unauthenticated requests spent a key's budget: remaining %q", r.Header.Get("X-RateLimit-Remaining"))
	}
}

func testOpenAPIDocument(t *testing.T, dsn string) {
	ts := startServer(t, dsn)
	r := ts.client("").do("GET", "/openapi.json", nil)
	if r.Status != 200 {
		t.Fatalf("GET /openapi.json -> %d", r.Status)
	}
	doc := decode[map[string]any](t, r)
	paths, _ := doc["paths"].(map[string]any)
	for _, p := range []string{"/v3/sso/certificates", "/v3/sso/certificates/{cert_id}", "/v3/sso/integrations", "/v3/sso/integrations/{id}", "/v3/sso/integrations/{integration_id}/certificates",
		"/v3/sso/integrations/{id}/logins", "/v3/public/sso/saml/response/id/{integration_id}", "/v3/public/sso/saml/metadata/id/{integration_id}", "/v3/public/sso/saml/login/id/{integration_id}"} {
		if paths[p] == nil {
			t.Errorf("document lacks %s", p)
		}
	}
	if !strings.Contains(string(r.Body), `"integration_id"`) {
		t.Error("document does not describe the integration_id extension")
	}
}

func testFirstStartKeyOnlyOnce(t *testing.T, dsn string) {
	first := startServer(t, dsn)
	if first.Key == "" {
		t.Fatal("no first-start key")
	}
	if r := first.client(first.Key).do("GET", "/v3/sso/integrations", nil); r.Status != 200 {
		t.Fatalf("first-start key refused: %d", r.Status)
	}
	first.stop() // one server per SQLite file
	second := startServer(t, dsn)
	if second.Key != "" {
		t.Fatal("a second start printed another key")
	}
	if r := second.client(first.Key).do("GET", "/v3/sso/integrations", nil); r.Status != 200 {
		t.Fatalf("key lost across restart: %d", r.Status)
	}
	if strings.Count(first.settledLogs()+second.Logs.String(), first.Key) != 1 {
		t.Fatal("the key appears in the logs more than the once it is shown")
	}
}

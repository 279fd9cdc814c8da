package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/ssod/ssod"
)

// TestSigningValidUntil drives signing_valid_until through every integration
// response with test mode's clock: certificates that are disabled, not yet
// started or expired do not count, and moving the clock moves the answer.
func TestSigningValidUntil(t *testing.T) {
	a := newRoomyTestModeAPI(t)
	ctx := context.Background()
	const t0 = 2_000_000_000
	clock := func(now int64) { t.Helper(); a.setClock(t, now) }
	clock(t0)
	// horizon reads signing_valid_until from one response body; nil is null.
	horizon := func(body []byte) *int64 {
		t.Helper()
		var v struct {
			SigningValidUntil *int64 `json:"signing_valid_until"`
		}
		raw := map[string]json.RawMessage{}
		if err := json.Unmarshal(body, &raw); err != nil {
			t.Fatalf("decode %s: %v", body, err)
		}
		if _, ok := raw["signing_valid_until"]; !ok {
			t.Fatalf("no signing_valid_until in %s", body)
		}
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatal(err)
		}
		return v.SigningValidUntil
	}
	w := a.do(t, "POST", "/v3/sso/integrations", `{"name":"okta","enabled":true,"signin_url":"https://idp.test/in","signout_url":"https://idp.test/out","entity_id":"https://idp.test"}`, true)
	if w.Code != 200 {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	if h := horizon(w.Body.Bytes()); h != nil {
		t.Errorf("create without certificates: signing_valid_until = %d, want null", *h)
	}
	var in struct{ ID string }
	json.Unmarshal(w.Body.Bytes(), &in)
	accountID := int64(1)
	if got, err := a.store.GetIntegration(ctx, accountID, in.ID); err != nil || got.ID != in.ID {
		t.Fatalf("integration %s not on account %d: %v", in.ID, accountID, err)
	}
	n := 0
	cert := func(enabled bool, notBefore, notAfter int64) *ssod.Certificate {
		t.Helper()
		n++
		c, err := a.store.CreateCertificate(ctx, accountID, ssod.CertificateUpdate{IntegrationID: &in.ID, Enabled: &enabled,
			X509: &ssod.X509{PEM: fmt.Sprintf("pem %d", n), NotBefore: notBefore, NotAfter: notAfter}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	want := func(what string, w int64) {
		t.Helper()
		get := a.do(t, "GET", "/v3/sso/integrations/"+in.ID, "", true)
		list := a.do(t, "GET", "/v3/sso/integrations", "", true)
		patch := a.do(t, "PATCH", "/v3/sso/integrations/"+in.ID, `{"enabled":true}`, true)
		var items []json.RawMessage
		if err := json.Unmarshal(list.Body.Bytes(), &items); err != nil || len(items) != 1 {
			t.Fatalf("list: %s %v", list.Body, err)
		}
		for name, body := range map[string][]byte{"get": get.Body.Bytes(), "list": items[0], "patch": patch.Body.Bytes()} {
			h := horizon(body)
			switch {
			case w == 0 && h != nil:
				t.Errorf("%s: %s: signing_valid_until = %d, want null", what, name, *h)
			case w != 0 && (h == nil || *h != w):
				t.Errorf("%s: %s: signing_valid_until = %v, want %d", what, name, h, w)
			}
		}
	}
	cert(false, t0-100, t0+9000)
	want("only a disabled certificate", 0)
	cert(true, t0+10, t0+8000)
	want("only a disabled and a not yet started one", 0)
	cert(true, t0-100, t0+500)
	want("one started and enabled", t0+500)
	cert(true, t0-200, t0+50)
	want("the latest of the enabled started ones", t0+500)
	clock(t0 + 10)
	want("the later one has started", t0+8000)
	clock(t0 + 8001)
	want("all expired", 0)
}

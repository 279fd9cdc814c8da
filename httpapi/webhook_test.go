package httpapi

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/sendgrid/sendgrid-go/helpers/eventwebhook"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/sqlite"
)

// TestExpiryWebhookResource walks PUT, GET and DELETE of the expiry webhook:
// strict bodies, URLs ssod may not call refused naming url, one key per
// account that sendgrid-go's helper reads, nothing private in a response,
// and each change audited with its key.
func TestExpiryWebhookResource(t *testing.T) {
	ks := newKeyedStore(t, sqlite.Memory)
	srv, err := NewServer(Config{Store: ks.store, PublicURL: "http://api.test", KeyCacheTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	a := &testModeAPI{Server: srv, key: ks.key}
	const path = "/v3/sso/expiry-webhook"
	wantProblem := func(method, body string, status int, field, code string) {
		t.Helper()
		w := a.do(t, method, path, body, true)
		var problems []struct {
			Field   *string `json:"field"`
			ErrorID string  `json:"error_id"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &problems); err != nil || w.Code != status || len(problems) == 0 {
			t.Fatalf("%s %s: %d %s, want %d", method, body, w.Code, w.Body, status)
		}
		if got := problems[0]; got.ErrorID != code || field == "" && got.Field != nil || field != "" && (got.Field == nil || *got.Field != field) {
			t.Errorf("%s %s: %s, want %s on %q", method, body, w.Body, code, field)
		}
	}
	wantProblem("GET", "", 404, "", "not_found")
	wantProblem("DELETE", "", 404, "", "not_found")
	wantProblem("PUT", `{"enabled":true}`, 400, "url", "required")
	wantProblem("PUT", `{"url":5}`, 400, "url", "invalid")
	wantProblem("PUT", `{"url":"https://hooks.example.com/x","enabled":"yes"}`, 400, "enabled", "invalid")
	wantProblem("PUT", `{"url":"https://hooks.example.com/x","URL":"https://other.example.com"}`, 400, "URL", "invalid")
	for _, u := range []string{"http://hooks.example.com/x", "https://127.0.0.1/x", "https://10.0.0.1/x", "https://[::1]/x",
		"https://169.254.169.254/latest", "https://user:pw@hooks.example.com/x", "not a url"} {
		wantProblem("PUT", `{"url":"`+u+`"}`, 400, "url", "invalid")
	}
	wantProblem("PUT", `[]`, 400, "", "invalid")

	put := func(body string) map[string]any {
		t.Helper()
		w := a.do(t, "PUT", path, body, true)
		if w.Code != 200 {
			t.Fatalf("PUT %s: %d %s", body, w.Code, w.Body)
		}
		var out map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		if keys := slices.Sorted(maps.Keys(out)); !slices.Equal(keys, []string{"enabled", "public_key", "url"}) {
			t.Errorf("PUT answered members %v", keys)
		}
		return out
	}
	first := put(`{"url":"https://hooks.example.com/x"}`)
	if first["url"] != "https://hooks.example.com/x" || first["enabled"] != true {
		t.Errorf("first PUT: %v", first)
	}
	if _, err := eventwebhook.ConvertPublicKeyBase64ToECDSA(first["public_key"].(string)); err != nil {
		t.Errorf("sendgrid-go cannot read public_key: %v", err)
	}
	second := put(`{"url":"https://hooks.example.com/y","enabled":false}`)
	if second["public_key"] != first["public_key"] || second["enabled"] != false {
		t.Errorf("second PUT: %v, first %v", second, first)
	}
	w := a.do(t, "GET", path, "", true)
	var got map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &got); w.Code != 200 || err != nil || got["url"] != "https://hooks.example.com/y" || got["public_key"] != first["public_key"] {
		t.Errorf("GET: %d %s", w.Code, w.Body)
	}
	if w := a.do(t, "DELETE", path, "", true); w.Code != 204 || w.Body.Len() != 0 {
		t.Errorf("DELETE: %d %s", w.Code, w.Body)
	}
	wantProblem("GET", "", 404, "", "not_found")
	if again := put(`{"url":"https://hooks.example.com/z"}`); again["public_key"] != first["public_key"] {
		t.Error("the account's key changed after a delete")
	}
	evs, err := ks.store.ListAuditEvents(t.Context(), ks.account, 10)
	if err != nil {
		t.Fatal(err)
	}
	ops := []string{}
	for _, ev := range evs {
		ops = append(ops, ev.Operation)
		if ev.KeyID != ks.keyID {
			t.Errorf("audit event %s without the key: %+v", ev.Operation, ev)
		}
	}
	if want := []string{ssod.AuditExpiryWebhookUpdate, ssod.AuditExpiryWebhookDelete, ssod.AuditExpiryWebhookUpdate, ssod.AuditExpiryWebhookUpdate}; !slices.Equal(ops, want) {
		t.Errorf("audit: %v, want %v", ops, want)
	}
}

package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sendgrid/sendgrid-go/helpers/eventwebhook"

	"github.com/ssod/ssod/internal/testcert"
)

// TestExpiryWebhookThroughServe: through `ssod serve --test-mode
// --allow-private-urls`, an account sets its expiry webhook, an integration
// gets a certificate, and moving the test clock makes the server post the
// expiring and broken events at once, each signed so that sendgrid-go's
// helper verifies it.
func TestExpiryWebhookThroughServe(t *testing.T) {
	type delivery struct {
		body                 []byte
		signature, timestamp string
	}
	var mu sync.Mutex
	var got []delivery
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, delivery{body, r.Header.Get(eventwebhook.VerificationHTTPHeader), r.Header.Get(eventwebhook.TimestampHTTPHeader)})
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	defer receiver.Close()
	// waitFor waits for the server's asynchronous delivery of the n-th post.
	waitFor := func(n int) delivery {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			mu.Lock()
			if len(got) >= n {
				d := got[n-1]
				mu.Unlock()
				return d
			}
			mu.Unlock()
			if time.Now().After(deadline) {
				t.Fatalf("no post %d within 10 s", n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	ts := startServer(t, ":memory:", "--test-mode", "--allow-private-urls")
	c, admin := ts.client(ts.Key), ts.client("")
	now := time.Now().Truncate(time.Second)
	setClock := func(at time.Time) {
		t.Helper()
		if r := admin.do("POST", "/_ssod/clock", map[string]any{"now": at.Unix()}); r.Status != 200 {
			t.Fatalf("set clock: %d %s", r.Status, r.Body)
		}
	}
	setClock(now)

	r := c.do("PUT", "/v3/sso/expiry-webhook", map[string]any{"url": receiver.URL + "/hook", "enabled": true})
	if r.Status != 200 {
		t.Fatalf("PUT expiry-webhook: %d %s", r.Status, r.Body)
	}
	hook := decode[struct {
		URL       string `json:"url"`
		PublicKey string `json:"public_key"`
	}](t, r)
	key, err := eventwebhook.ConvertPublicKeyBase64ToECDSA(hook.PublicKey)
	if err != nil {
		t.Fatalf("public_key: %v", err)
	}
	if r := c.do("GET", "/v3/sso/expiry-webhook", nil); r.Status != 200 || !strings.Contains(string(r.Body), hook.PublicKey) {
		t.Fatalf("GET expiry-webhook: %d %s", r.Status, r.Body)
	}

	notAfter := now.Add(100 * 24 * time.Hour)
	cert := testcert.New(t, testcert.Options{RSABits: 2048, NotBefore: now.Add(-time.Hour), NotAfter: notAfter})
	rememberSecret(cert.PEM)
	in := c.createIntegration("expiring")
	c.createCertificate(in.ID, cert.PEM)

	// check verifies a post and returns its one event, decoded as any
	// receiver would: by member name.
	check := func(d delivery, wantEvent string, wantDays float64) map[string]any {
		t.Helper()
		if ok, err := eventwebhook.VerifySignature(key, d.body, d.signature, d.timestamp); !ok || err != nil {
			t.Errorf("post %s does not verify: %v", d.body, err)
		}
		if ok, _ := eventwebhook.VerifySignature(key, []byte(strings.Replace(string(d.body), in.ID, "x", 1)), d.signature, d.timestamp); ok {
			t.Errorf("a tampered post verifies")
		}
		var evs []map[string]any
		if err := json.Unmarshal(d.body, &evs); err != nil || len(evs) != 1 || len(evs[0]) != 6 {
			t.Fatalf("post %s: not an array of one event with six members (%v)", d.body, err)
		}
		if e := evs[0]; e["event"] != wantEvent || e["days_left"] != wantDays || e["integration_id"] != in.ID || e["sg_event_id"] == "" {
			t.Errorf("post %s, want %s %v for %s", d.body, wantEvent, wantDays, in.ID)
		}
		return evs[0]
	}

	at := now.Add(11 * 24 * time.Hour)
	setClock(at)
	e := check(waitFor(1), "sso.signing.expiring", 90)
	if e["signing_valid_until"] != float64(notAfter.Unix()) || e["timestamp"] != float64(at.Unix()) {
		t.Errorf("expiring event %v, want signing_valid_until %d, timestamp %d", e, notAfter.Unix(), at.Unix())
	}
	setClock(now.Add(101 * 24 * time.Hour))
	if e := check(waitFor(2), "sso.signing.broken", 0); e["signing_valid_until"] != nil {
		t.Errorf("broken event %v has a signing_valid_until", e)
	}
	// The count follows the receiver's answer, once the outcome is recorded.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		metrics := ts.client("").do("GET", "/metrics", nil)
		if strings.Contains(string(metrics.Body), `ssod_expiry_webhook_deliveries_total{outcome="delivered"} 2`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics lack two deliveries:\n%s", metrics.Body)
		}
	}
	if r := c.do("DELETE", "/v3/sso/expiry-webhook", nil); r.Status != 204 {
		t.Fatalf("DELETE expiry-webhook: %d %s", r.Status, r.Body)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 {
		t.Errorf("%d posts, want 2", len(got))
	}
}

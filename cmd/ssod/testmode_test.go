package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sendgrid/rest"
	"github.com/sendgrid/sendgrid-go"
	"github.com/ssod/ssod/internal/samltest"
	"github.com/ssod/ssod/internal/testcert"
)

func TestTestModeListensOnlyOnLoopback(t *testing.T) {
	err := run(context.Background(), []string{"serve", "--test-mode", "--addr", "0.0.0.0:0", "--db", ":memory:"}, env(nil), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "loopback") || !strings.Contains(err.Error(), "--test-mode-any-address") {
		t.Fatalf("--test-mode on 0.0.0.0: %v, want a refusal naming loopback and --test-mode-any-address", err)
	}
	err = run(context.Background(), []string{"serve", "--test-mode", "--addr", "127.0.0.1:0", "--db", ":memory:", "--redis", "redis://127.0.0.1:1/0"}, env(nil), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--redis") {
		t.Fatalf("--test-mode with --redis: %v", err)
	}
	// The explicit flag allows it: the server starts (and stops with the test).
	ts := startServer(t, ":memory:", "--test-mode", "--test-mode-any-address", "--addr", "0.0.0.0:0")
	if r := ts.client("").do("GET", "/_ssod/clock", nil); r.Status != 200 {
		t.Fatalf("GET /_ssod/clock with --test-mode-any-address: %d", r.Status)
	}
}

func TestTestModePathsAre404WithoutTheFlag(t *testing.T) {
	ts := startServer(t, ":memory:")
	for _, p := range []string{"POST /_ssod/reset", "GET /_ssod/requests", "DELETE /_ssod/requests", "POST /_ssod/faults", "GET /_ssod/faults", "POST /_ssod/clock", "GET /_ssod/clock", "DELETE /_ssod/clock"} {
		method, path, _ := strings.Cut(p, " ")
		wantError(t, ts.client("").do(method, path, nil), http.StatusNotFound, "", "not_found")
	}
}

// TestTestModeThroughSendGridGo drives test mode as a Go suite would: state
// made through sendgrid-go, the journal of it, a reset back to the start,
// and each fault kind.
func TestTestModeThroughSendGridGo(t *testing.T) {
	ts := startServer(t, ":memory:", "--test-mode")
	admin := ts.client("")
	res := sendgridDo(t, ts, rest.Post, "/v3/sso/integrations", integrationBody("before reset"))
	in := decode[integrationResp](t, response{Status: res.StatusCode, Body: []byte(res.Body)})
	cert := testcert.New(t, testcert.Options{})
	res = sendgridDo(t, ts, rest.Post, "/v3/sso/certificates", map[string]any{"public_certificate": cert.PEM, "integration_id": in.ID})
	if c := decode[certificateResp](t, response{Status: res.StatusCode, Body: []byte(res.Body)}); c.ID != 1 {
		t.Fatalf("first certificate id %d", c.ID)
	}

	journal := decode[[]map[string]any](t, admin.do("GET", "/_ssod/requests?method=POST&path=/v3/sso/certificates", nil))
	if len(journal) != 1 {
		t.Fatalf("journal of POST /v3/sso/certificates: %v", journal)
	}
	e := journal[0]
	headers, _ := e["headers"].(map[string]any)
	if headers["Authorization"] != "Bearer "+ts.Key[:25]+".***" || e["status"] != float64(200) ||
		!strings.Contains(e["body"].(string), in.ID) || e["request_id"] == "" || e["time"] == nil {
		t.Errorf("journal entry: %v", e)
	}
	if strings.Contains(string(admin.do("GET", "/_ssod/requests", nil).Body), ts.Key[26:]) {
		t.Fatal("the journal shows a key's secret")
	}

	if r := admin.do("POST", "/_ssod/reset", nil); r.Status != http.StatusNoContent {
		t.Fatalf("POST /_ssod/reset: %d %s", r.Status, r.Body)
	}
	if res := sendgridDo(t, ts, rest.Get, "/v3/sso/integrations", nil); res.StatusCode != 200 || res.Body != "[]" {
		t.Fatalf("integrations after reset (the first-start key must still work): %d %s", res.StatusCode, res.Body)
	}
	if r := admin.do("GET", "/_ssod/requests", nil); strings.Count(string(r.Body), `"request_id"`) != 1 {
		t.Errorf("journal after reset holds more than the request since: %s", r.Body)
	}
	res = sendgridDo(t, ts, rest.Post, "/v3/sso/integrations", integrationBody("after reset"))
	in = decode[integrationResp](t, response{Status: res.StatusCode, Body: []byte(res.Body)})
	res = sendgridDo(t, ts, rest.Post, "/v3/sso/certificates", map[string]any{"public_certificate": cert.PEM, "integration_id": in.ID})
	if c := decode[certificateResp](t, response{Status: res.StatusCode, Body: []byte(res.Body)}); c.ID != 1 {
		t.Errorf("certificate id after reset %d, want 1 again", c.ID)
	}

	t.Run("429 fault: MakeRequestRetry waits and succeeds", func(t *testing.T) {
		r := admin.do("POST", "/_ssod/faults", map[string]any{"method": "GET", "path": "/v3/sso/integrations/{id}", "status": 429, "times": 1})
		if r.Status != http.StatusCreated || !strings.Contains(string(r.Body), `"id":`) {
			t.Fatalf("POST /_ssod/faults: %d %s", r.Status, r.Body)
		}
		req := sendgrid.GetRequest(ts.Key, "/v3/sso/integrations/"+in.ID, ts.URL)
		start := time.Now()
		res, err := sendgrid.MakeRequestRetry(req)
		took := time.Since(start)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("MakeRequestRetry: %v %+v", err, res)
		}
		entries := decode[[]map[string]any](t, admin.do("GET", "/_ssod/requests?path=/v3/sso/integrations/"+in.ID, nil))
		if len(entries) != 2 || entries[0]["status"] != float64(429) || entries[1]["status"] != float64(200) {
			t.Fatalf("journal of the retried GET: %v", entries)
		}
		// sendgrid-go v3.16.1 looks X-RateLimit-Reset up in Go's
		// canonicalised header map under that spelling, never finds it, and
		// so always sleeps its default 1.1 s before retrying.
		if took < time.Second {
			t.Errorf("MakeRequestRetry took %v: it did not wait before retrying", took)
		}
	})
	t.Run("500 and 503 faults", func(t *testing.T) {
		for _, status := range []int{500, 503} {
			admin.do("POST", "/_ssod/faults", map[string]any{"method": "PATCH", "path": "/v3/sso/integrations/" + in.ID, "status": status})
			res := sendgridDo(t, ts, rest.Patch, "/v3/sso/integrations/"+in.ID, map[string]any{"enabled": false})
			want := map[int]string{500: "internal", 503: "unavailable"}[status]
			if res.StatusCode != status || !strings.Contains(res.Body, `"error_id":"`+want+`"`) {
				t.Errorf("fault %d: %d %s", status, res.StatusCode, res.Body)
			}
		}
		if res := sendgridDo(t, ts, rest.Patch, "/v3/sso/integrations/"+in.ID, map[string]any{"enabled": false}); res.StatusCode != 200 {
			t.Errorf("after the faults: %d %s", res.StatusCode, res.Body)
		}
	})
	t.Run("delay fault", func(t *testing.T) {
		admin.do("POST", "/_ssod/faults", map[string]any{"method": "GET", "path": "/v3/sso/integrations", "status": 0, "delay_ms": 300})
		if faults := decode[[]map[string]any](t, admin.do("GET", "/_ssod/faults", nil)); len(faults) != 1 || faults[0]["delay_ms"] != float64(300) {
			t.Fatalf("GET /_ssod/faults: %v", faults)
		}
		start := time.Now()
		if res := sendgridDo(t, ts, rest.Get, "/v3/sso/integrations", nil); res.StatusCode != 200 || time.Since(start) < 300*time.Millisecond {
			t.Errorf("delayed GET: %d after %v", res.StatusCode, time.Since(start))
		}
	})
	t.Run("bad faults are 400 with the error array", func(t *testing.T) {
		wantError(t, admin.do("POST", "/_ssod/faults", map[string]any{"method": "GET", "path": "/x", "status": 418}), 400, "status", "invalid")
		wantError(t, admin.do("POST", "/_ssod/faults", map[string]any{"path": "/x", "status": 500}), 400, "method", "required")
	})
}

// TestResetWaitsForRequestsInFlight: a reset waits for a request already
// inside (here one held 400 ms by a delay fault), so the request lands
// wholly before it and the journal after the reset holds nothing of it.
func TestResetWaitsForRequestsInFlight(t *testing.T) {
	ts := startServer(t, ":memory:", "--test-mode")
	admin := ts.client("")
	admin.do("POST", "/_ssod/faults", map[string]any{"method": "GET", "path": "/v3/sso/integrations", "delay_ms": 400})
	slow := make(chan response)
	go func() { slow <- ts.client(ts.Key).do("GET", "/v3/sso/integrations", nil) }()
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	admin.do("POST", "/_ssod/reset", nil)
	took := time.Since(start)
	if r := <-slow; r.Status != 200 {
		t.Fatalf("the delayed request: %d", r.Status)
	}
	if took < 200*time.Millisecond {
		t.Errorf("reset took %v: it did not wait for the request in flight", took)
	}
	if r := admin.do("GET", "/_ssod/requests", nil); string(r.Body) != "[]" {
		t.Errorf("journal after the reset shows a request from before it: %s", r.Body)
	}
}

// testResetUnderLoad resets while writers create integrations and
// certificates with the example seed's key: no request fails for it, and
// once the writers stop, one more reset leaves exactly the seed (every
// object read through the API equal, byte for byte, to what the start
// showed) with ids continuing after the seed's.
func testResetUnderLoad(t *testing.T, dsn string) {
	ts := startServer(t, dsn, "--test-mode", "--rate-limit", "off", "--seed", exampleSeed)
	admin := ts.client("")
	main, eu := ts.client(exampleKey), ts.client(exampleKey).with("On-Behalf-Of", "eu-team")
	state := func() string {
		var b strings.Builder
		for _, c := range []*client{main, eu} {
			b.Write(c.do("GET", "/v3/sso/integrations", nil).Body)
			for _, id := range []string{exampleOkta, exampleEntra} {
				b.Write(c.do("GET", "/v3/sso/integrations/"+id+"/certificates", nil).Body)
			}
		}
		for _, id := range []string{"7", "8", "9"} {
			b.Write(main.do("GET", "/v3/sso/certificates/"+id, nil).Body)
		}
		return b.String()
	}
	seeded := state()
	if !strings.Contains(seeded, exampleOkta) || !strings.Contains(seeded, exampleEntra) {
		t.Fatalf("the seed is not there: %s", seeded)
	}
	cert := testcert.New(t, testcert.Options{})
	var stop atomic.Bool
	var wg sync.WaitGroup
	var writes atomic.Int64
	for w := range 4 {
		wg.Go(func() {
			c := ts.client(exampleKey)
			for i := 0; !stop.Load(); i++ {
				r := c.do("POST", "/v3/sso/integrations", integrationBody(fmt.Sprintf("w%d-%d", w, i)))
				if r.Status != 200 {
					t.Errorf("create integration during resets: %d %s", r.Status, r.Body)
					return
				}
				in := decode[integrationResp](t, r)
				// A reset between the two requests removes the integration:
				// the certificate is then 400 for its integration_id, never 500.
				r = c.do("POST", "/v3/sso/certificates", map[string]any{"public_certificate": cert.PEM, "integration_id": in.ID})
				if r.Status != 200 && r.Status != 400 {
					t.Errorf("create certificate during resets: %d %s", r.Status, r.Body)
					return
				}
				// The seeded certificate changes too, and must come back.
				if r := c.do("PATCH", "/v3/sso/certificates/7", map[string]any{"enabled": i%2 == 0}); r.Status != 200 {
					t.Errorf("patch the seeded certificate during resets: %d %s", r.Status, r.Body)
					return
				}
				writes.Add(1)
			}
		})
	}
	for range 20 {
		time.Sleep(10 * time.Millisecond)
		if r := admin.do("POST", "/_ssod/reset", nil); r.Status != http.StatusNoContent {
			t.Fatalf("reset under load: %d %s", r.Status, r.Body)
		}
	}
	// Let writes run past the last of those resets, so that the final reset
	// below has something to undo. Each of the 4 writers has at most one
	// round that began before it, so the fifth round counted after it began
	// after it, creating an integration the seed does not have.
	for base, deadline := writes.Load(), time.Now().Add(30*time.Second); writes.Load() < base+5; {
		if time.Now().After(deadline) {
			t.Fatalf("no writes for 30 s after the resets (%d in all)", writes.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	if writes.Load() < 20 {
		t.Fatalf("only %d writes ran beside the resets", writes.Load())
	}
	if state() == seeded {
		t.Fatal("the writes left no trace before the last reset; the test shows nothing")
	}
	admin.do("POST", "/_ssod/reset", nil)
	if got := state(); got != seeded {
		t.Fatalf("after the last reset:\n%s\nwant the seed:\n%s", got, seeded)
	}
	in := decode[integrationResp](t, main.do("POST", "/v3/sso/integrations", integrationBody("fresh")))
	if got := decode[certificateResp](t, main.do("POST", "/v3/sso/certificates", map[string]any{"public_certificate": cert.PEM, "integration_id": in.ID})); got.ID != 9 {
		t.Errorf("first certificate after the last reset has id %d, want 9 (after the seed's 7 and 8)", got.ID)
	}
	t.Logf("%d writes beside 20 resets", writes.Load())
}

// TestClockMovesACertificateAcrossItsWindow: only a certificate whose
// validity window holds the server's clock verifies a SAML signature, so
// moving the test clock past not_after (or before not_before) makes a
// response signed with it, valid at that time in every other way, fail
// check 3, and bringing the clock back makes it verify again.
func TestClockMovesACertificateAcrossItsWindow(t *testing.T) {
	ts := startServer(t, ":memory:", "--test-mode")
	c, public, admin := ts.client(ts.Key), ts.client(""), ts.client("")
	now := time.Now().Truncate(time.Second)
	cert := testcert.New(t, testcert.Options{RSABits: 2048, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)})
	rememberSecret(cert.PEM)
	in := c.createIntegration("clock")
	addSignInTeammate(t, c)
	s := signInSetup{c: c, in: in, idp: samltest.NewSigner(cert), crt: c.createCertificate(in.ID, cert.PEM)}
	signedAt := func(at time.Time) string {
		xml := samltest.Valid(in.EntityID, in.SingleSignonURL, at).SignedAssertion(t, s.idp)
		rememberDocument(xml)
		return xml
	}
	setClock := func(at time.Time) {
		if r := admin.do("POST", "/_ssod/clock", map[string]any{"now": at.Unix()}); r.Status != 200 {
			t.Fatalf("set clock: %d %s", r.Status, r.Body)
		}
	}

	setClock(now)
	wantSignedIn(t, s.post(public, signedAt(now)), s, "")
	for _, at := range []time.Time{now.Add(2 * time.Hour), now.Add(-2 * time.Hour)} {
		setClock(at)
		wantError(t, s.post(public, signedAt(at)), 403, "", "saml_signature")
	}
	// From now - 2h, back inside the window.
	if r := admin.do("POST", "/_ssod/clock", map[string]any{"advance_seconds": 7200 - 60}); r.Status != 200 {
		t.Fatalf("advance: %d", r.Status)
	}
	wantSignedIn(t, s.post(public, signedAt(now.Add(-time.Minute))), s, "")
}

package ssodtest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sendgrid/rest"
	"github.com/sendgrid/sendgrid-go"
	"github.com/ssod/ssod/ssodtest"
)

// call sends one request through sendgrid-go, as a user's code would.
func call(t *testing.T, srv *ssodtest.Server, key string, method rest.Method, path string, body any) *rest.Response {
	t.Helper()
	req := sendgrid.GetRequest(key, path, srv.URL)
	req.Method = method
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		req.Body = raw
	}
	res, err := sendgrid.API(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return res
}

var okta = map[string]any{"name": "Okta", "enabled": true, "signin_url": "https://example.okta.com/sso",
	"signout_url": "https://example.okta.com/slo", "entity_id": "http://www.okta.com/exk1"}

func TestStateJournalAndReset(t *testing.T) {
	t.Parallel()
	srv := ssodtest.New(t, ssodtest.Options{})
	res := call(t, srv, srv.Key, rest.Post, "/v3/sso/integrations", okta)
	if res.StatusCode != 200 {
		t.Fatalf("create: %d %s", res.StatusCode, res.Body)
	}
	if res := call(t, srv, srv.Key, rest.Get, "/v3/sso/integrations", nil); !strings.Contains(res.Body, `"Okta"`) {
		t.Fatalf("list: %s", res.Body)
	}
	sent := srv.Requests("POST", "/v3/sso/integrations")
	if len(sent) != 1 || !strings.Contains(sent[0].Body, `"entity_id":"http://www.okta.com/exk1"`) || sent[0].Status != 200 ||
		sent[0].Header["Authorization"] != "Bearer "+srv.Key[:25]+".***" {
		t.Fatalf("journal: %+v", sent)
	}
	srv.Reset()
	if res := call(t, srv, srv.Key, rest.Get, "/v3/sso/integrations", nil); res.StatusCode != 200 || res.Body != "[]" {
		t.Fatalf("after Reset (Key must still work): %d %s", res.StatusCode, res.Body)
	}
	if got := srv.Requests("", ""); len(got) != 1 {
		t.Fatalf("journal after Reset: %+v", got)
	}
}

func TestNewKeyHasItsScopesAndSurvivesReset(t *testing.T) {
	t.Parallel()
	srv := ssodtest.New(t, ssodtest.Options{})
	reader := srv.NewKey("sso.settings.read")
	srv.Reset()
	if res := call(t, srv, reader, rest.Get, "/v3/sso/integrations", nil); res.StatusCode != 200 {
		t.Fatalf("read with a read key after Reset: %d %s", res.StatusCode, res.Body)
	}
	if res := call(t, srv, reader, rest.Post, "/v3/sso/integrations", okta); res.StatusCode != 403 {
		t.Fatalf("create with a read key: %d %s", res.StatusCode, res.Body)
	}
}

// TestServersAreSeparate: two servers in parallel tests share nothing.
func TestServersAreSeparate(t *testing.T) {
	t.Parallel()
	a, b := ssodtest.New(t, ssodtest.Options{}), ssodtest.New(t, ssodtest.Options{})
	call(t, a, a.Key, rest.Post, "/v3/sso/integrations", okta)
	if res := call(t, b, b.Key, rest.Get, "/v3/sso/integrations", nil); res.Body != "[]" {
		t.Fatalf("b sees a's integration: %s", res.Body)
	}
	if res := call(t, b, a.Key, rest.Get, "/v3/sso/integrations", nil); res.StatusCode != 401 {
		t.Fatalf("a's key at b: %d", res.StatusCode)
	}
	if len(b.Requests("POST", "")) != 0 {
		t.Fatal("b journaled a's request")
	}
}

// TestRetryOn429 proves a client's retry logic: sendgrid-go's
// MakeRequestRetry meets an injected 429, waits, and succeeds.
func TestRetryOn429(t *testing.T) {
	t.Parallel()
	srv := ssodtest.New(t, ssodtest.Options{})
	srv.Fault(ssodtest.Fault{Method: "GET", Path: "/v3/sso/integrations", Status: http.StatusTooManyRequests})
	start := time.Now()
	res, err := sendgrid.MakeRequestRetry(sendgrid.GetRequest(srv.Key, "/v3/sso/integrations", srv.URL))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("MakeRequestRetry: %v %+v", err, res)
	}
	if took := time.Since(start); took < time.Second {
		t.Errorf("MakeRequestRetry took %v; it retried without waiting", took)
	}
	var statuses []int
	for _, r := range srv.Requests("GET", "/v3/sso/integrations") {
		statuses = append(statuses, r.Status)
	}
	if fmt.Sprint(statuses) != "[429 200]" {
		t.Fatalf("statuses sent: %v", statuses)
	}
}

func TestFaultsWithoutRetry(t *testing.T) {
	t.Parallel()
	srv := ssodtest.New(t, ssodtest.Options{})
	srv.Fault(ssodtest.Fault{Method: "POST", Path: "/v3/sso/integrations", Status: 503, Times: 2})
	for range 2 {
		if res := call(t, srv, srv.Key, rest.Post, "/v3/sso/integrations", okta); res.StatusCode != 503 || !strings.Contains(res.Body, `"error_id":"unavailable"`) {
			t.Fatalf("faulted POST: %d %s", res.StatusCode, res.Body)
		}
	}
	if res := call(t, srv, srv.Key, rest.Post, "/v3/sso/integrations", okta); res.StatusCode != 200 {
		t.Fatalf("third POST: %d %s", res.StatusCode, res.Body)
	}
	srv.Fault(ssodtest.Fault{Method: "GET", Path: "/v3/sso/integrations/{id}", Delay: 200 * time.Millisecond})
	start := time.Now()
	if res := call(t, srv, srv.Key, rest.Get, "/v3/sso/integrations/nope", nil); res.StatusCode != 404 || time.Since(start) < 200*time.Millisecond {
		t.Fatalf("delayed GET: %d after %v", res.StatusCode, time.Since(start))
	}
}

// TestClockMovesRateLimitWindows: a spent budget refills when the clock
// moves into the next window, without sleeping.
func TestClockMovesRateLimitWindows(t *testing.T) {
	t.Parallel()
	srv := ssodtest.New(t, ssodtest.Options{RateLimit: "2/60s"})
	srv.SetClock(time.Unix(1_800_000_000, 0)) // a multiple of 60: a window starts here
	for range 2 {
		call(t, srv, srv.Key, rest.Get, "/v3/sso/integrations", nil)
	}
	res := call(t, srv, srv.Key, rest.Get, "/v3/sso/integrations", nil)
	if res.StatusCode != 429 || http.Header(res.Headers).Get("X-RateLimit-Reset") != "1800000060" {
		t.Fatalf("third request: %d, reset %s", res.StatusCode, http.Header(res.Headers).Get("X-RateLimit-Reset"))
	}
	if now := srv.Advance(time.Minute); now.Unix() != 1_800_000_060 {
		t.Fatalf("Advance: %v", now)
	}
	if res := call(t, srv, srv.Key, rest.Get, "/v3/sso/integrations", nil); res.StatusCode != 200 {
		t.Fatalf("after a minute on the clock: %d", res.StatusCode)
	}
	srv.SystemClock()
	if d := time.Since(srv.Now()); d < 0 || d > time.Second {
		t.Fatalf("SystemClock: %v off", d)
	}
}

// TestSeed starts from the repository's example seed: its objects are there
// with their ids, Key acts for its first account, and Reset puts them back.
func TestSeed(t *testing.T) {
	t.Parallel()
	srv := ssodtest.New(t, ssodtest.Options{Seed: "../examples/seed.json"})
	const okta = "4a1c2e7b-5d3f-4e8a-9b6c-0d1e2f3a4b5c"
	certs := call(t, srv, srv.Key, rest.Get, "/v3/sso/integrations/"+okta+"/certificates", nil)
	if certs.StatusCode != 200 || !strings.Contains(certs.Body, `"id":7`) || !strings.Contains(certs.Body, `"id":8`) {
		t.Fatalf("seeded certificates: %d %s", certs.StatusCode, certs.Body)
	}
	seededList := call(t, srv, srv.Key, rest.Get, "/v3/sso/integrations", nil).Body
	if res := call(t, srv, srv.Key, rest.Delete, "/v3/sso/integrations/"+okta, nil); res.StatusCode != 204 {
		t.Fatalf("delete the seeded integration: %d", res.StatusCode)
	}
	// The seed's own key works as well as Key.
	seedKey := "SG.example-ci-key-0000001.this-is-an-example-secret-not-for-real-use0"
	if res := call(t, srv, seedKey, rest.Get, "/v3/sso/integrations", nil); res.Body != "[]" {
		t.Fatalf("after the delete: %s", res.Body)
	}
	srv.Reset()
	if got := call(t, srv, srv.Key, rest.Get, "/v3/sso/integrations", nil).Body; got != seededList {
		t.Fatalf("after Reset:\n%s\nwant the seed's:\n%s", got, seededList)
	}
	if got := call(t, srv, srv.Key, rest.Get, "/v3/sso/integrations/"+okta+"/certificates", nil).Body; got != certs.Body {
		t.Fatalf("certificates after Reset:\n%s\nwant\n%s", got, certs.Body)
	}
}

func TestBadSeedFailsTheTest(t *testing.T) {
	t.Parallel()
	ft := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		ssodtest.New(ft, ssodtest.Options{Seed: "no-such-seed.json"})
	}()
	<-done
	if !strings.Contains(ft.msg, "no-such-seed.json") {
		t.Fatalf("New with a missing seed file: %q, want a failure naming it", ft.msg)
	}
}

// fatalRecorder keeps what Fatalf was given instead of failing the test.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}
func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

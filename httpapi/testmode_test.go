package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ssod/ssod/ratelimit"
	"github.com/ssod/ssod/sqlite"
	"github.com/ssod/ssod/testmode"
)

// testModeAPI is a test-mode Server on an in-memory SQLite store with a
// budget of 3 requests a minute; resetStore counts store resets.
type testModeAPI struct {
	*Server
	mode        *testmode.Mode
	store       *sqlite.Store
	key, keyID  string
	storeResets int
}

func newTestModeAPI(t *testing.T) *testModeAPI {
	t.Helper()
	ks := newKeyedStore(t, sqlite.Memory)
	store, key, id := ks.store, ks.key, ks.keyID
	a := &testModeAPI{key: key, keyID: id, store: store}
	a.mode = testmode.New(testmode.Options{ResetStore: func(context.Context) error { a.storeResets++; return nil }})
	srv, err := NewServer(Config{Store: store, PublicURL: "http://api.test", KeyCacheTTL: time.Hour, TestMode: a.mode,
		Limiter: ratelimit.NewMemory(ratelimit.Config{Limit: 3, Window: time.Minute}, a.mode.Clock.Now)})
	if err != nil {
		t.Fatal(err)
	}
	a.Server = srv
	return a
}

func (a *testModeAPI) do(t *testing.T, method, path, body string, auth bool) *httptest.ResponseRecorder {
	t.Helper()
	var req *http.Request
	if body != "" {
		req = httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
	} else {
		req = httptest.NewRequest(method, path, nil)
	}
	if auth {
		req.Header.Set("Authorization", "Bearer "+a.key)
	}
	w := httptest.NewRecorder()
	a.ServeHTTP(w, req)
	return w
}

func TestTestModePathsAre404WithoutTheFlag(t *testing.T) {
	a := newTestAPI(t, 0)
	for _, p := range []string{"POST /_ssod/reset", "GET /_ssod/requests", "POST /_ssod/faults", "GET /_ssod/clock"} {
		method, path, _ := strings.Cut(p, " ")
		w, _ := a.serve(httptest.NewRequest(method, path, nil))
		if w.status != http.StatusNotFound || !strings.Contains(w.body.String(), `"error_id":"not_found"`) {
			t.Errorf("%s without test mode: %d %s", p, w.status, w.body.String())
		}
	}
}

func TestJournal(t *testing.T) {
	a := newTestModeAPI(t)
	a.do(t, "POST", "/v3/sso/integrations?si=true", `{"name":"Okta"}`, true)
	a.do(t, "GET", "/v3/sso/certificates/42", "", true)
	a.do(t, "GET", "/_ssod/clock", "", false) // not journaled
	w := a.do(t, "GET", "/_ssod/requests", "", false)
	var got []journalEntryJSON
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Code != 200 {
		t.Fatalf("GET /_ssod/requests: %d %s", w.Code, w.Body)
	}
	if len(got) != 2 {
		t.Fatalf("journal has %d entries, want 2: %s", len(got), w.Body)
	}
	e := got[0]
	if e.Method != "POST" || e.Path != "/v3/sso/integrations" || e.Query != "si=true" || e.Body != `{"name":"Okta"}` ||
		e.Status != 400 || e.RequestID == "" || e.Headers["Content-Type"] != "application/json" {
		t.Errorf("first entry: %+v", e)
	}
	if want := "Bearer SG." + a.keyID + ".***"; e.Headers["Authorization"] != want {
		t.Errorf("Authorization journaled as %q, want %q", e.Headers["Authorization"], want)
	}
	if strings.Contains(w.Body.String(), a.key) {
		t.Error("the journal shows the key's secret")
	}
	if got[1].Status != 404 || got[1].Path != "/v3/sso/certificates/42" {
		t.Errorf("second entry: %+v", got[1])
	}
	w = a.do(t, "GET", "/_ssod/requests?method=GET&path=/v3/sso/certificates/{cert_id}", "", false)
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || len(got) != 1 || got[0].Method != "GET" {
		t.Errorf("filtered journal: %s", w.Body)
	}
	if w := a.do(t, "DELETE", "/_ssod/requests", "", false); w.Code != http.StatusNoContent {
		t.Errorf("DELETE /_ssod/requests: %d", w.Code)
	}
	if w := a.do(t, "GET", "/_ssod/requests", "", false); w.Body.String() != "[]" {
		t.Errorf("journal after DELETE: %s", w.Body)
	}
}

// TestJournalKeepsABodyTheAPINeverRead: a 401 is answered before the body
// is read, yet the journal shows what was sent.
func TestJournalKeepsABodyTheAPINeverRead(t *testing.T) {
	a := newTestModeAPI(t)
	a.do(t, "POST", "/v3/sso/integrations", `{"name":"x"}`, false)
	got := a.mode.Journal.List("", "")
	if len(got) != 1 || got[0].Status != 401 || got[0].Body != `{"name":"x"}` {
		t.Fatalf("journal: %+v", got)
	}
}

func TestFaults(t *testing.T) {
	a := newTestModeAPI(t)
	w := a.do(t, "POST", "/_ssod/faults", `{"method":"GET","path":"/v3/sso/integrations/{id}","status":429,"times":1}`, false)
	if w.Code != http.StatusCreated || !strings.Contains(w.Body.String(), `"id":1`) {
		t.Fatalf("POST /_ssod/faults: %d %s", w.Code, w.Body)
	}
	a.do(t, "POST", "/_ssod/faults", `{"method":"GET","path":"/v3/sso/integrations/{id}","status":503}`, false)
	a.do(t, "POST", "/_ssod/faults", `{"method":"GET","path":"/v3/sso/integrations/{id}","status":500}`, false)
	a.do(t, "POST", "/_ssod/faults", `{"method":"GET","path":"/v3/sso/integrations/{id}","status":0,"delay_ms":50}`, false)
	if w := a.do(t, "GET", "/_ssod/faults", "", false); strings.Count(w.Body.String(), `"id"`) != 4 {
		t.Fatalf("GET /_ssod/faults: %s", w.Body)
	}
	a.mode.Clock.Set(time.Unix(2_000_000_000, 0))

	w = a.do(t, "GET", "/v3/sso/integrations/x", "", true)
	h := w.Header()
	if w.Code != 429 || !strings.Contains(w.Body.String(), `"error_id":"rate_limited"`) || h.Get("X-RateLimit-Limit") != "3" ||
		h.Get("X-RateLimit-Remaining") != "0" || h.Get("X-RateLimit-Reset") != "2000000001" || h.Get("Retry-After") != "1" || h.Get("X-Request-Id") == "" {
		t.Errorf("429 fault: %d %v %s", w.Code, h, w.Body)
	}
	if w := a.do(t, "GET", "/v3/sso/integrations/x", "", true); w.Code != 503 || !strings.Contains(w.Body.String(), `"error_id":"unavailable"`) {
		t.Errorf("503 fault: %d %s", w.Code, w.Body)
	}
	if w := a.do(t, "GET", "/v3/sso/integrations/x", "", true); w.Code != 500 || !strings.Contains(w.Body.String(), `"error_id":"internal"`) {
		t.Errorf("500 fault: %d %s", w.Code, w.Body)
	}
	start := time.Now()
	if w := a.do(t, "GET", "/v3/sso/integrations/x", "", true); w.Code != 404 || time.Since(start) < 50*time.Millisecond {
		t.Errorf("delay fault: %d after %v, want the API's 404 after 50ms", w.Code, time.Since(start))
	}
	if w := a.do(t, "GET", "/v3/sso/integrations/x", "", true); w.Code != 404 {
		t.Errorf("after the faults: %d", w.Code)
	}
	statuses := []int{}
	for _, e := range a.mode.Journal.List("", "") {
		statuses = append(statuses, e.Status)
	}
	if want := []int{429, 503, 500, 404, 404}; !equalInts(statuses, want) {
		t.Errorf("journaled statuses %v, want %v", statuses, want)
	}

	a.do(t, "POST", "/_ssod/faults", `{"method":"GET","path":"/v3/sso/integrations","status":500,"times":5}`, false)
	if w := a.do(t, "DELETE", "/_ssod/faults", "", false); w.Code != 204 {
		t.Errorf("DELETE /_ssod/faults: %d", w.Code)
	}
	if w := a.do(t, "GET", "/_ssod/faults", "", false); w.Body.String() != "[]" {
		t.Errorf("faults after DELETE: %s", w.Body)
	}

	w = a.do(t, "POST", "/_ssod/faults", `{"method":"GET","path":"x","status":404,"times":0}`, false)
	if w.Code != 400 || !strings.Contains(w.Body.String(), `"field":"path"`) || !strings.Contains(w.Body.String(), `"field":"status"`) || !strings.Contains(w.Body.String(), `"field":"times"`) {
		t.Errorf("a bad fault: %d %s", w.Code, w.Body)
	}
	if w := a.do(t, "POST", "/_ssod/faults", `{"method":"GET","path":"/x","status":500,"colour":1}`, false); w.Code != 400 {
		t.Errorf("an unknown field: %d %s", w.Code, w.Body)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestClockDrivesRateLimitWindows: with a budget of 3 a minute, the fourth
// request is refused until the clock moves into the next window.
func TestClockDrivesRateLimitWindows(t *testing.T) {
	a := newTestModeAPI(t)
	if w := a.do(t, "POST", "/_ssod/clock", `{"now":2000000040}`, false); w.Code != 200 || w.Body.String() != `{"now":2000000040}` {
		t.Fatalf("POST /_ssod/clock: %d %s", w.Code, w.Body)
	}
	for range 3 {
		a.do(t, "GET", "/v3/sso/integrations", "", true)
	}
	w := a.do(t, "GET", "/v3/sso/integrations", "", true)
	if w.Code != 429 {
		t.Fatalf("fourth request: %d", w.Code)
	}
	if got := w.Header().Get("X-RateLimit-Reset"); got != "2000000100" {
		t.Errorf("X-RateLimit-Reset %s, want the window's end by the test clock", got)
	}
	if w := a.do(t, "POST", "/_ssod/clock", `{"advance_seconds":60}`, false); w.Body.String() != `{"now":2000000100}` {
		t.Fatalf("advance: %s", w.Body)
	}
	if w := a.do(t, "GET", "/v3/sso/integrations", "", true); w.Code != 200 {
		t.Errorf("after the clock moved a window on: %d", w.Code)
	}
	if w := a.do(t, "GET", "/_ssod/clock", "", false); w.Body.String() != `{"now":2000000100}` {
		t.Errorf("GET /_ssod/clock: %s", w.Body)
	}
	if w := a.do(t, "DELETE", "/_ssod/clock", "", false); w.Code != 204 {
		t.Errorf("DELETE /_ssod/clock: %d", w.Code)
	}
	if now := a.mode.Clock.Now(); time.Since(now) > time.Second {
		t.Errorf("clock after DELETE: %v", now)
	}
	for _, body := range []string{`{}`, `{"now":1,"advance_seconds":1}`, `{"now":-5}`, `{"now":"x"}`} {
		if w := a.do(t, "POST", "/_ssod/clock", body, false); w.Code != 400 || !strings.Contains(w.Body.String(), `"error_id":"invalid"`) {
			t.Errorf("POST /_ssod/clock %s: %d %s", body, w.Code, w.Body)
		}
	}
}

// TestResetRestoresBudgetsAndForgetsKeys: after a reset the key's budget is
// whole again, and the key is looked up afresh (a key cached for an hour
// would otherwise outlive a reset that removed it).
func TestResetRestoresBudgetsAndForgetsKeys(t *testing.T) {
	a := newTestModeAPI(t)
	for range 4 {
		a.do(t, "GET", "/v3/sso/integrations", "", true)
	}
	a.mode.Clock.Set(time.Unix(1, 0))
	if w := a.do(t, "POST", "/_ssod/reset", "", false); w.Code != http.StatusNoContent || w.Body.Len() != 0 {
		t.Fatalf("POST /_ssod/reset: %d %s", w.Code, w.Body)
	}
	if a.storeResets != 1 {
		t.Errorf("store reset %d times", a.storeResets)
	}
	if w := a.do(t, "GET", "/v3/sso/integrations", "", true); w.Code != 200 || w.Header().Get("X-RateLimit-Remaining") != "2" {
		t.Errorf("after reset: %d, remaining %s", w.Code, w.Header().Get("X-RateLimit-Remaining"))
	}
	if a.mode.Clock.Now().Unix() == 1 {
		t.Error("reset left the clock set")
	}
	// The key is cached for an hour: revoked behind the cache's back, it
	// still works, until a reset makes the server ask the store again.
	if err := a.store.RevokeKey(context.Background(), a.keyID, 2); err != nil {
		t.Fatal(err)
	}
	if w := a.do(t, "GET", "/v3/sso/integrations", "", true); w.Code != 200 {
		t.Fatalf("a cached key: %d", w.Code)
	}
	a.do(t, "POST", "/_ssod/reset", "", false)
	if w := a.do(t, "GET", "/v3/sso/integrations", "", true); w.Code != 401 {
		t.Errorf("after reset, a key revoked in the store: %d, want 401 (the cache kept it)", w.Code)
	}
}

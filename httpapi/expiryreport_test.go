package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/ratelimit"
)

// newRoomyTestModeAPI is newTestModeAPI with room for many requests a minute.
func newRoomyTestModeAPI(t *testing.T) *testModeAPI {
	t.Helper()
	a := newTestModeAPI(t)
	srv, err := NewServer(Config{Store: a.store, PublicURL: "http://api.test", KeyCacheTTL: time.Hour, TestMode: a.mode,
		Limiter: ratelimit.NewMemory(ratelimit.Config{Limit: 1000, Window: time.Minute}, a.mode.Clock.Now)})
	if err != nil {
		t.Fatal(err)
	}
	a.Server = srv
	return a
}

// setClock sets test mode's clock to now (Unix seconds).
func (a *testModeAPI) setClock(t *testing.T, now int64) {
	t.Helper()
	if w := a.do(t, "POST", "/_ssod/clock", fmt.Sprintf(`{"now":%d}`, now), false); w.Code != 200 {
		t.Fatalf("POST /_ssod/clock: %d %s", w.Code, w.Body)
	}
}

// expiryFixture stores integrations whose certificates have windows around
// t0, straight into the store.
type expiryFixture struct {
	t   *testing.T
	a   *testModeAPI
	n   int
	ids map[string]string // name -> integration id
}

func (f *expiryFixture) integration(accountID int64, name string, enabled bool, windows ...[3]int64) string {
	f.t.Helper()
	ctx := context.Background()
	in, err := f.a.store.CreateIntegration(ctx, accountID, ssod.IntegrationUpdate{Name: &name, Enabled: &enabled,
		SigninURL: ptr("https://idp.test/in"), SignoutURL: ptr("https://idp.test/out"), EntityID: ptr("https://idp.test/" + name)}, 1)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, w := range windows {
		f.n++
		if _, err := f.a.store.CreateCertificate(ctx, accountID, ssod.CertificateUpdate{IntegrationID: &in.ID, Enabled: ptr(w[0] == 1),
			X509: &ssod.X509{PEM: fmt.Sprintf("pem %d", f.n), NotBefore: w[1], NotAfter: w[2]}}); err != nil {
			f.t.Fatal(err)
		}
	}
	f.ids[name] = in.ID
	return in.ID
}

func ptr[T any](v T) *T { return &v }

const day = int64(ssod.Day / time.Second)

// TestExpiryReportEndpoint: the account's integrations, soonest to break
// first, rated with the server's clock; another account's are not in it.
func TestExpiryReportEndpoint(t *testing.T) {
	a := newRoomyTestModeAPI(t)
	const t0 = 2_000_000_000
	a.setClock(t, t0)
	f := &expiryFixture{t: t, a: a, ids: map[string]string{}}
	const main = 1
	f.integration(main, "later", true, [3]int64{1, t0 - day, t0 + 60*day}, [3]int64{0, t0 - day, t0 + 900*day})
	f.integration(main, "soon", true, [3]int64{1, t0 - day, t0 + 5*day})
	f.integration(main, "bare", true)
	f.integration(main, "off", false, [3]int64{1, t0 - day, t0 + 2*day})
	other, err := a.store.CreateAccount(context.Background(), "other", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	f.integration(other.ID, "theirs", true)

	report := func(query string) []ExpiryReportEntry {
		t.Helper()
		w := a.do(t, "GET", "/v3/sso/expiry-report"+query, "", true)
		if w.Code != 200 {
			t.Fatalf("GET expiry-report%s: %d %s", query, w.Code, w.Body)
		}
		var out []ExpiryReportEntry
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		// null, not absent, for a broken one
		if !bytes.Contains(w.Body.Bytes(), []byte(`"signing_valid_until":null`)) && out[0].Status == "broken" {
			t.Errorf("a broken integration's signing_valid_until is not null: %s", w.Body)
		}
		return out
	}
	type row struct {
		name   string
		status string
		until  int64 // 0: null
	}
	want := func(what string, got []ExpiryReportEntry, rows ...row) {
		t.Helper()
		if len(got) != len(rows) {
			t.Fatalf("%s: %d entries, want %d: %+v", what, len(got), len(rows), got)
		}
		for i, r := range rows {
			var until int64
			if got[i].SigningValidUntil != nil {
				until = *got[i].SigningValidUntil
			}
			if got[i].IntegrationID != f.ids[r.name] || got[i].Name != r.name || got[i].Status != r.status || until != r.until {
				t.Errorf("%s: entry %d = %s %s until %d; want %s %s until %d", what, i, got[i].Name, got[i].Status, until, r.name, r.status, r.until)
			}
		}
	}
	got := report("")
	want("default window (30d)", got, row{"bare", "broken", 0}, row{"off", "expiring", t0 + 2*day},
		row{"soon", "expiring", t0 + 5*day}, row{"later", "ok", t0 + 60*day})
	if l := got[3]; len(l.Certificates) != 2 || l.Certificates[1].Enabled || l.Certificates[1].NotAfter != t0+900*day ||
		l.Certificates[0].NotBefore != t0-day || !l.Certificates[0].Enabled || l.Enabled != true || got[1].Enabled {
		t.Errorf("entries carry the wrong fields: %+v", got)
	}
	if got[0].Certificates == nil {
		t.Error("an integration without certificates has certificates null, want []")
	}
	want("within=3d", report("?within=3d"), row{"bare", "broken", 0}, row{"off", "expiring", t0 + 2*day},
		row{"soon", "ok", t0 + 5*day}, row{"later", "ok", t0 + 60*day})
	want("within=90d", report("?within=90d"), row{"bare", "broken", 0}, row{"off", "expiring", t0 + 2*day},
		row{"soon", "expiring", t0 + 5*day}, row{"later", "expiring", t0 + 60*day})
	want("within=0", report("?within=0"), row{"bare", "broken", 0}, row{"off", "ok", t0 + 2*day},
		row{"soon", "ok", t0 + 5*day}, row{"later", "ok", t0 + 60*day})
	// The hour a certificate has left, in a Go duration.
	a.setClock(t, t0+5*day-3600)
	want("an hour before soon breaks, within=61m", report("?within=61m"), row{"bare", "broken", 0}, row{"off", "broken", 0},
		row{"soon", "expiring", t0 + 5*day}, row{"later", "ok", t0 + 60*day})
}

func TestExpiryReportWindowErrors(t *testing.T) {
	a := newRoomyTestModeAPI(t)
	for _, q := range []string{"?within=", "?within=30", "?within=-1d", "?within=3651d", "?within=1w", "?within=1d&within=2d", "?within=1d12h"} {
		w := a.do(t, "GET", "/v3/sso/expiry-report"+q, "", true)
		var problems []problemJSON
		if err := json.Unmarshal(w.Body.Bytes(), &problems); err != nil || w.Code != 400 || len(problems) != 1 ||
			problems[0].Field == nil || *problems[0].Field != "within" || problems[0].ErrorID != "invalid" {
			t.Errorf("GET expiry-report%s: %d %s; want 400 invalid naming within", q, w.Code, w.Body)
		}
	}
}

// scrape returns the value of the /metrics series named exactly series, or "".
func scrape(t *testing.T, h http.Handler, series string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for line := range strings.SplitSeq(rec.Body.String(), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return v
		}
	}
	return ""
}

// TestSigningGauges: enabled integrations of every account, counted with
// the server's clock, so moving test mode's clock moves them.
func TestSigningGauges(t *testing.T) {
	a := newRoomyTestModeAPI(t)
	const t0 = 2_000_000_000
	a.setClock(t, t0)
	f := &expiryFixture{t: t, a: a, ids: map[string]string{}}
	other, err := a.store.CreateAccount(context.Background(), "other", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	f.integration(1, "bare", true)
	f.integration(other.ID, "expired", true, [3]int64{1, t0 - 9*day, t0 - 1})
	f.integration(1, "off", false) // broken, but disabled: not counted
	f.integration(1, "3d", true, [3]int64{1, t0 - day, t0 + 3*day})
	f.integration(other.ID, "20d", true, [3]int64{1, t0 - day, t0 + 20*day})
	f.integration(1, "20d-off", false, [3]int64{1, t0 - day, t0 + 20*day})
	f.integration(1, "100d", true, [3]int64{1, t0 - day, t0 + 100*day})
	f.integration(1, "later", true, [3]int64{0, t0 - day, t0 + 1000*day}, [3]int64{1, t0 + 10*day, t0 + 1000*day})
	wantGauges := func(what string, broken, in7d, in30d int) {
		t.Helper()
		for horizon, n := range map[string]int{"broken": broken, "7d": in7d, "30d": in30d} {
			series := fmt.Sprintf(`ssod_sso_integrations_signing{horizon=%q}`, horizon)
			if got := scrape(t, a, series); got != fmt.Sprint(n) {
				t.Errorf("%s: %s = %q, want %d", what, series, got, n)
			}
		}
	}
	// "later" has only a disabled and a not yet started certificate.
	wantGauges("at t0", 3, 1, 2)
	a.setClock(t, t0+10*day) // later's certificate starts; 3d broke; 20d is 10 days off
	wantGauges("ten days on", 3, 0, 1)
	a.setClock(t, t0+95*day)
	wantGauges("95 days on", 4, 1, 1)
	if w := a.do(t, "DELETE", "/v3/sso/integrations/"+f.ids["100d"], "", true); w.Code != 204 {
		t.Fatal(w.Code)
	}
	wantGauges("after a delete (test mode counts at every scrape)", 4, 0, 0)
}

// windowStore is a SigningWindowStore around a real one that counts its
// calls and can be made to fail or hang.
type windowStore struct {
	ssod.SigningWindowStore
	calls atomic.Int64
	fail  atomic.Bool
	hang  atomic.Bool
}

func (s *windowStore) ListIntegrationWindows(ctx context.Context, accountID int64) ([]ssod.IntegrationWindows, error) {
	s.calls.Add(1)
	if s.hang.Load() {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if s.fail.Load() {
		return nil, errors.New("database on fire")
	}
	return s.SigningWindowStore.ListIntegrationWindows(ctx, accountID)
}

// TestSigningGaugesCountAtMostOncePerMaxAge: scrapes within maxAge share one
// query; a failed query leaves the gauges out and is not retried at once;
// a hung one is given up after the timeout.
func TestSigningGaugesCountAtMostOncePerMaxAge(t *testing.T) {
	ks := newKeyedStore(t, ":memory:")
	ws := &windowStore{SigningWindowStore: ks.store}
	var logs bytes.Buffer
	g := newSigningGauges(ws, time.Now, time.Hour, slog.New(slog.NewTextHandler(&logs, nil)))
	g.timeout = 100 * time.Millisecond
	collect := func() int {
		ch := make(chan prometheus.Metric, 10)
		go func() { g.Collect(ch); close(ch) }()
		n := 0
		for range ch {
			n++
		}
		return n
	}
	// Scrapes at once wait for one count rather than each making one.
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			if n := collect(); n != 3 {
				t.Errorf("Collect sent %d series, want 3", n)
			}
		})
	}
	wg.Wait()
	if n := collect(); n != 3 {
		t.Fatalf("Collect sent %d series, want 3", n)
	}
	if c := ws.calls.Load(); c != 1 {
		t.Errorf("6 scrapes within maxAge made %d queries, want 1", c)
	}

	g.maxAge = 0
	ws.fail.Store(true)
	if n := collect(); n != 0 {
		t.Errorf("a failed count sent %d series, want none", n)
	}
	if !strings.Contains(logs.String(), "database on fire") {
		t.Errorf("the failure is not logged: %q", logs.String())
	}
	ws.fail.Store(false)
	if n := collect(); n != 3 {
		t.Errorf("after the database recovered: %d series, want 3", n)
	}

	g.maxAge = time.Hour
	g.at = time.Time{}
	ws.fail.Store(true)
	before := ws.calls.Load()
	collect()
	ws.fail.Store(false)
	if n := collect(); n != 0 || ws.calls.Load() != before+1 {
		t.Errorf("a failure was retried within maxAge (%d queries) or answered from old numbers (%d series)", ws.calls.Load()-before, n)
	}

	g.at = time.Time{}
	ws.hang.Store(true)
	start := time.Now()
	collect()
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("a hung database held the scrape for %v; want about the 100 ms timeout", took)
	}
}

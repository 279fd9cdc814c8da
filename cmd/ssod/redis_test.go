package main

import (
	"strings"
	"testing"
	"time"

	"github.com/ssod/ssod/internal/faultnet"
)

// TestServeRidesOutRedisOutage starts `ssod serve --redis` on a Redis that
// accepts connections and never answers, and on one whose port is closed:
// the server starts, every authenticated request answers quickly, /readyz
// stays 200 and says the limiter is unavailable, the metric says 0, the
// outage is one warning, and go-redis's own lines go to ssod's log.
func TestServeRidesOutRedisOutage(t *testing.T) {
	for _, tc := range []struct {
		name string
		addr func(testing.TB) string
	}{
		{"hung", func(t testing.TB) string { return faultnet.NewHung(t).Addr() }},
		{"closed port", faultnet.ClosedPort},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, "", "--redis", "redis://"+tc.addr(t)+"/0", "--log-level", "debug")
			c := ts.client(ts.Key)
			var slowest time.Duration
			// Long enough for the limiter to probe Redis twice (once a
			// second): probes must be as cheap as the rest.
			for end := time.Now().Add(2500 * time.Millisecond); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
				began := time.Now()
				r := c.do("GET", "/v3/sso/integrations", nil)
				slowest = max(slowest, time.Since(began))
				if r.Status != 200 {
					t.Fatalf("GET with Redis %s -> %d %s", tc.name, r.Status, r.Body)
				}
				if h := r.Header.Get("X-RateLimit-Remaining"); h != "" {
					t.Fatalf("X-RateLimit-Remaining %q on a request nothing counted", h)
				}
			}
			t.Logf("slowest request %v", slowest)
			if slowest > time.Second {
				t.Errorf("a request took %v with Redis %s, want under 1s", slowest, tc.name)
			}
			anon := ts.client("")
			if r := anon.do("GET", "/readyz", nil); r.Status != 200 || string(r.Body) != `{"status":"ready","rate_limiter":"unavailable"}` {
				t.Errorf("/readyz -> %d %s", r.Status, r.Body)
			}
			if r := anon.do("GET", "/metrics", nil); !strings.Contains(string(r.Body), "\nssod_rate_limiter_available 0\n") {
				t.Errorf("metrics lack ssod_rate_limiter_available 0")
			}
			logs := ts.settledLogs()
			if n := strings.Count(logs, "level=WARN"); n != 1 {
				t.Errorf("%d warnings for one outage, want 1:\n%s", n, logs)
			}
			// go-redis prints to the process's stderr unless routed: its
			// lines in this server's log show they went through slog.
			if tc.name == "closed port" && !strings.Contains(logs, "component=go-redis") {
				t.Errorf("go-redis's failed dials are not in ssod's log:\n%s", logs)
			}
		})
	}
}

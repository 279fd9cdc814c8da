package ratelimit

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssod/ssod/internal/faultnet"
	"github.com/ssod/ssod/internal/testenv"
)

// redisURL returns the test server's URL, or skips visibly without one.
func redisURL(t *testing.T) string {
	return testenv.RedisURL(t, "Redis rate-limit tests")
}

// testPrefix namespaces one test's counters on the shared test server.
func testPrefix() string {
	var b [6]byte
	rand.Read(b[:])
	return "ssodtest:" + hex.EncodeToString(b[:]) + ":"
}

func TestRedisSharesOneBudget(t *testing.T) {
	url := redisURL(t)
	ctx := context.Background()
	prefix := testPrefix()
	now := time.Now()
	clock := func() time.Time { return now }
	cfg := Config{Limit: 4, Window: time.Minute}
	// A generous deadline: this test is about counting, and on a loaded
	// machine a healthy Redis can miss the default 50 ms.
	opts := RedisOptions{URL: url, Prefix: prefix, Now: clock, Timeout: 2 * time.Second}
	// Two limiters, as two instances would hold: one budget between them.
	a, err := NewRedis(ctx, cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	bl, err := NewRedis(ctx, cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer bl.Close()
	var allowed int
	for i := range 8 {
		l := a
		if i%2 == 1 {
			l = bl
		}
		d, err := l.Allow(ctx, "key")
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed {
			allowed++
		}
		if !d.Reset.Equal(cfg.WindowStart(now).Add(time.Minute)) {
			t.Fatalf("reset %v", d.Reset)
		}
	}
	if allowed != 4 {
		t.Fatalf("%d requests allowed across two limiters, want the one budget of 4", allowed)
	}
	if d, _ := a.Allow(ctx, "other"); !d.Allowed || d.Remaining != 3 {
		t.Fatalf("another key shares the budget: %+v", d)
	}
	now = now.Add(time.Minute)
	if d, _ := bl.Allow(ctx, "key"); !d.Allowed || d.Remaining != 3 {
		t.Fatalf("next window did not refill: %+v", d)
	}
	ttl, err := a.client.PTTL(ctx, prefix+"key:"+strconv.FormatInt(cfg.WindowStart(now).Unix(), 10)).Result()
	if err != nil || ttl <= 0 {
		t.Fatalf("counter has no expiry (ttl %v, %v): keys would pile up in Redis", ttl, err)
	}
	if !a.Available() || !bl.Available() {
		t.Fatal("a healthy Redis reported unavailable")
	}
}

// logBuffer collects a limiter's log lines for counting.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) count(s string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Count(b.buf.String(), s)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// requestBound is what one request may pay for a Redis that fails: far
// above the limiter's 50 ms, far below the 5 s go-redis would wait by
// default.
const requestBound = time.Second

// TestRedisFailingNeighbourCostsNothing points the limiter at a server that
// accepts and never answers, and at a port where nothing listens: every call
// answers within requestBound, concurrent calls included, and the outage is
// one warning however many calls and probes it sees.
func TestRedisFailingNeighbourCostsNothing(t *testing.T) {
	hung := faultnet.NewHung(t)
	for _, tc := range []struct {
		name string
		addr string
	}{
		{"hung", hung.Addr()},
		{"closed port", faultnet.ClosedPort(t)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const coolDown = 100 * time.Millisecond // several probes within the test
			logs := &logBuffer{}
			began := time.Now()
			l, err := NewRedis(t.Context(), Config{Limit: 5, Window: time.Minute}, RedisOptions{
				URL:      "redis://" + tc.addr + "/0",
				CoolDown: coolDown,
				Logger:   slog.New(slog.NewTextHandler(logs, nil)),
			})
			if err != nil {
				t.Fatalf("NewRedis refused a server that does not answer: %v", err)
			}
			defer l.Close()
			if took := time.Since(began); took > requestBound {
				t.Fatalf("NewRedis took %v", took)
			}
			if l.Available() {
				t.Fatal("a server that never answered is reported available")
			}
			var (
				mu      sync.Mutex
				slowest time.Duration
				wg      sync.WaitGroup
			)
			deadline := began.Add(600 * time.Millisecond)
			for range 8 {
				wg.Go(func() {
					for time.Now().Before(deadline) {
						callBegan := time.Now()
						_, err := l.Allow(context.Background(), "key")
						took := time.Since(callBegan)
						if err == nil {
							t.Error("Allow counted on a server that does not answer")
						}
						mu.Lock()
						slowest = max(slowest, took)
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			t.Logf("slowest call %v", slowest)
			if slowest > requestBound {
				t.Errorf("a call took %v with Redis %s, want under %v", slowest, tc.name, requestBound)
			}
			if n := logs.count("level=WARN"); n != 1 {
				t.Errorf("%d warnings for one outage, want 1:\n%s", n, logs)
			}
			// Only the first call and one probe per cool-down may try the
			// server (each try is a new connection, the last one having
			// timed out); the rest must not even ask.
			if tc.name == "hung" {
				tries := hung.Accepted()
				most := int(time.Since(began)/coolDown) + 2
				t.Logf("%d connections to the hung server in %v", tries, time.Since(began).Round(time.Millisecond))
				if tries > most {
					t.Errorf("%d connections to the hung server, want at most %d: calls do not skip a Redis that failed", tries, most)
				}
			}
		})
	}
}

// TestRedisOutageAndRecovery runs the limiter through a proxy in front of
// the real test Redis: it counts, the proxy is cut (and hangs), calls fail
// fast with one warning, the proxy is restored, a probe finds Redis again
// (one info line) and counting resumes; a second outage warns again.
func TestRedisOutageAndRecovery(t *testing.T) {
	url := redisURL(t)
	target := strings.TrimPrefix(url, "redis://")
	target, db, _ := strings.Cut(target, "/")
	proxy := faultnet.NewProxy(t, target)
	logs := &logBuffer{}
	const coolDown = 100 * time.Millisecond
	l, err := NewRedis(t.Context(), Config{Limit: 1000, Window: time.Hour}, RedisOptions{
		URL:      "redis://" + proxy.Addr() + "/" + db,
		Prefix:   testPrefix(),
		CoolDown: coolDown,
		// Above the default, so that a loaded machine does not pass for an
		// outage; well below requestBound, which a probe of the cut proxy
		// waits out.
		Timeout: 250 * time.Millisecond,
		Logger:  slog.New(slog.NewTextHandler(logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	mustCount := func(want int) {
		t.Helper()
		d, err := l.Allow(ctx, "key")
		if err != nil || d.Remaining != 1000-want {
			t.Fatalf("Allow = %+v, %v; want request %d counted", d, err, want)
		}
	}
	mustCount(1)
	mustCount(2)

	for outage := 1; outage <= 2; outage++ {
		proxy.Cut()
		var slowest time.Duration
		failed := 0
		for end := time.Now().Add(5 * coolDown); time.Now().Before(end); {
			began := time.Now()
			_, err := l.Allow(ctx, "key")
			slowest = max(slowest, time.Since(began))
			if err != nil {
				failed++
			}
		}
		if failed == 0 || l.Available() {
			t.Fatalf("outage %d: the cut went unnoticed", outage)
		}
		if slowest > requestBound {
			t.Errorf("outage %d: a call took %v", outage, slowest)
		}
		if n := logs.count("level=WARN"); n != outage {
			t.Fatalf("outage %d: %d warnings in all, want one per outage:\n%s", outage, n, logs)
		}

		proxy.Restore()
		// The next probe goes at most coolDown after the last failed one.
		// After the first outage a request makes it; after the second only
		// Available asks (as /readyz and the metric do on an idle instance),
		// and it must see the end of the outage too.
		recovered := func() bool {
			if outage == 2 {
				return l.Available()
			}
			_, err := l.Allow(ctx, "key")
			if err != nil && !errors.Is(err, ErrUnavailable) {
				t.Logf("probe failed: %v", err)
			}
			return err == nil
		}
		back := false
		for end := time.Now().Add(20 * coolDown); !back && time.Now().Before(end); time.Sleep(coolDown / 10) {
			back = recovered()
		}
		if !back || !l.Available() {
			t.Fatalf("outage %d: Redis is back but the limiter still reports it down", outage)
		}
		if n := logs.count("level=INFO"); n != outage {
			t.Fatalf("outage %d: %d recovery lines, want one per outage:\n%s", outage, n, logs)
		}
	}
	// Counting resumed on the same shared counter: the two calls before the
	// outages, the request that probed after the first, and this one.
	mustCount(4)
}

func TestRedisBudgetsCountApart(t *testing.T) {
	url := redisURL(t)
	ctx := context.Background()
	prefix := testPrefix()
	now := time.Now()
	a, err := NewRedis(ctx, Config{Limit: 1, Window: time.Minute}, RedisOptions{URL: url, Prefix: prefix + "a:", Now: func() time.Time { return now }, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b := a.Budget(Config{Limit: 3, Window: time.Minute}, prefix+"b:")
	var allowedA, allowedB int
	for range 4 {
		if d, err := a.Allow(ctx, "k"); err != nil {
			t.Fatal(err)
		} else if d.Allowed {
			allowedA++
		}
		if d, err := b.Allow(ctx, "k"); err != nil {
			t.Fatal(err)
		} else if d.Allowed {
			allowedB++
		}
	}
	if allowedA != 1 || allowedB != 3 {
		t.Fatalf("allowed %d and %d, want 1 and 3: each budget counts apart", allowedA, allowedB)
	}
	if b.breaker != a.breaker || b.client != a.client {
		t.Fatal("a budget must share its limiter's pool and breaker")
	}
}

package ratelimit

import (
	"errors"
	"log/slog"
	"testing"
	"time"
)

func TestBreakerLetsOneProbeThroughPerCoolDown(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	logs := &logBuffer{}
	b := newBreaker(time.Second, slog.New(slog.NewTextHandler(logs, nil)), func() time.Time { return now })
	fail := errors.New("i/o timeout")
	mustTry := func(wantOK, wantProbe bool) {
		t.Helper()
		if ok, probe := b.try(); ok != wantOK || probe != wantProbe {
			t.Fatalf("try() = %v, %v; want %v, %v", ok, probe, wantOK, wantProbe)
		}
	}

	mustTry(true, false) // closed: every call goes
	mustTry(true, false)
	b.done(false, fail) // the first failure opens it
	b.done(false, fail) // a call in flight at the time fails too: no news
	if b.available() {
		t.Fatal("open breaker reports available")
	}
	mustTry(false, false) // cooling down
	now = now.Add(999 * time.Millisecond)
	mustTry(false, false)
	now = now.Add(time.Millisecond)
	mustTry(true, true)   // one probe
	mustTry(false, false) // and only one while it is out
	b.done(false, nil)    // a straggler's success is no evidence
	if b.available() {
		t.Fatal("a call from before the outage closed the breaker")
	}
	b.done(true, fail) // the probe failed: cool down again
	mustTry(false, false)
	now = now.Add(time.Second)
	mustTry(true, true)
	b.done(true, nil)
	if !b.available() {
		t.Fatal("a successful probe left the breaker open")
	}
	mustTry(true, false)
	if w, i := logs.count("level=WARN"), logs.count("level=INFO"); w != 1 || i != 1 {
		t.Fatalf("%d warnings and %d recoveries logged for one outage, want 1 and 1:\n%s", w, i, logs)
	}
}

package testmode

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ssod/ssod"
)

func TestMatchPath(t *testing.T) {
	for _, c := range []struct {
		pattern, path string
		want          bool
	}{
		{"/v3/sso/certificates/{cert_id}", "/v3/sso/certificates/7", true},
		{"/v3/sso/certificates/{cert_id}", "/v3/sso/certificates/", false},
		{"/v3/sso/certificates/{cert_id}", "/v3/sso/certificates", false},
		{"/v3/sso/certificates/{cert_id}", "/v3/sso/certificates/7/x", false},
		{"/v3/sso/integrations/{id}/certificates", "/v3/sso/integrations/abc/certificates", true},
		{"/v3/sso/integrations/{id}/certificates", "/v3/sso/integrations/abc/certificate", false},
		{"/v3/sso/integrations", "/v3/sso/integrations", true},
		{"/v3/sso/integrations", "/v3/sso/integrations/x", false},
		{"/v3/sso/certificates/7", "/v3/sso/certificates/7", true},
		{"/v3/sso/certificates/7", "/v3/sso/certificates/8", false},
		{"/v3/{rest...}", "/v3/sso/integrations", true},
		{"/v3/{rest...}", "/openapi.json", false},
	} {
		if got := matchPath(c.pattern, c.path); got != c.want {
			t.Errorf("matchPath(%q, %q) = %v, want %v", c.pattern, c.path, got, c.want)
		}
	}
}

func TestJournalKeepsTheNewestOldestFirst(t *testing.T) {
	j := NewJournal(3)
	for i := range 5 {
		j.Add(Entry{Method: "GET", Path: "/v3/sso/certificates/" + string(rune('0'+i)), Status: 200 + i})
	}
	got := j.List("", "")
	if len(got) != 3 || got[0].Status != 202 || got[2].Status != 204 {
		t.Fatalf("journal = %+v, want the last three, oldest first", got)
	}
	if got := j.List("get", "/v3/sso/certificates/{cert_id}"); len(got) != 3 {
		t.Errorf("filtered by pattern: %d entries, want 3", len(got))
	}
	if got := j.List("POST", ""); len(got) != 0 {
		t.Errorf("filtered by method POST: %d entries, want 0", len(got))
	}
	if got := j.List("", "/v3/sso/certificates/3"); len(got) != 1 || got[0].Status != 203 {
		t.Errorf("filtered by literal path: %+v", got)
	}
	j.Clear()
	if got := j.List("", ""); len(got) != 0 {
		t.Errorf("after Clear: %d entries", len(got))
	}
}

func TestFaultsAreSpentThenGone(t *testing.T) {
	var fs Faults
	id, err := fs.Add(Fault{Method: "GET", Path: "/v3/sso/certificates/{cert_id}", Status: 429, Times: 2})
	if err != nil || id != 1 {
		t.Fatalf("Add = %d, %v", id, err)
	}
	if _, ok := fs.Take("PATCH", "/v3/sso/certificates/7"); ok {
		t.Error("a PATCH matched a GET fault")
	}
	for i := range 2 {
		f, ok := fs.Take("GET", "/v3/sso/certificates/7")
		if !ok || f.Status != 429 {
			t.Fatalf("take %d: %+v, %v", i, f, ok)
		}
	}
	if _, ok := fs.Take("GET", "/v3/sso/certificates/7"); ok {
		t.Error("a fault answered more than its times")
	}
	if l := fs.List(); len(l) != 0 {
		t.Errorf("spent fault still listed: %+v", l)
	}
}

func TestFaultValidation(t *testing.T) {
	for _, c := range []struct {
		f     Fault
		field string
	}{
		{Fault{Path: "/x", Status: 500, Times: 1}, "method"},
		{Fault{Method: "get", Path: "/x", Status: 500, Times: 1}, "method"},
		{Fault{Method: "GET", Status: 500, Times: 1}, "path"},
		{Fault{Method: "GET", Path: "x", Status: 500, Times: 1}, "path"},
		{Fault{Method: "GET", Path: "/x", Status: 404, Times: 1}, "status"},
		{Fault{Method: "GET", Path: "/x", Status: 0, Times: 1}, "delay_ms"},
		{Fault{Method: "GET", Path: "/x", Status: 500, Times: 0}, "times"},
		{Fault{Method: "GET", Path: "/x", Status: 500, Times: 1, Delay: time.Minute}, "delay_ms"},
	} {
		err := c.f.Validate()
		var es ssod.Errors
		if !errors.As(err, &es) || es[0].Field != c.field {
			t.Errorf("Validate(%+v) = %v, want an error on %s", c.f, err, c.field)
		}
	}
	if err := (Fault{Method: "GET", Path: "/x", Times: 1, Delay: time.Millisecond}).Validate(); err != nil {
		t.Errorf("a delay-only fault: %v", err)
	}
}

func TestClock(t *testing.T) {
	var c Clock
	if d := time.Since(c.Now()); d < 0 || d > time.Second {
		t.Fatalf("unset clock is %v from the system's", d)
	}
	at := time.Unix(2_000_000_000, 0)
	c.Set(at)
	time.Sleep(2 * time.Millisecond)
	if !c.Now().Equal(at) {
		t.Fatalf("set clock moved by itself: %v", c.Now())
	}
	if got := c.Advance(90 * time.Second); !got.Equal(at.Add(90*time.Second)) || !c.Now().Equal(got) {
		t.Fatalf("Advance = %v, Now = %v", got, c.Now())
	}
	c.Release()
	if d := time.Since(c.Now()); d < 0 || d > time.Second {
		t.Fatalf("released clock is %v from the system's", d)
	}
}

// TestResetWaitsForRequestsInFlight shows the gate: a reset neither starts
// while a request is inside nor lets a new one in until it is done.
func TestResetWaitsForRequestsInFlight(t *testing.T) {
	var mu sync.Mutex
	var events []string
	log := func(s string) { mu.Lock(); events = append(events, s); mu.Unlock() }
	m := New(Options{ResetStore: func(context.Context) error {
		log("reset")
		time.Sleep(20 * time.Millisecond)
		return nil
	}})
	m.Enter()
	done := make(chan struct{})
	go func() { _ = m.Reset(context.Background(), nil); close(done) }()
	time.Sleep(20 * time.Millisecond)
	log("request ends")
	m.Leave()
	<-done
	m.Enter()
	log("next request")
	m.Leave()
	want := []string{"request ends", "reset", "next request"}
	if len(events) != 3 || events[0] != want[0] || events[1] != want[1] || events[2] != want[2] {
		t.Fatalf("events = %v, want %v", events, want)
	}
}

func TestResetClearsJournalFaultsAndClock(t *testing.T) {
	m := New(Options{})
	m.Journal.Add(Entry{Path: "/x"})
	if _, err := m.Faults.Add(Fault{Method: "GET", Path: "/x", Status: 500, Times: 1}); err != nil {
		t.Fatal(err)
	}
	m.Clock.Set(time.Unix(1, 0))
	also := false
	if err := m.Reset(context.Background(), func() { also = true }); err != nil {
		t.Fatal(err)
	}
	if len(m.Journal.List("", "")) != 0 || len(m.Faults.List()) != 0 || m.Clock.Now().Unix() == 1 || !also {
		t.Fatal("reset left state behind")
	}
}

func TestClockWatch(t *testing.T) {
	var c Clock
	ch, stop := c.Watch()
	pending := func() bool {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
	if pending() {
		t.Fatal("a watch fired before any change")
	}
	for name, change := range map[string]func(){
		"set":     func() { c.Set(time.Unix(2_000_000_000, 0)) },
		"advance": func() { c.Advance(time.Hour) },
		"release": c.Release,
	} {
		change()
		if !pending() {
			t.Errorf("%s did not reach the watcher", name)
		}
	}
	c.Advance(time.Second)
	c.Advance(time.Second)
	if !pending() || pending() {
		t.Error("two changes while one was pending did not merge into one")
	}
	stop()
	c.Advance(time.Second)
	if pending() {
		t.Error("a stopped watch still fired")
	}
}

package ratelimit

import (
	"context"
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	good := map[string]Config{
		"600/60s": {600, time.Minute},
		"5/1s":    {5, time.Second},
		"10/1h":   {10, time.Hour},
		"off":     {},
		"OFF":     {},
	}
	for in, want := range good {
		got, err := ParseConfig(in)
		if err != nil || got != want {
			t.Errorf("ParseConfig(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "600", "0/60s", "-1/60s", "x/60s", "5/0s", "5/1500ms", "5/abc"} {
		if _, err := ParseConfig(in); err == nil {
			t.Errorf("ParseConfig(%q) accepted", in)
		}
	}
}

func TestMemoryBudgetAndRefill(t *testing.T) {
	now := time.Unix(1_700_000_010, 0)
	m := NewMemory(Config{Limit: 3, Window: time.Minute}, func() time.Time { return now })
	ctx := context.Background()
	for i := 1; i <= 3; i++ {
		d, _ := m.Allow(ctx, "a")
		if !d.Allowed || d.Remaining != 3-i || d.Limit != 3 {
			t.Fatalf("request %d: %+v", i, d)
		}
		if want := time.Unix(1_700_000_040, 0); !d.Reset.Equal(want) {
			t.Fatalf("reset %v, want %v (window aligned to the minute)", d.Reset, want)
		}
	}
	if d, _ := m.Allow(ctx, "a"); d.Allowed || d.Remaining != 0 {
		t.Fatalf("4th request allowed: %+v", d)
	}
	if d, _ := m.Allow(ctx, "b"); !d.Allowed {
		t.Fatal("another key shares the budget")
	}
	now = now.Add(30 * time.Second) // next window
	if d, _ := m.Allow(ctx, "a"); !d.Allowed || d.Remaining != 2 {
		t.Fatalf("budget did not refill: %+v", d)
	}
	if len(m.counts) != 1 {
		t.Fatalf("old window's counters kept: %v", m.counts)
	}
}

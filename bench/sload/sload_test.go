package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// TestMain lets this test binary serve as the ceiling, as the program does
// when it re-executes itself.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == ceilingFlag {
		if err := serveCeiling(os.Args[2:], os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "sload ceiling:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestSmoke runs the -smoke mode against a freshly built ssod and checks
// that every operation got only successful answers from ssod and the
// ceiling, warm-up included: a failed request is a broken server or a
// broken tool, either of which the figures would hide. It checks no speed:
// the point is that the tool keeps working.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ssod and runs load for a few seconds")
	}
	cfg, err := parseFlags([]string{"-smoke", "-dir", t.TempDir()}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	rep, err := run(ctx, cfg, testLog{t})
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range allOps {
		for _, target := range []string{targetSSOD, targetCeiling} {
			r := rep.find(op, target)
			switch {
			case r == nil:
				t.Errorf("%s against %s: not run", op, target)
			case r.ok < 1:
				t.Errorf("%s against %s: no successful request (%d failed; first: %s)", op, target, r.failed, r.firstError)
			case r.failed > 0 || r.firstError != "": // firstError also holds a warm-up failure
				t.Errorf("%s against %s: %d requests failed in the measured time; first failure: %s", op, target, r.failed, r.firstError)
			}
		}
	}
	if rep.commit == nil || rep.commit.ok < 1 {
		t.Error("the durable-commit ceiling committed nothing")
	} else if rep.commit.failed > 0 || rep.commit.firstError != "" {
		t.Errorf("the durable-commit ceiling failed %d commits; first: %s", rep.commit.failed, rep.commit.firstError)
	}
	if len(rep.scales) != 1 || rep.scales[0].mem.rss == 0 || len(rep.scales[0].startups) != startupRuns {
		t.Errorf("scale row: %+v", rep.scales)
	}
	var md bytes.Buffer
	if err := rep.markdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| GET /v3/sso/certificates/{id} | ssod |", "## Durable-commit ceiling", "## The issue's targets"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, md.String())
		}
	}
}

type testLog struct{ t *testing.T }

func (l testLog) Write(b []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

func TestFixedJSON(t *testing.T) {
	for _, n := range []int{1, 100, 1363, 6821} {
		for _, array := range []bool{false, true} {
			b := fixedJSON(n, array)
			if !json.Valid(b) {
				t.Errorf("fixedJSON(%d, %v) is not JSON: %s", n, array, b)
			}
			if n >= 40 && len(b) != n {
				t.Errorf("fixedJSON(%d, %v) has %d bytes", n, array, len(b))
			}
		}
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i))
	}
	for p, want := range map[float64]time.Duration{0.5: 50, 0.9: 90, 0.99: 99, 1: 100} {
		if got := percentile(d, p); got != want {
			t.Errorf("percentile(1..100, %v) = %v, want %v", p, got, want)
		}
	}
	if got := percentile(nil, 0.5); got != 0 {
		t.Errorf("percentile of nothing = %v", got)
	}
}

func TestIDOf(t *testing.T) {
	body := []byte(`{"public_certificate":"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n","id":4711,"not_before":1}`)
	if id, ok := idOf(body); !ok || id != 4711 {
		t.Errorf("idOf = %d, %v", id, ok)
	}
	if _, ok := idOf([]byte(`[]`)); ok {
		t.Error("idOf found an id in []")
	}
}

func TestCertMaker(t *testing.T) {
	m, err := newCertMaker()
	if err != nil {
		t.Fatal(err)
	}
	pems, err := m.makeMany(4)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, p := range pems {
		if !strings.HasPrefix(p, "-----BEGIN CERTIFICATE-----\n") || seen[p] {
			t.Errorf("not a distinct PEM certificate: %q", p)
		}
		seen[p] = true
	}
	if _, err := validity(pems); err != nil {
		t.Error(err)
	}
}

func TestParseFlags(t *testing.T) {
	cfg, err := parseFlags([]string{"-scale", "1000,1000000", "-ops", "get-cert,list-certs"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.base != 1000 || len(cfg.scales) != 2 || len(cfg.ops) != 2 {
		t.Errorf("cfg = %+v", cfg)
	}
	cfg, err = parseFlags([]string{"-scale", "none"}, &bytes.Buffer{})
	if err != nil || cfg.base != 1000 || cfg.scales != nil {
		t.Errorf("-scale none: %+v, %v", cfg, err)
	}
	for _, bad := range [][]string{{"-ops", "nope"}, {"-scale", "0"}, {"-conns", "0"}, {"extra"}} {
		if _, err := parseFlags(bad, &bytes.Buffer{}); err == nil {
			t.Errorf("parseFlags(%q) accepted", bad)
		}
	}
}

func TestRatioOf(t *testing.T) {
	// One noisy round (the reference slowed down) moves the median of the
	// round-by-round ratios less than the ratio of the totals.
	a := &result{rps: 100, ok: 500, roundRPS: []float64{100, 100, 100}}
	b := &result{rps: 150, ok: 750, roundRPS: []float64{200, 200, 50}}
	if v, ok := ratioOf(a, b); !ok || v != 0.5 {
		t.Errorf("ratioOf = %v, %v; want the median 0.5", v, ok)
	}
	if v, ok := ratioOf(&result{rps: 30}, &result{rps: 10, ok: 1}); !ok || v != 3 {
		t.Errorf("ratioOf without rounds = %v, %v; want 3", v, ok)
	}
	if _, ok := ratioOf(a, nil); ok {
		t.Error("ratioOf with no reference reported a ratio")
	}
}

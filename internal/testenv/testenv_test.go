package testenv

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// recorder is a testing.TB whose Skipf and Fatalf are recorded rather than
// acted on, so the test can see which one a helper chose.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Skipf(format string, args ...any) {
	r.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// lookup runs Lookup as a test would, in a goroutine of its own that
// Skipf or Fatalf may end.
func lookup(t *testing.T, name string) (r *recorder, value string) {
	r = &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		value = Lookup(r, name, "the things under test")
	}()
	<-done
	return r, value
}

func TestLookup(t *testing.T) {
	const name = "SSOD_TEST_TESTENV_PROBE"
	for _, tc := range []struct {
		ci, value                  string
		wantSkip, wantFail, wantOK bool
	}{
		{ci: "", value: "", wantSkip: true},
		{ci: "false", value: "", wantSkip: true},
		{ci: "true", value: "", wantFail: true},
		{ci: "1", value: "", wantFail: true},
		{ci: "true", value: "here", wantOK: true},
		{ci: "", value: "here", wantOK: true},
	} {
		t.Run(fmt.Sprintf("CI=%q,%s=%q", tc.ci, name, tc.value), func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			t.Setenv(name, tc.value)
			r, v := lookup(t, name)
			if (r.skipped != "") != tc.wantSkip || (r.failed != "") != tc.wantFail || (v == tc.value && v != "") != tc.wantOK {
				t.Fatalf("skipped %q, failed %q, value %q", r.skipped, r.failed, v)
			}
			if msg := r.skipped + r.failed; !tc.wantOK && !strings.Contains(msg, name) {
				t.Errorf("the message %q does not name %s", msg, name)
			}
		})
	}
}

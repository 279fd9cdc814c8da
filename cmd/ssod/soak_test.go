package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestSoak drives one real `ssod serve` with a realistic mix (90% reads)
// for a while and checks that it stays healthy: no 5xx, no acknowledged
// write lost, memory and file descriptors flat. The normal run lasts a few
// seconds; SSOD_SOAK=10m runs the long form.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and loads it; not in -short")
	}
	duration := 3 * time.Second
	if s := os.Getenv("SSOD_SOAK"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			t.Fatalf("SSOD_SOAK=%q: want a duration such as 10m", s)
		}
		duration = d
	}
	const workers = 4
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d, %v, %d workers", seed, duration, workers)

	dir := t.TempDir()
	bin := buildSSOD(t)
	db := filepath.Join(dir, "ssod.db")
	pool := crashCertPool(t, 32)
	proc := crashStart(t, bin, db)
	key := keyPattern.FindString(proc.logs.String())
	pid := proc.cmd.Process.Pid

	ws := make([]*crashWriter, workers)
	for i := range ws {
		ws[i] = &crashWriter{t: t, id: i, key: key, url: proc.url, pool: pool, rng: rand.New(rand.NewPCG(seed, uint64(i+1))),
			ints: map[string]*crashInt{}, certs: map[int64]*crashCert{}}
	}
	var reads, writes, serverErrors atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if w.rng.IntN(10) > 0 {
					reads.Add(1)
					if status := soakRead(w); status >= 500 || status == 0 {
						serverErrors.Add(1)
						t.Errorf("read -> %d", status)
						return
					}
					continue
				}
				writes.Add(1)
				if !w.step() {
					t.Errorf("writer %d: transport error during the soak", w.id)
					return
				}
			}
		})
	}
	// Measure after a warm-up, so the baseline includes the pools and caches
	// a loaded server holds anyway.
	warmup := min(duration/10, 30*time.Second)
	time.Sleep(warmup)
	rssStart, fdStart := procRSS(t, pid), procFDs(t, pid)
	time.Sleep(duration - warmup)
	rssEnd, fdEnd := procRSS(t, pid), procFDs(t, pid)
	close(stop)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	v := crashVerify(t, proc.url, key, ws)
	if err := proc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := proc.cmd.Wait(); err != nil {
		t.Errorf("ssod did not stop cleanly after the soak: %v", err)
	}
	crashIntegrityCheck(t, db)
	if n := strings.Count(proc.logs.String(), "status=5"); n > 0 {
		t.Errorf("the server logged %d responses with a 5xx status", n)
	}
	t.Logf("SOAK: %v, %d reads, %d writes (%d acknowledged and verified after the run, %d refused as expected), %d server errors; RSS %d KiB -> %d KiB, fds %d -> %d",
		duration, reads.Load(), writes.Load(), v.acked, v.refused, serverErrors.Load(), rssStart, rssEnd, fdStart, fdEnd)
	// Flat: allow for GC timing and the cache filling, not for growth with
	// the number of requests.
	if rssEnd > rssStart+rssStart/2+16<<10 {
		t.Errorf("RSS grew from %d KiB to %d KiB", rssStart, rssEnd)
	}
	if fdEnd > fdStart+16 {
		t.Errorf("file descriptors grew from %d to %d", fdStart, fdEnd)
	}
}

// soakRead reads one object the worker owns, or a list; an object the
// worker created and has not deleted must be there.
func soakRead(w *crashWriter) int {
	ints, certs := w.live()
	var path string
	mustExist := true
	switch pick := w.rng.IntN(10); {
	case pick < 5 && len(certs) > 0:
		path = fmt.Sprintf("/v3/sso/certificates/%d", certs[w.rng.IntN(len(certs))])
	case pick < 7 && len(ints) > 0:
		path = "/v3/sso/integrations/" + ints[w.rng.IntN(len(ints))] + "/certificates"
	case pick < 9 && len(ints) > 0:
		path = "/v3/sso/integrations/" + ints[w.rng.IntN(len(ints))]
	default:
		path, mustExist = "/v3/sso/integrations", false
	}
	status, body, err := w.send("GET", path, nil)
	if err != nil {
		return 0
	}
	if status != http.StatusOK || !json.Valid(body) {
		if mustExist || status >= 500 {
			w.t.Errorf("GET %s -> %d %s", path, status, body)
		}
	}
	return status
}

// procRSS returns a process's resident memory in KiB.
func procRSS(t *testing.T, pid int) int {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kib, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			if err != nil {
				t.Fatalf("VmRSS %q: %v", rest, err)
			}
			return kib
		}
	}
	t.Fatal("no VmRSS in /proc status")
	return 0
}

// procFDs counts a process's open file descriptors.
func procFDs(t *testing.T, pid int) int {
	t.Helper()
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	return len(fds)
}

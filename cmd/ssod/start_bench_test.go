package main

import (
	"bufio"
	"context"
	"io"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// listenWatch is a log writer that reports when ssod says it listens.
type listenWatch struct {
	once      sync.Once
	listening chan struct{}
}

func (w *listenWatch) Write(p []byte) (int, error) {
	if strings.Contains(string(p), `msg="ssod listening"`) {
		w.once.Do(func() { close(w.listening) })
	}
	return len(p), nil
}

// BenchmarkServeStartInMemory measures how long `ssod serve --db :memory:`
// takes from start to listening, with an empty database migrated and its
// first key made: in-process (run) and as the static binary (exec, which
// adds the process start). "start-ms" is that time alone; ns/op includes
// the clean stop.
func BenchmarkServeStartInMemory(b *testing.B) {
	args := []string{"serve", "--addr", "127.0.0.1:0", "--db", ":memory:", "--rate-limit", "off"}
	b.Run("in-process", func(b *testing.B) {
		var started time.Duration
		for b.Loop() {
			ctx, cancel := context.WithCancel(b.Context())
			w := &listenWatch{listening: make(chan struct{})}
			done := make(chan error, 1)
			t0 := time.Now()
			go func() { done <- run(ctx, args, env(nil), io.Discard, w) }()
			select {
			case <-w.listening:
				started += time.Since(t0)
			case err := <-done:
				b.Fatalf("serve exited: %v", err)
			}
			cancel()
			if err := <-done; err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(started.Microseconds())/1000/float64(b.N), "start-ms")
	})
	b.Run("process", func(b *testing.B) {
		bin := buildSSOD(b)
		var started time.Duration
		for b.Loop() {
			cmd := exec.Command(bin, args...)
			stderr, err := cmd.StderrPipe()
			if err != nil {
				b.Fatal(err)
			}
			t0 := time.Now()
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			lines := bufio.NewScanner(stderr)
			for lines.Scan() && !strings.Contains(lines.Text(), `msg="ssod listening"`) {
			}
			started += time.Since(t0)
			_ = cmd.Process.Signal(syscall.SIGTERM)
			_, _ = io.Copy(io.Discard, stderr)
			if err := cmd.Wait(); err != nil {
				b.Fatalf("ssod serve: %v", err)
			}
		}
		b.ReportMetric(float64(started.Microseconds())/1000/float64(b.N), "start-ms")
	})
}

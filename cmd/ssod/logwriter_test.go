package main

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestLogWriterHoldsInfoAndFlushesWarnings(t *testing.T) {
	out := &syncBuffer{}
	lw := newLogWriter(out, time.Hour) // only explicit flushes in this test
	logger, err := newLogger(lw, "text", "info")
	if err != nil {
		t.Fatal(err)
	}
	logger.Info("request", "status", 200)
	if out.String() != "" {
		t.Fatalf("an info line was written at once: %q", out.String())
	}
	logger.Warn("trouble")
	if got := out.String(); !strings.Contains(got, "msg=request") || !strings.Contains(got, "msg=trouble") {
		t.Fatalf("a warning did not write the log out: %q", got)
	}
	logger.With("k", "v").Error("worse")
	if !strings.Contains(out.String(), "msg=worse k=v") {
		t.Fatalf("a handler made With lost the urgent flush: %q", out.String())
	}
	logger.Info("last")
	if err := lw.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "msg=last") {
		t.Fatal("Close did not write out the rest")
	}
}

func TestLogWriterFlushesOnItsInterval(t *testing.T) {
	out := &syncBuffer{}
	lw := newLogWriter(out, 20*time.Millisecond)
	defer lw.Close()
	slog.New(slog.NewTextHandler(lw, nil)).Info("tick")
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "msg=tick") {
		if time.Now().After(deadline) {
			t.Fatal("the line never left the buffer")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A request in flight when SIGTERM (here: the context) arrives is finished
// and answered before ssod stops, and what it wrote is stored.
func TestShutdownFinishesInFlightRequests(t *testing.T) {
	db := filepath.Join(t.TempDir(), "ssod.db")
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--db", db}, env(nil), io.Discard, logs)
	}()
	var addr string
	for deadline := time.Now().Add(30 * time.Second); addr == ""; time.Sleep(10 * time.Millisecond) {
		if m := listenLine.FindStringSubmatch(logs.String()); m != nil {
			addr = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("ssod did not start:\n%s", logs)
		}
	}
	key := keyPattern.FindString(logs.String())

	body, _ := json.Marshal(integrationBody("in flight"))
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	head := fmt.Sprintf("POST /v3/sso/integrations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", key, len(body))
	half := len(body) / 2
	if _, err := io.WriteString(conn, head+string(body[:half])); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the server is now reading the body
	stop()
	time.Sleep(200 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("ssod stopped with a request in flight: %v", err)
	default:
	}
	if _, err := conn.Write(body[half:]); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to the in-flight request: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("in-flight request -> %d", res.StatusCode)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("ssod stopped with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("ssod did not stop after its last request")
	}
	if !strings.Contains(logs.String(), "ssod stopped") {
		t.Errorf("no clean-stop line in the log:\n%s", logs)
	}
	// The database was closed cleanly and holds the write.
	out, err := runCLI(t, "audit", "list", "--db", db)
	if err != nil || !strings.Contains(out, "integration.create") {
		t.Fatalf("the in-flight write is not stored: %v\n%s", err, out)
	}
}

func TestJSONLogFormat(t *testing.T) {
	out := &syncBuffer{}
	lw := newLogWriter(out, time.Hour)
	logger, err := newLogger(lw, "json", "warn")
	if err != nil {
		t.Fatal(err)
	}
	logger.Info("hidden")
	logger.Warn("shown", "request_id", "r1")
	lw.Close()
	var line map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(out.String())), &line); err != nil {
		t.Fatalf("not one JSON line: %q (%v)", out.String(), err)
	}
	if line["msg"] != "shown" || line["request_id"] != "r1" || line["level"] != "WARN" {
		t.Fatalf("line %v", line)
	}
	for _, bad := range [][2]string{{"xml", "info"}, {"text", "loud"}} {
		if _, err := newLogger(lw, bad[0], bad[1]); err == nil {
			t.Errorf("newLogger(%q, %q) accepted", bad[0], bad[1])
		}
	}
}

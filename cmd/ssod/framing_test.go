package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// rawExchange writes raw to a fresh connection, half-closes it when
// halfClose is set, and reads the one response, if any.
func rawExchange(t *testing.T, ts *testServer, raw string, halfClose bool) (*http.Response, []byte, error) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	if halfClose {
		_ = conn.(*net.TCPConn).CloseWrite()
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return res, body, err
}

// resetMidway sends raw, then resets the connection (SO_LINGER 0), as a
// client that aborts does.
func resetMidway(addr, raw string) error {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	_, err = io.WriteString(conn, raw)
	_ = conn.(*net.TCPConn).SetLinger(0)
	_ = conn.Close()
	return err
}

// TestClientMistakesAreNotServerFaults sends malformed framing and aborting
// clients to a real server over raw TCP: broken framing is a 400 error
// array, a client that leaves gets nothing and counts as 499, and none of it
// is a 500, an ERROR line or a database error.
func TestClientMistakesAreNotServerFaults(t *testing.T) {
	ts := startServer(t, "", "--rate-limit", "off")
	c := ts.client(ts.Key)
	in := c.createIntegration("framing")
	intPath := "/v3/sso/integrations/" + in.ID
	head := func(method, path, framing string) string {
		return method + " " + path + " HTTP/1.1\r\nHost: ssod\r\nAuthorization: Bearer " + ts.Key +
			"\r\nContent-Type: application/json\r\n" + framing + "\r\n"
	}

	for _, tc := range []struct {
		name, method, path, raw string
	}{
		{"chunk size that is not hex", "PATCH", intPath, head("PATCH", intPath, "Transfer-Encoding: chunked\r\n") + "ZZ\r\n"},
		{"chunk longer than its size", "PATCH", intPath, head("PATCH", intPath, "Transfer-Encoding: chunked\r\n") + "2\r\n{}}\r\n0\r\n\r\n"},
		{"Content-Length larger than the body", "POST", "/v3/sso/integrations", head("POST", "/v3/sso/integrations", "Content-Length: 100\r\n") + `{"name":"short"}`},
		{"chunked body cut off", "POST", "/v3/sso/integrations", head("POST", "/v3/sso/integrations", "Transfer-Encoding: chunked\r\n") + "10\r\n{\"name\":"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body, err := rawExchange(t, ts, tc.raw, true)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			req, _ := http.NewRequest(tc.method, ts.URL+tc.path, nil)
			r := response{Status: res.StatusCode, Header: res.Header, Body: body}
			ts.checkResponse(req, r)
			wantError(t, r, http.StatusBadRequest, "", "invalid")
		})
	}

	// Aborting clients: cut off mid-body, or gone right after a whole
	// request, while the server is busy with them.
	addr := strings.TrimPrefix(ts.URL, "http://")
	const valid = `{"name":"aborted","enabled":true,"signin_url":"https://idp.example.com/sso","signout_url":"https://idp.example.com/slo","entity_id":"e"}`
	raws := []string{
		head("POST", "/v3/sso/integrations", fmt.Sprintf("Content-Length: %d\r\n", len(valid))) + valid[:20],
		head("POST", "/v3/sso/integrations", fmt.Sprintf("Content-Length: %d\r\n", len(valid))) + valid,
		head("PATCH", intPath, "Content-Length: 16\r\n") + `{"enabled":true}`,
		head("GET", "/v3/sso/integrations", ""),
		head("PATCH", intPath, "Transfer-Encoding: chunked\r\n") + "10\r\n{\"enabled\":",
	}
	var sent atomic.Int64
	deadline := time.Now().Add(time.Second)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; time.Now().Before(deadline); i++ {
				if err := resetMidway(addr, raws[i%len(raws)]); err != nil {
					t.Errorf("abort: %v", err)
					return
				}
				sent.Add(1)
			}
		})
	}
	wg.Wait()
	time.Sleep(200 * time.Millisecond) // the last aborted requests finish

	metrics := string(ts.client("").do("GET", "/metrics", nil).Body)
	if !strings.Contains(metrics, "ssod_database_errors_total 0") {
		t.Errorf("client mistakes counted as database errors:\n%s", grepLines(metrics, "ssod_database_errors_total"))
	}
	if strings.Contains(metrics, `status="500"`) {
		t.Errorf("client mistakes answered 500:\n%s", grepLines(metrics, `status="500"`))
	}
	if !strings.Contains(metrics, `status="499"`) {
		t.Errorf("no request of %d aborted ones was counted as client-closed (499):\n%s", sent.Load(), grepLines(metrics, "ssod_http_requests_total"))
	}
	logs := ts.settledLogs()
	if strings.Contains(logs, "level=ERROR") {
		t.Errorf("client mistakes logged as errors:\n%s", grepLines(logs, "level=ERROR"))
	}
	t.Logf("%d aborted requests; %s", sent.Load(), grepLines(metrics, `status="499"`))
	if r := c.do("GET", intPath, nil); r.Status != http.StatusOK {
		t.Fatalf("after the aborts: GET -> %d", r.Status)
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for line := range strings.SplitSeq(s, "\n") {
		if strings.Contains(line, sub) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

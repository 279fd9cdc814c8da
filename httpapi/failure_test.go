package httpapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/apikey"
	"github.com/ssod/ssod/sqlite"
)

// testAPI is a Server on a real SQLite store, with its log kept.
type testAPI struct {
	*Server
	store *sqlite.Store
	key   string
	logs  *bytes.Buffer
}

// keyedStore is a real SQLite store at dsn holding the account "main" and
// one key of it with every scope: what most handler tests start from.
type keyedStore struct {
	store   *sqlite.Store
	account int64
	key     string // the key in full
	keyID   string
}

func newKeyedStore(t testing.TB, dsn string) keyedStore {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	acct, err := store.CreateAccount(ctx, "main", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	key, id, hash, err := apikey.New()
	if err != nil {
		t.Fatal(err)
	}
	if err := store.CreateKey(ctx, ssod.APIKey{ID: id, AccountID: acct.ID, Name: "test", Scopes: ssod.AllScopes(), SecretHash: hash, CreatedAt: 1}); err != nil {
		t.Fatal(err)
	}
	return keyedStore{store: store, account: acct.ID, key: key, keyID: id}
}

func newTestAPI(t *testing.T, keyCacheTTL time.Duration) *testAPI {
	t.Helper()
	ks := newKeyedStore(t, filepath.Join(t.TempDir(), "ssod.db"))
	store, key := ks.store, ks.key
	logs := &bytes.Buffer{}
	srv, err := NewServer(Config{Store: store, PublicURL: "http://api.test", KeyCacheTTL: keyCacheTTL,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	return &testAPI{Server: srv, store: store, key: key, logs: logs}
}

// headerWriter is a ResponseWriter that records whether anything was sent.
type headerWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *headerWriter) Header() http.Header { return w.header }
func (w *headerWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *headerWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(b)
}

// serve sends req and returns what was written, and the value the handler
// panicked with (http.ErrAbortHandler makes net/http close the connection
// without an answer).
func (a *testAPI) serve(req *http.Request) (w *headerWriter, panicked any) {
	w = &headerWriter{header: http.Header{}}
	func() {
		defer func() { panicked = recover() }()
		a.ServeHTTP(w, req)
	}()
	return w, panicked
}

func (a *testAPI) request(ctx context.Context, method, path string, body io.Reader) *http.Request {
	req := httptest.NewRequestWithContext(ctx, method, path, body)
	req.Header.Set("Authorization", "Bearer "+a.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// metric returns the /metrics line that starts with prefix, or "".
func (a *testAPI) metric(t *testing.T, prefix string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for line := range strings.SplitSeq(rec.Body.String(), "\n") {
		if strings.HasPrefix(line, prefix) {
			return line
		}
	}
	return ""
}

// failingBody is a request body whose read fails as net/http's does when
// the client misbehaves.
type failingBody struct {
	data string
	err  error
}

func (b *failingBody) Read(p []byte) (int, error) {
	if b.data != "" {
		n := copy(p, b.data)
		b.data = b.data[n:]
		return n, nil
	}
	return 0, b.err
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

// TestBodyReadFailuresAreTheClients: a body that cannot be read is never a
// server fault. Broken framing is a 400 error array; a connection the client
// reset gets no answer and counts as 499; neither logs an ERROR nor counts
// as a database error.
func TestBodyReadFailuresAreTheClients(t *testing.T) {
	reset := &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	cases := []struct {
		name   string
		err    error
		status int // 0: nothing is sent
	}{
		{"malformed chunk", errors.New("invalid byte in chunk length"), http.StatusBadRequest},
		{"shorter than Content-Length", io.ErrUnexpectedEOF, http.StatusBadRequest},
		{"read timeout", &net.OpError{Op: "read", Net: "tcp", Err: timeoutError{}}, http.StatusBadRequest},
		{"connection reset", reset, 0},
	}
	a := newTestAPI(t, 0)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := a.request(context.Background(), "POST", "/v3/sso/integrations", &failingBody{data: `{"name":"a`, err: c.err})
			w, panicked := a.serve(req)
			if c.status == 0 {
				if panicked != http.ErrAbortHandler || w.status != 0 {
					t.Fatalf("answered %d %s (panic %v); want the connection closed without an answer", w.status, w.body.String(), panicked)
				}
				return
			}
			if panicked != nil || w.status != c.status || !strings.Contains(w.body.String(), `"error_id":"invalid"`) {
				t.Fatalf("answered %d %s (panic %v); want %d invalid", w.status, w.body.String(), panicked, c.status)
			}
		})
	}
	if got := a.metric(t, "ssod_database_errors_total"); got != "ssod_database_errors_total 0" {
		t.Errorf("metrics: %s", got)
	}
	if got := a.metric(t, `ssod_http_requests_total{method="POST",route="POST /v3/sso/integrations",status="400"}`); !strings.HasSuffix(got, " 3") {
		t.Errorf("400s: %q, want 3", got)
	}
	if got := a.metric(t, `ssod_http_requests_total{method="POST",route="POST /v3/sso/integrations",status="499"}`); !strings.HasSuffix(got, " 1") {
		t.Errorf("499s: %q, want 1", got)
	}
	if strings.Contains(a.logs.String(), "level=ERROR") {
		t.Errorf("a client's mistake was logged as an error:\n%s", a.logs)
	}
}

// TestClientLeavingIsNotAServerFault: a store call cut short because the
// client's request context was cancelled is answered with nothing and
// counted as 499, whether it is the key lookup or the handler's own call;
// a store that really fails is a 500, an ERROR and a database error.
func TestClientLeavingIsNotAServerFault(t *testing.T) {
	a := newTestAPI(t, time.Minute)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()

	// The key is not cached yet: the lookup itself is cut short.
	if w, panicked := a.serve(a.request(cancelled, "GET", "/v3/sso/integrations", nil)); panicked != http.ErrAbortHandler || w.status != 0 {
		t.Fatalf("key lookup of a gone client: answered %d %s (panic %v)", w.status, w.body.String(), panicked)
	}
	// Now it is: the handler's store call is.
	if w, _ := a.serve(a.request(context.Background(), "GET", "/v3/sso/integrations", nil)); w.status != http.StatusOK {
		t.Fatalf("GET: %d %s", w.status, w.body.String())
	}
	if w, panicked := a.serve(a.request(cancelled, "GET", "/v3/sso/integrations", nil)); panicked != http.ErrAbortHandler || w.status != 0 {
		t.Fatalf("list of a gone client: answered %d %s (panic %v)", w.status, w.body.String(), panicked)
	}
	if got := a.metric(t, `ssod_http_requests_total{method="GET",route="GET /v3/sso/integrations",status="499"}`); !strings.HasSuffix(got, " 2") {
		t.Errorf("499s: %q, want 2", got)
	}
	if got := a.metric(t, "ssod_database_errors_total"); got != "ssod_database_errors_total 0" {
		t.Errorf("metrics: %s", got)
	}
	if strings.Contains(a.logs.String(), "level=ERROR") {
		t.Errorf("a client leaving was logged as an error:\n%s", a.logs)
	}

	// A database that fails while the client waits is the server's fault.
	a.store.Close()
	w, panicked := a.serve(a.request(context.Background(), "GET", "/v3/sso/integrations", nil))
	if panicked != nil || w.status != http.StatusInternalServerError || !strings.Contains(w.body.String(), `"error_id":"internal"`) {
		t.Fatalf("closed database: answered %d %s (panic %v), want 500 internal", w.status, w.body.String(), panicked)
	}
	if got := a.metric(t, "ssod_database_errors_total"); got != "ssod_database_errors_total 1" {
		t.Errorf("metrics: %s", got)
	}
	if !strings.Contains(a.logs.String(), "level=ERROR") {
		t.Error("a failing database was not logged as an error")
	}
}

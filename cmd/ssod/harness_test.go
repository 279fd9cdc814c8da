package main

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is an io.Writer the server logs into while tests read it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var (
	listenLine = regexp.MustCompile(`msg="ssod listening" addr=(\S+)`)
	keyPattern = regexp.MustCompile(`SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}`)
)

// testServer is a real `ssod serve` running in-process on a free port.
type testServer struct {
	t    *testing.T
	URL  string
	DSN  string
	Key  string // the first-start key of account "main"
	Logs *syncBuffer
	stop func() // shuts the server down and waits; also run when the test ends
}

// env is a getenv that knows only the given variables.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// startServer runs `ssod serve` on dsn (a fresh SQLite file when empty)
// and stops it when the test ends, failing the test unless it shuts down
// cleanly.
func startServer(t *testing.T, dsn string, args ...string) *testServer {
	t.Helper()
	if dsn == "" {
		dsn = filepath.Join(t.TempDir(), "ssod.db")
	}
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	rememberLogs(logs)
	var err error
	exited := make(chan struct{})
	all := append([]string{"serve", "--addr", "127.0.0.1:0", "--db", dsn}, args...)
	go func() { err = run(ctx, all, env(nil), io.Discard, logs); close(exited) }()
	ts := &testServer{t: t, DSN: dsn, Logs: logs}
	var once sync.Once
	ts.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-exited:
				if err != nil && ts.URL != "" {
					t.Errorf("ssod serve stopped with %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Error("ssod serve did not stop within 30s")
			}
		})
	}
	t.Cleanup(ts.stop)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := listenLine.FindStringSubmatch(logs.String()); m != nil {
			ts.Key = keyPattern.FindString(logs.String())
			if ts.Key != "" {
				rememberSecret(ts.Key[26:])
			}
			ts.URL = "http://" + m[1]
			return ts
		}
		select {
		case <-exited:
			t.Fatalf("ssod serve exited early: %v\n%s", err, logs.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("ssod serve did not start:\n%s", logs.String())
		}
	}
}

// documentedBuild is the README's build command. Tests that run the binary
// build it exactly this way, so the binary they test is the one the README
// promises: static, with no dynamic loader or libc to match.
const documentedBuild = "CGO_ENABLED=0 go build -o ssod ./cmd/ssod"

// ssodBuild is the binary built once per run of this package's tests.
var ssodBuild struct {
	sync.Mutex
	bin string
	err error
}

// buildSSOD returns the binary that documentedBuild makes from this module,
// having checked that it is static.
func buildSSOD(t testing.TB) string {
	t.Helper()
	ssodBuild.Lock()
	defer ssodBuild.Unlock()
	if ssodBuild.bin == "" && ssodBuild.err == nil {
		ssodBuild.bin, ssodBuild.err = runDocumentedBuild()
	}
	if ssodBuild.err != nil {
		t.Fatal(ssodBuild.err)
	}
	return ssodBuild.bin
}

// removeBuild deletes what buildSSOD made, once the tests are done.
func removeBuild() {
	ssodBuild.Lock()
	defer ssodBuild.Unlock()
	if ssodBuild.bin != "" {
		os.RemoveAll(filepath.Dir(ssodBuild.bin))
	}
}

func runDocumentedBuild() (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "ssod-build-")
	if err != nil {
		return "", err
	}
	// documentedBuild is VAR=VALUE go build -o NAME PACKAGE: run it from the
	// module root, with NAME placed in dir.
	words := strings.Fields(documentedBuild)
	bin := filepath.Join(dir, "ssod")
	args := slices.Clone(words[2:])
	args[slices.Index(args, "-o")+1] = bin
	cmd := exec.Command(words[1], args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), words[0])
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("%s: %v\n%s", documentedBuild, err, out)
	}
	if err := checkStatic(bin); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("%s: %w", documentedBuild, err)
	}
	return bin, nil
}

// checkStatic fails for a Linux binary that asks for a dynamic loader or
// shared libraries. Elsewhere it checks nothing: the README's promise is
// about Linux (macOS and OpenBSD binaries always load the system library).
func checkStatic(bin string) error {
	if runtime.GOOS != "linux" {
		return nil
	}
	f, err := elf.Open(bin)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			return fmt.Errorf("%s is dynamically linked (it has a %v program header)", bin, p.Type)
		}
	}
	if libs, err := f.ImportedLibraries(); err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		return err
	} else if len(libs) > 0 {
		return fmt.Errorf("%s needs shared libraries %v", bin, libs)
	}
	return nil
}

// moduleRoot is the directory of this module's go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	if root == "." || root == "" {
		return filepath.Abs(filepath.Join("..", ".."))
	}
	return root, nil
}

// settledLogs returns the server log once every line written so far has
// left the log buffer, which holds access-log lines for logFlushInterval.
func (ts *testServer) settledLogs() string {
	time.Sleep(logFlushInterval + 100*time.Millisecond)
	return ts.Logs.String()
}

// cli runs one ssod command against the server's database and returns stdout.
func (ts *testServer) cli(args ...string) string {
	ts.t.Helper()
	var out, errOut bytes.Buffer
	if err := run(context.Background(), append(args, "--db", ts.DSN), env(nil), &out, &errOut); err != nil {
		ts.t.Fatalf("ssod %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String()
}

// newAccountKey creates an account (with an optional parent) and a key for it.
func (ts *testServer) newAccountKey(name, parent string, scopes ...string) string {
	ts.t.Helper()
	args := []string{"accounts", "create", name}
	if parent != "" {
		args = append(args, "--parent", parent)
	}
	ts.cli(args...)
	return ts.newKey(name, scopes...)
}

func (ts *testServer) newKey(account string, scopes ...string) string {
	ts.t.Helper()
	args := []string{"keys", "create", "--account", account}
	if len(scopes) > 0 {
		args = append(args, "--scopes", strings.Join(scopes, ","))
	}
	key := strings.TrimSpace(ts.cli(args...))
	if !keyPattern.MatchString(key) || len(key) != 69 {
		ts.t.Fatalf("keys create printed %q, want one 69-character key", key)
	}
	rememberSecret(key[26:])
	return key
}

// client speaks HTTP to the server with one key, checking every response
// against the contract.
type client struct {
	ts      *testServer
	key     string
	headers map[string]string
}

func (ts *testServer) client(key string) *client {
	return &client{ts: ts, key: key, headers: map[string]string{}}
}

// with returns a copy of c that sends one more header.
func (c *client) with(name, value string) *client {
	h := map[string]string{name: value}
	for k, v := range c.headers {
		h[k] = v
	}
	return &client{ts: c.ts, key: c.key, headers: h}
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a fresh value of type T.
func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("decode %T from %s: %v", v, r.Body, err)
	}
	return v
}

// decodeInGoroutine is decode for goroutines other than the test's own,
// which may not stop the test: it reports the failure and returns ok=false.
func decodeInGoroutine[T any](t *testing.T, r response) (T, bool) {
	var v T
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Errorf("decode %T from %s: %v", v, r.Body, err)
		return v, false
	}
	return v, true
}

// do sends a request; a body that is not a string is encoded as JSON.
func (c *client) do(method, path string, body any) response {
	c.ts.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			c.ts.t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, c.ts.URL+path, bytes.NewReader(raw))
	if err != nil {
		c.ts.t.Fatal(err)
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range c.headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	res, err := noRedirects.Do(req)
	if err != nil {
		c.ts.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	got, err := io.ReadAll(res.Body)
	if err != nil {
		c.ts.t.Fatal(err)
	}
	r := response{Status: res.StatusCode, Header: res.Header, Body: got}
	c.ts.checkResponse(req, r)
	return r
}

// noRedirects hands a redirect (SP-initiated sign-in's 302) to the test
// rather than following it to the IdP.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

var knownErrorIDs = []string{"required", "invalid", "invalid_certificate", "private_key_rejected", "not_found",
	"unauthorized", "forbidden", "rate_limited", "too_large", "unsupported_media_type", "method_not_allowed", "internal",
	// SAML sign-in's checks (README, "SAML sign-in").
	"saml_malformed", "saml_integration_disabled", "saml_status", "saml_signature", "saml_issuer", "saml_destination",
	"saml_recipient", "saml_not_yet_valid", "saml_expired", "saml_audience", "saml_subject", "saml_in_response_to", "saml_replay",
	"unavailable"} // only a fault injected in test mode

// checkResponse holds every response to the contract: the OpenAPI files,
// the headers every response carries, and the shape of the error array.
func (ts *testServer) checkResponse(req *http.Request, r response) {
	t := ts.t
	t.Helper()
	checkContract(t, req, r.Status, r.Header, r.Body)
	for h, want := range map[string]string{"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("%s %s: %s = %q, want %q", req.Method, req.URL.Path, h, got, want)
		}
	}
	if r.Header.Get("X-Request-Id") == "" {
		t.Errorf("%s %s: no X-Request-Id", req.Method, req.URL.Path)
	}
	if r.Header.Get("Server") != "" {
		t.Errorf("Server header %q reveals the implementation", r.Header.Get("Server"))
	}
	if r.Status == http.StatusNoContent {
		if len(r.Body) != 0 {
			t.Errorf("204 with a body: %s", r.Body)
		}
		return
	}
	if !strings.HasPrefix(req.URL.Path, "/v3/") && r.Status < 300 {
		return // /metrics speaks Prometheus' text format
	}
	if isPublicNonJSON(req, r.Header) {
		checkPublicNonJSON(t, req, r)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("%s %s: Content-Type %q", req.Method, req.URL.Path, ct)
	}
	if r.Status < 400 {
		return
	}
	var problems []map[string]any
	if err := json.Unmarshal(r.Body, &problems); err != nil || len(problems) == 0 {
		t.Errorf("%s %s -> %d: body is not a non-empty error array: %s", req.Method, req.URL.Path, r.Status, r.Body)
		return
	}
	for _, p := range problems {
		msg, _ := p["message"].(string)
		id, _ := p["error_id"].(string)
		field, hasField := p["field"]
		_, fieldIsString := field.(string)
		if msg == "" || !slices.Contains(knownErrorIDs, id) || !hasField || (field != nil && !fieldIsString) {
			t.Errorf("%s %s -> %d: malformed problem %v", req.Method, req.URL.Path, r.Status, p)
		}
	}
}

// problem is one element of the error array.
type problem struct {
	Message string  `json:"message"`
	Field   *string `json:"field"`
	ErrorID string  `json:"error_id"`
}

// wantError asserts the status and the (field, error_id) pairs of an error
// response, in order; field "" means null.
func wantError(t *testing.T, r response, status int, pairs ...string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body %s", r.Status, status, r.Body)
	}
	got := decode[[]problem](t, r)
	var gotPairs []string
	for _, p := range got {
		f := ""
		if p.Field != nil {
			f = *p.Field
		}
		gotPairs = append(gotPairs, f, p.ErrorID)
	}
	if !slices.Equal(gotPairs, pairs) {
		t.Fatalf("problems %v, want %v; body %s", gotPairs, pairs, r.Body)
	}
}

// isPublicNonJSON reports whether a response on the public SAML paths is
// not JSON: a redirect, SAML metadata or an HTML page for a browser.
func isPublicNonJSON(req *http.Request, h http.Header) bool {
	return strings.HasPrefix(req.URL.Path, "/v3/public/") && h.Get("Content-Type") != "application/json; charset=utf-8"
}

// checkPublicNonJSON holds those responses to what the README says of them.
func checkPublicNonJSON(t *testing.T, req *http.Request, r response) {
	t.Helper()
	ct := r.Header.Get("Content-Type")
	switch {
	case r.Status == http.StatusFound:
		if r.Header.Get("Location") == "" || len(r.Body) != 0 {
			t.Errorf("%s %s -> 302 without a Location, or with a body", req.Method, req.URL.Path)
		}
	case ct == "application/samlmetadata+xml":
		if r.Status != http.StatusOK || !bytes.HasPrefix(r.Body, []byte("<?xml")) {
			t.Errorf("%s %s -> %d metadata %.100s", req.Method, req.URL.Path, r.Status, r.Body)
		}
	case ct == "text/html; charset=utf-8":
		if !strings.Contains(r.Header.Get("Content-Security-Policy"), "default-src 'none'") || !bytes.Contains(r.Body, []byte(r.Header.Get("X-Request-Id"))) {
			t.Errorf("%s %s -> %d page without its policy or request id", req.Method, req.URL.Path, r.Status)
		}
	default:
		t.Errorf("%s %s -> %d with Content-Type %q", req.Method, req.URL.Path, r.Status, ct)
	}
}

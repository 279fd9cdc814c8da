package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ssod/ssod/internal/testcert"
)

// The tests in this file hold the command line and operating promises of
// the README: its build command, --help, what --db accepts and refuses,
// one server per SQLite file, an in-memory database, and the start-up order.

// TestDocumentedBuildIsStatic builds the binary with the README's command
// and requires it to be static (buildSSOD checks the ELF headers).
func TestDocumentedBuildIsStatic(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), documentedBuild) {
		t.Fatalf("the README does not give the build the tests use, %q", documentedBuild)
	}
	bin := buildSSOD(t)
	if err := checkStatic(bin); err != nil {
		t.Fatal(err)
	}
}

// runBinary runs the built ssod in dir and returns its output and exit code
// (-1 when it had to be killed after 30 s).
func runBinary(t *testing.T, bin, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runBinaryFor(t, 30*time.Second, bin, dir, args...)
}

func runBinaryFor(t *testing.T, limit time.Duration, bin, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("ssod %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
}

func TestHelpOnEveryCommand(t *testing.T) {
	bin := buildSSOD(t)
	dir := t.TempDir()
	for _, args := range [][]string{
		{"serve"}, {"migrate"}, {"accounts", "create"}, {"accounts", "list"}, {"keys", "create"},
		{"keys", "list"}, {"keys", "revoke"}, {"audit", "list"}, {"accounts"}, {"keys"}, {"audit"}, {"version"}, {},
		{"certs", "expiring"}, {"certs"},
	} {
		for _, help := range []string{"--help", "-h"} {
			stdout, stderr, code := runBinary(t, bin, dir, append(args, help)...)
			want := strings.Join(append([]string{"ssod"}, args...), " ")
			if code != 0 || stderr != "" || !strings.HasPrefix(stdout, "usage:") || !strings.Contains(stdout, want) {
				t.Errorf("ssod %s %s: exit %d, stdout %q, stderr %q; want usage naming %q on stdout and exit 0",
					strings.Join(args, " "), help, code, stdout, stderr, want)
			}
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		t.Errorf("--help left %s behind", entries[0].Name())
	}
	// A mistake is still a failure, reported on stderr.
	if _, stderr, code := runBinary(t, bin, dir, "serve", "--no-such-flag"); code == 0 || !strings.Contains(stderr, "no-such-flag") {
		t.Errorf("serve --no-such-flag: exit %d, stderr %q", code, stderr)
	}
}

func TestCommandsRefuseMissingDatabase(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "typo.db")
	for _, args := range [][]string{
		{"keys", "list"}, {"accounts", "list"}, {"audit", "list"},
		{"keys", "create", "--account", "main"}, {"accounts", "create", "acme"}, {"keys", "revoke", "AAAAAAAAAAAAAAAAAAAAAA"},
		{"certs", "expiring"},
	} {
		_, err := runCLI(t, append(args, "--db", missing)...)
		if err == nil || !strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), "no such database file") {
			t.Errorf("ssod %s on a missing file: %v; want a refusal naming %s", strings.Join(args, " "), err, missing)
		}
		if _, err := runCLI(t, append(args, "--db", ":memory:")...); err == nil || !strings.Contains(err.Error(), ":memory:") {
			t.Errorf("ssod %s on :memory: (new and empty): %v; want a refusal", strings.Join(args, " "), err)
		}
	}
	if _, err := runCLI(t, "migrate", "--from", "sqlite:"+missing, "--to", filepath.Join(dir, "copy.db")); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("migrate from a missing file: %v; want a refusal naming it", err)
	}
	if _, err := runCLI(t, "migrate", "--from", "sqlite:"+newDatabase(t), "--to", ":memory:"); err == nil {
		t.Error("migrate into :memory:, which ends with the command, succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		t.Errorf("a refused command created %s", entries[0].Name())
	}
	// Other --db errors name the database too; a PostgreSQL URL without
	// its password.
	notDB := filepath.Join(dir, "not-a-database")
	if err := os.WriteFile(notDB, bytes.Repeat([]byte("not SQLite "), 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := runCLI(t, "keys", "list", "--db", notDB); err == nil || !strings.Contains(err.Error(), notDB) {
		t.Errorf("keys list on a file that is not a database: %v; want an error naming it", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := l.Addr().String()
	l.Close()
	pg := "postgres://ssod:hunter2@" + closedPort + "/ssod?connect_timeout=2"
	_, err = runCLI(t, "keys", "list", "--db", pg)
	if err == nil || !strings.Contains(err.Error(), "postgres://ssod:xxxxx@"+closedPort+"/ssod") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("keys list on an unreachable PostgreSQL: %v; want the URL named without its password", err)
	}
	if _, err := runCLI(t, "keys", "list", "--db", "file:"+filepath.Join(dir, "x.db")+"?mode=ro"); err == nil {
		t.Error("a SQLite URI was taken as a file name")
	}
}

func TestServeListensBeforeTouchingTheDatabase(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	db := filepath.Join(t.TempDir(), "ssod.db")
	var stderr bytes.Buffer
	err = run(t.Context(), []string{"serve", "--addr", busy.Addr().String(), "--db", db}, env(nil), &bytes.Buffer{}, &stderr)
	if err == nil || !strings.Contains(err.Error(), "listen") {
		t.Fatalf("serve on a busy port: %v; want a listen error", err)
	}
	if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("serve on a busy port created the database (%v)", err)
	}
	if keyPattern.MatchString(stderr.String()) {
		t.Errorf("serve on a busy port printed a first-start key:\n%s", stderr.String())
	}
	// So do TLS files that cannot be loaded.
	missing := filepath.Join(t.TempDir(), "missing.pem")
	stderr.Reset()
	err = run(t.Context(), []string{"serve", "--addr", "127.0.0.1:0", "--db", db, "--tls-cert", missing, "--tls-key", missing}, env(nil), &bytes.Buffer{}, &stderr)
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Fatalf("serve with a missing TLS certificate: %v; want an error naming it", err)
	}
	if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) || keyPattern.MatchString(stderr.String()) {
		t.Errorf("serve with a missing TLS certificate created the database or printed a key (%v)", err)
	}
}

func TestPublicURLMustBeAbsoluteHTTP(t *testing.T) {
	for _, bad := range []string{
		"example.com", "sso.example.com/base", "ftp://sso.example.com", "https://", "https://:80", "//sso.example.com",
		"https://sso.example.com?x=1", "https://sso.example.com/#top", "https://user:pw@sso.example.com",
		"https://sso.example.com:99999", "https://sso.example.com:0", "https://sso.example.com:", "http://[::1",
	} {
		// A URL taken by mistake would serve until the context ends.
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		db := filepath.Join(t.TempDir(), "ssod.db")
		err := run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--db", db, "--public-url", bad}, env(nil), &bytes.Buffer{}, &bytes.Buffer{})
		cancel()
		if err == nil || !strings.Contains(err.Error(), "--public-url") {
			t.Errorf("--public-url %q: %v; want a refusal", bad, err)
		}
		if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("--public-url %q: the refused start created the database", bad)
		}
	}
	ts := startServer(t, "", "--public-url", "https://sso.example.com:8443/ssod/")
	in := ts.client(ts.Key).createIntegration("behind a proxy")
	if want := "https://sso.example.com:8443/ssod/v3/public/sso/saml/response/id/" + in.ID; in.SingleSignonURL != want {
		t.Errorf("single_signon_url %q, want %q", in.SingleSignonURL, want)
	}
}

// TestServeInMemory runs several clients at once against `ssod serve --db
// :memory:`: every write is read back, through the reader connections.
func TestServeInMemory(t *testing.T) {
	ts := startServer(t, ":memory:")
	const clients = 8
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			c := ts.client(ts.Key)
			for j := range 5 {
				r := c.do("POST", "/v3/sso/integrations", integrationBody(fmt.Sprintf("idp %d.%d", i, j)))
				in, ok := decodeInGoroutine[integrationResp](t, r)
				if r.Status != 200 || !ok {
					t.Errorf("create integration -> %d %s", r.Status, r.Body)
					return
				}
				r = c.do("POST", "/v3/sso/certificates", map[string]any{"public_certificate": testcert.New(t, testcert.Options{}).PEM, "integration_id": in.ID})
				cert, ok := decodeInGoroutine[certificateResp](t, r)
				if r.Status != 200 || !ok {
					t.Errorf("create certificate -> %d %s", r.Status, r.Body)
					return
				}
				if r := c.do("GET", "/v3/sso/integrations/"+in.ID, nil); r.Status != 200 {
					t.Errorf("read back integration %s -> %d %s", in.ID, r.Status, r.Body)
				}
				if r := c.do("GET", fmt.Sprintf("/v3/sso/certificates/%d", cert.ID), nil); r.Status != 200 {
					t.Errorf("read back certificate %d -> %d %s", cert.ID, r.Status, r.Body)
				}
			}
		})
	}
	wg.Wait()
	list := decode[[]integrationResp](t, ts.client(ts.Key).do("GET", "/v3/sso/integrations", nil))
	if len(list) != clients*5 {
		t.Errorf("listed %d integrations, want %d", len(list), clients*5)
	}
}

// serveProc is `ssod serve` running as a process of its own.
type serveProc struct {
	cmd    *exec.Cmd
	logs   *syncBuffer
	url    string
	exited chan struct{}
}

// kill ends the process with SIGKILL and waits until it is gone.
func (p *serveProc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// startServeProc starts the binary's serve in dir and waits until it
// listens; it is killed when the test ends.
func startServeProc(t *testing.T, bin, dir string, args ...string) *serveProc {
	t.Helper()
	p := &serveProc{logs: &syncBuffer{}, exited: make(chan struct{})}
	rememberLogs(p.logs)
	p.cmd = exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	p.cmd.Dir, p.cmd.Stderr = dir, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(p.kill)
	deadline := time.After(30 * time.Second)
	for {
		if m := listenLine.FindStringSubmatch(p.logs.String()); m != nil {
			p.url = "http://" + m[1]
			if key := keyPattern.FindString(p.logs.String()); key != "" {
				rememberSecret(key[26:])
			}
			return p
		}
		select {
		case <-p.exited:
			t.Fatalf("ssod serve exited: %v\n%s", p.cmd.ProcessState, p.logs.String())
		case <-deadline:
			t.Fatalf("ssod serve did not start:\n%s", p.logs.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// TestServeInMemoryIsNoFile: file::memory: is an in-memory database too,
// not a file of that name.
func TestServeInMemoryIsNoFile(t *testing.T) {
	bin, dir := buildSSOD(t), t.TempDir()
	for _, db := range []string{":memory:", "file::memory:", "sqlite::memory:"} {
		p := startServeProc(t, bin, dir, "--db", db)
		if key := keyPattern.FindString(p.logs.String()); key == "" {
			t.Errorf("--db %s: no first-start key", db)
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		<-p.exited
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		t.Errorf("an in-memory database created the file %q", entries[0].Name())
	}
}

// TestOneServerPerSQLiteFile starts two real `ssod serve` processes on one
// file: the second is refused, naming the file and the first one's pid,
// while the other commands keep working beside the first.
func TestOneServerPerSQLiteFile(t *testing.T) {
	bin, dir := buildSSOD(t), t.TempDir()
	db := filepath.Join(dir, "ssod.db")
	first := startServeProc(t, bin, dir, "--db", db)
	pid := strconv.Itoa(first.cmd.Process.Pid)

	link := filepath.Join(dir, "another-name.db")
	if err := os.Symlink(db, link); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{db, "sqlite:" + db, "ssod.db", link} {
		// A second server that starts serves until it is killed.
		_, stderr, code := runBinaryFor(t, 5*time.Second, bin, dir, "serve", "--addr", "127.0.0.1:0", "--db", name)
		if code == 0 || !strings.Contains(stderr, strings.TrimPrefix(name, "sqlite:")) || !strings.Contains(stderr, "process "+pid) {
			t.Errorf("second serve on %s: exit %d, stderr %q; want a refusal naming the file and pid %s", name, code, stderr, pid)
		}
		if keyPattern.MatchString(stderr) {
			t.Errorf("the refused server printed a key")
		}
	}

	// The other commands work on the file the server holds, and the server
	// sees what they did.
	if _, stderr, code := runBinary(t, bin, dir, "accounts", "create", "acme", "--db", db); code != 0 {
		t.Fatalf("accounts create beside a server: %s", stderr)
	}
	key, stderr, code := runBinary(t, bin, dir, "keys", "create", "--account", "acme", "--db", db)
	if code != 0 || !keyPattern.MatchString(key) {
		t.Fatalf("keys create beside a server: %q %s", key, stderr)
	}
	rememberSecret(strings.TrimSpace(key)[26:])
	ts := &testServer{t: t, URL: first.url, DSN: db, Logs: first.logs}
	ts.client(strings.TrimSpace(key)).createIntegration("made with a key from the command line")
	if out, stderr, code := runBinary(t, bin, dir, "audit", "list", "--db", db); code != 0 || !strings.Contains(out, "integration.create") {
		t.Fatalf("audit list beside a server: %q %s", out, stderr)
	}

	// A killed server leaves its lock file, but not its lock.
	first.kill()
	second := startServeProc(t, bin, dir, "--db", link)
	ts.URL = second.url
	if list := decode[[]integrationResp](t, ts.client(strings.TrimSpace(key)).do("GET", "/v3/sso/integrations", nil)); len(list) != 1 {
		t.Errorf("the next server lists %d integrations, want 1", len(list))
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]uint64{"0": 0, "512": 512, "10B": 10, "4KiB": 4 << 10, "64MiB": 64 << 20, "2GiB": 2 << 30, "1TiB": 1 << 40} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "MiB", "-1MiB", "64MB", "1.5GiB", "99999999TiB"} {
		if got, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", bad, got)
		}
	}
}

// TestReadyzChecksFreeDisk proves the 503 without filling a disk: a minimum
// larger than any disk stands for a full one.
func TestReadyzChecksFreeDisk(t *testing.T) {
	ts := startServer(t, "", "--min-free-disk", "1000000TiB")
	r := ts.client("").do("GET", "/readyz", nil)
	wantError(t, r, 503, "", "internal")
	if p := decode[[]problem](t, r); !strings.Contains(p[0].Message, "free, below the minimum of 1048576000000.0 MiB") {
		t.Errorf("503 says %q, want the free space and the minimum", p[0].Message)
	}
	if r := ts.client("").do("GET", "/healthz", nil); r.Status != 200 {
		t.Errorf("/healthz -> %d while the disk is full; it only says the process serves", r.Status)
	}
	// An in-memory database has no disk to fill.
	mem := startServer(t, ":memory:", "--min-free-disk", "1000000TiB")
	if r := mem.client("").do("GET", "/readyz", nil); r.Status != 200 {
		t.Errorf("/readyz on :memory: -> %d %s", r.Status, r.Body)
	}
}

// TestReadyzOnFullDisk fills a small tmpfs under a real server. It needs
// permission to mount one (root on Linux) and says so when it has none.
func TestReadyzOnFullDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a file system; not in -short")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("SKIP: cannot mount a tmpfs to fill (%v: %s); TestReadyzChecksFreeDisk covers the check", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() { // registered first, so it runs after the server stops
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	ts := startServer(t, filepath.Join(dir, "ssod.db"), "--min-free-disk", "4MiB")
	anon := ts.client("")
	if r := anon.do("GET", "/readyz", nil); r.Status != 200 {
		t.Fatalf("/readyz on an empty tmpfs -> %d %s", r.Status, r.Body)
	}
	fill := filepath.Join(dir, "fill")
	f, err := os.Create(fill)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	for {
		if _, err := f.Write(chunk); err != nil {
			break // ENOSPC: the disk is full
		}
	}
	f.Close()
	r := anon.do("GET", "/readyz", nil)
	wantError(t, r, 503, "", "internal")
	if p := decode[[]problem](t, r); !strings.Contains(p[0].Message, "0.0 MiB free") {
		t.Errorf("503 on a full disk says %q", p[0].Message)
	}
	if err := os.Remove(fill); err != nil {
		t.Fatal(err)
	}
	if r := anon.do("GET", "/readyz", nil); r.Status != 200 {
		t.Errorf("/readyz once the disk has room again -> %d %s", r.Status, r.Body)
	}
}

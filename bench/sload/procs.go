package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is a child process the benchmark started: ssod, the ceiling or Prism.
type proc struct {
	name   string
	cmd    *exec.Cmd
	addr   string // host:port it listens on
	tail   *tailBuffer
	stdin  io.Closer // the ceiling's: it exits when this closes
	exited chan struct{}
	err    error // Wait's result, set before exited closes
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// stop sends SIGTERM and waits, killing the process if it lingers.
func (p *proc) stop() {
	if p == nil {
		return
	}
	select {
	case <-p.exited:
		return
	default:
	}
	if p.stdin != nil {
		p.stdin.Close()
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// alive reports an error when the process has exited.
func (p *proc) alive() error {
	select {
	case <-p.exited:
		return fmt.Errorf("%s exited (%v); its last output:\n%s", p.name, p.err, p.tail.String())
	default:
		return nil
	}
}

// tailBuffer keeps the last bytes written to it, for error messages.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

const tailSize = 8 << 10

func (t *tailBuffer) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if len(t.buf) > 2*tailSize {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-tailSize:]...)
	}
	return len(b), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.buf
	if len(b) > tailSize {
		b = b[len(b)-tailSize:]
	}
	return string(b)
}

var (
	listenLine = regexp.MustCompile(`msg="ssod listening" addr=(\S+)`)
	keyPattern = regexp.MustCompile(`SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}`)
)

// ssodServer is a running `ssod serve`.
type ssodServer struct {
	*proc
	startup time.Duration // from exec to the listen line (or first /healthz answer)
	drained chan struct{} // closed when its stderr is at EOF
	mu      sync.Mutex
	key     string // printed on the first start of an empty database
}

// firstKey is the key the first start printed; call it after stop.
func (s *ssodServer) firstKey() string {
	<-s.drained
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.key
}

// startSSOD runs `ssod serve` on a free loopback port and waits until it
// serves: its listen line, or with a log level that hides that line, its
// first answer on /healthz. Its log goes nowhere (ssod logs a line per
// request at info; the pipe is drained so that logging costs what it costs).

// rateLimit keeps ssod's rate limiter on, as deployed, with a budget no run
// spends: every request is counted and answered with X-RateLimit headers,
// and none is refused.
const rateLimit = "1000000000/60s"

func startSSOD(ctx context.Context, bin, db, logLevel string) (*ssodServer, error) {
	quiet := strings.EqualFold(logLevel, "warn") || strings.EqualFold(logLevel, "error")
	addr := "127.0.0.1:0"
	if quiet {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	}
	cmd := exec.Command(bin, "serve", "--addr", addr, "--db", db, "--rate-limit", rateLimit, "--log-level", logLevel)
	cmd.Env = cleanEnv()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	p := &proc{name: "ssod", cmd: cmd, tail: &tailBuffer{}, exited: make(chan struct{})}
	s := &ssodServer{proc: p, drained: make(chan struct{})}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start ssod: %w", err)
	}
	type found struct {
		addr string
		at   time.Time
	}
	ready := make(chan found, 2)
	go func() {
		defer close(s.drained)
		r := bufio.NewReader(stderr)
		for {
			line, err := r.ReadString('\n')
			p.tail.Write([]byte(line))
			if k := keyPattern.FindString(line); k != "" {
				s.mu.Lock()
				s.key = k
				s.mu.Unlock()
			}
			if m := listenLine.FindStringSubmatch(line); m != nil {
				ready <- found{addr: m[1], at: time.Now()}
				break
			}
			if err != nil {
				return
			}
		}
		// Drain the rest, keeping only a tail for error messages.
		_, _ = io.Copy(p.tail, r)
	}()
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	if quiet {
		go func() {
			client := &http.Client{Timeout: time.Second}
			for p.alive() == nil && ctx.Err() == nil {
				if resp, err := client.Get("http://" + addr + "/healthz"); err == nil {
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						ready <- found{addr: addr, at: time.Now()}
						return
					}
				}
				time.Sleep(time.Millisecond)
			}
		}()
	}
	select {
	case f := <-ready:
		p.addr = f.addr
		s.startup = f.at.Sub(start)
		return s, nil
	case <-p.exited:
		<-s.drained
		return nil, p.alive()
	case <-time.After(2 * time.Minute):
		p.stop()
		return nil, fmt.Errorf("ssod did not start serving within 2 minutes; its output:\n%s", p.tail.String())
	case <-ctx.Done():
		p.stop()
		return nil, ctx.Err()
	}
}

// cleanEnv is this process's environment without ssod's own variables, so
// that a setting in the caller's shell does not change the server measured.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SSOD_") {
			env = append(env, kv)
		}
	}
	return env
}

// ssodCLI runs an ssod admin command and returns its standard output.
func ssodCLI(ctx context.Context, bin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = cleanEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("ssod %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// buildSSOD builds ./cmd/ssod of the module this program is run in, the
// way the README says to build it (static, without cgo), so that what is
// measured is what is deployed.
func buildSSOD(ctx context.Context, dir string) (string, error) {
	root, err := moduleRoot(ctx)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "ssod")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/ssod")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("CGO_ENABLED=0 go build ./cmd/ssod: %w\n%s", err, out)
	}
	return bin, nil
}

// moduleRoot is the directory of the main module's go.mod.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside a Go module: run sload from the ssod repository")
	}
	return filepath.Dir(gomod), nil
}

// startCeiling re-executes this program as the ceiling server, a separate
// process so that it competes for the CPU as ssod does. It exits when its
// standard input closes, so it cannot outlive the benchmark.
func startCeiling(ctx context.Context, sizes ceilingSizes) (*proc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, ceilingFlag,
		"-cert", strconv.Itoa(sizes.cert), "-list", strconv.Itoa(sizes.list), "-integration", strconv.Itoa(sizes.integration))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p := &proc{name: "ceiling", cmd: cmd, tail: &tailBuffer{}, stdin: stdin, exited: make(chan struct{})}
	cmd.Stderr = p.tail
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start ceiling: %w", err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case s := <-line:
		addr, ok := strings.CutPrefix(s, "listening ")
		if !ok {
			p.stop()
			return nil, fmt.Errorf("ceiling: unexpected first line %q; stderr:\n%s", s, p.tail.String())
		}
		p.addr = addr
		return p, nil
	case <-time.After(30 * time.Second):
		p.stop()
		return nil, errors.New("ceiling did not start within 30 s")
	case <-ctx.Done():
		p.stop()
		return nil, ctx.Err()
	}
}

// findPrism returns the prism executable to use, or why the peer is skipped.
func findPrism(cfg config) (string, string) {
	path := cfg.prismPath
	if path == "" {
		p, err := exec.LookPath("prism")
		if err != nil {
			return "", "Prism not found on PATH; install it with `npm install -g @stoplight/prism-cli` or pass -prism PATH"
		}
		path = p
	}
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Sprintf("-prism %s: %v", path, err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		return "", "Node.js (node) not found on PATH; Prism needs it"
	}
	return path, ""
}

// startPrism runs `prism mock` on SendGrid's OpenAPI file and waits until it
// answers. It logs only warnings, its quickest setting: ssod is measured
// with its request log on, so the comparison leans towards the peer.
func startPrism(ctx context.Context, prism, spec string) (*proc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	cmd := exec.Command(prism, "mock", "-h", "127.0.0.1", "-p", strconv.Itoa(port), "-v", "warn", spec)
	p := &proc{name: "prism", cmd: cmd, addr: addr, tail: &tailBuffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.tail, p.tail
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start prism: %w", err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	deadline := time.Now().Add(90 * time.Second)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		if err := p.alive(); err != nil {
			return nil, err
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/v3/sso/integrations", nil)
		req.Header.Set("Authorization", "Bearer sload")
		if resp, err := client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return p, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			p.stop()
			return nil, fmt.Errorf("prism did not answer within 90 s; its output:\n%s", p.tail.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// memory is a process's resident memory from /proc/PID/status.
type memory struct {
	rss, peak int64 // VmRSS and VmHWM, bytes
}

func readMemory(pid int) (memory, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, err
	}
	var m memory
	for _, line := range strings.Split(string(b), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(value)
		if len(f) != 2 || f[1] != "kB" {
			continue
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		switch name {
		case "VmRSS":
			m.rss = kb << 10
		case "VmHWM":
			m.peak = kb << 10
		}
	}
	if m.rss == 0 {
		return m, fmt.Errorf("/proc/%d/status has no VmRSS", pid)
	}
	return m, nil
}

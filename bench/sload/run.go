package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// report is everything one run measured.
type report struct {
	cfg       config
	env       envInfo
	started   time.Time
	took      time.Duration
	baseSize  int
	results   []result // on the first dataset: every operation and target
	commit    *commitResult
	peer      string // Prism's version, when it ran
	peerSkip  string // why the peer did not run
	sizes     ceilingSizes
	scales    []scaleRow
	finalMem  memory // ssod after every operation on the first dataset
	postPool  int    // distinct certificates ssod's POSTs drew from
	postsSent int
}

// commitResult is the durable-commit ceiling's figures.
type commitResult struct {
	result
	rowBytes int
}

// scaleRow is one dataset size.
type scaleRow struct {
	size          int
	getCert, list *result
	mem           memory
	startups      []time.Duration
	dbBytes       int64
	seedMethod    string
	seedTook      time.Duration
	seedRate      float64
}

func (r *report) find(op, target string) *result {
	for i := range r.results {
		if r.results[i].op == op && r.results[i].target == target {
			return &r.results[i]
		}
	}
	return nil
}

func (c config) has(op string) bool { return slices.Contains(c.ops, op) }

// run carries out the whole benchmark; log receives progress.
//
// Every dataset is prepared first and its server left running idle. Then
// each operation runs in rounds that take the targets in turn (ssod on each
// dataset, the ceiling, the peer, and for POST the durable-commit loop), so
// that all of them meet the same background load of a shared machine.
func run(ctx context.Context, cfg config, log io.Writer) (*report, error) {
	rep := &report{cfg: cfg, started: time.Now(), baseSize: cfg.base}
	logf := func(format string, args ...any) {
		fmt.Fprintf(log, "%s sload: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
	}
	dir := cfg.dir
	if dir == "" {
		d, err := os.MkdirTemp("", "sload-*")
		if err != nil {
			return nil, err
		}
		dir = d
		if !cfg.keep {
			defer os.RemoveAll(dir)
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	root, err := moduleRoot(ctx)
	if err != nil {
		return nil, err
	}
	rep.env = readEnv(ctx, root)

	bin := cfg.ssodPath
	if bin == "" {
		logf("building ./cmd/ssod")
		if bin, err = buildSSOD(ctx, dir); err != nil {
			return nil, err
		}
	}
	if out, err := exec.CommandContext(ctx, bin, "version").Output(); err == nil {
		rep.env.ssodVersion = strings.TrimSpace(string(out))
	}
	maker, err := newCertMaker()
	if err != nil {
		return nil, err
	}

	// Datasets, each with its server running.
	var datasets []*dataset
	defer func() {
		for _, ds := range datasets {
			if ds.server != nil {
				ds.server.stop()
			}
			if !cfg.keep {
				removeDB(ds.db)
			}
		}
	}()
	seen := map[int]bool{}
	for _, size := range append([]int{cfg.base}, cfg.scales...) {
		if seen[size] {
			continue
		}
		seen[size] = true
		ds, err := prepare(ctx, cfg, bin, dir, size, maker, logf)
		if err != nil {
			return nil, err
		}
		datasets = append(datasets, ds)
	}
	base := datasets[0]
	ssodT := &target{name: targetSSOD, base: "http://" + base.server.addr, key: base.key, ds: base, stock: &idStock{}}
	if rep.sizes, err = responseSizes(ctx, ssodT); err != nil {
		return nil, err
	}
	ceiling, err := startCeiling(ctx, rep.sizes)
	if err != nil {
		return nil, err
	}
	defer ceiling.stop()
	refs := []*target{{name: targetCeiling, base: "http://" + ceiling.addr, ds: base}}

	switch {
	case cfg.noPeer && cfg.smoke:
		rep.peerSkip = "smoke run: the peer runs only when -prism is given"
	case cfg.noPeer:
		rep.peerSkip = "-no-peer"
	default:
		path, why := findPrism(cfg)
		if path == "" {
			rep.peerSkip = why
			logf("peer skipped: %s", why)
			break
		}
		if out, err := exec.CommandContext(ctx, path, "--version").Output(); err == nil {
			rep.peer = "Prism " + strings.TrimSpace(string(out))
		}
		logf("starting %s", rep.peer)
		prism, err := startPrism(ctx, path, filepath.Join(root, "openapi", "tsg_sso_v3.json"))
		if err != nil {
			return nil, err
		}
		defer prism.stop()
		refs = append(refs, &target{name: targetPrism, base: "http://" + prism.addr, key: base.key, ds: base})
	}

	// The durable-commit loop: a first estimate sizes what the writes need.
	writes := cfg.has(opPostCert) || cfg.has(opPatchCert) || cfg.has(opDeleteCert) || cfg.has(opMix)
	commitRate := 1000.0
	var commits *commitLoop
	var commitSamples []sample
	if writes {
		p, err := maker.make(0)
		if err != nil {
			return nil, err
		}
		if commits, err = openCommitLoop(ctx, dir, p); err != nil {
			return nil, fmt.Errorf("durable-commit ceiling: %w", err)
		}
		defer commits.close()
		est, err := commits.run(ctx, cfg.warmup, max(cfg.duration/5, 200*time.Millisecond))
		if err != nil {
			return nil, fmt.Errorf("durable-commit ceiling: %w", err)
		}
		commitRate = max(float64(est.ok)/est.elapsed.Seconds(), 100)
		logf("durable commits, first estimate: %.0f/s", commitRate)
	}
	if cfg.has(opPostCert) || cfg.has(opMix) {
		n := min(60000, int(writeRate(commitRate)*(cfg.warmup+cfg.duration).Seconds()*1.5)+100)
		logf("making %d certificates for POST", n)
		pems, err := maker.makeMany(n)
		if err != nil {
			return nil, err
		}
		rep.postPool = n
		ssodT.pool = &certPool{pems: pems}
		for _, t := range refs {
			t.pool = &certPool{pems: pems}
		}
	}
	var stockPEMs []string
	if cfg.has(opDeleteCert) || cfg.has(opMix) {
		if stockPEMs, err = maker.makeMany(100); err != nil {
			return nil, err
		}
	}

	logResult := func(r result) {
		logf("%-15s %-13s %8.0f req/s  p50 %s  p90 %s  p99 %s  max %s  ok %d failed %d %s",
			r.op, r.target, r.rps, ms(r.p50), ms(r.p90), ms(r.p99), ms(r.max), r.ok, r.failed, r.note)
		if r.firstError != "" && r.failed > 0 {
			logf("  first failure: %s", r.firstError)
		}
	}
	scaleResults := map[*dataset]map[string]*result{}
	for _, op := range allOps {
		if !cfg.has(op) {
			continue
		}
		targets := []*target{ssodT}
		if slices.Contains(scaleOps, op) {
			for _, ds := range datasets[1:] {
				targets = append(targets, &target{name: fmt.Sprintf("%s@%d", targetSSOD, ds.size), base: "http://" + ds.server.addr, key: ds.key, ds: ds})
			}
		}
		targets = append(targets, refs...)
		if op == opDeleteCert || op == opMix {
			want := int(writeRate(commitRate)*(cfg.warmup+cfg.duration).Seconds()*1.5) + 100
			if op == opMix {
				want = want/10 + 100
			}
			if have := ssodT.stock.len(); have < want {
				ids, err := topUpStock(ctx, base, want-have, stockPEMs)
				if err != nil {
					return nil, fmt.Errorf("certificates to delete: %w", err)
				}
				for _, id := range ids {
					ssodT.stock.push(id)
				}
			}
		}
		var extra func(warmup, d time.Duration) error
		if op == opPostCert && commits != nil {
			extra = func(warmup, d time.Duration) error {
				s, err := commits.run(ctx, warmup, d)
				commitSamples = append(commitSamples, s)
				return err
			}
		}
		results, err := driveRounds(ctx, targets, op, cfg.conns, cfg.rounds, cfg.warmup, cfg.duration, extra)
		if err != nil {
			return nil, err
		}
		if len(commitSamples) > 0 {
			commitRate = max(commitRate, summarize("", "", commitSamples).rps)
		}
		for i, r := range results {
			if t := targets[i]; t == ssodT && (op == opPostCert || op == opPatchCert) {
				commitRate = max(commitRate, r.rps) // DELETE will go about as fast
			}
			logResult(r)
			if i == 0 || !strings.HasPrefix(r.target, targetSSOD+"@") {
				rep.results = append(rep.results, r)
			}
		}
		for i, t := range targets {
			if !strings.HasPrefix(t.name, targetSSOD) {
				continue
			}
			if err := t.ds.server.alive(); err != nil {
				return nil, err
			}
			if slices.Contains(scaleOps, op) {
				if scaleResults[t.ds] == nil {
					scaleResults[t.ds] = map[string]*result{}
				}
				scaleResults[t.ds][op] = &results[i]
				if t.ds.memAfterReads, err = readMemory(t.ds.server.pid()); err != nil {
					return nil, err
				}
			}
		}
	}
	if commits != nil {
		if len(commitSamples) == 0 { // no POST: measure the loop alone
			for range cfg.rounds {
				s, err := commits.run(ctx, 0, cfg.duration/time.Duration(cfg.rounds))
				if err != nil {
					return nil, fmt.Errorf("durable-commit ceiling: %w", err)
				}
				commitSamples = append(commitSamples, s)
			}
		}
		rep.commit = &commitResult{result: summarize("durable commit", "SQLite", commitSamples), rowBytes: commits.rowBytes}
		logResult(rep.commit.result)
	}
	if p := ssodT.pool; p != nil {
		rep.postsSent = int(p.next.Load())
	}
	if rep.finalMem, err = readMemory(base.server.pid()); err != nil {
		return nil, err
	}
	for _, ds := range datasets {
		if ds.memAfterReads.rss == 0 {
			if ds.memAfterReads, err = readMemory(ds.server.pid()); err != nil {
				return nil, err
			}
		}
		rep.scales = append(rep.scales, scaleRow{
			size: ds.size, getCert: scaleResults[ds][opGetCert], list: scaleResults[ds][opListCerts],
			mem: ds.memAfterReads, startups: ds.startups, dbBytes: ds.preparedBytes,
			seedMethod: ds.seedMethod, seedTook: ds.seedTook, seedRate: ds.seedRate(),
		})
	}
	rep.took = time.Since(rep.started)
	return rep, nil
}

// writeRate is the rate to size write stocks for: the commit rate seen so
// far, but at least minWriteRate, as fsync times on a shared machine vary
// widely and running out spoils a measurement while a surplus costs little.
func writeRate(seen float64) float64 { return max(seen, minWriteRate) }

const minWriteRate = 3000

func removeDB(path string) {
	for _, suffix := range []string{"", "-wal", "-shm"} {
		_ = os.Remove(path + suffix)
	}
}

// responseSizes reads one response of each kind from ssod, for the ceiling
// to send as many bytes.
func responseSizes(ctx context.Context, t *target) (ceilingSizes, error) {
	client, tr := newClient(1)
	defer tr.CloseIdleConnections()
	size := func(path string) (int, error) {
		status, n, err := send(ctx, client, t, request{method: http.MethodGet, path: path}, new(bytes.Buffer))
		if err == nil && status != http.StatusOK {
			err = fmt.Errorf("GET %s: status %d", path, status)
		}
		return int(n), err
	}
	var s ceilingSizes
	var err error
	if s.cert, err = size(fmt.Sprintf("/v3/sso/certificates/%d", t.ds.certs[0])); err != nil {
		return s, err
	}
	if s.list, err = size("/v3/sso/integrations/" + t.ds.integrations[0] + "/certificates"); err != nil {
		return s, err
	}
	if s.integration, err = size("/v3/sso/integrations/" + t.ds.integrations[0]); err != nil {
		return s, err
	}
	return s, nil
}

// envInfo describes the machine and the build.
type envInfo struct {
	cpus        int
	cpuModel    string
	memTotal    string
	kernel      string
	loadAvg     string
	goVersion   string
	gitCommit   string
	ssodVersion string
}

func readEnv(ctx context.Context, root string) envInfo {
	e := envInfo{cpus: runtime.NumCPU(), goVersion: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				e.cpuModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				e.memTotal = strings.TrimSpace(v)
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		e.kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			e.loadAvg = strings.Join(f[:3], " ")
		}
	}
	cmd := exec.CommandContext(ctx, "git", "describe", "--always", "--dirty")
	cmd.Dir = root
	if out, err := cmd.Output(); err == nil {
		e.gitCommit = strings.TrimSpace(string(out))
	}
	return e
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

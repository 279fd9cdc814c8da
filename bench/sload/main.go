// Command sload is ssod's load benchmark. It starts `ssod serve` on a
// loopback port with a fresh database, prepares data through the API (and,
// for large sizes, directly in SQLite), then drives the server at a fixed
// concurrency for a fixed time per operation and reports requests per second
// and latency percentiles.
//
// In the same run it drives two references with the same load, so that the
// results are ratios that hold on a noisy machine:
//
//   - the ceiling: a bare net/http server (a second process, this program
//     re-executed) answering a fixed JSON body of the size ssod answers, with
//     no authentication and no storage;
//   - the peer: Prism (@stoplight/prism-cli) mocking SendGrid's OpenAPI file,
//     when it is installed (on PATH or given with -prism).
//
// It also measures a bare loop of durable SQLite commits (the ceiling for
// POST), and at each -scale size the GET and list rates, the server's memory
// and its start-up time.
//
// Usage, from the repository root:
//
//	go run ./bench/sload -help
//	go run ./bench/sload -duration 5s -conns 32 -scale 1000,1000000
//	go run ./bench/sload -smoke
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Operations, in the order they run.
const (
	opGetCert        = "get-cert"
	opListCerts      = "list-certs"
	opGetIntegration = "get-integration"
	opMix            = "mix"
	opPostCert       = "post-cert"
	opPatchCert      = "patch-cert"
	opDeleteCert     = "delete-cert"
)

var allOps = []string{opGetCert, opListCerts, opGetIntegration, opMix, opPostCert, opPatchCert, opDeleteCert}

// opTitles describe the operations in the report.
var opTitles = map[string]string{
	opGetCert:        "GET /v3/sso/certificates/{id}",
	opListCerts:      "GET /v3/sso/integrations/{id}/certificates",
	opGetIntegration: "GET /v3/sso/integrations/{id}",
	opMix:            "mix: 90% reads",
	opPostCert:       "POST /v3/sso/certificates",
	opPatchCert:      "PATCH /v3/sso/certificates/{id}",
	opDeleteCert:     "DELETE /v3/sso/certificates/{id}",
}

// scaleOps are the operations measured at every -scale size; the others run
// only on the first dataset.
var scaleOps = []string{opGetCert, opListCerts}

type config struct {
	ssodPath     string
	duration     time.Duration
	warmup       time.Duration
	conns        int
	rounds       int
	ops          []string
	base         int   // certificates in the dataset every operation runs on
	scales       []int // further sizes for GET and list; nil for none
	perIntegr    int   // certificates per integration
	apiSeedMax   int   // larger datasets are written directly into SQLite
	prismPath    string
	prismGiven   bool
	noPeer       bool
	smoke        bool
	out          string
	dir          string
	keep         bool
	ssodLogLevel string
	db           string // an empty PostgreSQL database to use instead of SQLite files
}

const usageText = `sload: load benchmark of ssod against a bare net/http ceiling and Prism.

usage: go run ./bench/sload [flags]

It builds ssod (unless -ssod is given), starts it on 127.0.0.1 with a fresh
database and rate limiting on (a budget of 1e9 requests a minute, which no
run spends), prepares accounts, keys, integrations and
certificates, and runs each operation for -duration at -conns concurrent
connections against ssod, the ceiling and the peer. Progress goes to stderr,
the markdown report to stdout (or -out).

operations: ` + "get-cert, list-certs, get-integration, mix, post-cert, patch-cert, delete-cert" + `
`

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("sload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageText, "\nflags:\n")
		fs.PrintDefaults()
	}
	var cfg config
	fs.StringVar(&cfg.ssodPath, "ssod", "", "ssod binary to run (default: build ./cmd/ssod into the work directory)")
	fs.DurationVar(&cfg.duration, "duration", 10*time.Second, "measured time per operation and target")
	fs.DurationVar(&cfg.warmup, "warmup", time.Second, "unmeasured load before each measurement")
	fs.IntVar(&cfg.conns, "conns", 32, "concurrent connections (one request in flight on each)")
	fs.IntVar(&cfg.rounds, "rounds", 5, "split -duration into this many rounds that take the targets in turn, so all meet the same background load")
	ops := fs.String("ops", strings.Join(allOps, ","), "comma-separated operations to run")
	scale := fs.String("scale", "1000", "comma-separated dataset sizes in certificates, the first one also for every operation; or none (then 1000 for the operations only)")
	fs.IntVar(&cfg.perIntegr, "certs-per-integration", 5, "certificates per integration in the datasets (the size of a list response)")
	fs.IntVar(&cfg.apiSeedMax, "api-seed-max", 20000, "datasets up to this size are prepared through the API, larger ones written directly into SQLite")
	fs.StringVar(&cfg.prismPath, "prism", "", "prism executable (default: prism on PATH); the peer is skipped when neither exists")
	fs.BoolVar(&cfg.noPeer, "no-peer", false, "skip the Prism peer")
	fs.BoolVar(&cfg.smoke, "smoke", false, "a run of a few seconds of every operation on a tiny dataset, for CI: no peer unless -prism is given, no scale sizes, no thresholds")
	fs.StringVar(&cfg.out, "out", "-", "file to write the markdown report to; - for stdout")
	fs.StringVar(&cfg.dir, "dir", "", "work directory for the binary and the databases (default: a new temporary directory, removed at the end)")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the work directory")
	fs.StringVar(&cfg.db, "db", "", "an empty PostgreSQL database (postgres://...) to run ssod on instead of a fresh SQLite file; only with -scale none")
	fs.StringVar(&cfg.ssodLogLevel, "ssod-log-level", "info", "ssod's --log-level: info logs one line per request, as deployed by default; warn shows what that costs (start-up is then timed to the first /healthz answer)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	cfg.prismGiven = set["prism"]

	for _, name := range strings.Split(*ops, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if _, ok := opTitles[name]; !ok {
			return cfg, fmt.Errorf("-ops: unknown operation %q (want some of %s)", name, strings.Join(allOps, ","))
		}
		cfg.ops = append(cfg.ops, name)
	}
	if len(cfg.ops) == 0 {
		return cfg, errors.New("-ops: no operation")
	}
	cfg.base = 1000
	if s := strings.TrimSpace(*scale); s != "none" && s != "" {
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				return cfg, fmt.Errorf("-scale: %q is not a positive number of certificates", f)
			}
			cfg.scales = append(cfg.scales, n)
		}
		cfg.base = cfg.scales[0]
	}
	if cfg.smoke {
		// A few seconds in all: every operation against ssod and the ceiling.
		if !set["duration"] {
			cfg.duration = 200 * time.Millisecond
		}
		if !set["warmup"] {
			cfg.warmup = 0
		}
		if !set["conns"] {
			cfg.conns = 4
		}
		if !set["rounds"] {
			cfg.rounds = 1
		}
		cfg.base, cfg.scales = 40, nil
		cfg.noPeer = cfg.noPeer || !cfg.prismGiven
	}
	switch {
	case cfg.db != "" && (len(cfg.scales) > 0 || cfg.smoke):
		return cfg, errors.New("-db runs one dataset of 1,000 certificates: use it with -scale none, without -smoke")
	case cfg.db != "" && !isPostgres(cfg.db):
		return cfg, errors.New("-db takes a postgres:// URL; SQLite files are the default")
	case cfg.conns < 1:
		return cfg, errors.New("-conns must be at least 1")
	case cfg.rounds < 1:
		return cfg, errors.New("-rounds must be at least 1")
	case cfg.duration <= 0:
		return cfg, errors.New("-duration must be positive")
	case cfg.warmup < 0:
		return cfg, errors.New("-warmup must not be negative")
	case cfg.perIntegr < 1:
		return cfg, errors.New("-certs-per-integration must be at least 1")
	}
	return cfg, nil
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == ceilingFlag {
		if err := serveCeiling(os.Args[2:], os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "sload ceiling:", err)
			os.Exit(1)
		}
		return
	}
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sload:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := run(ctx, cfg, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sload:", err)
		os.Exit(1)
	}
	if err := writeReport(rep, cfg.out); err != nil {
		fmt.Fprintln(os.Stderr, "sload:", err)
		os.Exit(1)
	}
}

// writeReport writes the markdown report to path, or to stdout for "-".
func writeReport(rep *report, path string) error {
	if path == "-" {
		return rep.markdown(os.Stdout)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := rep.markdown(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

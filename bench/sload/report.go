package main

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// markdown writes the report as markdown tables.
func (r *report) markdown(out io.Writer) error {
	w := bufio.NewWriter(out)
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	cfg, e := r.cfg, r.env

	p("# ssod load benchmark\n\n")
	p("- run: %s, %s in all%s\n", r.started.UTC().Format(time.RFC3339), r.took.Round(time.Second), map[bool]string{true: " (smoke: tiny durations, no thresholds)"}[cfg.smoke])
	p("- machine: %d CPUs (%s), %s memory, Linux %s, load average at start %s; the load generator, ssod and the references share these CPUs\n",
		e.cpus, e.cpuModel, e.memTotal, e.kernel, e.loadAvg)
	p("- build: %s, %s, tree %s\n", e.ssodVersion, e.goVersion, e.gitCommit)
	p("- load: %d connections, each with one request in flight, HTTP/1.1 keep-alive; per operation and target %s measured, in %d rounds that take the targets in turn (so all meet the same background load), after %s of warm-up\n",
		cfg.conns, cfg.duration, cfg.rounds, cfg.warmup)
	backend := "a fresh SQLite database (WAL, synchronous=FULL)"
	if cfg.db != "" {
		backend = "an empty PostgreSQL database on this machine (one instance: its certificate cache holds the only lease)"
	}
	p("- ssod: `ssod serve --addr 127.0.0.1:0 --rate-limit %s --log-level %s` on %s; auth, rate limiting (a budget no run spends) and storage on\n", rateLimit, cfg.ssodLogLevel, backend)
	p("- ceiling: bare net/http in a separate process, fixed JSON bodies of ssod's sizes (certificate %d B, list %d B, integration %d B), no auth, no storage, no logging\n",
		r.sizes.cert, r.sizes.list, r.sizes.integration)
	if r.peer != "" {
		p("- peer: %s, `prism mock -v warn` on SendGrid's openapi/tsg_sso_v3.json (static examples: a 166 B certificate)\n", r.peer)
	} else {
		p("- peer: skipped: %s\n", r.peerSkip)
	}
	p("\n## Operations on %s certificates\n\n", count(r.baseSize))
	p("Dataset: %s certificates, %d per integration, in account `sload`, prepared through %s; plus %d integrations that POST writes to. ",
		count(r.baseSize), cfg.perIntegr, r.scales[0].seedMethod, writeIntegrations)
	p("Reads pick a random seeded certificate or integration. POST sends a distinct real certificate each time (%d made, %d sent by ssod's run%s); ",
		r.postPool, r.postsSent, map[bool]string{true: ", so some were sent twice"}[r.postsSent > r.postPool && r.postPool > 0])
	p("PATCH flips `enabled`; DELETE removes certificates that nothing reads. ")
	p("The mix is 50%% GET certificate, 25%% list, 15%% GET integration, 5%% POST, 3%% PATCH, 2%% DELETE. ")
	p("Latency runs from sending the request to reading the whole response. ")
	p("The ratios are medians of the round-by-round ratios (ssod and the reference measured back to back), so that a burst of background load moves them less.\n\n")
	p("| operation | target | req/s | p50 | p90 | p99 | max | failed | body | ssod / ceiling | ssod / peer |\n")
	p("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, op := range allOps {
		s := r.find(op, targetSSOD)
		if s == nil {
			continue
		}
		for _, t := range []string{targetSSOD, targetCeiling, targetPrism} {
			res := r.find(op, t)
			if res == nil {
				continue
			}
			vsCeiling, vsPeer := "", ""
			if t == targetSSOD {
				vsCeiling = ratio(s, r.find(op, targetCeiling), "%")
				vsPeer = ratio(s, r.find(op, targetPrism), "x")
			}
			p("| %s | %s | %.0f | %s | %s | %s | %s | %d | %d B | %s | %s |\n",
				opTitles[op], t, res.rps, ms(res.p50), ms(res.p90), ms(res.p99), ms(res.max), res.failed, res.meanBody(), vsCeiling, vsPeer)
		}
	}
	for _, res := range r.results {
		if res.note != "" {
			p("\nNote: %s against %s: %s.\n", res.op, res.target, res.note)
		}
		if res.failed > 0 && res.firstError != "" {
			p("\nFailures of %s against %s (%d), first: `%s`\n", res.op, res.target, res.failed, res.firstError)
		}
	}

	if c := r.commit; c != nil {
		p("\n## Durable-commit ceiling\n\n")
		p("A bare loop of SQLite commits on the same disk (WAL, synchronous=FULL, BEGIN IMMEDIATE, one writer, the modernc.org/sqlite driver ssod uses), each inserting one %d-byte row into a table shaped like `certificates`, run as one more turn in POST's rounds. ", c.rowBytes)
		p("ssod's POST commits the certificate and its audit event in one transaction.\n\n")
		p("| | per second | p50 | p90 | p99 | max | POST / ceiling |\n|---|--:|--:|--:|--:|--:|--:|\n")
		p("| durable commits | %.0f | %s | %s | %s | %s | |\n", c.rps, ms(c.p50), ms(c.p90), ms(c.p99), ms(c.max))
		if post := r.find(opPostCert, targetSSOD); post != nil {
			p("| ssod POST certificate | %.0f | %s | %s | %s | %s | %s |\n", post.rps, ms(post.p50), ms(post.p90), ms(post.p99), ms(post.max), ratio(post, &c.result, "%"))
		}
	}

	p("\n## Scale\n\n")
	p("One ssod per size, all running at once; GET and list ran on every size in the same rounds as the ceiling, %d connections. ", cfg.conns)
	p("Memory is ssod's VmRSS after the GET and list load, and VmHWM (peak) so far; start-up is from exec to the listen line, median of %d starts, on a database that is in the page cache. ", startupRuns)
	p("Datasets above %s certificates are written directly into SQLite (no audit events), in transactions of %s.\n\n", count(cfg.apiSeedMax), count(seedBatch))
	p("| certificates | prepared through | seeding | database | start-up | GET req/s | GET p99 | list req/s | list p99 | RSS | peak RSS |\n")
	p("|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, s := range r.scales {
		get, getP99, list, listP99 := "-", "-", "-", "-"
		if s.getCert != nil {
			get, getP99 = fmt.Sprintf("%.0f", s.getCert.rps), ms(s.getCert.p99)
		}
		if s.list != nil {
			list, listP99 = fmt.Sprintf("%.0f", s.list.rps), ms(s.list.p99)
		}
		p("| %s | %s | %.0f/s in %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			count(s.size), s.seedMethod, s.seedRate, s.seedTook.Round(time.Millisecond), mib(s.dbBytes),
			ms(median(s.startups)), get, getP99, list, listP99, mib(s.mem.rss), mib(s.mem.peak))
	}
	p("\nAfter every operation on %s certificates ssod's RSS was %s (peak %s).\n", count(r.baseSize), mib(r.finalMem.rss), mib(r.finalMem.peak))
	if len(r.cfg.scales) < 2 && !cfg.smoke {
		p("\nOnly one size was run; pass -scale 1000,1000000 for the comparison.\n")
	}

	p("\n## The issue's targets\n\n")
	p("| target | measured | status |\n|---|---|---|\n")
	for _, t := range r.targets() {
		p("| %s | %s | %s |\n", t[0], t[1], t[2])
	}
	if cfg.smoke {
		p("\nA smoke run measures too briefly for these to mean anything.\n")
	}
	return w.Flush()
}

// ratioOf is a's rate over b's. When both ran in the same rounds it is the
// median of the round-by-round ratios, which a burst of background load in
// one round moves less than the ratio of the totals.
func ratioOf(a, b *result) (float64, bool) {
	if a == nil || b == nil || b.rps == 0 || b.failed > b.ok {
		return 0, false
	}
	if n := len(a.roundRPS); n > 1 && n == len(b.roundRPS) {
		rs := make([]float64, 0, n)
		for i := range n {
			if b.roundRPS[i] > 0 {
				rs = append(rs, a.roundRPS[i]/b.roundRPS[i])
			}
		}
		if len(rs) > 0 {
			slices.Sort(rs)
			if len(rs)%2 == 1 {
				return rs[len(rs)/2], true
			}
			return (rs[len(rs)/2-1] + rs[len(rs)/2]) / 2, true
		}
	}
	return a.rps / b.rps, true
}

// ratio formats ratioOf as a percentage, or as a multiple with unit "x".
func ratio(a, b *result, unit string) string {
	v, ok := ratioOf(a, b)
	switch {
	case !ok:
		return ""
	case unit == "%":
		return fmt.Sprintf("%.0f%%", 100*v)
	}
	return fmt.Sprintf("%.1fx", v)
}

const (
	met         = "met"
	notMet      = "**not met**"
	notMeasured = "not measured"
)

func status(ok bool) string {
	if ok {
		return met
	}
	return notMet
}

// targets checks the figures against the goals.
func (r *report) targets() [][3]string {
	var rows [][3]string
	add := func(name, measured, st string) { rows = append(rows, [3]string{name, measured, st}) }
	get, ceil, peer := r.find(opGetCert, targetSSOD), r.find(opGetCert, targetCeiling), r.find(opGetCert, targetPrism)

	name := "GET certificate >= 75% of the ceiling's req/s"
	if get != nil && ceil != nil && ceil.rps > 0 {
		v, _ := ratioOf(get, ceil)
		add(name, fmt.Sprintf("%s (%.0f vs %.0f req/s)", ratio(get, ceil, "%"), get.rps, ceil.rps), status(v >= 0.75))
	} else {
		add(name, "-", notMeasured+": get-cert not run")
	}

	name = "GET certificate p99 <= 5 ms at 32 connections"
	switch {
	case get == nil:
		add(name, "-", notMeasured+": get-cert not run")
	case r.cfg.conns != 32:
		add(name, fmt.Sprintf("p99 %s at %d connections", ms(get.p99), r.cfg.conns), notMeasured+": not at 32 connections")
	default:
		add(name, "p99 "+ms(get.p99), status(get.p99 <= 5*time.Millisecond))
	}

	name = "GET certificate >= 10x Prism's req/s"
	switch {
	case get == nil:
		add(name, "-", notMeasured+": get-cert not run")
	case peer == nil:
		add(name, "-", notMeasured+": "+r.peerSkip)
	default:
		v, _ := ratioOf(get, peer)
		add(name, fmt.Sprintf("%s (%.0f vs %.0f req/s)", ratio(get, peer, "x"), get.rps, peer.rps), status(v >= 10))
	}

	name = "POST certificate >= 50% of the durable-commit ceiling"
	post := r.find(opPostCert, targetSSOD)
	if post != nil && r.commit != nil && r.commit.rps > 0 {
		v, _ := ratioOf(post, &r.commit.result)
		add(name, fmt.Sprintf("%s (%.0f req/s vs %.0f commits/s)", ratio(post, &r.commit.result, "%"), post.rps, r.commit.rps), status(v >= 0.5))
	} else {
		add(name, "-", notMeasured+": post-cert not run")
	}

	small, large := r.scaleAt(1000, false), r.scaleAt(1000000, true)
	name = "list at 1,000,000 certificates within 20% of 1,000 (req/s)"
	switch {
	case small == nil || large == nil || small == large:
		add(name, "-", notMeasured+": needs -scale with 1000 and 1000000")
	case small.list == nil || large.list == nil || small.list.rps == 0:
		add(name, "-", notMeasured+": list-certs not run")
	default:
		v, _ := ratioOf(large.list, small.list)
		add(name, fmt.Sprintf("%+.0f%% (%.0f vs %.0f req/s; p99 %s vs %s)", 100*(v-1), large.list.rps, small.list.rps, ms(large.list.p99), ms(small.list.p99)), status(v >= 0.80))
	}
	name = "RSS < 100 MB at 1,000,000 certificates"
	if large == nil {
		add(name, "-", notMeasured+": needs -scale with 1000000")
	} else {
		add(name, fmt.Sprintf("%s after load, peak %s (%.0f MB)", mib(large.mem.rss), mib(large.mem.peak), float64(large.mem.peak)/1e6), status(large.mem.peak < 100e6))
	}
	name = "start-up < 200 ms at 1,000,000 certificates"
	if large == nil {
		add(name, "-", notMeasured+": needs -scale with 1000000")
	} else {
		m := median(large.startups)
		add(name, fmt.Sprintf("%s (median of %d; runs %s)", ms(m), len(large.startups), durations(large.startups)), status(m < 200*time.Millisecond))
	}
	return rows
}

// scaleAt returns the row of at most (or, with atLeast, at least) n
// certificates closest to n.
func (r *report) scaleAt(n int, atLeast bool) *scaleRow {
	var best *scaleRow
	for i := range r.scales {
		s := &r.scales[i]
		if (atLeast && s.size >= n) || (!atLeast && s.size <= n) {
			if best == nil || abs(s.size-n) < abs(best.size-n) {
				best = s
			}
		}
	}
	return best
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func durations(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = ms(d)
	}
	return strings.Join(parts, ", ")
}

// count writes n with thousands separators.
func count(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

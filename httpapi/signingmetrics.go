package httpapi

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ssod/ssod"
)

// Horizon gauges: how often the database is asked, and for how long.
const (
	// signingMaxAge is how long one count answers scrapes: every instance
	// counts the whole deployment, so a scrape every few seconds from
	// several Prometheus servers still costs one query per instance per
	// 30 s.
	signingMaxAge = 30 * time.Second
	// signingTimeout bounds the query, well inside a scrape's usual 10 s.
	signingTimeout = 5 * time.Second
)

// signingGauges exports ssod_sso_integrations_signing: enabled integrations
// of every account by how soon sign-in breaks (ssod.CountSigning). Counts
// by horizon, never by integration or account, so the series stay three.
type signingGauges struct {
	store   ssod.SigningWindowStore
	now     func() time.Time // the server's clock: horizons are judged by it
	maxAge  time.Duration    // 0: count at every scrape
	timeout time.Duration
	log     *slog.Logger
	desc    *prometheus.Desc

	mu     sync.Mutex // one count at a time; the others wait for it
	counts ssod.SigningCounts
	ok     bool      // counts holds a count
	at     time.Time // when it was made (or last failed), on the monotonic clock
}

func newSigningGauges(store ssod.SigningWindowStore, now func() time.Time, maxAge time.Duration, log *slog.Logger) *signingGauges {
	return &signingGauges{
		store: store, now: now, maxAge: maxAge, timeout: signingTimeout, log: log,
		desc: prometheus.NewDesc("ssod_sso_integrations_signing",
			"Enabled SSO integrations, across all accounts, whose sign-in is broken (horizon=broken) or breaks within 7 or 30 days (30d includes 7d; neither includes broken). Counted at most every 30 s.",
			[]string{"horizon"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (g *signingGauges) Describe(ch chan<- *prometheus.Desc) { ch <- g.desc }

// Collect implements prometheus.Collector. A count that fails leaves the
// gauges out of the scrape, rather than showing old numbers as current,
// and is not retried for maxAge, so a struggling database is not asked at
// every scrape.
func (g *signingGauges) Collect(ch chan<- prometheus.Metric) {
	counts, ok := g.current()
	if !ok {
		return
	}
	for _, v := range []struct {
		horizon string
		n       int
	}{{"broken", counts.Broken}, {"7d", counts.Within7d}, {"30d", counts.Within30d}} {
		ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, float64(v.n), v.horizon)
	}
}

func (g *signingGauges) current() (ssod.SigningCounts, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.at.IsZero() && time.Since(g.at) < g.maxAge {
		return g.counts, g.ok
	}
	// No scraper's context: Collect has none, and a count that one scraper
	// gave up on still serves the others.
	ctx, cancel := context.WithTimeout(context.Background(), g.timeout)
	defer cancel()
	list, err := g.store.ListIntegrationWindows(ctx, 0)
	g.at = time.Now()
	if err != nil {
		g.ok = false
		g.log.Warn("counting integrations by signing horizon for /metrics", "err", err)
		return ssod.SigningCounts{}, false
	}
	g.counts, g.ok = ssod.CountSigning(list, g.now().Unix()), true
	return g.counts, true
}

package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ssod/ssod/ratelimit"
)

// metrics are the server's Prometheus collectors, in a registry of its own
// (no global state). Labels hold route patterns, never raw paths, keys or
// account names, so their number stays bounded and nothing secret leaks.
type metrics struct {
	registry  *prometheus.Registry
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	limited   prometheus.Counter
	dbErrors  prometheus.Counter
	authFails prometheus.Counter
	// samlResponses counts ACS POSTs by result: "ok" or an error_id, a
	// fixed set of ssod's own codes.
	samlResponses *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ssod_http_requests_total",
			Help: "HTTP requests by route pattern, method and status; 499: the client went away before its answer, and got none.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ssod_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern and method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "method"}),
		limited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ssod_rate_limit_rejections_total",
			Help: "Requests refused with 429 because a key, or a client address on the public SAML paths, spent its budget.",
		}),
		dbErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ssod_database_errors_total",
			Help: "Requests that failed because the database did (answered 500 or 503).",
		}),
		authFails: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ssod_authentication_failures_total",
			Help: "Requests refused with 401.",
		}),
		samlResponses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ssod_saml_responses_total",
			Help: "POSTs to the SAML Assertion Consumer Service by result: ok, or the error_id that refused it.",
		}, []string{"result"}),
	}
	m.registry.MustRegister(m.requests, m.latency, m.limited, m.dbErrors, m.authFails, m.samlResponses,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// watchLimiter exports whether a shared rate limiter's server answers, as
// 1 or 0, so an outage that ssod rides out (it lets requests through) can
// still be alerted on.
func (m *metrics) watchLimiter(l ratelimit.Shared) {
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "ssod_rate_limiter_available",
		Help: "1 while the shared rate limiter's Redis answers, 0 while requests are let through uncounted.",
	}, func() float64 {
		if l.Available() {
			return 1
		}
		return 0
	}))
}

// observe records one finished request.
func (m *metrics) observe(route, method string, status int, took time.Duration) {
	if !knownMethod(method) {
		method = "other" // methods are client-chosen strings: keep labels bounded
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route, method).Observe(took.Seconds())
}

func knownMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

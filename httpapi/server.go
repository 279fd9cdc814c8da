// Package httpapi serves ssod's REST API: SendGrid's v3 SSO paths, with the
// wire contract's authentication, rate limits, error array and headers.
package httpapi

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"path"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/apikey"
	"github.com/ssod/ssod/idpmeta"
	"github.com/ssod/ssod/openapi"
	"github.com/ssod/ssod/outbound"
	"github.com/ssod/ssod/ratelimit"
	"github.com/ssod/ssod/testmode"
)

// Config holds what the server needs.
type Config struct {
	Store ssod.Store
	// Limiter budgets requests per key; nil turns rate limiting off.
	Limiter ratelimit.Limiter
	// KeyCacheTTL is how long a key found in the store is trusted without
	// asking again; 0 asks every time. A revocation takes this long to bite.
	KeyCacheTTL time.Duration
	// PublicURL is the base of the SAML URLs reported for integrations.
	PublicURL string
	Logger    *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Disk, when set, makes /readyz answer 503 while the database's disk is
	// nearly full.
	Disk *DiskCheck
	// TestMode, when set, serves the /_ssod/ paths and journals and injects
	// faults into every other request (ssod serve --test-mode). Its clock
	// then replaces Now.
	TestMode *testmode.Mode
	// SAML configures the public sign-in paths.
	SAML SAMLConfig
	// Outbound calls the URLs tenants give (expiry webhooks, IdP metadata);
	// nil means outbound.New with the default, public-only policy.
	Outbound *outbound.Client
	// Metadata reads and imports IdP metadata; nil means one on Outbound.
	Metadata *idpmeta.Importer
	// Collectors are more metrics to serve at /metrics (the expiry
	// webhook's deliveries).
	Collectors []prometheus.Collector

	// Console, when set, is served under /console and told of every
	// verified browser sign-in (package console).
	Console Console
}

// Console is the web console the API serves and hands verified sign-ins to.
type Console interface {
	http.Handler
	// SignedIn is told of a sign-in the ACS accepted; when its relayState
	// names one the console started, it answers the browser and reports true.
	SignedIn(w http.ResponseWriter, r *http.Request, integrationID, username, relayState string) bool
}

// SAMLConfig is how ssod serves sign-ins (README, "SAML sign-in").
type SAMLConfig struct {
	// Skew is the clock difference tolerated with IdPs (--saml-clock-skew).
	Skew time.Duration
	// AllowSHA1 accepts SHA-1 signatures and digests (--saml-allow-sha1).
	AllowSHA1 bool
	// Limiter budgets the public SAML paths per client address; nil turns
	// that off.
	Limiter ratelimit.Limiter
	// TrustedProxies are the peers whose X-Forwarded-For names the client
	// address (--trusted-proxies); none by default.
	TrustedProxies []netip.Prefix
}

// maxCachedKeys bounds the key cache: far more keys than one deployment
// uses at once, far less memory than would matter.
const maxCachedKeys = 100_000

// Server is the API's http.Handler.
type Server struct {
	store       ssod.Store
	saml        SAMLConfig
	parsedCerts *parsedCertificates
	keys        *apikey.Cache
	limiter     ratelimit.Limiter
	publicURL   string
	log         *slog.Logger
	now         func() time.Time
	mux         *http.ServeMux
	handler     http.Handler // the middleware chain around mux, built once
	document    []byte       // ssod's OpenAPI document, served at /openapi.json
	metrics     *metrics
	disk        *DiskCheck
	test        *testmode.Mode // nil outside test mode
	outbound    *outbound.Client
	metadata    *idpmeta.Importer
	console     Console // nil when the console is off
}

// NewServer returns the API handler for cfg.
func NewServer(cfg Config) (*Server, error) {
	doc, err := openapi.Document()
	if err != nil {
		return nil, fmt.Errorf("httpapi: %w", err)
	}
	s := &Server{
		document:    doc,
		metrics:     newMetrics(),
		store:       cfg.Store,
		saml:        cfg.SAML,
		parsedCerts: newParsedCertificates(),
		limiter:     cfg.Limiter,
		publicURL:   strings.TrimRight(cfg.PublicURL, "/"),
		log:         cfg.Logger,
		now:         cfg.Now,
		mux:         http.NewServeMux(),
		disk:        cfg.Disk,
		test:        cfg.TestMode,
		outbound:    cfg.Outbound,
		console:     cfg.Console,
	}
	if s.outbound == nil {
		s.outbound = outbound.New(outbound.Policy{})
	}
	if s.test != nil {
		s.now = s.test.Clock.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.metrics.registry.MustRegister(cfg.Collectors...)
	if shared, ok := s.limiter.(ratelimit.Shared); ok {
		s.metrics.watchLimiter(shared)
	}
	// Test suites move the clock and reset the data between scrapes: count
	// afresh at each one there.
	signingAge := signingMaxAge
	if s.test != nil {
		signingAge = 0
	}
	s.metrics.registry.MustRegister(newSigningGauges(s.store, s.now, signingAge, s.log))
	if s.metadata = cfg.Metadata; s.metadata == nil {
		s.metadata = idpmeta.New(s.store, s.outbound, s.now, s.log)
	}
	s.keys = apikey.NewCache(s.store, max(cfg.KeyCacheTTL, 0), maxCachedKeys, s.now)
	s.routes()
	inner := cleanPathsOnly(s.mux)
	if s.test != nil {
		inner = s.testMode(inner)
	}
	s.handler = s.observe(inner)
	return s, nil
}

func (s *Server) serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	writeRawJSON(w, http.StatusOK, s.document)
}

// ServeHTTP sends every request through the common middleware and the routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// cleanPathsOnly answers, with the contract's headers and error array, the
// request targets ServeMux would answer by itself: a path with "..", "." or
// "//" (ServeMux redirects it to its clean form, which a client may follow
// with its POST body, but such a path names nothing) and the asterisk "*"
// (a bare 400). "OPTIONS *" asks whether the server is there: 204, with the
// methods the API uses. The server must pass it here
// (http.Server.DisableGeneralOptionsHandler), not answer it itself.
func cleanPathsOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.RequestURI == "*" && r.Method == http.MethodOptions:
			w.Header().Set("Allow", "GET, HEAD, POST, PUT, PATCH, DELETE")
			w.WriteHeader(http.StatusNoContent)
		case r.RequestURI == "*":
			writeProblems(w, []*ssod.Error{ssod.Errorf(ssod.EInvalid, "the request target * is only for OPTIONS")})
		case path.Clean(r.URL.Path) != r.URL.Path:
			writeProblems(w, []*ssod.Error{ssod.Errorf(ssod.ENotFound, "no such path")})
		default:
			next.ServeHTTP(w, r)
		}
	})
}

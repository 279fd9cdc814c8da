// Package httpapi serves ssod's REST API: SendGrid's v3 SSO paths, with the
// wire contract's authentication, rate limits, error array and headers.
package httpapi

import (
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/apikey"
	"github.com/ssod/ssod/openapi"
	"github.com/ssod/ssod/ratelimit"
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
}

// maxCachedKeys bounds the key cache: far more keys than one deployment
// uses at once, far less memory than would matter.
const maxCachedKeys = 100_000

// Server is the API's http.Handler.
type Server struct {
	store     ssod.Store
	keys      apikey.Finder
	limiter   ratelimit.Limiter
	publicURL string
	log       *slog.Logger
	now       func() time.Time
	mux       *http.ServeMux
	handler   http.Handler // the middleware chain around mux, built once
	document  []byte       // ssod's OpenAPI document, served at /openapi.json
	metrics   *metrics
	disk      *DiskCheck
}

// NewServer returns the API handler for cfg.
func NewServer(cfg Config) (*Server, error) {
	doc, err := openapi.Document()
	if err != nil {
		return nil, fmt.Errorf("httpapi: %w", err)
	}
	s := &Server{
		document:  doc,
		metrics:   newMetrics(),
		store:     cfg.Store,
		limiter:   cfg.Limiter,
		publicURL: strings.TrimRight(cfg.PublicURL, "/"),
		log:       cfg.Logger,
		now:       cfg.Now,
		mux:       http.NewServeMux(),
		disk:      cfg.Disk,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.keys = s.store
	if cfg.KeyCacheTTL > 0 {
		s.keys = apikey.NewCache(s.store, cfg.KeyCacheTTL, maxCachedKeys, s.now)
	}
	s.routes()
	s.handler = s.observe(cleanPathsOnly(s.mux))
	return s, nil
}

func (s *Server) serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	writeRawJSON(w, http.StatusOK, s.document)
}

// ServeHTTP sends every request through the common middleware and the routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// cleanPathsOnly answers 404 for a path with "..", "." or "//": ServeMux
// would redirect it to its clean form, which a client may follow with its
// POST body, but such a path names nothing.
func cleanPathsOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; path.Clean(p) != p {
			writeProblems(w, []*ssod.Error{ssod.Errorf(ssod.ENotFound, "no such path")})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Package console serves ssod's web console under /console/: server-rendered
// HTML pages (html/template, assets embedded in the binary) to set SSO up,
// sign in with it, and read why a sign-in failed. Every change goes through
// the domain's validation and the same store calls the API makes, as the
// session's teammate or key, with its scopes.
package console

import (
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/idpmeta"
	"github.com/ssod/ssod/outbound"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Prefix is where the console's pages are; home is its front page. The API
// refuses paths that end in "/" (they are not clean), so home has none.
const (
	Prefix = "/console/"
	home   = "/console"
)

// Defaults of the session timeouts (ssod serve --console-idle-timeout and
// --console-session-lifetime).
const (
	DefaultIdleTimeout = 30 * time.Minute
	DefaultLifetime    = 12 * time.Hour
)

// Config is what the console needs.
type Config struct {
	Store ssod.Store
	// PublicURL is the base of the SAML URLs shown for integrations; an
	// https one also makes the cookies Secure.
	PublicURL string
	// Now is the clock; time.Now when nil.
	Now    func() time.Time
	Logger *slog.Logger
	// IdleTimeout ends a session unused this long; Lifetime ends any
	// session this long after sign-in.
	IdleTimeout time.Duration
	Lifetime    time.Duration
	// Metadata reads IdP metadata for the import form, as the API does;
	// nil reads it under the default, public-only outbound policy.
	Metadata *idpmeta.Importer
}

// Console is the console's http.Handler. It also finishes the SSO sign-ins
// it started, when the API's Assertion Consumer Service has verified them
// (SignedIn).
type Console struct {
	store     ssod.Store
	publicURL string
	secure    bool
	now       func() time.Time
	log       *slog.Logger
	idle      time.Duration
	lifetime  time.Duration
	metadata  *idpmeta.Importer
	pages     map[string]*template.Template
	mux       *http.ServeMux
}

// New returns the console for cfg.
func New(cfg Config) (*Console, error) {
	c := &Console{
		store:     cfg.Store,
		publicURL: strings.TrimRight(cfg.PublicURL, "/"),
		secure:    strings.HasPrefix(cfg.PublicURL, "https://"),
		now:       cfg.Now,
		log:       cfg.Logger,
		idle:      cfg.IdleTimeout,
		lifetime:  cfg.Lifetime,
		mux:       http.NewServeMux(),
		metadata:  cfg.Metadata,
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.idle <= 0 {
		c.idle = DefaultIdleTimeout
	}
	if c.lifetime <= 0 {
		c.lifetime = DefaultLifetime
	}
	if c.metadata == nil {
		c.metadata = idpmeta.New(c.store, outbound.New(outbound.Policy{}), c.now, c.log)
	}
	var err error
	if c.pages, err = parsePages(); err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	c.routes()
	return c, nil
}

// parsePages parses each page template together with the layout.
func parsePages() (map[string]*template.Template, error) {
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/partials.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, name := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(name, "templates/"), ".html")
		if base == "layout" || base == "partials" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFiles, name)
		if err != nil {
			return nil, err
		}
		pages[base] = t
	}
	return pages, nil
}

// ServeHTTP serves the console's pages, with headers that keep them out of
// frames and caches and let them load only their own assets.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	c.mux.ServeHTTP(w, r)
}

// actorContext is ctx carrying the session's actor, so the stores' audit
// trail records who made each change.
func actorContext(ctx context.Context, s *session) context.Context {
	return ssod.WithActor(ctx, ssod.Actor{AccountID: s.AccountID, KeyID: s.actorName()})
}

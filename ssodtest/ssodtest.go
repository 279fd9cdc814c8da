// Package ssodtest starts a whole ssod inside a Go test, as net/http/httptest
// starts a server: an in-memory database, a loopback port, test mode on, and
// everything closed when the test ends. Each Server is separate from every
// other, so tests that each start one may run in parallel.
//
//	srv := ssodtest.New(t, ssodtest.Options{})
//	req := sendgrid.GetRequest(srv.Key, "/v3/sso/integrations", srv.URL)
package ssodtest

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/apikey"
	"github.com/ssod/ssod/httpapi"
	"github.com/ssod/ssod/ratelimit"
	"github.com/ssod/ssod/readcache"
	"github.com/ssod/ssod/sqlite"
	"github.com/ssod/ssod/testmode"
)

// Options configures a Server. The zero value is a server with one account,
// "main", and the default rate limit.
type Options struct {
	// Seed is the path of a seed file (README, "Seed file"), applied at
	// start and by every Reset; "" starts with the account "main" only.
	Seed string
	// RateLimit is the budget per key as `ssod serve --rate-limit` takes it:
	// "600/60s" (the default when empty), or "off".
	RateLimit string
}

// Server is a running ssod in test mode.
type Server struct {
	// URL is the base URL, http://127.0.0.1:PORT, with no trailing slash.
	URL string
	// Key is an API key with every scope for the seed's first account (or
	// "main"). It survives Reset.
	Key string

	t       testing.TB
	account string
	store   ssod.Store
	mode    *testmode.Mode
	api     *httpapi.Server

	mu   sync.Mutex
	seed *ssod.Seed // what Reset puts back: the seed, Key and NewKey's keys

	closeOnce sync.Once
	closers   []func() // in the order to run
}

// Close stops the server and frees its database. t.Cleanup calls it; a
// second call does nothing.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		for _, c := range s.closers {
			c()
		}
	})
}

// New starts a Server for the test, closed by t.Cleanup. It fails the test
// if ssod cannot start (a bad seed file, say).
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := start(t, opts)
	t.Cleanup(s.Close)
	if err != nil {
		t.Fatalf("ssodtest: %v", err)
	}
	return s
}

// start returns the Server, to be closed, even when it fails part way.
func start(t testing.TB, opts Options) (*Server, error) {
	ctx := context.Background()
	s := &Server{t: t}
	limits := ratelimit.Default
	if opts.RateLimit != "" {
		var err error
		if limits, err = ratelimit.ParseConfig(opts.RateLimit); err != nil {
			return s, err
		}
	}
	seed := &ssod.Seed{}
	if opts.Seed != "" {
		var err error
		if seed, err = loadSeed(opts.Seed); err != nil {
			return s, err
		}
	}
	key, err := s.addKey(seed, ssod.AllScopes(), "ssodtest")
	if err != nil {
		return s, err
	}
	s.Key, s.seed = key, seed

	raw, err := sqlite.Open(ctx, sqlite.Memory)
	if err != nil {
		return s, err
	}
	s.closers = append(s.closers, func() { raw.Close() })
	s.store = readcache.New(raw, 4_000)
	seededAt := time.Now().Unix() // and at every Reset, which is then exactly the start
	if err := s.store.ApplySeed(ctx, seed, seededAt); err != nil {
		return s, err
	}
	s.mode = testmode.New(testmode.Options{ResetStore: func(ctx context.Context) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.store.ResetTo(ctx, s.seed, seededAt)
	}})
	var limiter ratelimit.Limiter
	if limits.Enabled() {
		limiter = ratelimit.NewMemory(limits, s.mode.Clock.Now)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return s, err
	}
	s.URL = "http://" + ln.Addr().String()
	s.api, err = httpapi.NewServer(httpapi.Config{
		Store: s.store, Limiter: limiter, PublicURL: s.URL, KeyCacheTTL: 5 * time.Second,
		Logger: slog.New(slog.DiscardHandler), Now: s.mode.Clock.Now, TestMode: s.mode,
	})
	if err != nil {
		ln.Close()
		return s, err
	}
	srv := &http.Server{Handler: s.api, ReadHeaderTimeout: 10 * time.Second, DisableGeneralOptionsHandler: true}
	go func() { _ = srv.Serve(ln) }()
	// The HTTP server closes first, then the database under it.
	s.closers = append([]func(){func() { _ = srv.Close() }}, s.closers...)
	return s, nil
}

// addKey adds a new key with scopes to seed, for the seed's first account
// (adding "main" to a seed without accounts), returning the key.
func (s *Server) addKey(seed *ssod.Seed, scopes []ssod.Scope, name string) (string, error) {
	if len(seed.Accounts) == 0 {
		seed.Accounts = append(seed.Accounts, ssod.SeedAccount{Name: "main"})
	}
	if s.account == "" {
		s.account = seed.Accounts[0].Name
	}
	plaintext, id, hash, err := apikey.New()
	if err != nil {
		return "", err
	}
	seed.Keys = append(seed.Keys, ssod.SeedKey{Account: s.account, ID: id, SecretHash: hash, Name: name, Scopes: scopes})
	return plaintext, nil
}

// NewKey returns a new API key with the given scopes (every scope when none
// are given) for the same account as Key. Like Key, it survives Reset.
func (s *Server) NewKey(scopes ...string) string {
	s.t.Helper()
	list := ssod.AllScopes()
	if len(scopes) > 0 {
		var err error
		if list, err = ssod.ParseScopes(strings.Join(scopes, ",")); err != nil {
			s.t.Fatalf("ssodtest: NewKey: %v", err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	next := *s.seed
	next.Keys = slices.Clone(next.Keys)
	key, err := s.addKey(&next, list, "ssodtest")
	if err == nil {
		// Applying the grown seed adds only the new key: every other entry
		// is already there with the same values, or was changed by the test.
		added := next.Keys[len(next.Keys)-1]
		err = s.store.ApplySeed(context.Background(), &ssod.Seed{Accounts: []ssod.SeedAccount{{Name: s.account}}, Keys: []ssod.SeedKey{added}}, time.Now().Unix())
	}
	if err != nil {
		s.t.Fatalf("ssodtest: NewKey: %v", err)
	}
	s.seed = &next
	return key
}

// Reset puts the server back to its start (POST /_ssod/reset): the seed's
// objects and ids, Key and NewKey's keys, whole rate-limit budgets, empty
// caches and journal, no faults, the system clock.
func (s *Server) Reset() {
	s.t.Helper()
	if err := s.api.ResetTestMode(context.Background()); err != nil {
		s.t.Fatalf("ssodtest: Reset: %v", err)
	}
}

// Request is one request the server received, as GET /_ssod/requests shows
// it.
type Request struct {
	Time   time.Time
	Method string
	Path   string
	Query  string
	// Header holds each header's values joined by ", "; an API key appears
	// as "Bearer SG.<key id>.***".
	Header    map[string]string
	Body      string // the first 64 KiB
	Status    int
	RequestID string
}

// Requests returns the requests received since the start, the last Reset or
// ClearRequests, oldest first, whose method is method and whose path
// matches path (a literal path or a route pattern such as
// "/v3/sso/certificates/{cert_id}"); "" matches any.
func (s *Server) Requests(method, path string) []Request {
	entries := s.mode.Journal.List(method, path)
	out := make([]Request, len(entries))
	for i, e := range entries {
		out[i] = Request{Time: e.Time, Method: e.Method, Path: e.Path, Query: e.Query, Header: e.Headers,
			Body: e.Body, Status: e.Status, RequestID: e.RequestID}
	}
	return out
}

// ClearRequests empties the journal.
func (s *Server) ClearRequests() { s.mode.Journal.Clear() }

// Fault makes the next Times requests matching Method and Path answer
// Status (429, 500 or 503, with the API's error array; 0 answers as the API
// would) after Delay.
type Fault struct {
	Method string
	Path   string // a literal path or a route pattern
	Status int
	Times  int // 1 when 0
	Delay  time.Duration
}

// Fault activates f (POST /_ssod/faults), failing the test if f is invalid.
func (s *Server) Fault(f Fault) {
	s.t.Helper()
	if f.Times == 0 {
		f.Times = 1
	}
	_, err := s.mode.Faults.Add(testmode.Fault{Method: f.Method, Path: f.Path, Status: f.Status, Times: f.Times, Delay: f.Delay})
	if err != nil {
		var es ssod.Errors
		if errors.As(err, &es) {
			err = errors.Join(errorsOf(es)...)
		}
		s.t.Fatalf("ssodtest: Fault: %v", err)
	}
}

func errorsOf(es ssod.Errors) []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = errors.New(e.Message)
	}
	return out
}

// ClearFaults removes every active fault.
func (s *Server) ClearFaults() { s.mode.Faults.Clear() }

// SetClock stops the server's clock at now (POST /_ssod/clock).
func (s *Server) SetClock(now time.Time) { s.mode.Clock.Set(now) }

// Advance moves the server's clock by d and stops it there, returning the
// new time.
func (s *Server) Advance(d time.Duration) time.Time { return s.mode.Clock.Advance(d) }

// Now is the server's clock.
func (s *Server) Now() time.Time { return s.mode.Clock.Now() }

// SystemClock returns the server to the system's clock.
func (s *Server) SystemClock() { s.mode.Clock.Release() }

package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/apikey"
	"github.com/ssod/ssod/console"
	"github.com/ssod/ssod/expirywebhook"
	"github.com/ssod/ssod/httpapi"
	"github.com/ssod/ssod/idpmeta"
	"github.com/ssod/ssod/outbound"
	"github.com/ssod/ssod/ratelimit"
	"github.com/ssod/ssod/seed"
	"github.com/ssod/ssod/testmode"
)

// Timeouts that keep a slow or idle client from holding a connection.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 120 * time.Second
	shutdownTimeout   = 20 * time.Second
	// logFlushInterval bounds how long an access-log line may wait in the
	// buffer; warnings and errors are written at once.
	logFlushInterval = 200 * time.Millisecond
)

// gcPercent replaces Go's default GOGC of 100 unless GOGC is set. ssod's
// live heap is small and bounded (its caches have fixed sizes), so letting
// it grow to 4x live between collections costs little memory (about 7 MiB
// at 1,000 certificates, 13 MiB at 1,000,000) and saves GC work on every
// request: about 5% more GETs per second (BENCHMARKS.md).
const gcPercent = 300

// expiryInterval is how often each instance looks for expiry events and
// due deliveries: twice a minute, so a first retry (30 s after a failure)
// goes out within a minute.
const expiryInterval = 30 * time.Second

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flagSet("serve")
	addr := envString(fs, getenv, "addr", "SSOD_ADDR", "localhost:8080", "address to listen on")
	dsn := dbFlag(fs, getenv)
	publicURL := envString(fs, getenv, "public-url", "SSOD_PUBLIC_URL", "", "base URL the IdP reaches ssod at (default http://ADDR)")
	redisURL := envString(fs, getenv, "redis", "SSOD_REDIS", "", "redis://HOST:PORT/DB: share rate-limit budgets between instances")
	rateLimit := envString(fs, getenv, "rate-limit", "SSOD_RATE_LIMIT", ratelimit.Default.String(), "requests per key per window, N/DURATION or off")
	logFormat := envString(fs, getenv, "log-format", "SSOD_LOG_FORMAT", "text", "log format: text or json")
	logLevel := envString(fs, getenv, "log-level", "SSOD_LOG_LEVEL", "info", "log level: debug, info, warn or error")
	tlsCert := envString(fs, getenv, "tls-cert", "SSOD_TLS_CERT", "", "PEM certificate file: serve HTTPS (with --tls-key)")
	tlsKey := envString(fs, getenv, "tls-key", "SSOD_TLS_KEY", "", "PEM private key file for --tls-cert")
	keyCacheTTL := fs.Duration("key-cache-ttl", 5*time.Second, "how long a looked-up API key is trusted before the database is asked again (0: always ask); a revocation takes this long to bite")
	headerTimeout := fs.Duration("header-timeout", readHeaderTimeout, "how long a client may take to send its request headers")
	redisTimeout := fs.Duration("redis-timeout", ratelimit.DefaultRedisTimeout, "how long a request waits for Redis before it is let through uncounted")
	testMode := fs.Bool("test-mode", false, "serve the /_ssod/ paths for test suites (reset, request journal, faults, clock), without an API key; loopback addresses only")
	testModeAnyAddress := fs.Bool("test-mode-any-address", false, "allow --test-mode on an address that is not loopback")
	minFreeDisk := envString(fs, getenv, "min-free-disk", "SSOD_MIN_FREE_DISK", "64MiB", "SQLite: /readyz answers 503 while the database's file system has less free space (0: no check)")
	seedPath := envString(fs, getenv, "seed", "SSOD_SEED", "", "JSON seed file: accounts, keys, integrations, certificates and teammates to create at start (idempotently), in place of the first-start key")
	samlSkew := envString(fs, getenv, "saml-clock-skew", "SSOD_SAML_CLOCK_SKEW", defaultSAMLSkew.String(), "clock difference tolerated with IdPs in SAML validity times, 0 to 1h")
	samlSHA1 := envString(fs, getenv, "saml-allow-sha1", "SSOD_SAML_ALLOW_SHA1", "false", "accept SAML signatures and digests with SHA-1 (true or false)")
	samlRateLimit := envString(fs, getenv, "saml-rate-limit", "SSOD_SAML_RATE_LIMIT", defaultSAMLRateLimit, "requests per client address per window on the public SAML paths, N/DURATION or off")
	allowPrivateURLs := fs.Bool("allow-private-urls", false, "let tenant-given URLs (expiry webhooks, IdP metadata) be http or reach loopback, private and link-local addresses: for tests and private networks only")
	metadataRefresh := fs.Duration("metadata-refresh", 12*time.Hour, "how often the IdP metadata URLs of integrations are read again (at least 1m)")
	consoleOn := fs.Bool("console", true, "serve the web console under /console (false: API only)")
	consoleIdle := fs.Duration("console-idle-timeout", console.DefaultIdleTimeout, "a console session unused this long ends")
	consoleLifetime := fs.Duration("console-session-lifetime", console.DefaultLifetime, "a console session ends this long after sign-in, used or not")
	trustedProxies := envString(fs, getenv, "trusted-proxies", "SSOD_TRUSTED_PROXIES", "", "comma-separated addresses or CIDRs of proxies whose X-Forwarded-For names the client (for --saml-rate-limit)")
	if rest, err := parseArgs(fs, args, stdout); err != nil {
		return err
	} else if len(rest) > 0 {
		return fmt.Errorf("serve: unexpected argument %q", rest[0])
	}
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	logs := newLogWriter(stderr, logFlushInterval)
	defer logs.Close()
	logger, err := newLogger(logs, *logFormat, *logLevel)
	if err != nil {
		return err
	}
	limits, err := ratelimit.ParseConfig(*rateLimit)
	if err != nil {
		return err
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return errors.New("serve: --tls-cert and --tls-key go together")
	}
	var tlsConfig *tls.Config
	if *tlsCert != "" {
		// Loaded now, not by ServeTLS, so that bad files stop the start
		// before anything else happens.
		pair, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey)
		if err != nil {
			return fmt.Errorf("--tls-cert %s, --tls-key %s: %w", *tlsCert, *tlsKey, err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{pair}}
	}
	if *publicURL != "" {
		if err := checkPublicURL(*publicURL); err != nil {
			return err
		}
	}
	if *testMode && *redisURL != "" {
		return errTestModeRedis
	}
	db, err := parseDatabase("--db", *dsn)
	if err != nil {
		return err
	}
	minFree, err := parseSize(*minFreeDisk)
	if err != nil {
		return fmt.Errorf("--min-free-disk: %w", err)
	}
	if *metadataRefresh < time.Minute {
		return fmt.Errorf("--metadata-refresh %s: want at least 1m", *metadataRefresh)
	}
	samlCfg, samlLimits, err := parseSAMLFlags(*samlSkew, *samlSHA1, *samlRateLimit, *trustedProxies)
	if err != nil {
		return err
	}
	var sd *ssod.Seed
	if *seedPath != "" {
		// Read and checked in full before listening: a bad seed file leaves
		// no database behind, and nothing of it is written.
		if sd, err = seed.Load(*seedPath); err != nil {
			return err
		}
	}

	// Listen before touching the database, so that a busy port leaves no
	// new database file and no first-start key behind.
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close() // for the returns before Serve owns it
	if *testMode {
		if err := checkTestModeAddr(ln.Addr(), *testModeAnyAddress); err != nil {
			return err
		}
	}
	if db.path != "" && !db.memory {
		release, err := lockDatabase(db.path)
		if err != nil {
			return fmt.Errorf("--db %w", err)
		}
		defer release()
	}
	raw, err := db.open(ctx, true)
	if err != nil {
		return err
	}
	defer raw.Close()
	store, stopCache := withReadCache(raw, logger)
	defer stopCache()
	var firstKey *ssod.APIKey
	// seededAt is the last_updated of what the seed creates, now and at
	// every test-mode reset, which is then exactly the start again.
	seededAt := time.Now().Unix()
	if sd != nil {
		if err := store.ApplySeed(ctx, sd, seededAt); err != nil {
			var e *ssod.Error
			if errors.As(err, &e) {
				err = errors.New(e.Message) // names the entry and the field; the code adds nothing here
			}
			return fmt.Errorf("seed file %s: %w", *seedPath, err)
		}
	} else if firstKey, err = firstStart(ctx, store, stderr); err != nil {
		return err
	}

	scheme := "http"
	if *tlsCert != "" {
		scheme = "https"
	}
	if *publicURL == "" {
		*publicURL = scheme + "://" + ln.Addr().String()
	}
	// now is the clock of everything that reads time while serving: the
	// system's, or test mode's settable one.
	now := time.Now
	var mode *testmode.Mode
	if *testMode {
		if sd == nil {
			sd = &ssod.Seed{}
		}
		mode = testmode.New(testmode.Options{ResetStore: resetStore(store, withFirstStartKey(sd, firstKey, firstAccount), seededAt)})
		now = mode.Clock.Now
	}
	limiter, closeLimiter, err := newLimiter(ctx, limits, *redisURL, "ssod:ratelimit:", *redisTimeout, logger, now)
	if err != nil {
		return err
	}
	defer closeLimiter()
	// The public SAML paths have budgets of their own, per client address,
	// on the same Redis connection when there is one.
	if rl, ok := limiter.(*ratelimit.Redis); ok && samlLimits.Enabled() {
		samlCfg.Limiter = rl.Budget(samlLimits, samlRedisPrefix)
	} else {
		samlCfg.Limiter, closeLimiter, err = newLimiter(ctx, samlLimits, *redisURL, samlRedisPrefix, *redisTimeout, logger, now)
		if err != nil {
			return err
		}
		defer closeLimiter()
	}
	outboundClient := outbound.New(outbound.Policy{AllowPrivate: *allowPrivateURLs})
	// One importer for the API, the console and the refresh loop.
	importer := idpmeta.New(store, outboundClient, now, logger)
	notifier := expirywebhook.New(store, outboundClient, logger)
	var con httpapi.Console
	if *consoleOn {
		c, err := console.New(console.Config{Store: store, PublicURL: *publicURL, Now: now, Logger: logger,
			Metadata:    importer,
			IdleTimeout: *consoleIdle, Lifetime: *consoleLifetime})
		if err != nil {
			return err
		}
		con = c
	}
	api, err := httpapi.NewServer(httpapi.Config{
		Store:       store,
		Limiter:     limiter,
		PublicURL:   *publicURL,
		Logger:      logger,
		KeyCacheTTL: *keyCacheTTL,
		Disk:        diskCheck(db, minFree),
		Now:         now,
		TestMode:    mode,
		SAML:        samlCfg,
		Outbound:    outboundClient,
		Metadata:    importer,
		Collectors:  []prometheus.Collector{notifier.Collector()},
		Console:     con,
	})
	if err != nil {
		return err
	}
	// Scheduled IdP metadata refreshes run beside the server until shutdown
	// begins; an import under way finishes its transaction first.
	refreshCtx, stopRefresh := context.WithCancel(ctx)
	refreshed := make(chan struct{})
	go func() {
		defer close(refreshed)
		importer.Run(refreshCtx, *metadataRefresh)
	}()
	defer func() { stopRefresh(); <-refreshed }()
	srv := &http.Server{
		Handler:           api,
		ReadHeaderTimeout: *headerTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		// "OPTIONS *" goes to the API, which gives it the headers every
		// response carries; net/http's own answer has none of them.
		DisableGeneralOptionsHandler: true,
		TLSConfig:                    tlsConfig,
	}
	logger.Info("ssod listening", "addr", ln.Addr().String(), "scheme", scheme, "public_url", *publicURL, "rate_limit", limits.String(), "saml_rate_limit", samlLimits.String(), "shared_rate_limit", *redisURL != "", "test_mode", *testMode)
	_ = logs.Flush() // operators and scripts wait for this line

	// Expiry events are found and sent by every instance (the store keeps
	// each event to one delivery), on a tick and, in test mode, as soon as
	// the clock moves; stopped before the store closes.
	var clockMoved <-chan struct{}
	if mode != nil {
		ch, unwatch := mode.Clock.Watch()
		defer unwatch()
		clockMoved = ch
	}
	notifyCtx, stopNotifier := context.WithCancel(context.WithoutCancel(ctx))
	notifierDone := make(chan struct{})
	go func() {
		defer close(notifierDone)
		notifier.Run(notifyCtx, expiryInterval, now, clockMoved)
	}()
	defer func() {
		stopNotifier()
		<-notifierDone
	}()

	served := make(chan error, 1)
	go func() {
		if tlsConfig != nil {
			served <- srv.ServeTLS(ln, "", "")
		} else {
			served <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("ssod shutting down: finishing in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	logger.Info("ssod stopped")
	return nil
}

// diskCheck is the readiness check of the disk under a SQLite file, or nil
// where there is none to make: PostgreSQL watches its own disk, and memory is
// not on one.
func diskCheck(db database, minFree uint64) *httpapi.DiskCheck {
	if db.path == "" || db.memory || minFree == 0 || !canCheckDisk {
		return nil
	}
	path := db.path
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real // the file system of the file itself, not of a link to it
	}
	dir := filepath.Dir(path)
	return &httpapi.DiskCheck{Min: minFree, Free: func() (uint64, error) { return freeDisk(dir) }}
}

// parseSize reads a byte count such as 64MiB, 1GiB or 0: a whole number with
// an optional unit B, KiB, MiB, GiB or TiB.
func parseSize(s string) (uint64, error) {
	units := []struct {
		suffix string
		shift  uint
	}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}}
	num, shift := s, uint(0)
	for _, u := range units {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			num, shift = n, u.shift
			break
		}
	}
	n, err := strconv.ParseUint(strings.TrimSpace(num), 10, 64)
	if err != nil || n > math.MaxUint64>>shift {
		return 0, fmt.Errorf("%q: want a size such as 64MiB, 1GiB or 0", s)
	}
	return n << shift, nil
}

// checkPublicURL refuses a --public-url that the SAML URLs cannot be built
// on: IdPs and browsers are sent to it, so it must be an absolute http(s)
// URL with a host, to which a path can be appended.
func checkPublicURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("--public-url %q: %w", s, err)
	}
	var problem string
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		problem = "want an absolute http:// or https:// URL"
	case u.Host == "" || u.Hostname() == "":
		problem = "want a host"
	case u.User != nil:
		problem = "want no user or password in it"
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(s, "#"):
		problem = "want no query or fragment: paths are appended to it"
	case strings.HasSuffix(u.Host, ":") || (u.Port() != "" && !validPort(u.Port())):
		problem = "want a port from 1 to 65535"
	default:
		return nil
	}
	return fmt.Errorf("--public-url %q: %s, such as https://sso.example.com", s, problem)
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535 && p[0] != '+'
}

func newLogger(lw *logWriter, format, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(urgentFlush{slog.NewTextHandler(lw, opts), lw}), nil
	case "json":
		return slog.New(urgentFlush{slog.NewJSONHandler(lw, opts), lw}), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

// firstStart gives an empty database the account "main" and one full-scope
// key, printed once, so the quick start needs no other step. It returns the
// key it created, or nil.
func firstStart(ctx context.Context, store ssod.Store, stderr io.Writer) (*ssod.APIKey, error) {
	if exists, err := store.HasAccounts(ctx); err != nil || exists {
		return nil, err
	}
	acct, err := store.CreateAccount(ctx, firstAccount, 0, time.Now().Unix())
	if ssod.CodeOf(err) == ssod.EConflict {
		return nil, nil // another instance started first
	}
	if err != nil {
		return nil, fmt.Errorf("first start: %w", err)
	}
	plaintext, key, err := newKey(ctx, store, acct.ID, ssod.AllScopes(), "first-start key")
	if err != nil {
		return nil, fmt.Errorf("first start: %w", err)
	}
	fmt.Fprintf(stderr, "ssod: new database: created account \"main\" and this API key with every scope (shown once; keep it):\n%s\n", plaintext)
	return key, nil
}

// firstAccount is the account a first start creates.
const firstAccount = "main"

// createKey makes and stores a key, returning its plaintext.
func createKey(ctx context.Context, store ssod.Store, accountID int64, scopes []ssod.Scope, name string) (string, error) {
	plaintext, _, err := newKey(ctx, store, accountID, scopes, name)
	return plaintext, err
}

// newKey makes and stores a key, returning its plaintext and what is stored.
func newKey(ctx context.Context, store ssod.Store, accountID int64, scopes []ssod.Scope, name string) (string, *ssod.APIKey, error) {
	plaintext, id, hash, err := apikey.New()
	if err != nil {
		return "", nil, err
	}
	key := ssod.APIKey{ID: id, AccountID: accountID, Name: name, Scopes: scopes, SecretHash: hash, CreatedAt: time.Now().Unix()}
	if err := store.CreateKey(ctx, key); err != nil {
		return "", nil, fmt.Errorf("create key: %w", err)
	}
	return plaintext, &key, nil
}

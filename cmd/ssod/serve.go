package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/apikey"
	"github.com/ssod/ssod/httpapi"
	"github.com/ssod/ssod/ratelimit"
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

func serve(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	fs := flagSet("serve", stderr)
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
	if rest, err := parseArgs(fs, args); err != nil {
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

	store, err := openStore(ctx, *dsn)
	if err != nil {
		return err
	}
	defer store.Close()
	store, stopCache := withReadCache(store, logger)
	defer stopCache()
	if err := firstStart(ctx, store, stderr); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	scheme := "http"
	if *tlsCert != "" {
		scheme = "https"
	}
	if *publicURL == "" {
		*publicURL = scheme + "://" + ln.Addr().String()
	}
	var limiter ratelimit.Limiter
	switch {
	case limits.Enabled() && *redisURL != "":
		ratelimit.LogRedisTo(logger)
		// A Redis that is down at start is an outage like any later one:
		// serve, warn once, and let requests through until it answers.
		rl, err := ratelimit.NewRedis(ctx, limits, ratelimit.RedisOptions{
			URL: *redisURL, Prefix: "ssod:ratelimit:", Timeout: *redisTimeout, Logger: logger, Now: time.Now,
		})
		if err != nil {
			return err
		}
		defer rl.Close()
		limiter = rl
	case limits.Enabled():
		limiter = ratelimit.NewMemory(limits, time.Now)
	}
	api, err := httpapi.NewServer(httpapi.Config{
		Store:       store,
		Limiter:     limiter,
		PublicURL:   *publicURL,
		Logger:      logger,
		KeyCacheTTL: *keyCacheTTL,
	})
	if err != nil {
		return err
	}
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
	}
	logger.Info("ssod listening", "addr", ln.Addr().String(), "scheme", scheme, "public_url", *publicURL, "rate_limit", limits.String(), "shared_rate_limit", *redisURL != "")
	_ = logs.Flush() // operators and scripts wait for this line

	served := make(chan error, 1)
	go func() {
		if *tlsCert != "" {
			served <- srv.ServeTLS(ln, *tlsCert, *tlsKey)
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
// key, printed once, so the quick start needs no other step.
func firstStart(ctx context.Context, store ssod.Store, stderr io.Writer) error {
	if exists, err := store.HasAccounts(ctx); err != nil || exists {
		return err
	}
	acct, err := store.CreateAccount(ctx, "main", 0, time.Now().Unix())
	if ssod.CodeOf(err) == ssod.EConflict {
		return nil // another instance started first
	}
	if err != nil {
		return fmt.Errorf("first start: %w", err)
	}
	key, err := createKey(ctx, store, acct.ID, ssod.AllScopes(), "first-start key")
	if err != nil {
		return fmt.Errorf("first start: %w", err)
	}
	fmt.Fprintf(stderr, "ssod: new database: created account \"main\" and this API key with every scope (shown once; keep it):\n%s\n", key)
	return nil
}

// createKey makes and stores a key, returning its plaintext.
func createKey(ctx context.Context, store ssod.Store, accountID int64, scopes []ssod.Scope, name string) (string, error) {
	plaintext, id, hash, err := apikey.New()
	if err != nil {
		return "", err
	}
	err = store.CreateKey(ctx, ssod.APIKey{
		ID: id, AccountID: accountID, Name: name, Scopes: scopes, SecretHash: hash, CreatedAt: time.Now().Unix(),
	})
	if err != nil {
		return "", fmt.Errorf("create key: %w", err)
	}
	return plaintext, nil
}

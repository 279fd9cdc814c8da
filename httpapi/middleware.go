package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/apikey"
)

// caller is who a request acts as once authenticated.
type caller struct {
	Key *ssod.APIKey
	// AccountID is the account whose objects the request reads and writes:
	// the key's own, or the subuser named by On-Behalf-Of.
	AccountID int64
}

// apiHandler serves an authenticated request. A returned error is sent as
// the contract's error array; the handler writes nothing in that case.
type apiHandler func(w http.ResponseWriter, r *http.Request, c caller) error

// requestInfo is filled in as a request travels, for the access log line.
type requestInfo struct {
	id        string
	accountID int64
	keyID     string
	// clientGone is set when the client left before its answer was sent.
	clientGone bool
}

type infoKey struct{}

func infoFrom(ctx context.Context) *requestInfo {
	if ri, ok := ctx.Value(infoKey{}).(*requestInfo); ok {
		return ri
	}
	return &requestInfo{}
}

// statusWriter remembers the status a handler sent.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Header values every response carries, shared rather than allocated per
// request: net/http only reads them, and Set or Add replace the slice.
var (
	noStore         = []string{"no-store"}
	noSniff         = []string{"nosniff"}
	contentTypeJSON = []string{"application/json; charset=utf-8"}
)

// observe gives every response its request id and the contract's headers,
// turns a panic into a 500, and logs one line per request.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ri := &requestInfo{id: newRequestID()}
		h := w.Header()
		h["X-Request-Id"] = []string{ri.id}
		h["Cache-Control"] = noStore
		h["X-Content-Type-Options"] = noSniff
		sw := &statusWriter{ResponseWriter: w}
		r = r.WithContext(context.WithValue(r.Context(), infoKey{}, ri))
		defer func() {
			v := recover()
			abort := v == http.ErrAbortHandler
			if v != nil && !abort {
				s.log.ErrorContext(r.Context(), "panic serving request", "request_id", ri.id, "panic", fmt.Sprint(v))
				if sw.status == 0 {
					writeProblems(sw, ssod.ProblemsOf(errors.New("panic")))
				}
			}
			status := sw.status
			if ri.clientGone && status == 0 {
				status, abort = statusClientClosed, true
			}
			took := time.Since(start)
			route := routeOf(r)
			s.metrics.observe(route, r.Method, status, took)
			// LogAttrs with typed attributes: this line is written for every
			// request, so it skips slog's key-value boxing.
			s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
				slog.String("method", r.Method),
				slog.String("route", route),
				slog.Int("status", status),
				slog.Float64("duration_ms", float64(took.Microseconds())/1000),
				slog.String("request_id", ri.id),
				slog.Int64("account_id", ri.accountID),
				slog.String("key_id", ri.keyID),
			)
			if abort {
				// net/http closes the connection without a response, rather
				// than the empty 200 it sends for a handler that wrote nothing.
				panic(http.ErrAbortHandler)
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

// statusClientClosed is the status recorded for a request whose client
// went away before its answer: nginx's "client closed request". It is never
// sent.
const statusClientClosed = 499

// routeOf is the matched pattern, never the raw path, so that no id or
// probe string reaches a log or metric label.
func routeOf(r *http.Request) string {
	if r.Pattern == "" || r.Pattern == "/" {
		return "unmatched"
	}
	return r.Pattern
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// authorize runs the contract's checks in its order: key (401), rate limit
// (429), scope (403), On-Behalf-Of (403); then the handler.
func (s *Server) authorize(scope ssod.Scope, h apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		ri := infoFrom(ctx)
		key, err := s.authenticate(ctx, r.Header.Values("Authorization"))
		if ssod.CodeOf(err) == ssod.EUnauthorized {
			s.metrics.authFails.Inc()
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		ri.keyID, ri.accountID = key.ID, key.AccountID
		if err := s.limit(ctx, w, key.ID); err != nil {
			s.fail(w, r, err)
			return
		}
		if !key.HasScope(scope) {
			s.fail(w, r, ssod.Errorf(ssod.EForbidden, "this API key lacks the scope %s", scope))
			return
		}
		// Stores record this actor in the audit trail of every change.
		ctx = ssod.WithActor(ctx, ssod.Actor{AccountID: key.AccountID, KeyID: key.ID})
		r = r.WithContext(ctx)
		c := caller{Key: key, AccountID: key.AccountID}
		// One empty On-Behalf-Of reads as none, as it always has.
		if names := r.Header.Values("On-Behalf-Of"); len(names) > 1 || len(names) == 1 && names[0] != "" {
			if c.AccountID, err = s.subuser(ctx, key.AccountID, names); err != nil {
				s.fail(w, r, err)
				return
			}
			ri.accountID = c.AccountID
		}
		if err := h(w, r, c); err != nil {
			s.fail(w, r, err)
		}
	})
}

var errUnauthorized = ssod.Errorf(ssod.EUnauthorized, "authorization required: send a valid API key as 'Authorization: Bearer <key>'")

var errTwoAuthorizations = ssod.Errorf(ssod.EUnauthorized, "send one Authorization header, not several")

// authenticate returns the active key the Authorization header presents.
// Every failure about the key reads the same, and a wrong secret costs the
// store lookup an unknown id does (apikey.Cache), so neither the answer nor
// its time says much about which key ids exist. Two headers are refused
// rather than one picked: a proxy in front may have checked the other.
func (s *Server) authenticate(ctx context.Context, headers []string) (*ssod.APIKey, error) {
	if len(headers) > 1 {
		return nil, errTwoAuthorizations
	}
	scheme, token, ok := strings.Cut(strings.Join(headers, ""), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, errUnauthorized
	}
	id, secret, ok := apikey.Split(strings.TrimSpace(token))
	if !ok {
		return nil, errUnauthorized
	}
	key, err := s.keys.FindVerified(ctx, id, secret)
	if code := ssod.CodeOf(err); code == ssod.ENotFound || code == ssod.EUnauthorized {
		return nil, errUnauthorized
	}
	if err != nil {
		return nil, storeFailed(fmt.Errorf("authenticate: %w", err))
	}
	if key.RevokedAt != 0 {
		return nil, errUnauthorized
	}
	return key, nil
}

// limit counts the request against the key's budget and sets the
// X-RateLimit headers that every authenticated response carries.
func (s *Server) limit(ctx context.Context, w http.ResponseWriter, keyID string) error {
	if s.limiter == nil {
		return nil
	}
	d, err := s.limiter.Allow(ctx, keyID)
	if err != nil && ctx.Err() != nil {
		return ctx.Err() // the client left; the limiter is not at fault
	}
	if err != nil {
		// A rate limiter that cannot count (Redis down) must not take the
		// API down with it: the request goes through. The limiter warns once
		// per outage; a line per request would bury everything else.
		s.log.DebugContext(ctx, "rate limiter unavailable; request allowed", "request_id", infoFrom(ctx).id, "err", err)
		return nil
	}
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(d.Limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(d.Remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(d.Reset.Unix(), 10))
	if !d.Allowed {
		s.metrics.limited.Inc()
		wait := int64(math.Ceil(d.Reset.Sub(s.now()).Seconds()))
		h.Set("Retry-After", strconv.FormatInt(max(wait, 1), 10))
		return ssod.Errorf(ssod.ERateLimited, "rate limit of %d requests exceeded; retry after %d", d.Limit, d.Reset.Unix())
	}
	return nil
}

// subuser resolves On-Behalf-Of to an account the key's account is parent
// of. Two headers are refused, as for Authorization.
func (s *Server) subuser(ctx context.Context, parentID int64, names []string) (int64, error) {
	if len(names) > 1 {
		return 0, ssod.Errorf(ssod.EForbidden, "send one On-Behalf-Of header, not several")
	}
	name := names[0]
	forbidden := ssod.Errorf(ssod.EForbidden, "On-Behalf-Of must name a subuser of this API key's account")
	if ssod.ValidateAccountName(name) != nil {
		return 0, forbidden
	}
	acct, err := s.store.FindAccountByName(ctx, name)
	if ssod.CodeOf(err) == ssod.ENotFound {
		return 0, forbidden
	}
	if err != nil {
		return 0, storeFailed(fmt.Errorf("on-behalf-of: %w", err))
	}
	if acct.ParentID != parentID {
		return 0, forbidden
	}
	return acct.ID, nil
}

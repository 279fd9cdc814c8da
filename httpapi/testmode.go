package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/apikey"
	"github.com/ssod/ssod/ratelimit"
	"github.com/ssod/ssod/testmode"
)

// testModePrefix is where test mode's own paths live. They take no API key
// and are neither journaled nor subject to faults.
const testModePrefix = "/_ssod/"

// testRoutes registers test mode's paths (README, "Using ssod in your tests").
func (s *Server) testRoutes(r *router) {
	r.public("POST /_ssod/reset", http.HandlerFunc(s.testReset))
	r.public("GET /_ssod/requests", http.HandlerFunc(s.testRequests))
	r.public("DELETE /_ssod/requests", http.HandlerFunc(s.testClearRequests))
	r.public("POST /_ssod/faults", http.HandlerFunc(s.testAddFault))
	r.public("GET /_ssod/faults", http.HandlerFunc(s.testFaults))
	r.public("DELETE /_ssod/faults", http.HandlerFunc(s.testClearFaults))
	r.public("POST /_ssod/clock", http.HandlerFunc(s.testSetClock))
	r.public("GET /_ssod/clock", http.HandlerFunc(s.testClock))
	r.public("DELETE /_ssod/clock", http.HandlerFunc(s.testReleaseClock))
}

// testMode wraps every API request in test mode: it holds the reset gate for
// the whole request, answers an injected fault in place of the API, and
// journals the request with its answer.
func (s *Server) testMode(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, testModePrefix) {
			next.ServeHTTP(w, r)
			return
		}
		s.test.Enter()
		defer s.test.Leave()
		at := s.test.Clock.Now()
		body := &bodyTap{r: r.Body}
		r.Body = body
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			body.drain()
			s.test.Journal.Add(testmode.Entry{
				Time: at, Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
				Headers: journalHeaders(r.Header), Body: body.buf.String(), Status: sw.status,
				RequestID: w.Header().Get("X-Request-Id"),
			})
		}()
		if f, ok := s.test.Faults.Take(r.Method, r.URL.Path); ok {
			if !sleep(r.Context(), f.Delay) {
				infoFrom(r.Context()).clientGone = true
				return
			}
			if f.Status != 0 {
				s.writeFault(sw, f)
				return
			}
		}
		next.ServeHTTP(sw, r)
	})
}

// writeFault answers as the API would with status: a 429 carries the
// headers of a spent budget, whose window ends one second from now by the
// server's clock.
func (s *Server) writeFault(w http.ResponseWriter, f testmode.Fault) {
	switch f.Status {
	case http.StatusTooManyRequests:
		limit := ratelimit.Default.Limit
		if m, ok := s.limiter.(*ratelimit.Memory); ok {
			limit = m.Config().Limit
		}
		reset := s.now().Add(time.Second).Unix()
		h := w.Header()
		h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
		h.Set("X-RateLimit-Remaining", "0")
		h.Set("X-RateLimit-Reset", strconv.FormatInt(reset, 10))
		h.Set("Retry-After", "1")
		writeProblems(w, []*ssod.Error{ssod.Errorf(ssod.ERateLimited, "rate limit of %d requests exceeded; retry after %d", limit, reset)})
	case http.StatusServiceUnavailable:
		writeProblems(w, []*ssod.Error{ssod.Errorf(ssod.EUnavailable, "service unavailable (injected fault %d)", f.ID)})
	default:
		writeProblems(w, []*ssod.Error{ssod.Errorf(ssod.EInternal, "internal server error (injected fault %d)", f.ID)})
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// bodyTap keeps the first testmode.MaxJournalBody bytes of a request body
// as the handler reads it.
type bodyTap struct {
	r   io.ReadCloser
	buf bytes.Buffer
	eof bool
}

func (b *bodyTap) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if room := testmode.MaxJournalBody - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(n, room)])
	}
	if err != nil {
		b.eof = true
	}
	return n, err
}

func (b *bodyTap) Close() error { return b.r.Close() }

// drain reads what the handler left of the body, up to the journal's bound,
// so that the journal shows what the client sent even when the answer came
// before the body was read (a 401, a fault).
func (b *bodyTap) drain() {
	if b.eof {
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(b, int64(testmode.MaxJournalBody-b.buf.Len())+1))
}

// journalHeaders flattens h for the journal, showing an API key as its id
// only: the secret never leaves the request.
func journalHeaders(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for name, values := range h {
		if name == "Authorization" {
			values = redactKeys(values)
		}
		out[name] = strings.Join(values, ", ")
	}
	return out
}

func redactKeys(values []string) []string {
	out := make([]string, len(values))
	for i, v := range values {
		scheme, token, _ := strings.Cut(v, " ")
		if id, _, ok := apikey.Split(strings.TrimSpace(token)); ok {
			out[i] = scheme + " SG." + id + ".***"
		} else {
			out[i] = "***"
		}
	}
	return out
}

// The wire shapes of the /_ssod/ paths.
type (
	journalEntryJSON struct {
		Time      int64             `json:"time"`
		Method    string            `json:"method"`
		Path      string            `json:"path"`
		Query     string            `json:"query"`
		Headers   map[string]string `json:"headers"`
		Body      string            `json:"body"`
		Status    int               `json:"status"`
		RequestID string            `json:"request_id"`
	}
	faultJSON struct {
		ID      int64  `json:"id"`
		Method  string `json:"method"`
		Path    string `json:"path"`
		Status  int    `json:"status"`
		Times   int    `json:"times"`
		DelayMS int64  `json:"delay_ms"`
	}
	clockJSON struct {
		Now int64 `json:"now"`
	}
)

// ResetTestMode is POST /_ssod/reset: the store back to the seed, the
// server's key cache and rate-limit budgets (per key, and per address on the
// SAML paths), journal, faults and clock back to the start. Only a server configured with a TestMode has one.
func (s *Server) ResetTestMode(ctx context.Context) error {
	if s.test == nil {
		return errors.New("httpapi: reset: not in test mode")
	}
	return s.test.Reset(ctx, func() {
		s.keys.Forget()
		for _, l := range []ratelimit.Limiter{s.limiter, s.saml.Limiter} {
			if m, ok := l.(*ratelimit.Memory); ok {
				m.Reset()
			}
		}
	})
}

func (s *Server) testReset(w http.ResponseWriter, r *http.Request) {
	if err := s.ResetTestMode(r.Context()); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) testRequests(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	entries := s.test.Journal.List(q.Get("method"), q.Get("path"))
	out := make([]journalEntryJSON, len(entries))
	for i, e := range entries {
		out[i] = journalEntryJSON{
			Time: e.Time.Unix(), Method: e.Method, Path: e.Path, Query: e.Query,
			Headers: e.Headers, Body: e.Body, Status: e.Status, RequestID: e.RequestID,
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) testClearRequests(w http.ResponseWriter, _ *http.Request) {
	s.test.Journal.Clear()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) testAddFault(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Method  string `json:"method"`
		Path    string `json:"path"`
		Status  int    `json:"status"`
		Times   *int   `json:"times"`
		DelayMS int64  `json:"delay_ms"`
	}
	if err := decodeTestBody(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	times := 1
	if in.Times != nil {
		times = *in.Times
	}
	id, err := s.test.Faults.Add(testmode.Fault{
		Method: in.Method, Path: in.Path, Status: in.Status, Times: times,
		Delay: time.Duration(in.DelayMS) * time.Millisecond,
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, struct {
		ID int64 `json:"id"`
	}{id})
}

func (s *Server) testFaults(w http.ResponseWriter, _ *http.Request) {
	faults := s.test.Faults.List()
	out := make([]faultJSON, len(faults))
	for i, f := range faults {
		out[i] = faultJSON{ID: f.ID, Method: f.Method, Path: f.Path, Status: f.Status, Times: f.Times, DelayMS: f.Delay.Milliseconds()}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) testClearFaults(w http.ResponseWriter, _ *http.Request) {
	s.test.Faults.Clear()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) testSetClock(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Now            *int64 `json:"now"`
		AdvanceSeconds *int64 `json:"advance_seconds"`
	}
	if err := decodeTestBody(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	switch {
	case (in.Now == nil) == (in.AdvanceSeconds == nil):
		s.fail(w, r, ssod.Errorf(ssod.EInvalid, "send one of now (Unix seconds) and advance_seconds"))
		return
	case in.Now != nil && *in.Now <= 0:
		s.fail(w, r, ssod.FieldErrorf(ssod.EInvalid, "now", "now must be a positive number of Unix seconds"))
		return
	case in.Now != nil:
		s.test.Clock.Set(time.Unix(*in.Now, 0))
	default:
		s.test.Clock.Advance(time.Duration(*in.AdvanceSeconds) * time.Second)
	}
	s.testClock(w, r)
}

func (s *Server) testClock(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, clockJSON{Now: s.test.Clock.Now().Unix()})
}

func (s *Server) testReleaseClock(w http.ResponseWriter, _ *http.Request) {
	s.test.Clock.Release()
	w.WriteHeader(http.StatusNoContent)
}

// decodeTestBody reads a test-mode request body into v: one JSON object
// with only v's fields, as the API's own bodies.
func decodeTestBody(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodySize))
	if err != nil {
		return bodyReadError(err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return ssod.Errorf(ssod.EInvalid, "request body must be a JSON object of the documented fields: %v", err)
	}
	return nil
}

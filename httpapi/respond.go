package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/ssod/ssod"
)

// writeJSON sends v as the response body with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Only our own response types are encoded here; failing is a bug.
		panic("httpapi: encode response: " + err.Error())
	}
	writeRawJSON(w, status, body)
}

// writeRawJSON sends body, already encoded, with status. The length is set
// so that net/http never chunks a body over its 2 KB buffer (a list).
func writeRawJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = contentTypeJSON
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeJSONArray sends a 200 with the JSON array of n elements that
// appendElem encodes, streamed through one small buffer: a list then costs
// the memory of its rows and not also of a body built whole, which for a
// full integration is about 1.7 MB per request (README, "Limits"). Each element
// is encoded twice, first to count the Content-Length.
func writeJSONArray(w http.ResponseWriter, n int, appendElem func(b []byte, i int) []byte) {
	const flushAt = 32 << 10
	var buf []byte
	length := 2 + max(n-1, 0) // the brackets and commas
	for i := range n {
		buf = appendElem(buf[:0], i)
		length += len(buf)
	}
	h := w.Header()
	h["Content-Type"] = contentTypeJSON
	h["Content-Length"] = []string{strconv.Itoa(length)}
	w.WriteHeader(http.StatusOK)
	buf = append(buf[:0], '[')
	for i := range n {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendElem(buf, i)
		if len(buf) >= flushAt {
			if _, err := w.Write(buf); err != nil {
				return // the client has gone
			}
			buf = buf[:0]
		}
	}
	_, _ = w.Write(append(buf, ']'))
}

// problemJSON is one element of the contract's error array.
type problemJSON struct {
	Message string  `json:"message"`
	Field   *string `json:"field"`
	ErrorID string  `json:"error_id"`
}

// writeProblems sends the error array; the first problem sets the status.
func writeProblems(w http.ResponseWriter, problems []*ssod.Error) {
	out := make([]problemJSON, len(problems))
	for i, p := range problems {
		out[i] = problemJSON{Message: p.Message, ErrorID: string(p.Code)}
		if p.Field != "" {
			out[i].Field = &p.Field
		}
	}
	writeJSON(w, statusOf(problems[0]), out)
}

// fail sends err to the client as the error array, or nothing when the
// client has gone.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if problems := s.problemsOf(r, err); problems != nil {
		writeProblems(w, problems)
	}
}

// problemsOf returns the problems to send for err, or nil when the client
// has gone. A domain error is the client's and is sent as it is. Anything
// else is a server fault (logged at ERROR, shown only as "internal", and
// counted as the database's when a store call returned it) unless the
// client left first: a store call cut short by the request's cancelled
// context is no fault of the server's.
func (s *Server) problemsOf(r *http.Request, err error) []*ssod.Error {
	problems := ssod.ProblemsOf(err)
	if problems[0].Code != ssod.EInternal {
		return problems
	}
	if errors.Is(err, errClientGone) || r.Context().Err() != nil {
		s.clientGone(r, err)
		return nil
	}
	if _, ok := errors.AsType[*storeError](err); ok {
		s.metrics.dbErrors.Inc()
	}
	s.log.ErrorContext(r.Context(), "internal error", "request_id", infoFrom(r.Context()).id, "err", err)
	return problems
}

// clientGone records that the client went away before its answer: observe
// then sends nothing (there is nobody to read it, and an empty 200 would
// lie to a client that half-closed) and counts the request as 499.
func (s *Server) clientGone(r *http.Request, err error) {
	ri := infoFrom(r.Context())
	ri.clientGone = true
	s.log.DebugContext(r.Context(), "client went away", "request_id", ri.id, "err", err)
}

// errClientGone marks a failure caused by the client leaving: its
// connection closed or reset while the server was still reading.
var errClientGone = errors.New("client went away")

// storeError marks an error a store call returned.
type storeError struct{ err error }

func (e *storeError) Error() string { return e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

// storeFailed marks err, returned by a store call, so that fail can tell a
// database fault from other server faults. Domain errors pass through
// unchanged in meaning: ProblemsOf unwraps them.
func storeFailed(err error) error { return &storeError{err} }

// statusOf maps an error code to its HTTP status, in this one place.
func statusOf(e *ssod.Error) int {
	switch e.Code {
	case ssod.ENotFound:
		return http.StatusNotFound
	case ssod.EUnauthorized:
		return http.StatusUnauthorized
	case ssod.EForbidden:
		return http.StatusForbidden
	case ssod.ERateLimited:
		return http.StatusTooManyRequests
	case ssod.EConflict:
		return http.StatusConflict
	case ssod.EMethodNotAllowed:
		return http.StatusMethodNotAllowed
	case ssod.EUnsupportedMediaType:
		return http.StatusUnsupportedMediaType
	case ssod.EInternal:
		return http.StatusInternalServerError
	case ssod.EUnavailable:
		return http.StatusServiceUnavailable
	case ssod.ETooLarge:
		if e.Field == "" { // the whole body; a too-large field is a 400
			return http.StatusRequestEntityTooLarge
		}
	}
	if isSAMLRefusal(e.Code) {
		return http.StatusForbidden
	}
	return http.StatusBadRequest
}

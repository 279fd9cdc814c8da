package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/ratelimit"
)

// readyTimeout bounds how long /readyz waits for the database, so a stuck
// database makes the instance "not ready" instead of hanging the probe.
const readyTimeout = 2 * time.Second

type statusJSON struct {
	Status string `json:"status"`
	// RateLimiter is "available" or "unavailable" with a shared (Redis)
	// limiter, and absent otherwise.
	RateLimiter string `json:"rate_limiter,omitempty"`
}

// healthz answers while the process serves HTTP at all.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, statusJSON{Status: "ok"})
}

// readyz answers 200 when the database answers, 503 otherwise, so a load
// balancer sends traffic only to instances that can serve it. A shared rate
// limiter that is down does not make it 503: requests are let through
// without it, and every instance shares the one Redis, so a 503 would take
// them all out of the load balancer at once for a fault ssod rides out. The
// body says so instead.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		if r.Context().Err() != nil {
			s.clientGone(r, err) // nobody waits for the answer; the database is not at fault
			return
		}
		s.metrics.dbErrors.Inc()
		s.log.ErrorContext(ctx, "readiness: database does not answer", "request_id", infoFrom(ctx).id, "err", err)
		writeJSON(w, http.StatusServiceUnavailable, []problemJSON{{Message: "the database does not answer", ErrorID: string(ssod.EInternal)}})
		return
	}
	ready := statusJSON{Status: "ready"}
	if shared, ok := s.limiter.(ratelimit.Shared); ok {
		ready.RateLimiter = "available"
		if !shared.Available() {
			ready.RateLimiter = "unavailable"
		}
	}
	writeJSON(w, http.StatusOK, ready)
}

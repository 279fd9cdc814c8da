package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/ssod/ssod"
)

// readyTimeout bounds how long /readyz waits for the database, so a stuck
// database makes the instance "not ready" instead of hanging the probe.
const readyTimeout = 2 * time.Second

type statusJSON struct {
	Status string `json:"status"`
}

// healthz answers while the process serves HTTP at all.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, statusJSON{"ok"})
}

// readyz answers 200 when the database answers, 503 otherwise, so a load
// balancer sends traffic only to instances that can serve it.
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
	writeJSON(w, http.StatusOK, statusJSON{"ready"})
}

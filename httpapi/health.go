package httpapi

import (
	"context"
	"fmt"
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
	if problem, err := s.disk.check(); problem != "" {
		s.log.ErrorContext(ctx, "readiness: "+problem, "request_id", infoFrom(ctx).id, "err", err)
		writeJSON(w, http.StatusServiceUnavailable, []problemJSON{{Message: problem, ErrorID: string(ssod.EInternal)}})
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

// DiskCheck is the readiness check of the disk a database file lives on: a
// full disk fails every write, so the instance should leave the load
// balancer before that, not after.
type DiskCheck struct {
	// Free reports the bytes available for the database to grow into.
	Free func() (uint64, error)
	// Min is the least free space at which the instance is ready.
	Min uint64
}

// check says why the disk is not ready, in words fit for the client (err,
// for the log only, may name paths); "" is ready. A nil check is ready.
func (d *DiskCheck) check() (problem string, err error) {
	if d == nil {
		return "", nil
	}
	free, err := d.Free()
	if err != nil {
		return "the free space of the database's disk cannot be read", err
	}
	if free < d.Min {
		return fmt.Sprintf("the database's disk has %s free, below the minimum of %s", mebibytes(free), mebibytes(d.Min)), nil
	}
	return "", nil
}

// mebibytes shows a size to one decimal place of a MiB.
func mebibytes(n uint64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

package httpapi

import (
	"context"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/ssod/ssod"
)

// clientAddress is what the public SAML paths budget requests by: the peer's address, or,
// when the peer is a trusted proxy, the nearest address in X-Forwarded-For that is not one
// (each proxy appends the address it heard from, so everything left of the first
// untrusted address from the right was written by the client and proves nothing). An IPv6
// address counts by its /64, which one host or site usually holds whole: budgets per
// address would let one network spend 2^64 of them.
func clientAddress(r *http.Request, trusted []netip.Prefix) string {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr // not TCP (a test's or a unix socket's): one budget for it
	}
	addr := ap.Addr().Unmap()
	if isTrusted(addr, trusted) {
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break // garbage: budget by the last address a trusted proxy vouched for
			}
			addr = hop.Unmap()
			if !isTrusted(addr, trusted) {
				break
			}
		}
	}
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}

func isTrusted(addr netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// limitAddress counts a request to a public SAML path against its client address's
// budget. A 429 carries Retry-After. A limiter that cannot count lets the request through,
// as for API keys.
func (s *Server) limitAddress(ctx context.Context, w http.ResponseWriter, r *http.Request) error {
	if s.saml.Limiter == nil {
		return nil
	}
	d, err := s.saml.Limiter.Allow(ctx, clientAddress(r, s.saml.TrustedProxies))
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		s.log.DebugContext(ctx, "rate limiter unavailable; request allowed", "request_id", infoFrom(ctx).id, "err", err)
		return nil
	}
	if d.Allowed {
		return nil
	}
	s.metrics.limited.Inc()
	wait := max(int64(math.Ceil(d.Reset.Sub(s.now()).Seconds())), 1)
	w.Header().Set("Retry-After", strconv.FormatInt(wait, 10))
	return ssod.Errorf(ssod.ERateLimited, "too many requests from this address to the public SAML paths (%d per window); retry after %d seconds", d.Limit, wait)
}

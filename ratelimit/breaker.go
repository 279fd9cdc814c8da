package ratelimit

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// breaker keeps a failing shared counter from costing every request a
// timeout. After one failure it opens: calls skip the counter for coolDown,
// then one call (the probe) tries it again while the others keep skipping.
// A probe that succeeds closes it. An outage is logged once when it starts
// and once when it ends, whatever the traffic in between.
type breaker struct {
	coolDown time.Duration
	log      *slog.Logger
	now      func() time.Time

	mu        sync.Mutex
	open      bool
	probing   bool      // a probe is in flight
	retryAt   time.Time // when the next probe may go, while open
	openSince time.Time
}

func newBreaker(coolDown time.Duration, log *slog.Logger, now func() time.Time) *breaker {
	return &breaker{coolDown: coolDown, log: log, now: now}
}

// try reports whether a call may go to the counter, and whether that call
// is the probe whose outcome decides if the breaker closes.
func (b *breaker) try() (ok, probe bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.open {
		return true, false
	}
	if b.probing || b.now().Before(b.retryAt) {
		return false, false
	}
	b.probing = true
	return true, true
}

// done records the outcome of a call that try let through. Only the first
// failure of an outage and the probe's success change the state: calls that
// were already in flight when the breaker opened are not evidence either way.
func (b *breaker) done(probe bool, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	switch {
	case probe && err == nil:
		b.open, b.probing = false, false
		b.log.Info("rate limiter: Redis answers again; shared budgets apply", "outage", now.Sub(b.openSince).Round(time.Millisecond).String())
	case probe:
		b.probing = false
		b.retryAt = now.Add(b.coolDown)
	case err != nil && !b.open:
		b.open = true
		b.retryAt = now.Add(b.coolDown)
		b.openSince = now
		b.log.Warn("rate limiter: Redis does not answer; requests are let through unlimited until it does", "err", err, "retry_every", b.coolDown.String())
	}
}

// available reports whether the counter answered the last time it was asked.
func (b *breaker) available() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return !b.open
}

// call runs fn through the breaker, or returns ErrUnavailable at once while
// the breaker is open.
func (b *breaker) call(ctx context.Context, fn func(context.Context) error) error {
	ok, probe := b.try()
	if !ok {
		return ErrUnavailable
	}
	err := fn(ctx)
	b.done(probe, err)
	return err
}

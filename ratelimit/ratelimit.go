// Package ratelimit budgets requests per API key in fixed windows. Windows
// are aligned to multiples of their length since the Unix epoch, so every
// instance (and a shared Redis counter) agrees on when a budget refills.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config is a budget of Limit requests per Window. A zero Limit means off.
type Config struct {
	Limit  int
	Window time.Duration
}

// Default is the contract's default budget: 600 requests per 60 seconds.
var Default = Config{Limit: 600, Window: time.Minute}

// Enabled reports whether c limits anything.
func (c Config) Enabled() bool { return c.Limit > 0 }

// String formats c as ParseConfig reads it.
func (c Config) String() string {
	if !c.Enabled() {
		return "off"
	}
	return fmt.Sprintf("%d/%s", c.Limit, c.Window)
}

// ParseConfig reads "N/DURATION" (such as "600/60s") or "off".
func ParseConfig(s string) (Config, error) {
	if strings.EqualFold(strings.TrimSpace(s), "off") {
		return Config{}, nil
	}
	n, d, ok := strings.Cut(s, "/")
	if !ok {
		return Config{}, fmt.Errorf("rate limit %q: want N/DURATION, such as 600/60s, or off", s)
	}
	limit, err := strconv.Atoi(n)
	if err != nil || limit <= 0 {
		return Config{}, fmt.Errorf("rate limit %q: N must be a positive integer", s)
	}
	window, err := time.ParseDuration(d)
	if err != nil || window < time.Second || window%time.Second != 0 {
		return Config{}, fmt.Errorf("rate limit %q: DURATION must be whole seconds, at least 1s", s)
	}
	return Config{Limit: limit, Window: window}, nil
}

// Decision is the outcome of one request against its budget.
type Decision struct {
	Allowed   bool
	Limit     int
	Remaining int
	Reset     time.Time // when the budget refills
}

// Limiter decides whether a request of the given key fits its budget.
type Limiter interface {
	Allow(ctx context.Context, key string) (Decision, error)
}

// Shared is a Limiter whose counters live in another server, which can
// stop answering. While it does not, Allow fails fast with ErrUnavailable
// and the caller lets the request through.
type Shared interface {
	Limiter
	// Available reports whether the server answered the last time it was
	// asked (and may ask it, briefly, when that was a while ago).
	Available() bool
}

// ErrUnavailable is returned by a Shared limiter while its server is
// known not to answer, without asking it again.
var ErrUnavailable = errors.New("ratelimit: shared counter unavailable")

// WindowStart returns the start of the window that holds now.
func (c Config) WindowStart(now time.Time) time.Time {
	return now.Truncate(c.Window)
}

// Decide turns the count of requests so far in the window (this one included)
// into a Decision.
func (c Config) Decide(count int, now time.Time) Decision {
	d := Decision{
		Allowed:   count <= c.Limit,
		Limit:     c.Limit,
		Remaining: max(c.Limit-count, 0),
		Reset:     c.WindowStart(now).Add(c.Window),
	}
	return d
}

// Memory is a Limiter for one process. Its memory is bounded by the number
// of keys active in the current window: callers pass only authenticated key
// IDs, and counters of a past window are dropped when a new one starts.
type Memory struct {
	cfg Config
	now func() time.Time

	mu     sync.Mutex
	window time.Time
	counts map[string]int
}

// NewMemory returns an in-process limiter; now is the clock (time.Now).
func NewMemory(cfg Config, now func() time.Time) *Memory {
	return &Memory{cfg: cfg, now: now, counts: map[string]int{}}
}

// Allow counts one request of key.
func (m *Memory) Allow(_ context.Context, key string) (Decision, error) {
	now := m.now()
	start := m.cfg.WindowStart(now)
	m.mu.Lock()
	if !start.Equal(m.window) {
		m.window = start
		clear(m.counts)
	}
	m.counts[key]++
	count := m.counts[key]
	m.mu.Unlock()
	return m.cfg.Decide(count, now), nil
}

// Reset gives every key its whole budget again (test mode's reset).
func (m *Memory) Reset() {
	m.mu.Lock()
	clear(m.counts)
	m.mu.Unlock()
}

// Config returns the budget m enforces.
func (m *Memory) Config() Config { return m.cfg }

package testmode

import (
	"sync"
	"sync/atomic"
	"time"
)

// Clock is the settable clock of test mode. Until it is set it reads the
// system clock; once set or advanced it stands still at that instant and
// moves only when told, so that a test sees the same time on every request.
type Clock struct {
	mu    sync.Mutex // serialises writers; readers only load fixed
	fixed atomic.Pointer[time.Time]
	// watchers hear of every change, so work driven by the clock (expiry
	// evaluation) runs at once rather than at its next tick.
	watchers map[chan struct{}]struct{}
}

// Watch returns a channel that receives after the clock is set, advanced or
// released (changes that come while one is pending merge into it), and a
// function that stops the watch.
func (c *Clock) Watch() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	c.mu.Lock()
	if c.watchers == nil {
		c.watchers = map[chan struct{}]struct{}{}
	}
	c.watchers[ch] = struct{}{}
	c.mu.Unlock()
	return ch, func() {
		c.mu.Lock()
		delete(c.watchers, ch)
		c.mu.Unlock()
	}
}

// changed tells the watchers; c.mu is held.
func (c *Clock) changed() {
	for ch := range c.watchers {
		select {
		case ch <- struct{}{}:
		default: // one is already pending
		}
	}
}

// Now is the clock's current time: the one set, or the system's.
func (c *Clock) Now() time.Time {
	if t := c.fixed.Load(); t != nil {
		return *t
	}
	return time.Now()
}

// Set stops the clock at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.fixed.Store(&t)
	c.changed()
	c.mu.Unlock()
}

// Advance moves the clock by d (from the system's time if it was not set)
// and stops it there, returning the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.Now().Add(d)
	c.fixed.Store(&t)
	c.changed()
	return t
}

// Release returns the clock to the system's.
func (c *Clock) Release() {
	c.mu.Lock()
	c.fixed.Store(nil)
	c.changed()
	c.mu.Unlock()
}

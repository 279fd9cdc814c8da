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
	c.mu.Unlock()
}

// Advance moves the clock by d (from the system's time if it was not set)
// and stops it there, returning the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.Now().Add(d)
	c.fixed.Store(&t)
	return t
}

// Release returns the clock to the system's.
func (c *Clock) Release() {
	c.mu.Lock()
	c.fixed.Store(nil)
	c.mu.Unlock()
}

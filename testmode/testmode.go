// Package testmode holds what `ssod serve --test-mode` adds for test suites:
// a settable clock, a journal of the requests received, injected faults,
// and the reset that puts all of it, and the store, back to the seed. The
// HTTP side of it (the /_ssod/ paths and the middleware that journals and
// injects) is in httpapi; nothing here exists without the flag.
package testmode

import (
	"context"
	"fmt"
	"sync"
)

// Options configures a Mode.
type Options struct {
	// ResetStore puts the store back to the seed and drops every cache in
	// front of it. It runs while no API request is in flight.
	ResetStore func(context.Context) error
	// JournalSize is how many requests the journal keeps (MaxJournal when 0).
	JournalSize int
}

// Mode is one server's test-mode state.
type Mode struct {
	Clock   *Clock
	Journal *Journal
	Faults  *Faults

	resetStore func(context.Context) error
	// gate makes a reset atomic with respect to API requests: each request
	// holds it for reading from before its first check to its journal
	// entry, a reset holds it for writing. A request therefore runs wholly
	// before or wholly after a reset, never across one.
	gate sync.RWMutex
}

// New returns a Mode on the system clock with an empty journal and no faults.
func New(opts Options) *Mode {
	size := opts.JournalSize
	if size <= 0 {
		size = MaxJournal
	}
	return &Mode{Clock: &Clock{}, Journal: NewJournal(size), Faults: &Faults{}, resetStore: opts.ResetStore}
}

// Enter is called as an API request starts, and Leave as it ends. A reset
// waits for the requests inside and holds back new ones.
func (m *Mode) Enter() { m.gate.RLock() }

// Leave ends what Enter began.
func (m *Mode) Leave() { m.gate.RUnlock() }

// Reset waits for the requests in flight, then puts back the seed (the
// store and its caches, through ResetStore), runs also (the server's own
// caches and budgets), and empties the journal and the faults and returns
// the clock to the system's. Requests that arrive meanwhile wait for it.
func (m *Mode) Reset(ctx context.Context, also func()) error {
	m.gate.Lock()
	defer m.gate.Unlock()
	m.Clock.Release()
	if m.resetStore != nil {
		if err := m.resetStore(ctx); err != nil {
			return fmt.Errorf("test mode reset: %w", err)
		}
	}
	if also != nil {
		also()
	}
	m.Journal.Clear()
	m.Faults.Clear()
	return nil
}

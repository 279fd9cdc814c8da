package testmode

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ssod/ssod"
)

// MaxFaultDelay bounds a fault's delay below the server's 30 s write
// timeout, so that a delayed answer still reaches the client.
const MaxFaultDelay = 25 * time.Second

// Fault makes the next Times requests whose method and path match answer
// Status (0: the API's own answer) after Delay.
type Fault struct {
	ID     int64
	Method string
	Path   string // a literal path or a route pattern
	Status int    // 0, 429, 500 or 503
	Times  int    // requests left to answer
	Delay  time.Duration
}

// Validate checks f as a test submits it.
func (f Fault) Validate() error {
	var errs ssod.Errors
	if f.Method == "" {
		errs = append(errs, ssod.FieldErrorf(ssod.ERequired, "method", "method is required"))
	} else if strings.ToUpper(f.Method) != f.Method || strings.ContainsAny(f.Method, " /") {
		errs = append(errs, ssod.FieldErrorf(ssod.EInvalid, "method", "method must be an HTTP method in capitals, such as GET"))
	}
	if f.Path == "" {
		errs = append(errs, ssod.FieldErrorf(ssod.ERequired, "path", "path is required"))
	} else if !strings.HasPrefix(f.Path, "/") {
		errs = append(errs, ssod.FieldErrorf(ssod.EInvalid, "path", "path must start with /"))
	}
	switch f.Status {
	case 0, http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusServiceUnavailable:
	default:
		errs = append(errs, ssod.FieldErrorf(ssod.EInvalid, "status", "status must be 429, 500, 503, or 0 for a delay only"))
	}
	if f.Status == 0 && f.Delay <= 0 {
		errs = append(errs, ssod.FieldErrorf(ssod.EInvalid, "delay_ms", "a fault with status 0 needs a delay"))
	}
	if f.Times < 1 {
		errs = append(errs, ssod.FieldErrorf(ssod.EInvalid, "times", "times must be at least 1"))
	}
	if f.Delay < 0 || f.Delay > MaxFaultDelay {
		errs = append(errs, ssod.FieldErrorf(ssod.EInvalid, "delay_ms", "delay_ms must be from 0 to %d", MaxFaultDelay.Milliseconds()))
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// Faults holds the active faults, matched in the order they were added.
type Faults struct {
	mu     sync.Mutex
	nextID int64
	active []Fault
}

// Add validates and activates f, returning its id.
func (fs *Faults) Add(f Fault) (int64, error) {
	if err := f.Validate(); err != nil {
		return 0, err
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.nextID++
	f.ID = fs.nextID
	fs.active = append(fs.active, f)
	return f.ID, nil
}

// Take spends one use of the first active fault matching the request, if
// any, and returns it; a fault with no uses left is removed.
func (fs *Faults) Take(method, path string) (Fault, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i := range fs.active {
		f := &fs.active[i]
		if f.Method != method || !matchPath(f.Path, path) {
			continue
		}
		taken := *f
		if f.Times--; f.Times == 0 {
			fs.active = append(fs.active[:i], fs.active[i+1:]...)
		}
		return taken, true
	}
	return Fault{}, false
}

// List returns the active faults with the uses each has left.
func (fs *Faults) List() []Fault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return append([]Fault{}, fs.active...)
}

// Clear removes every fault. Ids keep counting, so an old id never names a
// new fault.
func (fs *Faults) Clear() {
	fs.mu.Lock()
	fs.active = nil
	fs.mu.Unlock()
}

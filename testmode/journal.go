package testmode

import (
	"strings"
	"sync"
	"time"
)

// MaxJournal is how many requests the journal keeps; past it the oldest
// are dropped, so that a long test run cannot grow memory without bound.
const MaxJournal = 1000

// MaxJournalBody is how much of a request body the journal keeps: the API's
// own body limit, so every body the API accepts is kept whole.
const MaxJournalBody = 64 << 10

// Entry is one request as the journal keeps it.
type Entry struct {
	Time      time.Time
	Method    string
	Path      string
	Query     string
	Headers   map[string]string // the API key shown as "Bearer SG.<key id>.***"
	Body      string            // at most MaxJournalBody bytes
	Status    int
	RequestID string
}

// Journal keeps the latest MaxJournal requests, oldest first.
type Journal struct {
	mu      sync.Mutex
	entries []Entry // a ring of at most max entries starting at head
	head    int
	max     int
}

// NewJournal returns an empty journal of at most max entries.
func NewJournal(max int) *Journal { return &Journal{max: max} }

// Add records e, dropping the oldest entry when full.
func (j *Journal) Add(e Entry) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.entries) < j.max {
		j.entries = append(j.entries, e)
		return
	}
	j.entries[j.head] = e
	j.head = (j.head + 1) % j.max
}

// List returns the entries, oldest first, whose method is method (any case)
// and whose path matches path (a literal path or a route pattern); an empty
// filter matches every entry.
func (j *Journal) List(method, path string) []Entry {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := []Entry{}
	for i := range j.entries {
		e := j.entries[(j.head+i)%len(j.entries)]
		if method != "" && !strings.EqualFold(method, e.Method) {
			continue
		}
		if path != "" && !matchPath(path, e.Path) {
			continue
		}
		out = append(out, e)
	}
	return out
}

// Clear empties the journal.
func (j *Journal) Clear() {
	j.mu.Lock()
	j.entries, j.head = nil, 0
	j.mu.Unlock()
}

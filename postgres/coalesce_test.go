package postgres

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// fakeFetch records the keys of every batch and holds each batch until
// release is closed, so a test can make requests queue behind it.
type fakeFetch struct {
	mu      sync.Mutex
	batches [][]int
	running int
	peak    int
	release chan struct{}
	started chan struct{} // one send per batch that begins
	err     error
}

func (f *fakeFetch) fetch(ctx context.Context, keys []int) (map[int]string, error) {
	f.mu.Lock()
	f.batches = append(f.batches, slices.Clone(keys))
	f.running++
	f.peak = max(f.peak, f.running)
	f.mu.Unlock()
	f.started <- struct{}{}
	<-f.release
	f.mu.Lock()
	f.running--
	f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	out := map[int]string{}
	for _, k := range keys {
		if k >= 0 { // negative keys have no row
			out[k] = string(rune('a' + k))
		}
	}
	return out, ctx.Err()
}

func newFake(lanes int) (*fakeFetch, *coalescer[int, string]) {
	f := &fakeFetch{release: make(chan struct{}), started: make(chan struct{}, 100)}
	return f, &coalescer[int, string]{fetch: f.fetch, lanes: lanes, maxBatch: 3, timeout: time.Minute}
}

type result struct {
	val string
	ok  bool
	err error
}

// getAll starts one get per key and returns their results in key order.
func getAll(ctx context.Context, c *coalescer[int, string], keys ...int) func() []result {
	out := make([]result, len(keys))
	var wg sync.WaitGroup
	for i, k := range keys {
		wg.Go(func() {
			v, ok, err := c.get(ctx, k)
			out[i] = result{v, ok, err}
		})
	}
	return func() []result { wg.Wait(); return out }
}

// waitQueued waits until n requests wait in c's queue.
func waitQueued(t *testing.T, c *coalescer[int, string], n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		c.mu.Lock()
		q := len(c.queue)
		c.mu.Unlock()
		if q == n {
			return
		}
	}
	t.Fatalf("the queue never reached %d requests", n)
}

func TestCoalescerBatchesWhatArrivesDuringAQuery(t *testing.T) {
	f, c := newFake(1)
	ctx := t.Context()
	first := getAll(ctx, c, 1)
	<-f.started // batch 1 holds the only lane
	// Seven requests arrive while it runs: 2 twice, one missing key.
	rest := getAll(ctx, c, 2, 2, 3, 4, 5, 6, -1)
	waitQueued(t, c, 7)
	close(f.release)
	got := append(first(), rest()...)
	want := []result{{"b", true, nil}, {"c", true, nil}, {"c", true, nil}, {"d", true, nil},
		{"e", true, nil}, {"f", true, nil}, {"g", true, nil}, {"", false, nil}}
	if !slices.Equal(got, want) {
		t.Fatalf("results %v, want %v", got, want)
	}
	// One query for the first request; the seven queued behind it share
	// ceil(7/3) more, with no key asked twice in one batch.
	if len(f.batches) != 4 {
		t.Fatalf("%d queries for 8 requests queued behind one: %v", len(f.batches), f.batches)
	}
	var asked []int
	for _, b := range f.batches {
		if len(b) > 3 {
			t.Fatalf("a batch of %d keys, max 3: %v", len(b), f.batches)
		}
		if len(slices.Compact(slices.Sorted(slices.Values(b)))) != len(b) {
			t.Fatalf("a batch asks for a key twice: %v", b)
		}
		asked = append(asked, b...)
	}
	slices.Sort(asked)
	// The two requests for 2 share a query when they land in one batch.
	if want := []int{-1, 1, 2, 3, 4, 5, 6}; !slices.Equal(slices.Compact(asked), want) {
		t.Fatalf("keys asked %v, want %v", asked, want)
	}
	if f.peak != 1 {
		t.Fatalf("%d queries ran at once on 1 lane", f.peak)
	}
}

func TestCoalescerLanes(t *testing.T) {
	f, c := newFake(2)
	ctx := t.Context()
	a := getAll(ctx, c, 1)
	<-f.started
	b := getAll(ctx, c, 2)
	<-f.started // the second lane starts at once
	rest := getAll(ctx, c, 3, 4)
	waitQueued(t, c, 2) // both lanes busy: these wait
	close(f.release)
	a()
	b()
	rest()
	if f.peak != 2 {
		t.Fatalf("peak of %d queries at once, want 2 lanes used", f.peak)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running != 0 || len(c.queue) != 0 {
		t.Fatalf("after all reads: %d lanes running, %d queued", c.running, len(c.queue))
	}
}

func TestCoalescerErrorsReachEveryWaiter(t *testing.T) {
	f, c := newFake(1)
	f.err = errors.New("database down")
	close(f.release)
	for _, r := range getAll(t.Context(), c, 1, 2, 3)() {
		if !errors.Is(r.err, f.err) {
			t.Fatalf("result %+v, want the fetch error", r)
		}
	}
}

func TestCoalescerGivesUpWhenTheCallerDoes(t *testing.T) {
	f, c := newFake(1)
	ctx, cancel := context.WithCancel(t.Context())
	done := getAll(ctx, c, 1)
	<-f.started
	cancel()
	if r := done()[0]; !errors.Is(r.err, context.Canceled) {
		t.Fatalf("a cancelled read returned %+v while its query hung", r)
	}
	close(f.release)
	// The lane comes back once the query ends, and serves the next read.
	if r := getAll(t.Context(), c, 2)()[0]; r != (result{"c", true, nil}) {
		t.Fatalf("read after a cancelled one: %+v", r)
	}
}

func TestCoalescerAsksForAKeyOnce(t *testing.T) {
	f, c := newFake(1)
	ctx := t.Context()
	first := getAll(ctx, c, 1)
	<-f.started
	same := getAll(ctx, c, 2, 2, 2)
	waitQueued(t, c, 3)
	close(f.release)
	first()
	for _, r := range same() {
		if r != (result{"c", true, nil}) {
			t.Fatalf("result %+v, want key 2's row", r)
		}
	}
	if !slices.Equal(f.batches[1], []int{2}) {
		t.Fatalf("three requests for key 2 asked %v", f.batches[1])
	}
}

// A query shared by several requests runs under none of their contexts: the
// first requester giving up fails no one else in its batch.
func TestCoalescerOneCallerGivingUpFailsNoOther(t *testing.T) {
	f, c := newFake(1)
	blocker := getAll(t.Context(), c, 0)
	<-f.started
	ctx, cancel := context.WithCancel(t.Context())
	first := getAll(ctx, c, 1)
	waitQueued(t, c, 1)
	others := getAll(t.Context(), c, 2, 1)
	waitQueued(t, c, 3)
	cancel()
	if r := first()[0]; !errors.Is(r.err, context.Canceled) {
		t.Fatalf("the cancelled read returned %+v", r)
	}
	close(f.release)
	blocker()
	<-f.started
	for i, r := range others() {
		if want := (result{string(rune('a' + []int{2, 1}[i])), true, nil}); r != want {
			t.Fatalf("read %d of the batch whose first requester gave up: %+v, want %+v", i, r, want)
		}
	}
}

package postgres

import (
	"context"
	"sync"
	"time"
)

// coalescer merges concurrent point reads into one query per batch, the way
// group commit merges writes. Under load a lookup by primary key costs
// PostgreSQL far more in per-statement work and round trips than in finding
// the row, so one `WHERE id = ANY($1)` for every request that is waiting
// serves them all for about the price of one.
//
// Nothing is cached: a read joins a batch whose query has not started yet,
// so it sees every write committed before it was asked for, by this
// instance or any other, exactly as its own query would have.
type coalescer[K comparable, V any] struct {
	// fetch reads the rows of keys; a key with no row is left out.
	fetch func(ctx context.Context, keys []K) (map[K]V, error)
	// lanes is how many batch queries may run at once; maxBatch caps the
	// keys in one.
	lanes, maxBatch int
	// timeout bounds one batch query, which serves many requests and so
	// runs under no request's context.
	timeout time.Duration

	mu      sync.Mutex
	queue   []*pending[K, V]
	running int
}

type pending[K comparable, V any] struct {
	key  K
	val  V
	ok   bool
	err  error
	done chan struct{}
}

// get returns the row of key, ok false when there is none.
func (c *coalescer[K, V]) get(ctx context.Context, key K) (V, bool, error) {
	p := &pending[K, V]{key: key, done: make(chan struct{})}
	c.mu.Lock()
	c.queue = append(c.queue, p)
	start := c.running < c.lanes
	if start {
		c.running++
	}
	c.mu.Unlock()
	if start {
		go c.drain()
	}
	select {
	case <-p.done:
		return p.val, p.ok, p.err
	case <-ctx.Done():
		var zero V
		return zero, false, ctx.Err()
	}
}

// drain runs batches until the queue is empty, then gives its lane back.
func (c *coalescer[K, V]) drain() {
	for {
		c.mu.Lock()
		n := min(len(c.queue), c.maxBatch)
		if n == 0 {
			c.running--
			c.mu.Unlock()
			return
		}
		batch := c.queue[:n:n]
		c.queue = c.queue[n:]
		if len(c.queue) == 0 {
			c.queue = nil // let the backing array go
		}
		c.mu.Unlock()
		c.run(batch)
	}
}

func (c *coalescer[K, V]) run(batch []*pending[K, V]) {
	keys := make([]K, 0, len(batch))
	seen := make(map[K]struct{}, len(batch))
	for _, p := range batch {
		if _, dup := seen[p.key]; !dup {
			seen[p.key] = struct{}{}
			keys = append(keys, p.key)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	rows, err := c.fetch(ctx, keys)
	cancel()
	for _, p := range batch {
		if err != nil {
			p.err = err
		} else {
			p.val, p.ok = rows[p.key]
		}
		close(p.done)
	}
}

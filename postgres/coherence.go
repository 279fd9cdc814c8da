package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// Coherence lets every ssod instance on one database keep certificates in
// memory without ever answering with a copy older than an acknowledged
// write, from whichever instance it came (readcache.Coherence).
//
// Each instance holds a lease, a row in cache_members that it renews every
// LeaseRenew over a connection of its own which also LISTENs for changes.
// Its cache answers only while its lease is live by its own clock, which
// ends a margin before the database's, and is emptied whenever the lease
// lapses and is taken again. A write that changes certificates NOTIFYs the
// other instances inside its own transaction, so the notice goes out if
// and only if the change commits, whatever happens to the client. Once
// committed, the write lists the instances whose lease is live and waits
// until each has dropped its copies and said so, or until its lease has run
// out (an instance that cannot hear cannot renew either). Only then does
// the write answer. An instance that starts later reads the store after
// that commit. The cost is one NOTIFY and one query per change of a
// certificate, and a round trip to each other instance; creates cost
// nothing (no instance holds a copy of a new certificate).
//
// The lease assumes that the instances' clocks and the database's run at
// the same rate, within the margin, over one lease.
type Coherence struct {
	store *Store
	id    string // this instance's row in cache_members
	opts  CoherenceOptions
	log   *slog.Logger
	epoch time.Time // monotonic base of deadline

	// deadline is when the lease ends by this process's clock, in
	// nanoseconds since epoch; 0 while there is none.
	deadline   atomic.Int64
	invalidate func(ids ...int64)

	mu      sync.Mutex
	waiters map[string]*ackWait // by token

	cancel context.CancelFunc
	done   chan struct{}
}

// CoherenceOptions tune the lease; the zero value takes the defaults.
type CoherenceOptions struct {
	Lease      time.Duration // how long a renewal lasts (default 3s)
	LeaseRenew time.Duration // how often it is renewed (default 1s)
	Margin     time.Duration // how much sooner the cache stops (default 500ms)
}

type ackWait struct {
	early   map[string]bool // member ids that answered before pending was known
	pending map[string]bool // member ids yet to answer; nil until listed
	done    chan struct{}   // closed when pending is empty
}

const (
	listenerName   = "ssod cache "
	changesChannel = "ssod_cache_changes"
	ackPrefix      = "ssod_cache_ack_"
)

// NewCoherence prepares a Coherence for s, whose changes of certificates
// from then on notify the other instances; Start runs it. Call it before s
// is used.
func NewCoherence(s *Store, opts CoherenceOptions, log *slog.Logger) *Coherence {
	if opts.Lease == 0 {
		opts.Lease = 3 * time.Second
	}
	if opts.LeaseRenew == 0 {
		opts.LeaseRenew = time.Second
	}
	if opts.Margin == 0 {
		opts.Margin = 500 * time.Millisecond
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Coherence{store: s, id: randomHex(), opts: opts, log: log,
		epoch: time.Now(), waiters: map[string]*ackWait{}}
	s.coherence = c
	return c
}

// Start takes the lease and listens for other instances' changes, passing
// the certificate ids each one changed (nil for all) to invalidate, until
// Close. The cache is valid once the first lease is taken.
func (c *Coherence) Start(invalidate func(ids ...int64)) {
	c.invalidate = invalidate
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel, c.done = cancel, make(chan struct{})
	go c.run(ctx)
}

// Close stops listening and gives the lease back, so that no write waits
// for this instance any more.
func (c *Coherence) Close(ctx context.Context) error {
	c.cancel()
	<-c.done
	c.deadline.Store(0)
	if _, err := c.store.pool.Exec(ctx, `DELETE FROM cache_members WHERE id = $1`, c.id); err != nil {
		return fmt.Errorf("postgres: give the cache lease back: %w", err)
	}
	return nil
}

func (c *Coherence) now() int64 { return int64(time.Since(c.epoch)) }

// Valid implements readcache.Coherence.
func (c *Coherence) Valid() bool { return c.now() < c.deadline.Load() }

func (c *Coherence) run(ctx context.Context) {
	defer close(c.done)
	for ctx.Err() == nil {
		err := c.listen(ctx)
		c.deadline.Store(0)
		if ctx.Err() != nil {
			return
		}
		c.log.Warn("cache coherence: connection lost; reading from the database until it is back", "err", err)
		select {
		case <-time.After(c.opts.LeaseRenew):
		case <-ctx.Done():
		}
	}
}

// listen runs one connection: LISTEN, then renew the lease and answer
// changes until the connection fails or ctx ends.
func (c *Coherence) listen(ctx context.Context) error {
	cfg := c.store.pool.Config().ConnConfig
	// Named, so an operator (or a test) can find it in pg_stat_activity.
	cfg.RuntimeParams["application_name"] = listenerName + c.id
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	// LISTEN first: any write that finds this lease live then notifies a
	// connection that hears it.
	for _, ch := range []string{changesChannel, ackPrefix + c.id} {
		if _, err := conn.Exec(ctx, `LISTEN `+pgx.Identifier{ch}.Sanitize()); err != nil {
			return err
		}
	}
	// Leases of instances gone for an hour are of no use to anyone.
	if _, err := conn.Exec(ctx, `DELETE FROM cache_members WHERE expires_at < now() - interval '1 hour'`); err != nil {
		return err
	}
	for {
		sent := c.now()
		if _, err := conn.Exec(ctx,
			`INSERT INTO cache_members (id, expires_at) VALUES ($1, now() + $2 * interval '1 millisecond')
			 ON CONFLICT (id) DO UPDATE SET expires_at = EXCLUDED.expires_at`,
			c.id, c.opts.Lease.Milliseconds()); err != nil {
			return err
		}
		if c.now() >= c.deadline.Load() {
			// The lease had lapsed (or this is the first): writes in the
			// meantime may not have waited for this instance.
			c.invalidate()
		}
		c.deadline.Store(sent + int64(c.opts.Lease-c.opts.Margin))
		// Straight back to the notifications: one that arrived with the
		// renewal is handled before anything else can delay it.
		next := time.Now().Add(c.opts.LeaseRenew)
		for time.Now().Before(next) {
			wctx, cancel := context.WithDeadline(ctx, next)
			n, err := conn.WaitForNotification(wctx)
			cancel()
			if err != nil {
				if ctx.Err() == nil && wctx.Err() != nil {
					break // time to renew
				}
				return err
			}
			if err := c.notified(ctx, conn, n.Channel, n.Payload); err != nil {
				return err
			}
		}
	}
}

// notified handles one notification: a change (drop the copies, then say
// so to the writer) or an answer to this instance's own change.
func (c *Coherence) notified(ctx context.Context, conn *pgx.Conn, channel, payload string) error {
	if channel != changesChannel {
		token, member, _ := strings.Cut(payload, " ")
		c.acked(token, member)
		return nil
	}
	// "writer token id id ..." or "writer token *"
	fields := strings.Fields(payload)
	if len(fields) < 3 {
		return nil // not ours
	}
	writer, token := fields[0], fields[1]
	if writer == c.id {
		return nil // the writer dropped its own copies
	}
	var ids []int64
	if fields[2] != "*" {
		for _, f := range fields[2:] {
			id, err := strconv.ParseInt(f, 10, 64)
			if err != nil {
				ids = nil // unreadable: drop everything
				break
			}
			ids = append(ids, id)
		}
	}
	c.invalidate(ids...)
	_, err := conn.Exec(ctx, `SELECT pg_notify($1, $2)`, ackPrefix+writer, token+" "+c.id)
	return err
}

func (c *Coherence) acked(token, member string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := c.waiters[token]
	if w == nil {
		return
	}
	if w.pending == nil {
		// The answer came before the writer listed whom to wait for: the
		// notice goes out with the commit, the list is read after it.
		w.early[member] = true
		return
	}
	if !w.pending[member] {
		return
	}
	delete(w.pending, member)
	if len(w.pending) == 0 {
		close(w.done)
	}
}

// notice is one change of certificates on its way to the other instances.
type notice struct {
	c       *Coherence
	token   string
	payload string
	w       *ackWait
}

// newNotice prepares the notice of a change of the certificates ids (of
// every certificate when ids is nil) and starts collecting answers to it.
// The caller sends it inside the change's transaction, waits for it after
// the commit, and always releases it.
func (c *Coherence) newNotice(ids []int64) *notice {
	n := &notice{c: c, token: randomHex(), w: &ackWait{early: map[string]bool{}, done: make(chan struct{})}}
	n.payload = c.id + " " + n.token
	if ids == nil || len(ids) > 100 { // NOTIFY payloads stay under 8000 bytes
		n.payload += " *"
	} else {
		for _, id := range ids {
			n.payload += " " + strconv.FormatInt(id, 10)
		}
	}
	c.mu.Lock()
	c.waiters[n.token] = n.w
	c.mu.Unlock()
	return n
}

// send queues the notice in tx. PostgreSQL delivers a NOTIFY when, and only
// when, its transaction commits, so no committed change can go untold,
// whatever becomes of the client or of this process afterwards.
func (n *notice) send(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, changesChannel, n.payload); err != nil {
		return fmt.Errorf("postgres: cache coherence: notify: %w", err)
	}
	return nil
}

// wait returns once every other instance whose lease is live after the
// commit has dropped its copies and said so, or its lease has run out (an
// instance that cannot hear cannot renew either). It runs after a commit, so
// it runs under no client's context, and it cannot fail: should the leases
// be unreadable, it waits as long as any lease can last.
func (n *notice) wait(ctx context.Context) {
	c := n.c
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.Lease+c.opts.Margin+finishTimeout)
	defer cancel()
	longest, err := n.listPending(ctx)
	if err != nil {
		c.log.Warn("cache coherence: leases unreadable after a change; waiting out the longest lease", "err", err)
		longest = c.opts.Lease
	}
	// Every answer, or every silent lease's end: an instance stops using its
	// cache a margin before the database ends its lease.
	timer := time.NewTimer(longest + c.opts.Margin)
	defer timer.Stop()
	select {
	case <-n.w.done:
	case <-timer.C:
	}
}

// listPending reads the leases of the other instances that may hold a copy,
// marks those that have not answered yet as awaited, and returns how long
// the longest has left by the database's clock.
func (n *notice) listPending(ctx context.Context) (longest time.Duration, err error) {
	rows, err := n.c.store.pool.Query(ctx,
		`SELECT id, (extract(epoch FROM expires_at - now()) * 1000)::bigint FROM cache_members
		 WHERE expires_at > now() AND id <> $1`, n.c.id)
	if err != nil {
		return 0, fmt.Errorf("postgres: cache coherence: %w", err)
	}
	pending := map[string]bool{}
	for rows.Next() {
		var member string
		var left int64
		if err := rows.Scan(&member, &left); err != nil {
			rows.Close()
			return 0, fmt.Errorf("postgres: cache coherence: %w", err)
		}
		pending[member] = true
		longest = max(longest, time.Duration(left)*time.Millisecond)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("postgres: cache coherence: %w", err)
	}
	n.c.mu.Lock()
	defer n.c.mu.Unlock()
	for member := range n.w.early {
		delete(pending, member)
	}
	n.w.pending = pending
	if len(pending) == 0 {
		close(n.w.done)
	}
	return longest, nil
}

// release stops collecting answers to the notice.
func (n *notice) release() {
	n.c.mu.Lock()
	delete(n.c.waiters, n.token)
	n.c.mu.Unlock()
}

// randomHex names an instance or one change: 64 random bits, in hex.
func randomHex() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}

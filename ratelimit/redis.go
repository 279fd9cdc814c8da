package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Defaults of RedisOptions. A healthy Redis on a LAN answers in well under
// a millisecond, so 50 ms is a generous bound for one call and still
// negligible beside a request; one second between probes means a Redis that
// is down costs one request in a second those 50 ms, and is noticed within
// a second once it is back.
const (
	DefaultRedisTimeout  = 50 * time.Millisecond
	DefaultRedisCoolDown = time.Second
)

// RedisOptions configures NewRedis.
type RedisOptions struct {
	URL    string // redis://host:port/db
	Prefix string // namespaces the counters, so deployments can share a server
	// Timeout bounds one call, connecting included; DefaultRedisTimeout
	// when zero.
	Timeout time.Duration
	// CoolDown is how long calls skip Redis after it failed, before one
	// probes it again; DefaultRedisCoolDown when zero.
	CoolDown time.Duration
	Logger   *slog.Logger     // outages and recoveries; discarded when nil
	Now      func() time.Time // the clock; time.Now when nil
}

// Redis is a Limiter whose counters live in Redis, so that every ssod
// instance behind a load balancer spends one shared budget per key instead
// of granting a budget each. A Redis that fails or is slow costs a request
// at most Timeout, and then nothing until the breaker lets a probe through.
type Redis struct {
	cfg     Config
	client  *redis.Client
	prefix  string
	timeout time.Duration
	now     func() time.Time
	breaker *breaker
}

// incr counts a request and, on a window's first request, makes the counter
// expire when the window ends: one round trip, atomic.
var incr = redis.NewScript(`
local n = redis.call("INCR", KEYS[1])
if n == 1 then redis.call("PEXPIREAT", KEYS[1], ARGV[1]) end
return n`)

// NewRedis returns a limiter on the Redis server at opts.URL. Only a bad URL
// is an error: a server that does not answer yet is logged as an outage,
// and requests are let through until it answers.
func NewRedis(ctx context.Context, cfg Config, opts RedisOptions) (*Redis, error) {
	ro, err := redis.ParseURL(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("ratelimit: redis url: %w", err)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultRedisTimeout
	}
	if opts.CoolDown <= 0 {
		opts.CoolDown = DefaultRedisCoolDown
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	// go-redis's defaults (5 s per dial, read and write, five dials, three
	// retries) are made for a cache worth waiting for; a rate-limit counter
	// is not. One attempt within Timeout, then the breaker decides.
	ro.DialTimeout = opts.Timeout
	ro.ReadTimeout = opts.Timeout
	ro.WriteTimeout = opts.Timeout
	ro.PoolTimeout = opts.Timeout
	ro.ContextTimeoutEnabled = true
	ro.DialerRetries = 1
	ro.MaxRetries = -1
	r := &Redis{
		cfg:     cfg,
		client:  redis.NewClient(ro),
		prefix:  opts.Prefix,
		timeout: opts.Timeout,
		now:     opts.Now,
		breaker: newBreaker(opts.CoolDown, opts.Logger.With("redis", ro.Addr), opts.Now),
	}
	_ = r.breaker.call(ctx, r.ping)
	return r, nil
}

// ping asks Redis whether it answers, within the call deadline.
func (r *Redis) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	return r.client.Ping(ctx).Err()
}

// Allow counts one request of key in the shared window. While Redis is
// known not to answer it returns ErrUnavailable at once.
func (r *Redis) Allow(ctx context.Context, key string) (Decision, error) {
	now := r.now()
	start := r.cfg.WindowStart(now)
	end := start.Add(r.cfg.Window)
	counter := r.prefix + key + ":" + strconv.FormatInt(start.Unix(), 10)
	var n int
	err := r.breaker.call(ctx, func(ctx context.Context) error {
		// The client's going away is not Redis failing: detach from its
		// cancellation, so only Redis's own silence can open the breaker.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.timeout)
		defer cancel()
		var err error
		n, err = incr.Run(ctx, r.client, []string{counter}, end.UnixMilli()).Int()
		return err
	})
	if errors.Is(err, ErrUnavailable) {
		return Decision{}, err
	}
	if err != nil {
		return Decision{}, fmt.Errorf("ratelimit: redis: %w", err)
	}
	return r.cfg.Decide(n, now), nil
}

// Available reports whether Redis answered the last time it was asked.
// During an outage it also probes Redis when a probe is due, so that an
// instance without traffic (whose /readyz and metric call this) sees the
// outage end too, instead of reporting it forever.
func (r *Redis) Available() bool {
	if r.breaker.available() {
		return true
	}
	_ = r.breaker.call(context.Background(), r.ping) // at once, unless a probe is due
	return r.breaker.available()
}

// Close releases the connection pool.
func (r *Redis) Close() error { return r.client.Close() }

// Budget returns a limiter that counts against cfg, under prefix, on r's connection pool
// and breaker: a second budget (the public SAML paths' per address) costs no second pool,
// and an outage is still one outage, logged once.
func (r *Redis) Budget(cfg Config, prefix string) *Redis {
	b := *r
	b.cfg, b.prefix = cfg, prefix
	return &b
}

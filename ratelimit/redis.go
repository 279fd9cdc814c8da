package ratelimit

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a Limiter whose counters live in Redis, so that every ssod
// instance behind a load balancer spends one shared budget per key instead
// of granting a budget each.
type Redis struct {
	cfg    Config
	client *redis.Client
	prefix string
	now    func() time.Time
}

// incr counts a request and, on a window's first request, makes the counter
// expire when the window ends: one round trip, atomic.
var incr = redis.NewScript(`
local n = redis.call("INCR", KEYS[1])
if n == 1 then redis.call("PEXPIREAT", KEYS[1], ARGV[1]) end
return n`)

// NewRedis returns a limiter on the Redis server at url (redis://host:port/db).
// prefix namespaces its keys, so several deployments can share a server.
func NewRedis(ctx context.Context, cfg Config, url, prefix string, now func() time.Time) (*Redis, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("ratelimit: redis url: %w", err)
	}
	client := redis.NewClient(opts)
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		return nil, fmt.Errorf("ratelimit: redis ping: %w", err)
	}
	return &Redis{cfg: cfg, client: client, prefix: prefix, now: now}, nil
}

// Allow counts one request of key in the shared window.
func (r *Redis) Allow(ctx context.Context, key string) (Decision, error) {
	now := r.now()
	start := r.cfg.WindowStart(now)
	end := start.Add(r.cfg.Window)
	counter := r.prefix + key + ":" + strconv.FormatInt(start.Unix(), 10)
	n, err := incr.Run(ctx, r.client, []string{counter}, end.UnixMilli()).Int()
	if err != nil {
		return Decision{}, fmt.Errorf("ratelimit: redis: %w", err)
	}
	return r.cfg.Decide(n, now), nil
}

// Close releases the connection pool.
func (r *Redis) Close() error { return r.client.Close() }

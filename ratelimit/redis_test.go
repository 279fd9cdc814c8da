package ratelimit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strconv"
	"testing"
	"time"
)

// redisURL returns the test server's URL, or skips visibly without one.
func redisURL(t *testing.T) string {
	url := os.Getenv("SSOD_TEST_REDIS")
	if url == "" {
		t.Skip("SSOD_TEST_REDIS not set: Redis rate-limit tests skipped")
	}
	return url
}

func TestRedisSharesOneBudget(t *testing.T) {
	url := redisURL(t)
	ctx := context.Background()
	var b [6]byte
	rand.Read(b[:])
	prefix := "ssodtest:" + hex.EncodeToString(b[:]) + ":"
	now := time.Now()
	clock := func() time.Time { return now }
	cfg := Config{Limit: 4, Window: time.Minute}
	// Two limiters, as two instances would hold: one budget between them.
	a, err := NewRedis(ctx, cfg, url, prefix, clock)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	bl, err := NewRedis(ctx, cfg, url, prefix, clock)
	if err != nil {
		t.Fatal(err)
	}
	defer bl.Close()
	var allowed int
	for i := range 8 {
		l := a
		if i%2 == 1 {
			l = bl
		}
		d, err := l.Allow(ctx, "key")
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed {
			allowed++
		}
		if !d.Reset.Equal(cfg.WindowStart(now).Add(time.Minute)) {
			t.Fatalf("reset %v", d.Reset)
		}
	}
	if allowed != 4 {
		t.Fatalf("%d requests allowed across two limiters, want the one budget of 4", allowed)
	}
	if d, _ := a.Allow(ctx, "other"); !d.Allowed || d.Remaining != 3 {
		t.Fatalf("another key shares the budget: %+v", d)
	}
	now = now.Add(time.Minute)
	if d, _ := bl.Allow(ctx, "key"); !d.Allowed || d.Remaining != 3 {
		t.Fatalf("next window did not refill: %+v", d)
	}
	ttl, err := a.client.PTTL(ctx, prefix+"key:"+strconv.FormatInt(cfg.WindowStart(now).Unix(), 10)).Result()
	if err != nil || ttl <= 0 {
		t.Fatalf("counter has no expiry (ttl %v, %v): keys would pile up in Redis", ttl, err)
	}
}

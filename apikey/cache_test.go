package apikey

import (
	"context"
	"testing"
	"time"

	"github.com/ssod/ssod"
)

type countingFinder struct {
	keys  map[string]*ssod.APIKey
	calls int
}

func (f *countingFinder) FindKey(_ context.Context, id string) (*ssod.APIKey, error) {
	f.calls++
	if k, ok := f.keys[id]; ok {
		copied := *k
		return &copied, nil
	}
	return nil, ssod.Errorf(ssod.ENotFound, "no key")
}

func TestCacheServesFreshKeysAndRefetchesStale(t *testing.T) {
	now := time.Unix(1000, 0)
	f := &countingFinder{keys: map[string]*ssod.APIKey{"a": {ID: "a", SecretHash: HashSecret("sa")}, "b": {ID: "b", SecretHash: HashSecret("sb")}}}
	c := NewCache(f, 5*time.Second, 2, func() time.Time { return now })
	ctx := context.Background()
	for range 3 {
		if k, err := c.FindVerified(ctx, "a", "sa"); err != nil || k.ID != "a" {
			t.Fatalf("FindVerified(a) = %v, %v", k, err)
		}
	}
	if f.calls != 1 {
		t.Fatalf("%d store lookups for one fresh key, want 1", f.calls)
	}
	f.keys["a"].RevokedAt = 99
	now = now.Add(5 * time.Second)
	if k, _ := c.FindVerified(ctx, "a", "sa"); k.RevokedAt != 99 || f.calls != 2 {
		t.Fatalf("stale entry served after the TTL: %+v, %d calls", k, f.calls)
	}
	for range 3 {
		if _, err := c.FindVerified(ctx, "unknown", "sa"); ssod.CodeOf(err) != ssod.ENotFound {
			t.Fatalf("unknown key: %v", err)
		}
	}
	if f.calls != 5 || len(c.entries) != 1 {
		t.Fatalf("unknown keys were cached: %d calls, %d entries", f.calls, len(c.entries))
	}
	c.FindVerified(ctx, "b", "sb")
	c.FindVerified(ctx, "a", "sa") // over max: the cache starts over rather than grow
	if len(c.entries) > 2 {
		t.Fatalf("cache grew to %d entries, max 2", len(c.entries))
	}
}

// TestCacheAnswersOnlySuccesses: a wrong secret for a cached key asks the
// store, exactly as an unknown id does, so the two cost the same work.
func TestCacheAnswersOnlySuccesses(t *testing.T) {
	f := &countingFinder{keys: map[string]*ssod.APIKey{"a": {ID: "a", SecretHash: HashSecret("sa")}}}
	c := NewCache(f, time.Minute, 10, time.Now)
	ctx := context.Background()
	if _, err := c.FindVerified(ctx, "a", "sa"); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		calls := f.calls
		if _, err := c.FindVerified(ctx, "a", "wrong"); err != ErrWrongSecret || f.calls != calls+1 {
			t.Fatalf("wrong secret, try %d: %v after %d store lookups, want ErrWrongSecret after one", i, err, f.calls-calls)
		}
		calls = f.calls
		if _, err := c.FindVerified(ctx, "b", "wrong"); ssod.CodeOf(err) != ssod.ENotFound || f.calls != calls+1 {
			t.Fatalf("unknown id, try %d: %v after %d store lookups, want not found after one", i, err, f.calls-calls)
		}
	}
	calls := f.calls
	if _, err := c.FindVerified(ctx, "a", "sa"); err != nil || f.calls != calls {
		t.Fatalf("right secret after wrong ones: %v, %d store lookups, want the cached key", err, f.calls-calls)
	}
}

func TestCacheWithoutTTLAlwaysAsks(t *testing.T) {
	f := &countingFinder{keys: map[string]*ssod.APIKey{"a": {ID: "a", SecretHash: HashSecret("sa")}}}
	c := NewCache(f, 0, 10, time.Now)
	for range 3 {
		if _, err := c.FindVerified(context.Background(), "a", "sa"); err != nil {
			t.Fatal(err)
		}
	}
	if f.calls != 3 || len(c.entries) != 0 {
		t.Fatalf("%d store lookups and %d entries with no TTL, want 3 and 0", f.calls, len(c.entries))
	}
}

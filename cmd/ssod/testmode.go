package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"

	"github.com/ssod/ssod"
)

// errTestModeRedis refuses --test-mode with --redis: a reset puts back the
// budgets this process counts, and cannot speak for other instances'.
var errTestModeRedis = errors.New("serve: --test-mode counts rate-limit budgets in this process; leave out --redis")

// checkTestModeAddr refuses --test-mode on a listener other processes
// could reach, unless --test-mode-any-address says so: its /_ssod/ paths
// take no API key and can erase everything.
func checkTestModeAddr(addr net.Addr, anyAddress bool) error {
	if anyAddress {
		return nil
	}
	if tcp, ok := addr.(*net.TCPAddr); ok && tcp.IP.IsLoopback() {
		return nil
	}
	return fmt.Errorf("serve: --test-mode serves /_ssod/ without an API key, so it listens only on a loopback address (such as localhost:8080 or 127.0.0.1:0), not %s; add --test-mode-any-address to allow it", addr)
}

// resetStore is test mode's store reset: the store (and its certificate
// cache) back to seed, ids restarted, with the times of the start (at).
func resetStore(store ssod.Store, seed *ssod.Seed, at int64) func(context.Context) error {
	return func(ctx context.Context) error {
		return store.ResetTo(ctx, seed, at)
	}
}

// withFirstStartKey adds to seed the account and key a first start created
// (nil: none), so that a reset keeps the key the operator was shown.
func withFirstStartKey(seed *ssod.Seed, key *ssod.APIKey, account string) *ssod.Seed {
	if key == nil {
		return seed
	}
	s := *seed
	s.Accounts = append(slices.Clone(s.Accounts), ssod.SeedAccount{Name: account})
	s.Keys = append(slices.Clone(s.Keys), ssod.SeedKey{Account: account, ID: key.ID, SecretHash: key.SecretHash, Name: key.Name, Scopes: key.Scopes})
	return &s
}

package postgres

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/postgres/pgtest"
	"github.com/ssod/ssod/storetest"
)

// signInSetup opens two stores on one database, as two instances would,
// with an integration of each of two accounts.
func signInSetup(t *testing.T) (a, b *Store, in, other *ssod.Integration) {
	t.Helper()
	dsn := pgtest.DSN(t)
	a, b = openStore(t, dsn), openStore(t, dsn)
	t.Cleanup(func() { closeStore(t, a); closeStore(t, b) })
	for i, p := range []**ssod.Integration{&in, &other} {
		acct, err := a.CreateAccount(t.Context(), fmt.Sprint("acct", i), 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		if *p, err = a.CreateIntegration(t.Context(), acct.ID, integrationUpdate(fmt.Sprint("idp", i)), 1); err != nil {
			t.Fatal(err)
		}
	}
	return a, b, in, other
}

// Two instances on one database: of concurrent uses of one request or one
// assertion, half through each instance, exactly one wins.
func TestSignInOneUseAcrossInstances(t *testing.T) {
	a, b, in, _ := signInSetup(t)
	ctx := t.Context()
	stores := []*Store{a, b}
	const n, now = 16, 1_700_000_000
	for round := range 10 {
		id := fmt.Sprint("race-", round)
		if err := a.SaveAuthnRequest(ctx, in.ID, id, now+ssod.AuthnRequestLifetime); err != nil {
			t.Fatal(err)
		}
		storetest.WantOneWinner(t, "UseAuthnRequest", n, func(i int) (bool, error) {
			return stores[i%2].UseAuthnRequest(ctx, in.ID, id, now)
		})
		storetest.WantOneWinner(t, "UseAssertion", n, func(i int) (bool, error) {
			return stores[i%2].UseAssertion(ctx, in.ID, id, now+100, now)
		})
		// An expired record taken over at once by several: one wins.
		storetest.WantOneWinner(t, "UseAssertion of an expired record", n, func(i int) (bool, error) {
			return stores[i%2].UseAssertion(ctx, in.ID, id, now+300, now+100)
		})
	}
}

// Two instances adding traces to one integration at once: every trace gets
// its own id, the list is newest first by id, and retention keeps exactly
// the newest MaxLoginTraces.
func TestSignInTracesAcrossInstances(t *testing.T) {
	a, b, in, _ := signInSetup(t)
	ctx := t.Context()
	stores := []*Store{a, b}
	const workers, total = 8, ssod.MaxLoginTraces + 20
	ids := make([][]int64, workers)
	storetest.Parallel(workers, func(w int) {
		for i := w; i < total; i += workers {
			tr, err := stores[w%2].AddLoginTrace(ctx, ssod.LoginTrace{IntegrationID: in.ID, Time: 1, Result: "ok"})
			if err != nil {
				t.Error(err)
				return
			}
			ids[w] = append(ids[w], tr.ID)
		}
	})
	all := slices.Concat(ids...)
	slices.Sort(all)
	if len(slices.Compact(slices.Clone(all))) != total {
		t.Fatalf("%d distinct ids for %d traces", len(slices.Compact(slices.Clone(all))), total)
	}
	slices.Reverse(all)
	got, err := b.ListLoginTraces(ctx, in.AccountID, in.ID, ssod.MaxLoginTracesPerList)
	if err != nil {
		t.Fatal(err)
	}
	var gotIDs []int64
	for _, tr := range got {
		gotIDs = append(gotIDs, tr.ID)
	}
	if !slices.Equal(gotIDs, all[:ssod.MaxLoginTraces]) {
		t.Errorf("kept %d traces, want the newest %d by id, newest first", len(gotIDs), ssod.MaxLoginTraces)
	}
	var n int
	if err := a.pool.QueryRow(ctx, `SELECT count(*) FROM login_traces`).Scan(&n); err != nil || n != ssod.MaxLoginTraces {
		t.Errorf("the table holds %d traces (%v), want %d", n, err, ssod.MaxLoginTraces)
	}
}

// A sign-in of one integration that holds its locks (an open transaction
// that has accepted an assertion, taken a trace number, and locked every
// expired row as a pruner would) does not make another integration's
// sign-in wait: no lock is shared between integrations, and pruning skips
// rows another transaction holds.
func TestSignInDoesNotWaitForOtherIntegrations(t *testing.T) {
	a, b, in, other := signInSetup(t)
	ctx := t.Context()
	const now = 1_700_000_000
	for _, id := range []string{in.ID, other.ID} {
		for i := range 4 { // expired records of both, for pruning to find
			if err := a.SaveAuthnRequest(ctx, id, fmt.Sprint(id, "-old-", i), now-ssod.AuthnRequestLifetime); err != nil {
				t.Fatal(err)
			}
			if _, err := a.UseAssertion(ctx, id, fmt.Sprint("old-", i), now-10, now-20); err != nil {
				t.Fatal(err)
			}
		}
	}
	tx, err := a.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	for _, q := range []string{
		`INSERT INTO accepted_assertions (integration_id, assertion_id, expires_at) VALUES ($1, 'held', 2000000000)`,
		`INSERT INTO login_trace_counters (integration_id, n) VALUES ($1, 1)
		 ON CONFLICT (integration_id) DO UPDATE SET n = login_trace_counters.n + 1`,
		`INSERT INTO authn_requests (request_id, integration_id, expires_at) VALUES ('held', $1, 2000000000)`,
	} {
		if _, err := tx.Exec(ctx, q, in.ID); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{
		`SELECT FROM accepted_assertions WHERE expires_at <= $1 FOR UPDATE`,
		`SELECT FROM authn_requests WHERE expires_at <= $1 FOR UPDATE`,
	} {
		if _, err := tx.Exec(ctx, q, int64(now)); err != nil {
			t.Fatal(err)
		}
	}

	// Each call gets two seconds: a lock wait would last until the
	// transaction above ends, after the test.
	for _, s := range []*Store{a, b} {
		call := func(what string, f func(ctx context.Context) error) {
			t.Helper()
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			start := time.Now()
			if err := f(cctx); err != nil {
				t.Errorf("%s of another integration, beside an open sign-in: %v after %v", what, err, time.Since(start))
			}
		}
		id := fmt.Sprintf("%p", s)
		call("SaveAuthnRequest", func(ctx context.Context) error {
			return s.SaveAuthnRequest(ctx, other.ID, id, now+ssod.AuthnRequestLifetime)
		})
		call("UseAuthnRequest", func(ctx context.Context) error {
			ok, err := s.UseAuthnRequest(ctx, other.ID, id, now)
			if err == nil && !ok {
				err = fmt.Errorf("request %s not found", id)
			}
			return err
		})
		call("UseAssertion", func(ctx context.Context) error {
			ok, err := s.UseAssertion(ctx, other.ID, "held", now+100, now)
			if err == nil && !ok && s == a {
				err = fmt.Errorf("the first use of an assertion was refused")
			}
			return err
		})
		call("AddLoginTrace", func(ctx context.Context) error {
			_, err := s.AddLoginTrace(ctx, ssod.LoginTrace{IntegrationID: other.ID, Time: now, Result: "ok"})
			return err
		})
	}
}

func BenchmarkSignIn(b *testing.B) {
	s, err := Open(b.Context(), pgtest.DSN(b))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchmarkSignIn(b, s)
}

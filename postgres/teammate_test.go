package postgres

import (
	"fmt"
	"testing"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/postgres/pgtest"
	"github.com/ssod/ssod/storetest"
)

// Two instances on one database, as two ssod processes behind one load
// balancer: sign-ins of the same new user, half through each, provision
// exactly one teammate, and creates racing for an account's last places
// through both never overfill it.
func TestTeammatesAcrossInstances(t *testing.T) {
	dsn := pgtest.DSN(t)
	a, b := openStore(t, dsn), openStore(t, dsn)
	t.Cleanup(func() { closeStore(t, a); closeStore(t, b) })
	ctx := t.Context()
	stores := []*Store{a, b}
	acct, err := a.CreateAccount(ctx, "acme", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	newTeammate := func(username string) ssod.Teammate {
		return ssod.Teammate{AccountID: acct.ID, Username: username, FirstName: "J", LastName: "D", Persona: ssod.PersonaObserver}
	}
	const n = 16
	for round := range 10 {
		username := fmt.Sprintf("new%d@example.com", round)
		storetest.WantOneCreated(t, n, func(i int) (*ssod.Teammate, bool, error) {
			return stores[i%2].ProvisionTeammate(ctx, newTeammate(username), 1)
		})
	}

	const free = 2
	for i := 10; i < ssod.MaxTeammatesPerAccount-free; i++ {
		if _, err := a.CreateTeammate(ctx, newTeammate(fmt.Sprintf("t%d@example.com", i)), 1); err != nil {
			t.Fatal(err)
		}
	}
	errs := make([]error, n)
	storetest.Parallel(n, func(i int) {
		_, _, errs[i] = stores[i%2].ProvisionTeammate(ctx, newTeammate(fmt.Sprintf("racer%d@example.com", i)), 1)
	})
	var won int
	for _, err := range errs {
		if err == nil {
			won++
		} else if ssod.CodeOf(err) != ssod.EInvalid {
			t.Errorf("a losing racer got %v, want the limit's error", err)
		}
	}
	if won != free {
		t.Errorf("%d racers got a place, want %d", won, free)
	}
	all, err := b.ListTeammates(ctx, acct.ID, 2*ssod.MaxTeammatesPerAccount, 0)
	if err != nil || len(all) != ssod.MaxTeammatesPerAccount {
		t.Errorf("the account holds %d teammates (%v), want %d", len(all), err, ssod.MaxTeammatesPerAccount)
	}
}

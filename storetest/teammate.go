package storetest

import (
	"fmt"
	"testing"

	"github.com/ssod/ssod"
)

// teammate is a valid teammate of the account.
func teammate(accountID int64, username string) ssod.Teammate {
	return ssod.Teammate{AccountID: accountID, Username: username, FirstName: "Jane", LastName: "Doe",
		Persona: ssod.PersonaDeveloper, Scopes: []string{"mail.send", "stats.read"}}
}

// createTeammate creates a teammate or stops the test.
func (e *env) createTeammate(t ssod.Teammate) *ssod.Teammate {
	e.t.Helper()
	got, err := e.s.CreateTeammate(e.ctx, t, now)
	if err != nil {
		e.t.Fatalf("CreateTeammate(%d, %q): %v", t.AccountID, t.Username, err)
	}
	return got
}

// WantOneCreated runs provision n times at once and fails t unless exactly
// one call created the teammate and every call returned it.
func WantOneCreated(t *testing.T, n int, provision func(i int) (*ssod.Teammate, bool, error)) {
	t.Helper()
	got := make([]*ssod.Teammate, n)
	created := make([]bool, n)
	errs := make([]error, n)
	Parallel(n, func(i int) { got[i], created[i], errs[i] = provision(i) })
	var creators int
	var first *ssod.Teammate
	for i := range n {
		if errs[i] != nil {
			t.Errorf("provision %d: %v", i, errs[i])
			continue
		}
		if created[i] {
			creators++
		}
		if first == nil {
			first = got[i]
		} else if !got[i].Equal(*first) {
			t.Errorf("provision %d returned %+v, another %+v", i, got[i], first)
		}
	}
	if creators != 1 {
		t.Errorf("%d of %d concurrent provisions created the teammate, want exactly 1", creators, n)
	}
}

var teammateTests = []test{
	{"CRUD", func(e *env) {
		ts := e.s
		sub := e.account("alice-sub", e.alice.ID)
		want := teammate(e.alice.ID, "jane@example.com")
		want.HasRestrictedSubuserAccess = true
		want.SubuserAccess = []ssod.SubuserAccess{{SubuserID: sub.ID, PermissionType: ssod.PermissionRestricted, Scopes: []string{"stats.read"}}}
		got := e.createTeammate(want)
		want.CreatedAt, want.UpdatedAt = now, now
		wantEqual(e.t, "CreateTeammate", *got, want)
		read, err := ts.GetTeammate(e.ctx, e.alice.ID, "jane@example.com")
		if err != nil {
			e.t.Fatal(err)
		}
		wantEqual(e.t, "GetTeammate", *read, want)
		// Absent lists come back empty, never nil, so they encode as [].
		bare := e.createTeammate(ssod.Teammate{AccountID: e.alice.ID, Username: "joe@example.com", FirstName: "Joe", LastName: "Bloggs", IsAdmin: true})
		if bare.Scopes == nil || bare.SubuserAccess == nil {
			e.t.Errorf("created teammate has nil lists: %+v", bare)
		}
		list, err := ts.ListTeammates(e.ctx, e.alice.ID, 10, 0)
		if err != nil {
			e.t.Fatal(err)
		}
		wantEqual(e.t, "ListTeammates", list, []ssod.Teammate{want, *bare})
		page, err := ts.ListTeammates(e.ctx, e.alice.ID, 1, 1)
		if err != nil {
			e.t.Fatal(err)
		}
		wantEqual(e.t, "ListTeammates(limit 1, offset 1)", page, []ssod.Teammate{*bare})
		if none, err := ts.ListTeammates(e.ctx, e.alice.ID, 0, 0); err != nil || len(none) != 0 {
			e.t.Errorf("ListTeammates(limit 0) = %+v, %v; want none", none, err)
		}

		up, err := ts.UpdateTeammate(e.ctx, e.alice.ID, "jane@example.com", ssod.TeammateUpdate{
			FirstName: ptr("Janet"), IsAdmin: ptr(true), Persona: ptr(""), Scopes: ptr([]string{}),
			HasRestrictedSubuserAccess: ptr(false), SubuserAccess: ptr([]ssod.SubuserAccess{}),
		}, now+5)
		if err != nil {
			e.t.Fatal(err)
		}
		want.FirstName, want.IsAdmin, want.Persona, want.Scopes = "Janet", true, "", []string{}
		want.HasRestrictedSubuserAccess, want.SubuserAccess, want.UpdatedAt = false, []ssod.SubuserAccess{}, now+5
		wantEqual(e.t, "UpdateTeammate", *up, want)
		if read, err = ts.GetTeammate(e.ctx, e.alice.ID, "jane@example.com"); err != nil {
			e.t.Fatal(err)
		}
		wantEqual(e.t, "GetTeammate after update", *read, want)
		// An update that changes nothing keeps UpdatedAt.
		if same, err := ts.UpdateTeammate(e.ctx, e.alice.ID, "jane@example.com", ssod.TeammateUpdate{FirstName: ptr("Janet")}, now+9); err != nil || same.UpdatedAt != now+5 {
			e.t.Errorf("no-op update: %+v, %v; want UpdatedAt kept at %d", same, err, now+5)
		}
		// The result must still be valid: access without restriction is not.
		_, err = ts.UpdateTeammate(e.ctx, e.alice.ID, "jane@example.com", ssod.TeammateUpdate{
			SubuserAccess: ptr([]ssod.SubuserAccess{{SubuserID: sub.ID, PermissionType: ssod.PermissionAdmin}})}, now+6)
		wantCode(e.t, err, ssod.EInvalid)

		if err := ts.DeleteTeammate(e.ctx, e.alice.ID, "jane@example.com"); err != nil {
			e.t.Fatal(err)
		}
		_, err = ts.GetTeammate(e.ctx, e.alice.ID, "jane@example.com")
		wantCode(e.t, err, ssod.ENotFound)
		wantCode(e.t, ts.DeleteTeammate(e.ctx, e.alice.ID, "jane@example.com"), ssod.ENotFound)
		_, err = ts.UpdateTeammate(e.ctx, e.alice.ID, "jane@example.com", ssod.TeammateUpdate{FirstName: ptr("X")}, now)
		wantCode(e.t, err, ssod.ENotFound)
		// Deleted, the username is free again.
		e.createTeammate(teammate(e.alice.ID, "jane@example.com"))
	}},
	{"Isolation", func(e *env) {
		ts := e.s
		e.createTeammate(teammate(e.alice.ID, "jane@example.com"))
		_, errOther := ts.GetTeammate(e.ctx, e.bob.ID, "jane@example.com")
		_, errMissing := ts.GetTeammate(e.ctx, e.bob.ID, "nobody@example.com")
		wantLikeMissing(e.t, errOther, errMissing)
		_, err := ts.UpdateTeammate(e.ctx, e.bob.ID, "jane@example.com", ssod.TeammateUpdate{IsAdmin: ptr(true)}, now)
		wantCode(e.t, err, ssod.ENotFound)
		wantCode(e.t, ts.DeleteTeammate(e.ctx, e.bob.ID, "jane@example.com"), ssod.ENotFound)
		if list, err := ts.ListTeammates(e.ctx, e.bob.ID, 10, 0); err != nil || len(list) != 0 {
			e.t.Errorf("bob's list: %+v, %v; want none", list, err)
		}
		// The same address may be a teammate of both accounts.
		e.createTeammate(teammate(e.bob.ID, "jane@example.com"))
		if got, err := ts.GetTeammate(e.ctx, e.alice.ID, "jane@example.com"); err != nil || got.AccountID != e.alice.ID {
			e.t.Errorf("alice's teammate after bob made his: %+v, %v", got, err)
		}
		// Subuser access only to one's own subusers.
		bobSub := e.account("bob-sub", e.bob.ID)
		t := teammate(e.alice.ID, "sub@example.com")
		t.HasRestrictedSubuserAccess = true
		t.SubuserAccess = []ssod.SubuserAccess{{SubuserID: bobSub.ID, PermissionType: ssod.PermissionAdmin}}
		_, err = ts.CreateTeammate(e.ctx, t, now)
		wantCode(e.t, err, ssod.EInvalid)
		t.SubuserAccess[0].SubuserID = e.bob.ID // an account, but no subuser
		_, err = ts.CreateTeammate(e.ctx, t, now)
		wantCode(e.t, err, ssod.EInvalid)
		_, err = ts.GetTeammate(e.ctx, e.alice.ID, "sub@example.com")
		wantCode(e.t, err, ssod.ENotFound) // the refused create stored nothing
		// No teammate for an account that does not exist.
		_, err = ts.CreateTeammate(e.ctx, teammate(1<<40, "x@example.com"), now)
		wantCode(e.t, err, ssod.ENotFound)
	}},
	{"UsernameComparison", func(e *env) {
		ts := e.s
		e.createTeammate(teammate(e.alice.ID, "Jane@Example.COM"))
		for _, name := range []string{"Jane@Example.COM", "Jane@example.com", "Jane@EXAMPLE.COM"} {
			got, err := ts.GetTeammate(e.ctx, e.alice.ID, name)
			if err != nil {
				e.t.Errorf("GetTeammate(%q): %v", name, err)
				continue
			}
			if got.Username != "Jane@Example.COM" {
				e.t.Errorf("GetTeammate(%q).Username = %q, want it as created", name, got.Username)
			}
		}
		for _, name := range []string{"jane@example.com", "JANE@example.com"} {
			_, err := ts.GetTeammate(e.ctx, e.alice.ID, name)
			wantCode(e.t, err, ssod.ENotFound)
		}
		_, err := ts.CreateTeammate(e.ctx, teammate(e.alice.ID, "Jane@example.com"), now)
		wantCode(e.t, err, ssod.EConflict)
		e.createTeammate(teammate(e.alice.ID, "jane@example.com")) // another local part, another teammate
		// Updates and deletes find the teammate by the same rule.
		if _, err := ts.UpdateTeammate(e.ctx, e.alice.ID, "Jane@EXAMPLE.com", ssod.TeammateUpdate{IsAdmin: ptr(true)}, now); err != nil {
			e.t.Errorf("UpdateTeammate by another domain case: %v", err)
		}
		if err := ts.DeleteTeammate(e.ctx, e.alice.ID, "Jane@example.COM"); err != nil {
			e.t.Errorf("DeleteTeammate by another domain case: %v", err)
		}
		if got, err := ts.GetTeammate(e.ctx, e.alice.ID, "jane@example.com"); err != nil || got.Username != "jane@example.com" {
			e.t.Errorf("the other teammate after the delete: %+v, %v", got, err)
		}
	}},
	{"LimitUnderRacingCreates", func(e *env) {
		ts := e.s
		const free = 3
		Parallel(16, func(i int) {
			for n := i; n < ssod.MaxTeammatesPerAccount-free; n += 16 {
				if _, err := ts.CreateTeammate(e.ctx, teammate(e.alice.ID, fmt.Sprintf("t%d@example.com", n)), now); err != nil {
					e.t.Errorf("create %d: %v", n, err)
				}
			}
		})
		// Twelve racers for the last three places, half of them JIT.
		const racers = 12
		errs := make([]error, racers)
		Parallel(racers, func(i int) {
			t := teammate(e.alice.ID, fmt.Sprintf("racer%d@example.com", i))
			if i%2 == 0 {
				_, errs[i] = ts.CreateTeammate(e.ctx, t, now)
			} else {
				_, _, errs[i] = ts.ProvisionTeammate(e.ctx, t, now)
			}
		})
		var won int
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case ssod.CodeOf(err) != ssod.EInvalid:
				e.t.Errorf("a losing racer got %v, want the limit's error", err)
			}
		}
		if won != free {
			e.t.Errorf("%d racers got a place, want %d", won, free)
		}
		all, err := ts.ListTeammates(e.ctx, e.alice.ID, 2*ssod.MaxTeammatesPerAccount, 0)
		if err != nil || len(all) != ssod.MaxTeammatesPerAccount {
			e.t.Errorf("the account holds %d teammates (%v), want %d", len(all), err, ssod.MaxTeammatesPerAccount)
		}
		// A full account still finds its existing teammates by JIT.
		if _, created, err := ts.ProvisionTeammate(e.ctx, teammate(e.alice.ID, "t0@example.com"), now); err != nil || created {
			e.t.Errorf("JIT of an existing teammate in a full account: created %v, %v", created, err)
		}
		// Another account is not limited by this one.
		e.createTeammate(teammate(e.bob.ID, "t0@example.com"))
	}},
	{"JITRace", func(e *env) {
		ts := e.s
		const n = 16
		for round := range 5 {
			username := fmt.Sprintf("new%d@example.com", round)
			WantOneCreated(e.t, n, func(i int) (*ssod.Teammate, bool, error) {
				t := teammate(e.alice.ID, username)
				if i%2 == 1 {
					t.Username = fmt.Sprintf("new%d@EXAMPLE.com", round) // the same teammate
				}
				t.Persona, t.Scopes = ssod.PersonaObserver, []string{"stats.read"}
				return ts.ProvisionTeammate(e.ctx, t, now)
			})
		}
		list, err := ts.ListTeammates(e.ctx, e.alice.ID, 100, 0)
		if err != nil || len(list) != 5 {
			e.t.Errorf("after 5 raced provisions the account holds %d teammates (%v), want 5", len(list), err)
		}
		evs, err := e.s.ListAuditEvents(e.ctx, e.alice.ID, 100)
		if err != nil {
			e.t.Fatal(err)
		}
		var jit int
		for _, ev := range evs {
			if ev.Operation == ssod.AuditTeammateJIT {
				jit++
			}
		}
		if jit != 5 {
			e.t.Errorf("%d %s events, want 5", jit, ssod.AuditTeammateJIT)
		}
	}},
	{"Audit", func(e *env) {
		ts := e.s
		ctx := ssod.WithActor(e.ctx, ssod.Actor{AccountID: e.alice.ID, KeyID: "key-1"})
		if _, err := ts.CreateTeammate(ctx, teammate(e.alice.ID, "jane@example.com"), now); err != nil {
			e.t.Fatal(err)
		}
		if _, err := ts.UpdateTeammate(ctx, e.alice.ID, "jane@example.com", ssod.TeammateUpdate{IsAdmin: ptr(true)}, now); err != nil {
			e.t.Fatal(err)
		}
		if err := ts.DeleteTeammate(ctx, e.alice.ID, "jane@EXAMPLE.com"); err != nil {
			e.t.Fatal(err)
		}
		if _, _, err := ts.ProvisionTeammate(e.ctx, teammate(e.alice.ID, "jit@example.com"), now); err != nil {
			e.t.Fatal(err)
		}
		// Refused writes and a JIT of a known teammate record nothing.
		_, _ = ts.CreateTeammate(ctx, teammate(e.alice.ID, "jit@example.com"), now)
		if _, _, err := ts.ProvisionTeammate(e.ctx, teammate(e.alice.ID, "jit@example.com"), now); err != nil {
			e.t.Fatal(err)
		}
		evs, err := e.s.ListAuditEvents(e.ctx, e.alice.ID, 10)
		if err != nil {
			e.t.Fatal(err)
		}
		want := []struct {
			op, object, actorKey string
			hasBefore, hasAfter  bool
		}{
			{ssod.AuditTeammateJIT, "jit@example.com", "", false, true},
			{ssod.AuditTeammateDelete, "jane@example.com", "key-1", true, false},
			{ssod.AuditTeammateUpdate, "jane@example.com", "key-1", true, true},
			{ssod.AuditTeammateCreate, "jane@example.com", "key-1", false, true},
		}
		if len(evs) != len(want) {
			e.t.Fatalf("audit events %+v, want %d", evs, len(want))
		}
		for i, w := range want {
			ev := evs[i]
			if ev.Operation != w.op || ev.ObjectID != w.object || ev.KeyID != w.actorKey || ev.AccountID != e.alice.ID ||
				(ev.Before != "") != w.hasBefore || (ev.After != "") != w.hasAfter {
				e.t.Errorf("event %d: %+v, want %+v", i, ev, w)
			}
		}
		if evs[2].Before == evs[2].After {
			e.t.Errorf("the update's summaries do not differ: %s", evs[2].Before)
		}
	}},
	{"IntegrationJITFields", func(e *env) {
		in := e.integration(e.alice.ID, "okta")
		if in.JITProvisioning || in.JITPersona != ssod.DefaultJITPersona {
			e.t.Errorf("new integration: jit %v, persona %q; want false, %q", in.JITProvisioning, in.JITPersona, ssod.DefaultJITPersona)
		}
		up, err := e.s.UpdateIntegration(e.ctx, e.alice.ID, in.ID,
			ssod.IntegrationUpdate{JITProvisioning: ptr(true), JITPersona: ptr(ssod.PersonaMarketer)}, now+1)
		if err != nil {
			e.t.Fatal(err)
		}
		if !up.JITProvisioning || up.JITPersona != ssod.PersonaMarketer {
			e.t.Errorf("updated integration: %+v", up)
		}
		wantEqual(e.t, "GetIntegration", e.getIntegration(e.alice.ID, in.ID), *up)
		found, err := e.s.FindIntegration(e.ctx, in.ID)
		if err != nil {
			e.t.Fatal(err)
		}
		wantEqual(e.t, "FindIntegration", *found, *up)
	}},
	{"MigrateRoundTrip", func(e *env) {
		sub := e.account("alice-sub", e.alice.ID)
		t := teammate(e.alice.ID, "Jane@Example.com")
		t.HasRestrictedSubuserAccess = true
		t.SubuserAccess = []ssod.SubuserAccess{
			{SubuserID: sub.ID, PermissionType: ssod.PermissionRestricted, Scopes: []string{"stats.read"}},
			{SubuserID: e.account("alice-sub2", e.alice.ID).ID, PermissionType: ssod.PermissionAdmin},
		}
		created := e.createTeammate(t)
		e.createTeammate(teammate(e.bob.ID, "bob@example.com"))
		e.createTeammate(teammate(e.alice.ID, "zed@example.com"))
		in, err := e.s.UpdateIntegration(e.ctx, e.alice.ID, e.integration(e.alice.ID, "okta").ID,
			ssod.IntegrationUpdate{JITProvisioning: ptr(true), JITPersona: ptr(ssod.PersonaAccountant)}, now)
		if err != nil {
			e.t.Fatal(err)
		}
		src, err := e.s.Export(e.ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		if len(src.Teammates) != 3 {
			e.t.Fatalf("export holds %d teammates, want 3", len(src.Teammates))
		}
		dst := e.newStore(e.t)
		if err := dst.Import(e.ctx, src); err != nil {
			e.t.Fatal(err)
		}
		copied, err := dst.Export(e.ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		wantEqual(e.t, "export of the copy", copied, src)
		dts := dst
		got, err := dts.GetTeammate(e.ctx, e.alice.ID, "Jane@EXAMPLE.com")
		if err != nil {
			e.t.Fatal(err)
		}
		wantEqual(e.t, "the copied teammate", *got, *created)
		list, err := dts.ListTeammates(e.ctx, e.alice.ID, 10, 0)
		if err != nil || len(list) != 2 || list[0].Username != "Jane@Example.com" {
			e.t.Errorf("the copy's list: %+v, %v; want Jane first of 2", list, err)
		}
		if gotIn, err := dst.GetIntegration(e.ctx, e.alice.ID, in.ID); err != nil || *gotIn != *in {
			e.t.Errorf("the copied integration: %+v, %v; want %+v", gotIn, err, in)
		}
		_, err = dts.CreateTeammate(e.ctx, teammate(e.alice.ID, "jane@example.com"), now)
		wantCode(e.t, err, "")
		_, err = dts.CreateTeammate(e.ctx, teammate(e.alice.ID, "Jane@example.COM"), now)
		wantCode(e.t, err, ssod.EConflict)
	}},
}

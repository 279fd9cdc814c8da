package storetest

import (
	"crypto/sha256"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ssod/ssod"
)

// testSeed is a seed with a subuser, two keys, two integrations,
// certificates with ids 7 and 8 in one of them, and two teammates, one with
// access to the subuser.
func testSeed() *ssod.Seed {
	hash := func(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }
	return &ssod.Seed{
		Accounts: []ssod.SeedAccount{{Name: "main"}, {Name: "eu-team", Parent: "main"}},
		Keys: []ssod.SeedKey{
			{Account: "main", ID: "seedkey-main-000000001", SecretHash: hash("a"), Name: "ci", Scopes: []ssod.Scope{ssod.ScopeSettingsRead}},
			{Account: "eu-team", ID: "seedkey-eu-00000000002", SecretHash: hash("b"), Name: "eu", Scopes: ssod.AllScopes()},
		},
		Integrations: []ssod.SeedIntegration{
			{Account: "main", Integration: ssod.Integration{ID: "11111111-1111-4111-8111-111111111111", Name: "Okta", Enabled: true,
				SigninURL: "https://okta.example.com/sso", SignoutURL: "https://okta.example.com/slo", EntityID: "http://www.okta.com/x", CompletedIntegration: true,
				JITPersona: ssod.DefaultJITPersona}},
			{Account: "eu-team", Integration: ssod.Integration{ID: "22222222-2222-4222-8222-222222222222", Name: "Entra", Enabled: false,
				SigninURL: "https://login.example.com/sso", SignoutURL: "https://login.example.com/slo", EntityID: "https://sts.example.com/y",
				JITPersona: ssod.DefaultJITPersona}},
		},
		Certificates: []ssod.SeedCertificate{
			{ID: 7, IntegrationID: "11111111-1111-4111-8111-111111111111", Enabled: true, X509: testX509(1)},
			{ID: 8, IntegrationID: "11111111-1111-4111-8111-111111111111", Enabled: false, X509: testX509(2)},
		},
		Teammates: []ssod.SeedTeammate{
			{Account: "main", Teammate: ssod.Teammate{Username: "Jane@Example.com", FirstName: "Jane", LastName: "Doe",
				IsAdmin: true, Scopes: []string{"mail.send", "sso.settings.read"}}},
			{Account: "main", Subusers: []string{"eu-team"}, Teammate: ssod.Teammate{Username: "eve@example.com", FirstName: "Eve", LastName: "Poe",
				Persona: ssod.PersonaObserver, HasRestrictedSubuserAccess: true,
				SubuserAccess: []ssod.SubuserAccess{{PermissionType: ssod.PermissionRestricted, Scopes: []string{"stats.read"}}}}},
		},
	}
}

// applySeed applies sd or stops the test.
func (e *env) applySeed(sd *ssod.Seed) {
	e.t.Helper()
	if err := e.s.ApplySeed(e.ctx, sd, now); err != nil {
		e.t.Fatalf("ApplySeed: %v", err)
	}
}

// export reads the whole store or stops the test.
func (e *env) export(s ssod.Store) *ssod.Snapshot {
	e.t.Helper()
	snap, err := s.Export(e.ctx)
	if err != nil {
		e.t.Fatalf("Export: %v", err)
	}
	return snap
}

// seededFresh is what a new, empty store holds once sd is applied: what a
// reset must give back exactly.
func (e *env) seededFresh(sd *ssod.Seed) *ssod.Snapshot {
	e.t.Helper()
	fresh := e.newStore(e.t)
	if err := fresh.ApplySeed(e.ctx, sd, now); err != nil {
		e.t.Fatalf("ApplySeed on a new store: %v", err)
	}
	return e.export(fresh)
}

var seedTests = []test{
	{"CreatesEveryEntryWithItsIDs", func(e *env) {
		sd := testSeed()
		e.applySeed(sd)
		main, err := e.s.FindAccountByName(e.ctx, "main")
		if err != nil {
			e.t.Fatal(err)
		}
		eu, err := e.s.FindAccountByName(e.ctx, "eu-team")
		if err != nil || eu.ParentID != main.ID {
			e.t.Fatalf("eu-team: %+v, %v; want a subuser of %d", eu, err, main.ID)
		}
		k, err := e.s.FindKey(e.ctx, sd.Keys[1].ID)
		if err != nil {
			e.t.Fatal(err)
		}
		wantEqual(e.t, "seeded key", *k, ssod.APIKey{ID: sd.Keys[1].ID, AccountID: eu.ID, Name: "eu",
			Scopes: ssod.AllScopes(), SecretHash: sd.Keys[1].SecretHash, CreatedAt: now})
		in := sd.Integrations[0].Integration
		in.AccountID, in.LastUpdated = main.ID, now
		wantEqual(e.t, "seeded integration", e.getIntegration(main.ID, in.ID), in)
		e.wantCertificates(main.ID, in.ID,
			ssod.Certificate{ID: 7, AccountID: main.ID, IntegrationID: in.ID, X509: testX509(1), Enabled: true},
			ssod.Certificate{ID: 8, AccountID: main.ID, IntegrationID: in.ID, X509: testX509(2), Enabled: false})
		// Ids handed out later continue after the seed's.
		if c := e.certificate(main.ID, in.ID, 3); c.ID != 9 {
			e.t.Errorf("first certificate after the seed has id %d, want 9", c.ID)
		}
		// Teammates, found by the comparison rule, their subusers by id.
		jane, err := e.s.GetTeammate(e.ctx, main.ID, "Jane@example.COM")
		if err != nil {
			e.t.Fatal(err)
		}
		wantEqual(e.t, "seeded teammate", *jane, ssod.Teammate{AccountID: main.ID, Username: "Jane@Example.com", FirstName: "Jane", LastName: "Doe",
			IsAdmin: true, Scopes: []string{"mail.send", "sso.settings.read"}, SubuserAccess: []ssod.SubuserAccess{}, CreatedAt: now, UpdatedAt: now})
		eve, err := e.s.GetTeammate(e.ctx, main.ID, "eve@example.com")
		if err != nil {
			e.t.Fatal(err)
		}
		wantEqual(e.t, "seeded teammate with subuser access", *eve, ssod.Teammate{AccountID: main.ID, Username: "eve@example.com", FirstName: "Eve", LastName: "Poe",
			Persona: ssod.PersonaObserver, Scopes: []string{}, HasRestrictedSubuserAccess: true,
			SubuserAccess: []ssod.SubuserAccess{{SubuserID: eu.ID, PermissionType: ssod.PermissionRestricted, Scopes: []string{"stats.read"}}},
			CreatedAt:     now, UpdatedAt: now})
		// What the seed created is in the audit trail, made by no key.
		evs, err := e.s.ListAuditEvents(e.ctx, 0, 100)
		if err != nil {
			e.t.Fatal(err)
		}
		seeded, teammates := 0, 0
		for _, ev := range evs {
			if ev.KeyID == ssod.SeedAuditKeyID {
				seeded++
				if ev.Operation == ssod.AuditTeammateCreate {
					teammates++
				}
				if ev.ActorAccountID != 0 || ev.At != now || ev.Before != "" {
					e.t.Errorf("seed audit event %+v", ev)
				}
			}
		}
		if seeded != 6 || teammates != 2 { // two integrations, two certificates, two teammates
			e.t.Errorf("%d audit events by the seed, %d of them teammate creates; want 6 and 2", seeded, teammates)
		}
	}},
	{"AgainChangesNothing", func(e *env) {
		sd := testSeed()
		e.applySeed(sd)
		before := e.export(e.s)
		e.applySeed(sd)
		wantEqual(e.t, "store after the second ApplySeed", e.export(e.s), before)
	}},
	{"ConcurrentAppliesApplyItOnce", func(e *env) {
		// As instances that start together with one seed file do.
		sd := testSeed()
		Parallel(4, func(int) {
			if err := e.s.ApplySeed(e.ctx, sd, now); err != nil {
				e.t.Errorf("concurrent ApplySeed: %v", err)
			}
		})
		once := e.newStore(e.t)
		for _, name := range []string{"alice", "bob"} { // as e's store has them
			if _, err := once.CreateAccount(e.ctx, name, 0, now); err != nil {
				e.t.Fatal(err)
			}
		}
		if err := once.ApplySeed(e.ctx, sd, now); err != nil {
			e.t.Fatal(err)
		}
		wantEqual(e.t, "store after concurrent ApplySeeds", e.export(e.s), e.export(once))
	}},
	{"DeletedEntryIsCreatedAgain", func(e *env) {
		sd := testSeed()
		e.applySeed(sd)
		main, _ := e.s.FindAccountByName(e.ctx, "main")
		later := e.certificate(main.ID, sd.Integrations[0].ID, 3)
		if _, err := e.s.DeleteCertificate(e.ctx, main.ID, 8); err != nil {
			e.t.Fatal(err)
		}
		if err := e.s.DeleteTeammate(e.ctx, main.ID, "eve@example.com"); err != nil {
			e.t.Fatal(err)
		}
		e.applySeed(sd)
		if tm, err := e.s.GetTeammate(e.ctx, main.ID, "eve@example.com"); err != nil || len(tm.SubuserAccess) != 1 {
			e.t.Errorf("teammate eve after a second ApplySeed: %+v, %v", tm, err)
		}
		if c := e.getCertificate(main.ID, 8); c.PEM != sd.Certificates[1].PEM || c.Enabled {
			e.t.Errorf("certificate 8 after a second ApplySeed: %+v", c)
		}
		if c := e.certificate(main.ID, sd.Integrations[0].ID, 4); c.ID <= later.ID {
			e.t.Errorf("certificate created after that: id %d, want above %d", c.ID, later.ID)
		}
	}},
	{"LeavesOtherObjectsAlone", func(e *env) {
		in := e.integration(e.alice.ID, "alice's")
		c := e.certificate(e.alice.ID, in.ID, 1) // the PEM of seed certificate 7, in another integration
		e.applySeed(testSeed())
		e.wantCertificates(e.alice.ID, in.ID, *c)
	}},
	{"EntryWithOtherValuesIsRefusedNamingIt", func(e *env) {
		e.applySeed(testSeed())
		before := e.export(e.s)
		cases := []struct {
			name   string
			change func(sd *ssod.Seed)
			want   string // in the message
		}{
			{"parent", func(sd *ssod.Seed) { sd.Accounts[1].Parent = "" }, `account "eu-team"`},
			{"key secret", func(sd *ssod.Seed) { sd.Keys[0].SecretHash = make([]byte, 32) }, `API key "seedkey-main-000000001"`},
			{"key scopes", func(sd *ssod.Seed) { sd.Keys[0].Scopes = ssod.AllScopes() }, `API key "seedkey-main-000000001"`},
			{"key account", func(sd *ssod.Seed) { sd.Keys[0].Account = "eu-team" }, `API key "seedkey-main-000000001"`},
			{"integration name", func(sd *ssod.Seed) { sd.Integrations[1].Name = "Other" }, `integration "22222222-2222-4222-8222-222222222222"`},
			{"integration account", func(sd *ssod.Seed) { sd.Integrations[1].Account = "main" }, `integration "22222222-2222-4222-8222-222222222222"`},
			{"certificate body", func(sd *ssod.Seed) { sd.Certificates[1].X509 = testX509(5) }, `certificate 8`},
			{"certificate enabled", func(sd *ssod.Seed) { sd.Certificates[1].Enabled = true }, `certificate 8`},
			{"certificate integration", func(sd *ssod.Seed) {
				sd.Certificates[1].IntegrationID = sd.Integrations[1].ID
			}, `certificate 8`},
			{"teammate first_name", func(sd *ssod.Seed) { sd.Teammates[0].FirstName = "Janet" }, `teammate "Jane@Example.com" of account "main"`},
			{"teammate username spelt otherwise", func(sd *ssod.Seed) { sd.Teammates[0].Username = "Jane@example.com" }, `teammate "Jane@example.com" of account "main"`},
			{"teammate is_admin", func(sd *ssod.Seed) { sd.Teammates[0].IsAdmin = false }, `teammate "Jane@Example.com"`},
			{"teammate scopes", func(sd *ssod.Seed) { sd.Teammates[0].Scopes = []string{"mail.send"} }, `teammate "Jane@Example.com"`},
			{"teammate persona", func(sd *ssod.Seed) { sd.Teammates[1].Persona = "" }, `teammate "eve@example.com"`},
			{"teammate subuser access", func(sd *ssod.Seed) {
				sd.Teammates[1].SubuserAccess = []ssod.SubuserAccess{{PermissionType: ssod.PermissionAdmin, Scopes: []string{"stats.read"}}}
			}, `teammate "eve@example.com"`},
			{"new teammate whose subuser is not the account's", func(sd *ssod.Seed) {
				sd.Teammates = append(sd.Teammates, ssod.SeedTeammate{Account: "eu-team", Subusers: []string{"main"}, Teammate: ssod.Teammate{
					Username: "new@example.com", FirstName: "N", LastName: "N", HasRestrictedSubuserAccess: true,
					SubuserAccess: []ssod.SubuserAccess{{PermissionType: ssod.PermissionAdmin}}}})
			}, `teammate "new@example.com" of account "eu-team"`},
			{"new certificate duplicating a stored one", func(sd *ssod.Seed) {
				sd.Certificates = append(sd.Certificates, ssod.SeedCertificate{ID: 20, IntegrationID: sd.Integrations[0].ID, Enabled: true, X509: testX509(1)})
			}, `certificate 20`},
		}
		for _, tc := range cases {
			sd := testSeed()
			tc.change(sd)
			err := e.s.ApplySeed(e.ctx, sd, now)
			wantCode(e.t, err, ssod.EConflict)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				e.t.Errorf("%s: error %v, want one naming %s", tc.name, err, tc.want)
			}
		}
		wantEqual(e.t, "store after refused seeds", e.export(e.s), before)
		// A revoked key is not the seed's either.
		if err := e.s.RevokeKey(e.ctx, "seedkey-eu-00000000002", now); err != nil {
			e.t.Fatal(err)
		}
		err := e.s.ApplySeed(e.ctx, testSeed(), now)
		if ssod.CodeOf(err) != ssod.EConflict || !strings.Contains(err.Error(), `API key "seedkey-eu-00000000002"`) || !strings.Contains(err.Error(), "revoked") {
			e.t.Errorf("seed of a revoked key: %v", err)
		}
	}},
	{"TeammateLimitCountsStoredTeammates", func(e *env) {
		sd := &ssod.Seed{Accounts: []ssod.SeedAccount{{Name: "full"}}}
		for i := range ssod.MaxTeammatesPerAccount {
			sd.Teammates = append(sd.Teammates, ssod.SeedTeammate{Account: "full", Teammate: ssod.Teammate{
				Username: fmt.Sprintf("t%d@example.com", i), FirstName: "T", LastName: "T"}})
		}
		e.applySeed(sd) // exactly the limit
		full, _ := e.s.FindAccountByName(e.ctx, "full")
		// The seed's t0 is deleted and another takes its place: the seed
		// would make the account hold one more than it may.
		if err := e.s.DeleteTeammate(e.ctx, full.ID, "t0@example.com"); err != nil {
			e.t.Fatal(err)
		}
		e.createTeammate(teammate(full.ID, "other@example.com"))
		before := e.export(e.s)
		err := e.s.ApplySeed(e.ctx, sd, now)
		wantCode(e.t, err, ssod.EConflict)
		if err == nil || !strings.Contains(err.Error(), `teammate "t0@example.com" of account "full"`) {
			e.t.Errorf("seed over the teammate limit: %v, want it refused naming t0", err)
		}
		wantEqual(e.t, "store after the refused seed", e.export(e.s), before)
	}},
	{"ResetGivesExactlyTheSeedWithIDsRestarted", func(e *env) {
		sd := testSeed()
		// From here on account main has the id it has after every reset.
		if err := e.s.ResetTo(e.ctx, sd, now); err != nil {
			e.t.Fatal(err)
		}
		// Everything a test suite might leave behind, ids moved far on.
		main, _ := e.s.FindAccountByName(e.ctx, "main")
		for i := range 5 {
			in := e.integration(main.ID, fmt.Sprintf("extra-%d", i))
			e.certificate(main.ID, in.ID, 10+i)
		}
		e.account("extra", 0)
		e.createKey(testKey("key-extra-000000000001", e.alice.ID, ssod.ScopeSettingsRead))
		if _, err := e.s.UpdateIntegration(e.ctx, main.ID, sd.Integrations[0].ID, ssod.IntegrationUpdate{Name: ptr("renamed")}, now+9); err != nil {
			e.t.Fatal(err)
		}
		if _, err := e.s.DeleteCertificate(e.ctx, main.ID, 8); err != nil {
			e.t.Fatal(err)
		}
		if _, err := e.s.UpdateCertificate(e.ctx, main.ID, 7, ssod.CertificateUpdate{Enabled: ptr(false)}); err != nil {
			e.t.Fatal(err)
		}
		e.getCertificate(main.ID, 7) // a store that caches reads now holds the changed one
		// What sign-in remembered of a seeded integration goes too.
		okta := sd.Integrations[0].ID
		e.saveRequest(okta, "req-before-reset", now+600)
		e.wantUseAssertion(okta, "assertion-before-reset", now+600, now, true)
		e.addTrace(ssod.LoginTrace{IntegrationID: okta, Time: now, Result: "ok"})
		e.createTeammate(teammate(main.ID, "left@example.com"))
		if _, err := e.s.UpdateTeammate(e.ctx, main.ID, "Jane@example.com", ssod.TeammateUpdate{FirstName: ptr("Janet"),
			Scopes: &[]string{"stats.read"}}, now+9); err != nil {
			e.t.Fatal(err)
		}
		if err := e.s.DeleteTeammate(e.ctx, main.ID, "eve@example.com"); err != nil {
			e.t.Fatal(err)
		}
		if err := e.s.ResetTo(e.ctx, sd, now); err != nil {
			e.t.Fatal(err)
		}
		wantEqual(e.t, "store after ResetTo", e.export(e.s), e.seededFresh(sd))
		main, _ = e.s.FindAccountByName(e.ctx, "main")
		e.createTeammate(teammate(main.ID, "left@example.com")) // the username is free again
		main, _ = e.s.FindAccountByName(e.ctx, "main")
		if c := e.getCertificate(main.ID, 7); !c.Enabled {
			e.t.Errorf("certificate 7 read after ResetTo: %+v, want it enabled as the seed says", c)
		}
		e.wantUseRequest(okta, "req-before-reset", now, false)
		e.wantUseAssertion(okta, "assertion-before-reset", now+600, now, true)
		if tr := e.addTrace(ssod.LoginTrace{IntegrationID: okta, Time: now, Result: "ok"}); tr.ID != 1 {
			e.t.Errorf("first login trace after the reset has id %d, want 1", tr.ID)
		}
		if c := e.certificate(main.ID, sd.Integrations[0].ID, 30); c.ID != 9 {
			e.t.Errorf("first certificate after the reset has id %d, want 9", c.ID)
		}
		if a := e.account("after", 0); a.ID != 3 {
			e.t.Errorf("first account after the reset has id %d, want 3", a.ID)
		}
		// An empty seed empties the store.
		if err := e.s.ResetTo(e.ctx, &ssod.Seed{}, now); err != nil {
			e.t.Fatal(err)
		}
		wantEqual(e.t, "store after ResetTo an empty seed", e.export(e.s), e.seededFresh(&ssod.Seed{}))
	}},
	{"ResetUnderConcurrentWritersLeavesExactlyTheSeed", func(e *env) {
		sd := testSeed()
		e.applySeed(sd)
		var (
			stop   atomic.Bool
			resets atomic.Int64 // resets started
			mu     sync.Mutex
			// integrations whose create answered when n resets had started
			before = map[int64][]string{}
			wg     sync.WaitGroup
		)
		for w := range 4 {
			wg.Go(func() {
				for i := 0; !stop.Load(); i++ {
					main, err := e.s.FindAccountByName(e.ctx, "main")
					if err != nil {
						continue // between a reset's delete and insert this cannot happen; the read sees one side
					}
					in, err := e.s.CreateIntegration(e.ctx, main.ID, integrationUpdate(fmt.Sprintf("w%d-%d", w, i)), now)
					if err != nil {
						wantCode(e.t, err, ssod.ENotFound) // the account went with a reset
						continue
					}
					n := resets.Load()
					mu.Lock()
					before[n] = append(before[n], in.ID)
					mu.Unlock()
					_, err = e.s.CreateCertificate(e.ctx, main.ID, ssod.CertificateUpdate{IntegrationID: &in.ID, X509: ptr(testX509(100 + w*100000 + i))})
					if err != nil && ssod.CodeOf(err) != ssod.EInvalid { // its integration went with a reset
						e.t.Errorf("create certificate: %v", err)
					}
				}
			})
		}
		defer func() { stop.Store(true); wg.Wait() }() // also when the test stops early
		deadline := time.Now().Add(20 * time.Second)
		for range 3 {
			for written := 0; written < 8; { // let the writers write
				time.Sleep(time.Millisecond)
				mu.Lock()
				written = len(slices.Concat(slices.Collect(maps.Values(before))...))
				mu.Unlock()
				if time.Now().After(deadline) {
					e.t.Fatal("the writers wrote nothing")
				}
			}
			k := resets.Add(1)
			if err := e.s.ResetTo(e.ctx, sd, now); err != nil {
				e.t.Fatal(err)
			}
			// Everything answered before this reset started is gone.
			main, err := e.s.FindAccountByName(e.ctx, "main")
			if err != nil {
				e.t.Fatal(err)
			}
			var gone []string
			mu.Lock()
			for n, ids := range before {
				if n < k {
					gone = append(gone, ids...)
					delete(before, n)
				}
			}
			mu.Unlock()
			for _, id := range gone {
				if _, err := e.s.GetIntegration(e.ctx, main.ID, id); err == nil {
					e.t.Errorf("integration %s, created before the reset, survived it", id)
				}
			}
			// What writers added since continues after the seed's ids.
			snap := e.export(e.s)
			for _, c := range snap.Certificates {
				if c.ID < 7 {
					e.t.Errorf("certificate %d (integration %s) below the seed's ids after a reset", c.ID, c.IntegrationID)
				}
			}
		}
		stop.Store(true)
		wg.Wait()
		if err := e.s.ResetTo(e.ctx, sd, now); err != nil {
			e.t.Fatal(err)
		}
		wantEqual(e.t, "store after the last ResetTo", e.export(e.s), e.seededFresh(sd))
	}},
}

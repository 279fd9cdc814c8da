package storetest

import "github.com/ssod/ssod"

var consoleTests = []test{
	{"SessionLifecycle", func(e *env) {
		s := ssod.ConsoleSession{TokenHash: "h1", AccountID: e.alice.ID, Username: "jane@example.com", CSRFToken: "c1",
			CreatedAt: now, LastSeen: now, ExpiresAt: now + 3600}
		if err := e.s.CreateConsoleSession(e.ctx, s); err != nil {
			e.t.Fatal(err)
		}
		wantCode(e.t, e.s.CreateConsoleSession(e.ctx, s), ssod.EConflict)
		missing := s
		missing.TokenHash, missing.AccountID = "h2", 1<<40
		wantCode(e.t, e.s.CreateConsoleSession(e.ctx, missing), ssod.ENotFound)
		got, err := e.s.GetConsoleSession(e.ctx, "h1")
		if err != nil {
			e.t.Fatal(err)
		}
		wantEqual(e.t, "GetConsoleSession", *got, s)
		if err := e.s.TouchConsoleSession(e.ctx, "h1", now+60); err != nil {
			e.t.Fatal(err)
		}
		got, err = e.s.GetConsoleSession(e.ctx, "h1")
		if err != nil {
			e.t.Fatal(err)
		}
		if got.LastSeen != now+60 {
			e.t.Errorf("LastSeen = %d after a touch at %d", got.LastSeen, now+60)
		}
		wantCode(e.t, e.s.TouchConsoleSession(e.ctx, "nope", now), ssod.ENotFound)
		for _, h := range []string{"nope", "", "\xff\x00"} {
			_, err := e.s.GetConsoleSession(e.ctx, h)
			wantCode(e.t, err, ssod.ENotFound)
		}
		if err := e.s.DeleteConsoleSession(e.ctx, "h1"); err != nil {
			e.t.Fatal(err)
		}
		_, err = e.s.GetConsoleSession(e.ctx, "h1")
		wantCode(e.t, err, ssod.ENotFound)
		if err := e.s.DeleteConsoleSession(e.ctx, "h1"); err != nil {
			e.t.Errorf("deleting a deleted session: %v", err)
		}
	}},
	{"ExpiredSessionsPruned", func(e *env) {
		old := ssod.ConsoleSession{TokenHash: "old", AccountID: e.alice.ID, KeyID: "k", CSRFToken: "c",
			CreatedAt: now, LastSeen: now, ExpiresAt: now + 10}
		if err := e.s.CreateConsoleSession(e.ctx, old); err != nil {
			e.t.Fatal(err)
		}
		fresh := old
		fresh.TokenHash, fresh.CreatedAt, fresh.ExpiresAt = "new", now+10, now+100
		if err := e.s.CreateConsoleSession(e.ctx, fresh); err != nil {
			e.t.Fatal(err)
		}
		_, err := e.s.GetConsoleSession(e.ctx, "old")
		wantCode(e.t, err, ssod.ENotFound)
		if _, err := e.s.GetConsoleSession(e.ctx, "new"); err != nil {
			e.t.Fatal(err)
		}
	}},
	{"SignInVerifiedOnceTakenOnce", func(e *env) {
		in := e.integration(e.alice.ID, "okta")
		other := e.integration(e.alice.ID, "other")
		p := ssod.ConsoleSignIn{StateHash: "s1", BindingHash: "b1", IntegrationID: in.ID, ExpiresAt: now + ssod.ConsoleSignInLifetime}
		if err := e.s.SaveConsoleSignIn(e.ctx, p); err != nil {
			e.t.Fatal(err)
		}
		wantCode(e.t, e.s.SaveConsoleSignIn(e.ctx, p), ssod.EConflict)
		p2 := p
		p2.StateHash, p2.IntegrationID = "s2", missingIntegrationID
		wantCode(e.t, e.s.SaveConsoleSignIn(e.ctx, p2), ssod.ENotFound)
		verify := func(state, integration string, at int64, want bool) {
			e.t.Helper()
			ok, err := e.s.VerifyConsoleSignIn(e.ctx, state, integration, "jane@example.com", at)
			if err != nil || ok != want {
				e.t.Errorf("VerifyConsoleSignIn(%s, %s, %d) = %v, %v; want %v", state, integration, at, ok, err, want)
			}
		}
		verify("s1", other.ID, now, false)                         // another integration's response
		verify("s1", in.ID, now+ssod.ConsoleSignInLifetime, false) // too late
		verify("nope", in.ID, now, false)                          // no such sign-in
		verify("s1", in.ID, now, true)                             // the one
		verify("s1", in.ID, now, false)                            // once
		got, err := e.s.TakeConsoleSignIn(e.ctx, "s1", now)
		if err != nil {
			e.t.Fatal(err)
		}
		p.Username = "jane@example.com"
		wantEqual(e.t, "TakeConsoleSignIn", *got, p)
		_, err = e.s.TakeConsoleSignIn(e.ctx, "s1", now)
		wantCode(e.t, err, ssod.ENotFound)
	}},
	{"ExpiredSignInNotTaken", func(e *env) {
		in := e.integration(e.alice.ID, "okta")
		p := ssod.ConsoleSignIn{StateHash: "s1", BindingHash: "b1", IntegrationID: in.ID, ExpiresAt: now + 10}
		if err := e.s.SaveConsoleSignIn(e.ctx, p); err != nil {
			e.t.Fatal(err)
		}
		_, err := e.s.TakeConsoleSignIn(e.ctx, "s1", now+10)
		wantCode(e.t, err, ssod.ENotFound)
		_, err = e.s.TakeConsoleSignIn(e.ctx, "s1", now)
		wantCode(e.t, err, ssod.ENotFound) // taken, even though too late
	}},
	{"SignInGoesWithItsIntegration", func(e *env) {
		in := e.integration(e.alice.ID, "okta")
		p := ssod.ConsoleSignIn{StateHash: "s1", BindingHash: "b1", IntegrationID: in.ID, ExpiresAt: now + 10}
		if err := e.s.SaveConsoleSignIn(e.ctx, p); err != nil {
			e.t.Fatal(err)
		}
		if err := e.s.DeleteIntegration(e.ctx, e.alice.ID, in.ID); err != nil {
			e.t.Fatal(err)
		}
		_, err := e.s.TakeConsoleSignIn(e.ctx, "s1", now)
		wantCode(e.t, err, ssod.ENotFound)
	}},
}

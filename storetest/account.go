package storetest

import (
	"cmp"
	"slices"

	"github.com/ssod/ssod"
)

var accountTests = []test{
	{"HasAccounts", func(e *env) {
		empty := e.newStore(e.t)
		if exists, err := empty.HasAccounts(e.ctx); err != nil || exists {
			e.t.Errorf("HasAccounts on an empty store = %v, %v; want false", exists, err)
		}
		if exists, err := e.s.HasAccounts(e.ctx); err != nil || !exists {
			e.t.Errorf("HasAccounts with alice and bob = %v, %v; want true", exists, err)
		}
	}},
	{"Create", func(e *env) {
		want := ssod.Account{Name: "carol", CreatedAt: now}
		got := e.account(want.Name, 0)
		if got.ID <= 0 || got.ID == e.alice.ID || got.ID == e.bob.ID {
			e.t.Errorf("new account has id %d, want a positive id unused by alice (%d) and bob (%d)", got.ID, e.alice.ID, e.bob.ID)
		}
		want.ID = got.ID
		wantEqual(e.t, "CreateAccount", *got, want)
	}},
	{"CreateSubuser", func(e *env) {
		sub := e.account("alice-sub", e.alice.ID)
		wantEqual(e.t, "subuser", *sub, ssod.Account{ID: sub.ID, Name: "alice-sub", ParentID: e.alice.ID, CreatedAt: now})
		found, err := e.s.FindAccountByName(e.ctx, "alice-sub")
		wantCode(e.t, err, "")
		if err == nil {
			wantEqual(e.t, "FindAccountByName", *found, *sub)
		}
	}},
	{"DuplicateNameConflicts", func(e *env) {
		_, err := e.s.CreateAccount(e.ctx, "alice", 0, now+1)
		wantCode(e.t, err, ssod.EConflict)
		e.wantAccounts(*e.alice, *e.bob)
	}},
	{"MissingParentNotFound", func(e *env) {
		_, err := e.s.CreateAccount(e.ctx, "orphan", e.alice.ID+e.bob.ID+1000, now)
		wantCode(e.t, err, ssod.ENotFound)
		_, err = e.s.FindAccountByName(e.ctx, "orphan")
		wantCode(e.t, err, ssod.ENotFound)
	}},
	{"FindByName", func(e *env) {
		for _, a := range []*ssod.Account{e.alice, e.bob} {
			got, err := e.s.FindAccountByName(e.ctx, a.Name)
			wantCode(e.t, err, "")
			if err == nil {
				wantEqual(e.t, "FindAccountByName", *got, *a)
			}
		}
	}},
	{"FindUnknownNotFound", func(e *env) {
		_, err := e.s.FindAccountByName(e.ctx, "nobody")
		wantCode(e.t, err, ssod.ENotFound)
		// Names are compared exactly, not case-folded.
		_, err = e.s.FindAccountByName(e.ctx, "ALICE")
		wantCode(e.t, err, ssod.ENotFound)
	}},
	{"ListByID", func(e *env) {
		// Created out of alphabetical order, so a list sorted by name fails.
		zed := e.account("zed", 0)
		amy := e.account("amy", e.bob.ID)
		e.wantAccounts(*e.alice, *e.bob, *zed, *amy)
	}},
}

// wantAccounts checks ListAccounts against want, which is in creation order
// and so, ids being assigned increasing, in id order.
func (e *env) wantAccounts(want ...ssod.Account) {
	e.t.Helper()
	got, err := e.s.ListAccounts(e.ctx)
	if err != nil {
		e.t.Fatalf("ListAccounts: %v", err)
	}
	if !slices.IsSortedFunc(got, func(a, b ssod.Account) int { return cmp.Compare(a.ID, b.ID) }) {
		e.t.Errorf("ListAccounts is not by id: %+v", got)
	}
	wantEqual(e.t, "ListAccounts", got, want)
}

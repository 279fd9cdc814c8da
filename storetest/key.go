package storetest

import (
	"cmp"
	"slices"

	"github.com/ssod/ssod"
)

// testKey is an API key of the account; its hash holds a zero byte and bytes
// above 0x7f so a store that mangles binary data fails.
func testKey(id string, accountID int64, scopes ...ssod.Scope) ssod.APIKey {
	return ssod.APIKey{
		ID:         id,
		AccountID:  accountID,
		Name:       "label of " + id,
		Scopes:     scopes,
		SecretHash: append([]byte{0x00, 0xff, 0x80, 0x0a}, id...),
		CreatedAt:  now,
	}
}

// createKey stores k or stops the test.
func (e *env) createKey(k ssod.APIKey) ssod.APIKey {
	e.t.Helper()
	if err := e.s.CreateKey(e.ctx, k); err != nil {
		e.t.Fatalf("CreateKey(%q): %v", k.ID, err)
	}
	return k
}

// wantKey checks that FindKey returns exactly want.
func (e *env) wantKey(want ssod.APIKey) {
	e.t.Helper()
	got, err := e.s.FindKey(e.ctx, want.ID)
	if err != nil {
		e.t.Fatalf("FindKey(%q): %v", want.ID, err)
	}
	wantEqual(e.t, "FindKey", *got, want)
}

// wantKeys checks ListKeys(accountID) as a set: the contract fixes no order.
func (e *env) wantKeys(accountID int64, want ...ssod.APIKey) {
	e.t.Helper()
	got, err := e.s.ListKeys(e.ctx, accountID)
	if err != nil {
		e.t.Fatalf("ListKeys(%d): %v", accountID, err)
	}
	byID := func(a, b ssod.APIKey) int { return cmp.Compare(a.ID, b.ID) }
	got, want = slices.SortedFunc(slices.Values(got), byID), slices.SortedFunc(slices.Values(want), byID)
	if len(want) == 0 {
		wantEmpty(e.t, "ListKeys", got)
		return
	}
	wantEqual(e.t, "ListKeys", got, want)
}

var keyTests = []test{
	{"CreateAndFind", func(e *env) {
		// Scopes in an order other than AllScopes' must come back as given.
		k := e.createKey(testKey("key-a1", e.alice.ID, ssod.ScopeSettingsDelete, ssod.ScopeSettingsRead))
		e.wantKey(k)
		all := e.createKey(testKey("key-a2", e.alice.ID, ssod.AllScopes()...))
		e.wantKey(all)
	}},
	{"DuplicateIDConflicts", func(e *env) {
		k := e.createKey(testKey("key-a1", e.alice.ID, ssod.ScopeSettingsRead))
		err := e.s.CreateKey(e.ctx, testKey("key-a1", e.bob.ID, ssod.AllScopes()...))
		wantCode(e.t, err, ssod.EConflict)
		e.wantKey(k)
	}},
	{"MissingAccountNotFound", func(e *env) {
		err := e.s.CreateKey(e.ctx, testKey("key-x", e.alice.ID+e.bob.ID+1000, ssod.ScopeSettingsRead))
		wantCode(e.t, err, ssod.ENotFound)
		_, err = e.s.FindKey(e.ctx, "key-x")
		wantCode(e.t, err, ssod.ENotFound)
	}},
	{"FindUnknownNotFound", func(e *env) {
		e.createKey(testKey("key-a1", e.alice.ID, ssod.ScopeSettingsRead))
		_, err := e.s.FindKey(e.ctx, "key-a2")
		wantCode(e.t, err, ssod.ENotFound)
	}},
	{"List", func(e *env) {
		a1 := e.createKey(testKey("key-a1", e.alice.ID, ssod.ScopeSettingsRead))
		b1 := e.createKey(testKey("key-b1", e.bob.ID, ssod.ScopeSettingsCreate))
		a2 := e.createKey(testKey("key-a2", e.alice.ID, ssod.AllScopes()...))
		carol := e.account("carol", 0)
		e.wantKeys(e.alice.ID, a1, a2)
		e.wantKeys(e.bob.ID, b1)
		e.wantKeys(carol.ID)
		e.wantKeys(0, a1, a2, b1)
	}},
	{"Revoke", func(e *env) {
		k := e.createKey(testKey("key-a1", e.alice.ID, ssod.ScopeSettingsRead))
		other := e.createKey(testKey("key-a2", e.alice.ID, ssod.ScopeSettingsRead))
		if err := e.s.RevokeKey(e.ctx, k.ID, now+10); err != nil {
			e.t.Fatalf("RevokeKey: %v", err)
		}
		k.RevokedAt = now + 10
		e.wantKey(k)
		e.wantKey(other)
		// A second revocation keeps the first time: the audit trail must
		// say when the key stopped working.
		if err := e.s.RevokeKey(e.ctx, k.ID, now+20); err != nil {
			e.t.Fatalf("RevokeKey again: %v", err)
		}
		e.wantKey(k)
	}},
	{"RevokeUnknownNotFound", func(e *env) {
		wantCode(e.t, e.s.RevokeKey(e.ctx, "key-none", now), ssod.ENotFound)
	}},
}

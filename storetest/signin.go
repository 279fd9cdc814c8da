package storetest

import (
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ssod/ssod"
)

var signInTests = []test{
	{"FindIntegrationWhateverTheAccount", func(e *env) {
		in := e.integration(e.alice.ID, "okta")
		got, err := e.s.FindIntegration(e.ctx, in.ID)
		if err != nil {
			e.t.Fatal(err)
		}
		wantEqual(e.t, "FindIntegration", *got, *in)
		for _, id := range []string{missingIntegrationID, "not-a-uuid", "", "\xff\x00"} {
			_, err := e.s.FindIntegration(e.ctx, id)
			wantCode(e.t, err, ssod.ENotFound)
		}
	}},
	{"AuthnRequestUsedOnce", func(e *env) {
		in := e.integration(e.alice.ID, "okta")
		other := e.integration(e.bob.ID, "other")
		e.saveRequest(in.ID, "req-1", now+ssod.AuthnRequestLifetime)
		// Remembered once, whichever integration asks.
		wantCode(e.t, e.s.SaveAuthnRequest(e.ctx, in.ID, "req-1", now+ssod.AuthnRequestLifetime), ssod.EConflict)
		wantCode(e.t, e.s.SaveAuthnRequest(e.ctx, other.ID, "req-1", now+ssod.AuthnRequestLifetime), ssod.EConflict)
		// Another integration cannot use it, and trying does not use it up.
		e.wantUseRequest(other.ID, "req-1", now, false)
		e.wantUseRequest(in.ID, "req-2", now, false)
		e.wantUseRequest(in.ID, "req-1", now, true)
		e.wantUseRequest(in.ID, "req-1", now, false)
	}},
	{"AuthnRequestExpiresAtItsTime", func(e *env) {
		in := e.integration(e.alice.ID, "okta")
		e.saveRequest(in.ID, "late", now+10)
		e.saveRequest(in.ID, "in-time", now+10)
		e.wantUseRequest(in.ID, "late", now+10, false) // expired at expiresAt itself
		e.wantUseRequest(in.ID, "late", now+11, false)
		e.wantUseRequest(in.ID, "in-time", now+9, true)
	}},
	{"AuthnRequestRefusals", func(e *env) {
		in := e.integration(e.alice.ID, "okta")
		for _, id := range []string{"", strings.Repeat("x", ssod.MaxSignInIDLength+1), "a\x00b", "\xff"} {
			wantCode(e.t, e.s.SaveAuthnRequest(e.ctx, in.ID, id, now+10), ssod.EInvalid)
			e.wantUseRequest(in.ID, id, now, false)
		}
		e.saveRequest(in.ID, strings.Repeat("x", ssod.MaxSignInIDLength), now+10)
		wantCode(e.t, e.s.SaveAuthnRequest(e.ctx, missingIntegrationID, "req", now+10), ssod.ENotFound)
	}},
	{"AssertionUsedOnceUntilItExpires", func(e *env) {
		in := e.integration(e.alice.ID, "okta")
		other := e.integration(e.alice.ID, "other")
		e.wantUseAssertion(in.ID, "a1", now+100, now, true)
		e.wantUseAssertion(in.ID, "a1", now+100, now, false)    // a replay
		e.wantUseAssertion(in.ID, "a1", now+500, now+99, false) // still remembered
		e.wantUseAssertion(other.ID, "a1", now+100, now, true)  // one use per integration
		// Expired at now: the record is taken over, and remembered anew.
		e.wantUseAssertion(in.ID, "a1", now+300, now+100, true)
		e.wantUseAssertion(in.ID, "a1", now+300, now+299, false)
	}},
	{"AssertionRefusals", func(e *env) {
		in := e.integration(e.alice.ID, "okta")
		for _, id := range []string{"", strings.Repeat("x", ssod.MaxSignInIDLength+1), "a\x00b", "\xff"} {
			_, err := e.s.UseAssertion(e.ctx, in.ID, id, now+10, now)
			wantCode(e.t, err, ssod.EInvalid)
		}
		e.wantUseAssertion(in.ID, strings.Repeat("x", ssod.MaxSignInIDLength), now+10, now, true)
		_, err := e.s.UseAssertion(e.ctx, missingIntegrationID, "a", now+10, now)
		wantCode(e.t, err, ssod.ENotFound)
	}},
	{"ExpiredRecordsArePruned", func(e *env) {
		in := e.integration(e.alice.ID, "okta")
		other := e.integration(e.bob.ID, "other")
		const old, writes = 13, 4 // 4 writes of 4 prunes each clear 13, and 3 more
		for i := range old {
			e.saveRequest(in.ID, fmt.Sprint("old-", i), now+ssod.AuthnRequestLifetime)
			e.wantUseAssertion(in.ID, fmt.Sprint("old-", i), now+100, now, true)
		}
		// Live ones, which no pruning may touch: the request saved a second
		// later, so it outlives the others by a second.
		e.saveRequest(in.ID, "live", now+1+ssod.AuthnRequestLifetime)
		e.wantUseAssertion(in.ID, "live", now+3*ssod.AuthnRequestLifetime, now, true)
		// Later writes, of another integration, each prune a few (more
		// than they add): a few writes clear the whole backlog.
		later := now + ssod.AuthnRequestLifetime
		for i := range writes {
			e.saveRequest(other.ID, fmt.Sprint("new-", i), later+ssod.AuthnRequestLifetime)
			e.wantUseAssertion(other.ID, fmt.Sprint("new-", i), later+100, later, true)
		}
		snap, err := e.s.Export(e.ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, recs := range [][]ssod.SignInRecord{snap.AuthnRequests, snap.Assertions} {
			for _, r := range recs {
				if strings.HasPrefix(r.ID, "old-") {
					e.t.Errorf("expired record %+v was not pruned", r)
				}
			}
			if !slices.ContainsFunc(recs, func(r ssod.SignInRecord) bool { return r.ID == "live" }) {
				e.t.Errorf("a live record was pruned: %+v", recs)
			}
		}
		e.wantUseRequest(in.ID, "live", later, true)
		e.wantUseAssertion(in.ID, "live", later+100, later, false)
	}},
	{"ConcurrentUsesExactlyOneWins", func(e *env) {
		in := e.integration(e.alice.ID, "okta")
		const n = 16
		for round := range 5 {
			id := fmt.Sprint("race-", round)
			e.saveRequest(in.ID, id, now+ssod.AuthnRequestLifetime)
			e.wantOneWinner("UseAuthnRequest", n, func(int) (bool, error) {
				return e.s.UseAuthnRequest(e.ctx, in.ID, id, now)
			})
			e.wantOneWinner("UseAssertion", n, func(int) (bool, error) {
				return e.s.UseAssertion(e.ctx, in.ID, id, now+100, now)
			})
		}
	}},
	{"TracesNewestFirst", func(e *env) {
		in := e.integration(e.alice.ID, "okta")
		other := e.integration(e.alice.ID, "other")
		e.wantTraces(e.alice.ID, in.ID, 50)
		var added []ssod.LoginTrace
		for i := range 5 {
			t := ssod.LoginTrace{ID: 999, IntegrationID: in.ID, Time: now + int64(i), Result: "saml_signature", Message: fmt.Sprint("refused ", i)}
			if i%2 == 1 { // every field known
				t.Result, t.NameID, t.AssertionID, t.CertificateID, t.InResponseTo, t.RequestID =
					"ok", fmt.Sprint("user", i, "@example.com"), fmt.Sprint("_a", i), int64(i), fmt.Sprint("_r", i), fmt.Sprint("req", i)
			}
			got := e.addTrace(t)
			t.ID = got.ID
			if i > 0 && got.ID <= added[i-1].ID {
				e.t.Errorf("trace id %d after %d", got.ID, added[i-1].ID)
			}
			wantEqual(e.t, "AddLoginTrace", *got, t)
			added = append(added, t)
			e.addTrace(ssod.LoginTrace{IntegrationID: other.ID, Time: now, Result: "ok"})
		}
		slices.Reverse(added)
		e.wantTraces(e.alice.ID, in.ID, 50, added...)
		e.wantTraces(e.alice.ID, in.ID, 2, added[:2]...)
		e.wantTraces(e.alice.ID, in.ID, 0)
		e.wantTraces(e.alice.ID, in.ID, -1)
	}},
	{"TracesOfAnotherAccountAreNotFound", func(e *env) {
		in := e.integration(e.alice.ID, "okta")
		e.addTrace(ssod.LoginTrace{IntegrationID: in.ID, Time: now, Result: "ok"})
		_, errOther := e.s.ListLoginTraces(e.ctx, e.bob.ID, in.ID, 50)
		_, errMissing := e.s.ListLoginTraces(e.ctx, e.bob.ID, missingIntegrationID, 50)
		wantLikeMissing(e.t, errOther, errMissing)
		_, err := e.s.AddLoginTrace(e.ctx, ssod.LoginTrace{IntegrationID: missingIntegrationID, Time: now, Result: "ok"})
		wantCode(e.t, err, ssod.ENotFound)
	}},
	{"TraceTextIsBounded", func(e *env) {
		in := e.integration(e.alice.ID, "okta")
		long := strings.Repeat("é", ssod.MaxLoginTraceText) // 2 bytes each
		got := e.addTrace(ssod.LoginTrace{IntegrationID: in.ID, Time: now, Result: "saml_subject", Message: long, NameID: "a\x00b\xffc"})
		want := ssod.LoginTrace{ID: got.ID, IntegrationID: in.ID, Time: now, Result: "saml_subject",
			Message: long[:ssod.MaxLoginTraceText], NameID: "a\uFFFDb\uFFFDc"}
		wantEqual(e.t, "stored trace", *got, want)
		e.wantTraces(e.alice.ID, in.ID, 50, want)
	}},
	{"TraceRetentionKeepsTheNewest", func(e *env) {
		in := e.integration(e.alice.ID, "okta")
		other := e.integration(e.alice.ID, "other")
		kept := e.addTrace(ssod.LoginTrace{IntegrationID: other.ID, Time: now, Result: "ok"})
		const extra = 7
		const workers = 8
		ids := make([][]int64, workers)
		Parallel(workers, func(w int) {
			for i := w; i < ssod.MaxLoginTraces+extra; i += workers {
				t, err := e.s.AddLoginTrace(e.ctx, ssod.LoginTrace{IntegrationID: in.ID, Time: now, Result: "ok", Message: fmt.Sprint(i)})
				if err != nil {
					e.t.Error(err)
					return
				}
				ids[w] = append(ids[w], t.ID)
			}
		})
		all := slices.Concat(ids...)
		slices.Sort(all)
		if len(all) != ssod.MaxLoginTraces+extra {
			e.t.Fatalf("%d traces added, want %d", len(all), ssod.MaxLoginTraces+extra)
		}
		got, err := e.s.ListLoginTraces(e.ctx, e.alice.ID, in.ID, ssod.MaxLoginTracesPerList)
		if err != nil {
			e.t.Fatal(err)
		}
		var gotIDs []int64
		for _, t := range got {
			gotIDs = append(gotIDs, t.ID)
		}
		slices.Reverse(all)
		wantEqual(e.t, "ids of the traces kept, newest first", gotIDs, all[:ssod.MaxLoginTraces])
		snap, err := e.s.Export(e.ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		if len(snap.LoginTraces) != ssod.MaxLoginTraces+1 {
			e.t.Errorf("the store holds %d traces, want %d", len(snap.LoginTraces), ssod.MaxLoginTraces+1)
		}
		e.wantTraces(e.alice.ID, other.ID, 50, *kept) // retention is per integration
	}},
	{"IntegrationDeleteTakesItsRecords", func(e *env) {
		in := e.integration(e.alice.ID, "doomed")
		kept := e.integration(e.alice.ID, "kept")
		for _, id := range []string{in.ID, kept.ID} {
			e.saveRequest(id, "req-"+id, now+ssod.AuthnRequestLifetime)
			e.wantUseAssertion(id, "a", now+100, now, true)
			e.addTrace(ssod.LoginTrace{IntegrationID: id, Time: now, Result: "ok"})
		}
		if err := e.s.DeleteIntegration(e.ctx, e.alice.ID, in.ID); err != nil {
			e.t.Fatal(err)
		}
		snap, err := e.s.Export(e.ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		if len(snap.AuthnRequests) != 1 || len(snap.Assertions) != 1 || len(snap.LoginTraces) != 1 {
			e.t.Errorf("after the delete the store holds %+v, %+v, %+v; want only the kept integration's",
				snap.AuthnRequests, snap.Assertions, snap.LoginTraces)
		}
		for _, t := range snap.LoginTraces {
			if t.IntegrationID != kept.ID {
				e.t.Errorf("trace %+v outlived its integration", t)
			}
		}
		_, err = e.s.AddLoginTrace(e.ctx, ssod.LoginTrace{IntegrationID: in.ID, Time: now, Result: "ok"})
		wantCode(e.t, err, ssod.ENotFound)
		_, err = e.s.UseAssertion(e.ctx, in.ID, "b", now+100, now)
		wantCode(e.t, err, ssod.ENotFound)
		wantCode(e.t, e.s.SaveAuthnRequest(e.ctx, in.ID, "req-new", now+100), ssod.ENotFound)
		e.wantUseRequest(in.ID, "req-"+in.ID, now, false)
		e.wantUseRequest(kept.ID, "req-"+kept.ID, now, true)
	}},
}

// saveRequest remembers an AuthnRequest or stops the test.
func (e *env) saveRequest(integrationID, requestID string, expiresAt int64) {
	e.t.Helper()
	if err := e.s.SaveAuthnRequest(e.ctx, integrationID, requestID, expiresAt); err != nil {
		e.t.Fatalf("SaveAuthnRequest(%q, %q): %v", integrationID, requestID, err)
	}
}

func (e *env) wantUseRequest(integrationID, requestID string, at int64, want bool) {
	e.t.Helper()
	got, err := e.s.UseAuthnRequest(e.ctx, integrationID, requestID, at)
	if err != nil || got != want {
		e.t.Errorf("UseAuthnRequest(%q, %.20q, %d) = %v, %v; want %v", integrationID, requestID, at, got, err, want)
	}
}

func (e *env) wantUseAssertion(integrationID, assertionID string, expiresAt, at int64, want bool) {
	e.t.Helper()
	got, err := e.s.UseAssertion(e.ctx, integrationID, assertionID, expiresAt, at)
	if err != nil || got != want {
		e.t.Errorf("UseAssertion(%q, %.20q, %d, %d) = %v, %v; want %v", integrationID, assertionID, expiresAt, at, got, err, want)
	}
}

// wantOneWinner runs use n times at once and fails unless exactly one call
// returned true and none failed.
func (e *env) wantOneWinner(what string, n int, use func(i int) (bool, error)) {
	e.t.Helper()
	WantOneWinner(e.t, what, n, use)
}

// WantOneWinner runs use(0) … use(n-1) at once (see Parallel) and fails t
// unless exactly one returned true and none failed. Store packages use it
// for races across instances.
func WantOneWinner(t *testing.T, what string, n int, use func(i int) (bool, error)) {
	t.Helper()
	var wins atomic.Int32
	Parallel(n, func(i int) {
		ok, err := use(i)
		if err != nil {
			t.Errorf("%s #%d: %v", what, i, err)
		}
		if ok {
			wins.Add(1)
		}
	})
	if wins.Load() != 1 {
		t.Errorf("%d of %d concurrent %s calls got true, want exactly 1", wins.Load(), n, what)
	}
}

// addTrace stores a trace or stops the test.
func (e *env) addTrace(t ssod.LoginTrace) *ssod.LoginTrace {
	e.t.Helper()
	got, err := e.s.AddLoginTrace(e.ctx, t)
	if err != nil {
		e.t.Fatalf("AddLoginTrace(%+v): %v", t, err)
	}
	return got
}

// wantTraces checks ListLoginTraces, in order.
func (e *env) wantTraces(accountID int64, integrationID string, limit int, want ...ssod.LoginTrace) {
	e.t.Helper()
	got, err := e.s.ListLoginTraces(e.ctx, accountID, integrationID, limit)
	if err != nil {
		e.t.Fatalf("ListLoginTraces(%d, %q, %d): %v", accountID, integrationID, limit, err)
	}
	what := fmt.Sprintf("ListLoginTraces(%d, %q, %d)", accountID, integrationID, limit)
	if len(want) == 0 {
		wantEmpty(e.t, what, got)
		return
	}
	wantEqual(e.t, what, got, want)
}

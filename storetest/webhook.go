package storetest

import (
	"fmt"

	"github.com/ssod/ssod"
)

// testSigningKey is the n-th stand-in signing key; stores keep keys as opaque bytes.
func testSigningKey(n int) ssod.SigningKey {
	return ssod.SigningKey{Private: fmt.Appendf(nil, "private-%d", n), Public: fmt.Appendf(nil, "public-%d", n)}
}

// putWebhook sets an account's webhook or stops the test.
func (e *env) putWebhook(accountID int64, url string, enabled bool, key int) *ssod.ExpiryWebhook {
	e.t.Helper()
	w, err := e.s.PutExpiryWebhook(e.ctx, accountID, url, enabled, testSigningKey(key))
	if err != nil {
		e.t.Fatalf("PutExpiryWebhook(%d): %v", accountID, err)
	}
	return w
}

// watches lists the expiry watches, which must succeed.
func (e *env) watches() []ssod.ExpiryWatch {
	e.t.Helper()
	ws, err := e.s.ListExpiryWatches(e.ctx)
	if err != nil {
		e.t.Fatalf("ListExpiryWatches: %v", err)
	}
	return ws
}

// queue queues ev and reports whether it was stored, or stops the test.
func (e *env) queue(ev ssod.ExpiryEvent) bool {
	e.t.Helper()
	ok, err := e.s.QueueExpiryEvent(e.ctx, ev)
	if err != nil {
		e.t.Fatalf("QueueExpiryEvent(%+v): %v", ev, err)
	}
	return ok
}

func expiringEvent(accountID int64, integrationID string, epoch int64, days int) ssod.ExpiryEvent {
	until := now + int64(days)*86400
	return ssod.ExpiryEvent{AccountID: accountID, IntegrationID: integrationID, Epoch: epoch,
		Event: ssod.EventSigningExpiring, DaysLeft: days, SigningValidUntil: &until, Timestamp: now,
		EventID: fmt.Sprintf("ev-%s-%d-%d", integrationID, epoch, days)}
}

var expiryWebhookTests = []test{
	{"WebhookKeepsItsFirstKeyAndIsAudited", func(e *env) {
		_, err := e.s.GetExpiryWebhook(e.ctx, e.alice.ID)
		wantCode(e.t, err, ssod.ENotFound)
		w := e.putWebhook(e.alice.ID, "https://hooks.example.com/a", true, 1)
		wantEqual(e.t, "first put", *w, ssod.ExpiryWebhook{AccountID: e.alice.ID, URL: "https://hooks.example.com/a", Enabled: true, PublicKey: testSigningKey(1).Public})
		w = e.putWebhook(e.alice.ID, "https://hooks.example.com/b", false, 2)
		wantEqual(e.t, "second put keeps the key", *w, ssod.ExpiryWebhook{AccountID: e.alice.ID, URL: "https://hooks.example.com/b", Enabled: false, PublicKey: testSigningKey(1).Public})
		e.putWebhook(e.alice.ID, "https://hooks.example.com/b", false, 3) // no change: no audit event
		got, err := e.s.GetExpiryWebhook(e.ctx, e.alice.ID)
		if err != nil {
			e.t.Fatal(err)
		}
		wantEqual(e.t, "get", *got, *w)
		_, err = e.s.GetExpiryWebhook(e.ctx, e.bob.ID)
		wantCode(e.t, err, ssod.ENotFound)
		wantCode(e.t, e.s.DeleteExpiryWebhook(e.ctx, e.bob.ID), ssod.ENotFound)
		wantCode(e.t, e.s.DeleteExpiryWebhook(e.ctx, e.alice.ID), "")
		wantCode(e.t, e.s.DeleteExpiryWebhook(e.ctx, e.alice.ID), ssod.ENotFound)
		_, err = e.s.GetExpiryWebhook(e.ctx, e.alice.ID)
		wantCode(e.t, err, ssod.ENotFound)
		w = e.putWebhook(e.alice.ID, "https://hooks.example.com/c", true, 4)
		wantEqual(e.t, "the key outlives a delete", w.PublicKey, testSigningKey(1).Public)
		_, err = e.s.PutExpiryWebhook(e.ctx, 1<<40, "https://x.example", true, testSigningKey(5))
		wantCode(e.t, err, ssod.ENotFound)

		evs, err := e.s.ListAuditEvents(e.ctx, e.alice.ID, 10)
		if err != nil {
			e.t.Fatal(err)
		}
		var ops []string
		for _, ev := range evs {
			ops = append(ops, ev.Operation)
		}
		wantEqual(e.t, "audit, newest first", ops, []string{ssod.AuditExpiryWebhookUpdate, ssod.AuditExpiryWebhookDelete,
			ssod.AuditExpiryWebhookUpdate, ssod.AuditExpiryWebhookUpdate})
		wantEqual(e.t, "delete's before", evs[1].Before, `{"url":"https://hooks.example.com/b","enabled":false}`)
	}},
	{"WatchesAreEnabledIntegrationsOfEnabledWebhooks", func(e *env) {
		watched := e.integration(e.alice.ID, "watched")
		c1 := e.certificate(e.alice.ID, watched.ID, 1)
		c2 := e.certificate(e.alice.ID, watched.ID, 2)
		off := e.integration(e.alice.ID, "off")
		if _, err := e.s.UpdateIntegration(e.ctx, e.alice.ID, off.ID, ssod.IntegrationUpdate{Enabled: ptr(false)}, now); err != nil {
			e.t.Fatal(err)
		}
		bobs := e.integration(e.bob.ID, "bobs")
		e.certificate(e.bob.ID, bobs.ID, 3)
		wantEmpty(e.t, "watches without webhooks", e.watches())
		e.putWebhook(e.alice.ID, "https://hooks.example.com/a", true, 1)
		e.putWebhook(e.bob.ID, "https://hooks.example.com/b", false, 2)
		window := func(c *ssod.Certificate) ssod.Certificate {
			w := *c
			w.PEM = ""
			return w
		}
		wantEqual(e.t, "watches", e.watches(), []ssod.ExpiryWatch{{AccountID: e.alice.ID, IntegrationID: watched.ID,
			Certificates: []ssod.Certificate{window(c1), window(c2)}}})
		if !e.queue(expiringEvent(e.alice.ID, watched.ID, 0, 90)) {
			e.t.Fatal("a new event was not queued")
		}
		wantEqual(e.t, "watches after an event", e.watches()[0].Sent, []ssod.ExpiryMark{{Event: ssod.EventSigningExpiring, DaysLeft: 90}})
	}},
	{"EventsAreQueuedOncePerEpochAndRenewalStartsAnother", func(e *env) {
		in := e.integration(e.alice.ID, "renewing")
		e.putWebhook(e.alice.ID, "https://hooks.example.com/a", true, 1)
		if !e.queue(expiringEvent(e.alice.ID, in.ID, 0, 30)) {
			e.t.Fatal("a new event was not queued")
		}
		if e.queue(expiringEvent(e.alice.ID, in.ID, 0, 30)) {
			e.t.Error("the same event was queued twice")
		}
		if e.queue(expiringEvent(e.alice.ID, in.ID, 1, 7)) {
			e.t.Error("an event of an epoch not yet begun was queued")
		}
		renewed := ssod.ExpiryEvent{AccountID: e.alice.ID, IntegrationID: in.ID, Epoch: 0, Event: ssod.EventSigningRenewed, Timestamp: now, EventID: "renewed"}
		if !e.queue(renewed) {
			e.t.Fatal("renewed was not queued")
		}
		if e.queue(renewed) {
			e.t.Error("a second instance renewed the same window again")
		}
		if e.queue(expiringEvent(e.alice.ID, in.ID, 0, 7)) {
			e.t.Error("an event of the window before the renewal was queued")
		}
		w := e.watches()[0]
		wantEqual(e.t, "epoch after renewal", w.Epoch, int64(1))
		wantEqual(e.t, "sent in the new epoch", w.Sent, []ssod.ExpiryMark{{Event: ssod.EventSigningRenewed}})
		if !e.queue(expiringEvent(e.alice.ID, in.ID, 1, 30)) {
			e.t.Error("a threshold did not fire again in the new window")
		}
		evs, err := e.s.ListExpiryEvents(e.ctx, e.alice.ID)
		if err != nil {
			e.t.Fatal(err)
		}
		if len(evs) != 3 || evs[1].Epoch != 1 || evs[1].Event != ssod.EventSigningRenewed || evs[1].SigningValidUntil != nil ||
			evs[0].Status != ssod.DeliveryPending || evs[0].NextAttempt != now || *evs[0].SigningValidUntil != now+30*86400 {
			e.t.Errorf("events: %+v", evs)
		}
		gone := e.integration(e.alice.ID, "gone")
		if err := e.s.DeleteIntegration(e.ctx, e.alice.ID, gone.ID); err != nil {
			e.t.Fatal(err)
		}
		if e.queue(expiringEvent(e.alice.ID, gone.ID, 0, 30)) {
			e.t.Error("an event of a deleted integration was queued")
		}
	}},
	{"ConcurrentQueuesStoreOneEvent", func(e *env) {
		in := e.integration(e.alice.ID, "raced")
		e.putWebhook(e.alice.ID, "https://hooks.example.com/a", true, 1)
		const n = 8
		queued := make([]bool, n)
		errs := make([]error, n)
		Parallel(n, func(i int) {
			ev := ssod.ExpiryEvent{AccountID: e.alice.ID, IntegrationID: in.ID, Event: ssod.EventSigningRenewed, Timestamp: now, EventID: fmt.Sprint(i)}
			queued[i], errs[i] = e.s.QueueExpiryEvent(e.ctx, ev)
		})
		count := 0
		for i := range n {
			if errs[i] != nil {
				e.t.Errorf("QueueExpiryEvent %d: %v", i, errs[i])
			}
			if queued[i] {
				count++
			}
		}
		wantEqual(e.t, "renewals stored", count, 1)
		wantEqual(e.t, "epoch", e.watches()[0].Epoch, int64(1))
	}},
	{"ClaimsLeaseOneEventAtATime", func(e *env) {
		in := e.integration(e.alice.ID, "claimed")
		e.putWebhook(e.alice.ID, "https://hooks.example.com/a", true, 1)
		e.queue(expiringEvent(e.alice.ID, in.ID, 0, 90))
		e.queue(expiringEvent(e.alice.ID, in.ID, 0, 30))
		claim := func(at int64, token string) *ssod.ExpiryClaim {
			e.t.Helper()
			c, err := e.s.ClaimExpiryEvent(e.ctx, at, at+120, token)
			if err != nil {
				e.t.Fatalf("ClaimExpiryEvent: %v", err)
			}
			return c
		}
		if c := claim(now-1, "early"); c != nil {
			e.t.Fatalf("claimed an event not yet due: %+v", c)
		}
		a := claim(now, "a")
		if a == nil || a.DaysLeft != 90 || a.Token != "a" || a.URL != "https://hooks.example.com/a" || string(a.PrivateKey) != "private-1" {
			e.t.Fatalf("first claim: %+v", a)
		}
		b := claim(now, "b")
		if b == nil || b.DaysLeft != 30 {
			e.t.Fatalf("second claim: %+v", b)
		}
		if c := claim(now, "c"); c != nil {
			e.t.Fatalf("claimed a leased event: %+v", c)
		}
		finish := func(id int64, token string, at ssod.ExpiryAttempt) bool {
			e.t.Helper()
			ok, err := e.s.FinishExpiryEvent(e.ctx, id, token, at)
			if err != nil {
				e.t.Fatalf("FinishExpiryEvent: %v", err)
			}
			return ok
		}
		if finish(a.ID, "b", ssod.ExpiryAttempt{Status: ssod.DeliveryDelivered}) || finish(a.ID, "", ssod.ExpiryAttempt{Status: ssod.DeliveryDelivered}) {
			e.t.Error("an attempt was recorded without its lease")
		}
		if !finish(a.ID, "a", ssod.ExpiryAttempt{Status: ssod.DeliveryPending, NextAttempt: now + 30, LastError: "status 500"}) {
			e.t.Fatal("the lease holder could not record its attempt")
		}
		// b's lease runs out; another sender takes the event over, and b's
		// late outcome is refused.
		c := claim(now+121, "c")
		if c == nil || c.ID != b.ID {
			e.t.Fatalf("claim after the lease ended: %+v", c)
		}
		if finish(b.ID, "b", ssod.ExpiryAttempt{Status: ssod.DeliveryDelivered}) {
			e.t.Error("a sender whose lease was taken over recorded its attempt")
		}
		if !finish(c.ID, "c", ssod.ExpiryAttempt{Status: ssod.DeliveryDelivered}) {
			e.t.Fatal("the new lease holder could not record its attempt")
		}
		// A disabled webhook holds its events back.
		e.putWebhook(e.alice.ID, "https://hooks.example.com/a", false, 1)
		if got := claim(now+200, "d"); got != nil {
			e.t.Fatalf("claimed for a disabled webhook: %+v", got)
		}
		e.putWebhook(e.alice.ID, "https://hooks.example.com/a", true, 1)
		again := claim(now+200, "e")
		if again == nil || again.ID != a.ID || again.Attempts != 1 || again.LastError != "status 500" {
			e.t.Fatalf("retry claim: %+v", again)
		}
		if !finish(again.ID, "e", ssod.ExpiryAttempt{Status: ssod.DeliveryFailed, LastError: "gave up"}) {
			e.t.Fatal("could not record giving up")
		}
		if got := claim(now+1_000_000, "f"); got != nil {
			e.t.Fatalf("claimed a delivered or failed event: %+v", got)
		}
		evs, err := e.s.ListExpiryEvents(e.ctx, e.alice.ID)
		if err != nil {
			e.t.Fatal(err)
		}
		if len(evs) != 2 || evs[0].Status != ssod.DeliveryFailed || evs[0].Attempts != 2 || evs[1].Status != ssod.DeliveryDelivered || evs[1].Attempts != 1 {
			e.t.Errorf("events: %+v", evs)
		}
		other, err := e.s.ListExpiryEvents(e.ctx, e.bob.ID)
		if err != nil {
			e.t.Fatal(err)
		}
		wantEmpty(e.t, "bob's events", other)
	}},
	{"ResetEmptiesWebhooksAndOutbox", func(e *env) {
		in := e.integration(e.alice.ID, "reset")
		e.putWebhook(e.alice.ID, "https://hooks.example.com/a", true, 1)
		e.queue(expiringEvent(e.alice.ID, in.ID, 0, 90))
		if err := e.s.ResetTo(e.ctx, &ssod.Seed{Accounts: []ssod.SeedAccount{{Name: "alice"}}}, now); err != nil {
			e.t.Fatal(err)
		}
		alice, err := e.s.FindAccountByName(e.ctx, "alice")
		if err != nil {
			e.t.Fatal(err)
		}
		_, err = e.s.GetExpiryWebhook(e.ctx, alice.ID)
		wantCode(e.t, err, ssod.ENotFound)
		evs, err := e.s.ListExpiryEvents(e.ctx, alice.ID)
		if err != nil {
			e.t.Fatal(err)
		}
		wantEmpty(e.t, "events after reset", evs)
		w := e.putWebhook(alice.ID, "https://hooks.example.com/a", true, 2)
		wantEqual(e.t, "key after reset", w.PublicKey, testSigningKey(2).Public)
	}},
}

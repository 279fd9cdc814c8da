package storetest

import (
	"strconv"
	"strings"

	"github.com/ssod/ssod"
)

var auditTests = []test{
	{"ChangesAreRecordedWithTheirActor", func(e *env) {
		actor := ssod.Actor{AccountID: e.alice.ID, KeyID: "key-of-alice"}
		e.ctx = ssod.WithActor(e.ctx, actor)
		in := e.integration(e.alice.ID, "audited")
		if _, err := e.s.UpdateIntegration(e.ctx, e.alice.ID, in.ID, ssod.IntegrationUpdate{Name: ptr("renamed")}, now); err != nil {
			e.t.Fatal(err)
		}
		c1 := e.certificate(e.alice.ID, in.ID, 1)
		if _, err := e.s.UpdateCertificate(e.ctx, e.alice.ID, c1.ID, ssod.CertificateUpdate{Enabled: ptr(false)}); err != nil {
			e.t.Fatal(err)
		}
		if _, err := e.s.DeleteCertificate(e.ctx, e.alice.ID, c1.ID); err != nil {
			e.t.Fatal(err)
		}
		c2 := e.certificate(e.alice.ID, in.ID, 2)
		if err := e.s.DeleteIntegration(e.ctx, e.alice.ID, in.ID); err != nil {
			e.t.Fatal(err)
		}
		// A refused change leaves no record.
		_, err := e.s.CreateCertificate(e.ctx, e.bob.ID, ssod.CertificateUpdate{IntegrationID: ptr(in.ID), X509: ptr(testX509(3))})
		wantNotYours(e.t, err)

		evs, err := e.s.ListAuditEvents(e.ctx, e.alice.ID, 100)
		if err != nil {
			e.t.Fatal(err)
		}
		id1, id2 := strconv.FormatInt(c1.ID, 10), strconv.FormatInt(c2.ID, 10)
		want := []struct{ op, object string }{ // newest first
			{ssod.AuditIntegrationDelete, in.ID},
			{ssod.AuditCertificateDelete, id2}, // removed with its integration
			{ssod.AuditCertificateCreate, id2},
			{ssod.AuditCertificateDelete, id1},
			{ssod.AuditCertificateUpdate, id1},
			{ssod.AuditCertificateCreate, id1},
			{ssod.AuditIntegrationUpdate, in.ID},
			{ssod.AuditIntegrationCreate, in.ID},
		}
		if len(evs) != len(want) {
			e.t.Fatalf("%d events, want %d: %+v", len(evs), len(want), evs)
		}
		for i, w := range want {
			ev := evs[i]
			if ev.Operation != w.op || ev.ObjectID != w.object || ev.AccountID != e.alice.ID ||
				ev.ActorAccountID != actor.AccountID || ev.KeyID != actor.KeyID || ev.At == 0 {
				e.t.Errorf("event %d = %+v, want %s of %s by %+v", i, ev, w.op, w.object, actor)
			}
			if i > 0 && ev.ID >= evs[i-1].ID {
				e.t.Errorf("events not newest first: %d after %d", ev.ID, evs[i-1].ID)
			}
			if strings.Contains(ev.Before+ev.After, "c3NvZCB0ZXN0") {
				e.t.Errorf("event %d holds a certificate body", i)
			}
		}
		if !strings.Contains(evs[6].Before, `"name":"audited"`) || !strings.Contains(evs[6].After, `"name":"renamed"`) {
			e.t.Errorf("update summary before %s after %s", evs[6].Before, evs[6].After)
		}
		if evs[7].Before != "" || evs[0].After != "" {
			e.t.Error("a create has a before or a delete an after")
		}
		if !strings.Contains(evs[4].After, `"enabled":false`) || !strings.Contains(evs[4].After, `"sha256":`) {
			e.t.Errorf("certificate summary %s", evs[4].After)
		}
	}},
	{"ListedPerAccountOrAll", func(e *env) {
		e.integration(e.alice.ID, "a")
		e.integration(e.bob.ID, "b")
		e.integration(e.bob.ID, "c")
		for _, c := range []struct {
			account int64
			limit   int
			want    int
		}{{e.alice.ID, 10, 1}, {e.bob.ID, 10, 2}, {0, 10, 3}, {0, 2, 2}} {
			evs, err := e.s.ListAuditEvents(e.ctx, c.account, c.limit)
			if err != nil || len(evs) != c.want {
				e.t.Errorf("ListAuditEvents(%d, %d) = %d events, %v; want %d", c.account, c.limit, len(evs), err, c.want)
			}
			for _, ev := range evs {
				if c.account != 0 && ev.AccountID != c.account {
					e.t.Errorf("account %d sees account %d's event", c.account, ev.AccountID)
				}
				if ev.ActorAccountID != 0 || ev.KeyID != "" {
					e.t.Errorf("a change made outside a request names an actor: %+v", ev)
				}
			}
		}
	}},
	{"UnchangedPatchIsNoChange", func(e *env) {
		// A PATCH that sends nothing, or only the current values, changes
		// nothing: last_updated stays, and no audit event is written.
		in := e.integration(e.alice.ID, "unchanged")
		c := e.certificate(e.alice.ID, in.ID, 1)
		for _, u := range []ssod.IntegrationUpdate{{}, {Name: ptr(in.Name), Enabled: ptr(in.Enabled), SigninURL: ptr(in.SigninURL),
			SignoutURL: ptr(in.SignoutURL), EntityID: ptr(in.EntityID), CompletedIntegration: ptr(in.CompletedIntegration)}} {
			got, err := e.s.UpdateIntegration(e.ctx, e.alice.ID, in.ID, u, now+100)
			if err != nil {
				e.t.Fatal(err)
			}
			wantEqual(e.t, "integration after an unchanged PATCH", *got, *in)
		}
		wantEqual(e.t, "integration stored", e.getIntegration(e.alice.ID, in.ID), *in)
		for _, u := range []ssod.CertificateUpdate{{}, {IntegrationID: ptr(c.IntegrationID), Enabled: ptr(c.Enabled), X509: ptr(c.X509)}} {
			got, err := e.s.UpdateCertificate(e.ctx, e.alice.ID, c.ID, u)
			if err != nil {
				e.t.Fatal(err)
			}
			wantEqual(e.t, "certificate after an unchanged PATCH", *got, *c)
		}
		// Still scoped to the account, and still checked.
		_, err := e.s.UpdateIntegration(e.ctx, e.bob.ID, in.ID, ssod.IntegrationUpdate{}, now+100)
		wantCode(e.t, err, ssod.ENotFound)
		_, err = e.s.UpdateCertificate(e.ctx, e.bob.ID, c.ID, ssod.CertificateUpdate{})
		wantCode(e.t, err, ssod.ENotFound)
		evs, err := e.s.ListAuditEvents(e.ctx, e.alice.ID, 100)
		if err != nil {
			e.t.Fatal(err)
		}
		if len(evs) != 2 || evs[0].Operation != ssod.AuditCertificateCreate || evs[1].Operation != ssod.AuditIntegrationCreate {
			e.t.Fatalf("audit events %+v, want only the two creates", evs)
		}
		// A real change still is one.
		got, err := e.s.UpdateIntegration(e.ctx, e.alice.ID, in.ID, ssod.IntegrationUpdate{Enabled: ptr(!in.Enabled)}, now+100)
		if err != nil || got.LastUpdated != now+100 {
			e.t.Fatalf("a change: %+v, %v; want last_updated %d", got, err, now+100)
		}
	}},
}

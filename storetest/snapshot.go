package storetest

import (
	"github.com/ssod/ssod"
)

var snapshotTests = []test{
	{"CopyKeepsEveryRowAndID", func(e *env) {
		child := e.account("child", e.alice.ID)
		e.createKey(testKey("key-alice-000000000001", e.alice.ID, ssod.ScopeSettingsRead))
		e.createKey(testKey("key-child-000000000002", child.ID, ssod.AllScopes()...))
		if err := e.s.RevokeKey(e.ctx, "key-alice-000000000001", now+5); err != nil {
			e.t.Fatal(err)
		}
		a := e.integration(e.alice.ID, "first")
		b := e.integration(child.ID, "second")
		e.certificate(e.alice.ID, a.ID, 1)
		e.certificate(child.ID, b.ID, 2)
		last := e.certificate(e.alice.ID, a.ID, 3)
		if _, err := e.s.DeleteCertificate(e.ctx, e.alice.ID, last.ID); err != nil {
			e.t.Fatal(err)
		}
		// Sign-in records, and a trace id that only a deleted integration
		// held: the copy must not hand it out again.
		e.saveRequest(a.ID, "req-a", now+ssod.AuthnRequestLifetime)
		e.saveRequest(b.ID, "req-b", now+ssod.AuthnRequestLifetime)
		e.wantUseAssertion(a.ID, "assertion-a", now+100, now, true)
		e.addTrace(ssod.LoginTrace{IntegrationID: a.ID, Time: now, Result: "saml_signature", Message: "no certificate verified"})
		e.addTrace(ssod.LoginTrace{IntegrationID: b.ID, Time: now + 1, Result: "ok", NameID: "jane@example.com",
			AssertionID: "assertion-b", CertificateID: 2, InResponseTo: "req-0", RequestID: "r-1"})
		e.addTrace(ssod.LoginTrace{IntegrationID: a.ID, Time: now + 2, Result: "ok"})
		gone := e.integration(e.alice.ID, "gone")
		lastTrace := e.addTrace(ssod.LoginTrace{IntegrationID: gone.ID, Time: now + 3, Result: "ok"})
		if err := e.s.DeleteIntegration(e.ctx, e.alice.ID, gone.ID); err != nil {
			e.t.Fatal(err)
		}
		src, err := e.s.Export(e.ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		if len(src.AuthnRequests) != 2 || len(src.Assertions) != 1 || len(src.LoginTraces) != 3 || src.LastLoginTraceID != lastTrace.ID {
			e.t.Fatalf("export is missing sign-in records: %+v", src)
		}
		if len(src.Accounts) != 3 || len(src.Keys) != 2 || len(src.Integrations) != 2 || len(src.Certificates) != 2 || len(src.AuditEvents) == 0 {
			e.t.Fatalf("export is missing rows: %+v", src)
		}
		if src.LastCertificateID != last.ID {
			e.t.Fatalf("LastCertificateID %d, want %d (deleted ids count)", src.LastCertificateID, last.ID)
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
		// New ids continue after every id the source handed out.
		in, err := dst.CreateIntegration(e.ctx, e.alice.ID, integrationUpdate("after copy"), now)
		if err != nil {
			e.t.Fatal(err)
		}
		c, err := dst.CreateCertificate(e.ctx, e.alice.ID, ssod.CertificateUpdate{IntegrationID: ptr(in.ID), X509: ptr(testX509(9))})
		if err != nil || c.ID <= last.ID {
			e.t.Fatalf("certificate created after the copy: %+v, %v; want an id above %d", c, err, last.ID)
		}
		acct, err := dst.CreateAccount(e.ctx, "after-copy", 0, now)
		if err != nil || acct.ID <= child.ID {
			e.t.Fatalf("account created after the copy: %+v, %v", acct, err)
		}
		// One-time use survives the copy, and trace ids continue.
		if ok, err := dst.UseAuthnRequest(e.ctx, a.ID, "req-a", now); !ok || err != nil {
			e.t.Errorf("a copied request is not usable once: %v, %v", ok, err)
		}
		if ok, err := dst.UseAuthnRequest(e.ctx, a.ID, "req-a", now); ok || err != nil {
			e.t.Errorf("a copied request is usable twice: %v, %v", ok, err)
		}
		if ok, err := dst.UseAssertion(e.ctx, a.ID, "assertion-a", now+100, now); ok || err != nil {
			e.t.Errorf("an assertion accepted before the copy is accepted again: %v, %v", ok, err)
		}
		t, err := dst.AddLoginTrace(e.ctx, ssod.LoginTrace{IntegrationID: a.ID, Time: now, Result: "ok"})
		if err != nil || t.ID <= lastTrace.ID {
			e.t.Fatalf("trace added after the copy: %+v, %v; want an id above %d", t, err, lastTrace.ID)
		}
		traces, err := dst.ListLoginTraces(e.ctx, e.alice.ID, a.ID, 50)
		if err != nil || len(traces) != 3 || traces[0].ID != t.ID {
			e.t.Errorf("traces after the copy: %+v, %v; want the new one first of 3", traces, err)
		}
		// Only an empty store takes an import.
		wantCode(e.t, dst.Import(e.ctx, src), ssod.EConflict)
	}},
}

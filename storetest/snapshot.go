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
		src, err := e.s.Export(e.ctx)
		if err != nil {
			e.t.Fatal(err)
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
		// Only an empty store takes an import.
		wantCode(e.t, dst.Import(e.ctx, src), ssod.EConflict)
	}},
}

package storetest

import "github.com/ssod/ssod"

var expiryTests = []test{
	{"ListIntegrationWindows", func(e *env) {
		for _, id := range []int64{e.alice.ID, 0} {
			if got, err := e.s.ListIntegrationWindows(e.ctx, id); err != nil || got == nil || len(got) != 0 {
				e.t.Fatalf("ListIntegrationWindows(%d) of a store with no integrations = %#v, %v; want empty, not nil", id, got, err)
			}
		}
		// Created in this order, with names and ids in no particular order,
		// so "oldest first" is the store's doing.
		a := e.integration(e.alice.ID, "zeta")
		b := e.integration(e.alice.ID, "alpha")
		bobs := e.integration(e.bob.ID, "bobs")
		c, err := e.s.CreateIntegration(e.ctx, e.alice.ID, ssod.IntegrationUpdate{
			Name: ptr("off"), Enabled: ptr(false), SigninURL: ptr("https://idp.example.com/off"),
			SignoutURL: ptr("https://idp.example.com/off/slo"), EntityID: ptr("https://idp.example.com/off"),
		}, now)
		if err != nil {
			e.t.Fatal(err)
		}
		b1 := e.certificate(e.alice.ID, b.ID, 1)
		bob1 := e.certificate(e.bob.ID, bobs.ID, 2)
		c1, err := e.s.CreateCertificate(e.ctx, e.alice.ID, ssod.CertificateUpdate{
			IntegrationID: ptr(c.ID), X509: ptr(testX509(3)), Enabled: ptr(false),
		})
		if err != nil {
			e.t.Fatal(err)
		}
		b2 := e.certificate(e.alice.ID, b.ID, 4)
		moved := e.certificate(e.alice.ID, c.ID, 5)
		// Moved to b after c1 and b2: b's certificates are by id, not by
		// when they joined it.
		if _, err := e.s.UpdateCertificate(e.ctx, e.alice.ID, moved.ID, ssod.CertificateUpdate{IntegrationID: ptr(b.ID)}); err != nil {
			e.t.Fatal(err)
		}
		moved.IntegrationID = b.ID
		gone := e.certificate(e.alice.ID, a.ID, 6)
		if _, err := e.s.DeleteCertificate(e.ctx, e.alice.ID, gone.ID); err != nil {
			e.t.Fatal(err)
		}

		window := func(c *ssod.Certificate) ssod.Certificate {
			w := *c
			w.PEM = ""
			return w
		}
		entry := func(in *ssod.Integration, certs ...*ssod.Certificate) ssod.IntegrationWindows {
			iw := ssod.IntegrationWindows{
				Integration:  ssod.Integration{ID: in.ID, AccountID: in.AccountID, Name: in.Name, Enabled: in.Enabled},
				Certificates: []ssod.Certificate{},
			}
			for _, c := range certs {
				iw.Certificates = append(iw.Certificates, window(c))
			}
			return iw
		}
		alices := []ssod.IntegrationWindows{entry(a), entry(b, b1, b2, moved), entry(c, c1)}
		got, err := e.s.ListIntegrationWindows(e.ctx, e.alice.ID)
		if err != nil {
			e.t.Fatal(err)
		}
		wantEqual(e.t, "ListIntegrationWindows(alice)", got, alices)
		got, err = e.s.ListIntegrationWindows(e.ctx, e.bob.ID)
		if err != nil {
			e.t.Fatal(err)
		}
		wantEqual(e.t, "ListIntegrationWindows(bob)", got, []ssod.IntegrationWindows{entry(bobs, bob1)})
		got, err = e.s.ListIntegrationWindows(e.ctx, 0)
		if err != nil {
			e.t.Fatal(err)
		}
		wantEqual(e.t, "ListIntegrationWindows(every account)", got, append(alices, entry(bobs, bob1)))

		// Deleting an integration takes it and its certificates out.
		if err := e.s.DeleteIntegration(e.ctx, e.alice.ID, b.ID); err != nil {
			e.t.Fatal(err)
		}
		got, err = e.s.ListIntegrationWindows(e.ctx, e.alice.ID)
		if err != nil {
			e.t.Fatal(err)
		}
		wantEqual(e.t, "ListIntegrationWindows(alice) after deleting one", got, []ssod.IntegrationWindows{entry(a), entry(c, c1)})
	}},
}

package storetest

import (
	"github.com/ssod/ssod"
)

// missingCertificateID is an id no store will have reached in a test.
const missingCertificateID int64 = 1 << 40

var certificateTests = []test{
	{"Create", func(e *env) {
		in := e.integration(e.alice.ID, "okta")
		// Enabled absent: the contract's default is true.
		c := e.certificate(e.alice.ID, in.ID, 1)
		want := ssod.Certificate{ID: c.ID, AccountID: e.alice.ID, IntegrationID: in.ID, X509: testX509(1), Enabled: true}
		wantEqual(e.t, "CreateCertificate", *c, want)
		wantEqual(e.t, "GetCertificate", e.getCertificate(e.alice.ID, c.ID), want)

		disabled, err := e.s.CreateCertificate(e.ctx, e.alice.ID, ssod.CertificateUpdate{
			IntegrationID: ptr(in.ID), X509: ptr(testX509(2)), Enabled: ptr(false),
		})
		if err != nil {
			e.t.Fatalf("CreateCertificate: %v", err)
		}
		want = ssod.Certificate{ID: disabled.ID, AccountID: e.alice.ID, IntegrationID: in.ID, X509: testX509(2)}
		wantEqual(e.t, "CreateCertificate disabled", *disabled, want)
		wantEqual(e.t, "GetCertificate disabled", e.getCertificate(e.alice.ID, disabled.ID), want)
	}},
	{"IDsIncreaseAndAreNeverReused", func(e *env) {
		in := e.integration(e.alice.ID, "okta")
		var last int64
		next := func(n int) *ssod.Certificate {
			e.t.Helper()
			c := e.certificate(e.alice.ID, in.ID, n)
			if c.ID <= 0 || c.ID <= last {
				e.t.Errorf("certificate id %d after %d, want positive and increasing", c.ID, last)
			}
			last = c.ID
			return c
		}
		next(1)
		next(2)
		c3 := next(3)
		// Deleting the newest is what makes a plain SQLite rowid, or a
		// MAX(id)+1, hand the same id out again.
		if _, err := e.s.DeleteCertificate(e.ctx, e.alice.ID, c3.ID); err != nil {
			e.t.Fatalf("DeleteCertificate: %v", err)
		}
		next(4)
		// Another account's certificates draw from the same sequence: ids
		// are unique in the deployment.
		bobs := e.integration(e.bob.ID, "bobs")
		if c := e.certificate(e.bob.ID, bobs.ID, 5); c.ID <= last {
			e.t.Errorf("bob's certificate id %d after alice's %d", c.ID, last)
		}
	}},
	{"GetMissingNotFound", func(e *env) {
		in := e.integration(e.alice.ID, "okta")
		c := e.certificate(e.alice.ID, in.ID, 1)
		for _, id := range []int64{c.ID + 1, missingCertificateID, 0, -1} {
			_, err := e.s.GetCertificate(e.ctx, e.alice.ID, id)
			wantCode(e.t, err, ssod.ENotFound)
		}
	}},
	{"ListByIntegrationByID", func(e *env) {
		a := e.integration(e.alice.ID, "a")
		b := e.integration(e.alice.ID, "b")
		empty := e.integration(e.alice.ID, "empty")
		// Interleaved, so a list that ignored the integration would mix.
		a1 := e.certificate(e.alice.ID, a.ID, 1)
		b1 := e.certificate(e.alice.ID, b.ID, 2)
		a2 := e.certificate(e.alice.ID, a.ID, 3)
		a3 := e.certificate(e.alice.ID, a.ID, 4)
		b2 := e.certificate(e.alice.ID, b.ID, 5)
		e.wantCertificates(e.alice.ID, a.ID, *a1, *a2, *a3)
		e.wantCertificates(e.alice.ID, b.ID, *b1, *b2)
		e.wantCertificates(e.alice.ID, empty.ID)
	}},
	{"ListOfIntegrationNotYoursNotFound", func(e *env) {
		in := e.integration(e.alice.ID, "okta")
		e.certificate(e.alice.ID, in.ID, 1)
		_, errOther := e.s.ListCertificates(e.ctx, e.bob.ID, in.ID)
		_, errMissing := e.s.ListCertificates(e.ctx, e.alice.ID, missingIntegrationID)
		wantLikeMissing(e.t, errOther, errMissing)
	}},
	{"CreateForIntegrationNotYours", func(e *env) {
		in := e.integration(e.alice.ID, "okta")
		before := e.certificate(e.alice.ID, in.ID, 1)
		for _, id := range []string{in.ID, missingIntegrationID} {
			c, err := e.s.CreateCertificate(e.ctx, e.bob.ID, ssod.CertificateUpdate{
				IntegrationID: ptr(id), X509: ptr(testX509(2)),
			})
			wantNotYours(e.t, err)
			if c != nil {
				e.t.Errorf("CreateCertificate failed but returned %+v", *c)
			}
		}
		after := e.certificate(e.alice.ID, in.ID, 3)
		e.wantNoCertificatesBetween(before.ID, after.ID)
		e.wantCertificates(e.alice.ID, in.ID, *before, *after)
	}},
	{"UpdateChangesOnlyGivenFields", func(e *env) {
		from := e.integration(e.alice.ID, "from")
		to := e.integration(e.alice.ID, "to")
		cases := []struct {
			name   string
			update ssod.CertificateUpdate
			change func(c *ssod.Certificate)
		}{
			{"nothing", ssod.CertificateUpdate{}, func(*ssod.Certificate) {}},
			{"enabled", ssod.CertificateUpdate{Enabled: ptr(false)}, func(c *ssod.Certificate) { c.Enabled = false }},
			{"x509", ssod.CertificateUpdate{X509: ptr(testX509(99))}, func(c *ssod.Certificate) { c.X509 = testX509(99) }},
			{"integration", ssod.CertificateUpdate{IntegrationID: ptr(to.ID)},
				func(c *ssod.Certificate) { c.IntegrationID = to.ID }},
			{"all", ssod.CertificateUpdate{IntegrationID: ptr(to.ID), Enabled: ptr(false), X509: ptr(testX509(98))},
				func(c *ssod.Certificate) { c.IntegrationID, c.Enabled, c.X509 = to.ID, false, testX509(98) }},
		}
		bystander := e.certificate(e.alice.ID, from.ID, 0)
		ids := make([]int64, len(cases))
		for i, tc := range cases {
			c := e.certificate(e.alice.ID, from.ID, i+1)
			ids[i] = c.ID
			want := *c
			tc.change(&want)
			got, err := e.s.UpdateCertificate(e.ctx, e.alice.ID, c.ID, tc.update)
			if err != nil {
				e.t.Errorf("update %s: %v", tc.name, err)
				continue
			}
			wantEqual(e.t, "update "+tc.name+": returned", *got, want)
			wantEqual(e.t, "update "+tc.name+": stored", e.getCertificate(e.alice.ID, c.ID), want)
		}
		// Only the two moved certificates left "from"; both are in "to".
		var stayed, moved []ssod.Certificate
		stayed = append(stayed, *bystander)
		for i, tc := range cases {
			c := e.getCertificate(e.alice.ID, ids[i])
			if tc.update.IntegrationID != nil {
				moved = append(moved, c)
			} else {
				stayed = append(stayed, c)
			}
		}
		e.wantCertificates(e.alice.ID, from.ID, stayed...)
		e.wantCertificates(e.alice.ID, to.ID, moved...)
	}},
	{"UpdateToIntegrationNotYours", func(e *env) {
		in := e.integration(e.alice.ID, "okta")
		bobs := e.integration(e.bob.ID, "bobs")
		c := e.certificate(e.alice.ID, in.ID, 1)
		for _, id := range []string{bobs.ID, missingIntegrationID} {
			// The other fields must not be applied either: the update is
			// all or nothing.
			_, err := e.s.UpdateCertificate(e.ctx, e.alice.ID, c.ID, ssod.CertificateUpdate{
				IntegrationID: ptr(id), Enabled: ptr(false), X509: ptr(testX509(2)),
			})
			wantNotYours(e.t, err)
			wantEqual(e.t, "certificate after refused update", e.getCertificate(e.alice.ID, c.ID), *c)
		}
		e.wantCertificates(e.alice.ID, in.ID, *c)
		e.wantCertificates(e.bob.ID, bobs.ID)
	}},
	{"UpdateMissingNotFound", func(e *env) {
		in := e.integration(e.alice.ID, "okta")
		_, err := e.s.UpdateCertificate(e.ctx, e.alice.ID, missingCertificateID, ssod.CertificateUpdate{
			IntegrationID: ptr(in.ID), Enabled: ptr(false),
		})
		wantCode(e.t, err, ssod.ENotFound)
		e.wantCertificates(e.alice.ID, in.ID)
	}},
	{"Delete", func(e *env) {
		in := e.integration(e.alice.ID, "okta")
		c := e.certificate(e.alice.ID, in.ID, 1)
		kept := e.certificate(e.alice.ID, in.ID, 2)
		got, err := e.s.DeleteCertificate(e.ctx, e.alice.ID, c.ID)
		if err != nil {
			e.t.Fatalf("DeleteCertificate: %v", err)
		}
		wantEqual(e.t, "DeleteCertificate", *got, *c)
		_, err = e.s.GetCertificate(e.ctx, e.alice.ID, c.ID)
		wantCode(e.t, err, ssod.ENotFound)
		_, err = e.s.DeleteCertificate(e.ctx, e.alice.ID, c.ID)
		wantCode(e.t, err, ssod.ENotFound)
		e.wantCertificates(e.alice.ID, in.ID, *kept)
	}},
	{"OtherAccountsIsMissing", func(e *env) {
		in := e.integration(e.alice.ID, "alices")
		bobs := e.integration(e.bob.ID, "bobs")
		c := e.certificate(e.alice.ID, in.ID, 1)
		bob, missing := e.bob.ID, missingCertificateID

		_, errOther := e.s.GetCertificate(e.ctx, bob, c.ID)
		_, errMissing := e.s.GetCertificate(e.ctx, bob, missing)
		wantLikeMissing(e.t, errOther, errMissing)

		// Even moving it into bob's own integration: the certificate is
		// looked up first, and bob has none with that id.
		u := ssod.CertificateUpdate{IntegrationID: ptr(bobs.ID), Enabled: ptr(false)}
		_, errOther = e.s.UpdateCertificate(e.ctx, bob, c.ID, u)
		_, errMissing = e.s.UpdateCertificate(e.ctx, bob, missing, u)
		wantLikeMissing(e.t, errOther, errMissing)

		_, errOther = e.s.DeleteCertificate(e.ctx, bob, c.ID)
		_, errMissing = e.s.DeleteCertificate(e.ctx, bob, missing)
		wantLikeMissing(e.t, errOther, errMissing)

		wantEqual(e.t, "alice's certificate", e.getCertificate(e.alice.ID, c.ID), *c)
		e.wantCertificates(e.alice.ID, in.ID, *c)
		e.wantCertificates(bob, bobs.ID)
	}},
	{"ListCertificateWindowsOfAccount", func(e *env) {
		if got, err := e.s.ListCertificateWindows(e.ctx, e.alice.ID); err != nil || len(got) != 0 {
			e.t.Fatalf("ListCertificateWindows of an account with none = %v, %v; want empty", got, err)
		}
		a := e.integration(e.alice.ID, "a")
		b := e.integration(e.alice.ID, "b")
		first, second := a, b
		if b.ID < a.ID {
			first, second = b, a
		}
		// Created out of order, so the answer's order is the store's doing.
		s1 := e.certificate(e.alice.ID, second.ID, 1)
		f1 := e.certificate(e.alice.ID, first.ID, 2)
		f2, err := e.s.CreateCertificate(e.ctx, e.alice.ID, ssod.CertificateUpdate{
			IntegrationID: ptr(first.ID), X509: ptr(testX509(3)), Enabled: ptr(false),
		})
		if err != nil {
			e.t.Fatalf("CreateCertificate: %v", err)
		}
		bobs := e.integration(e.bob.ID, "bobs")
		e.certificate(e.bob.ID, bobs.ID, 4)
		window := func(c *ssod.Certificate) ssod.Certificate {
			w := *c
			w.PEM = ""
			return w
		}
		got, err := e.s.ListCertificateWindows(e.ctx, e.alice.ID)
		if err != nil {
			e.t.Fatalf("ListCertificateWindows: %v", err)
		}
		wantEqual(e.t, "ListCertificateWindows", got, []ssod.Certificate{window(f1), window(f2), window(s1)})
	}},
}

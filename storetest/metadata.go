package storetest

import (
	"strconv"
	"sync"

	"github.com/ssod/ssod"
)

// metadataImport is an import of metadata publishing the stand-in
// certificates ns, read from url (nil: a refresh, which keeps the stored URL).
func metadataImport(name string, url *string, ns ...int) ssod.MetadataImport {
	u := integrationUpdate(name)
	m := ssod.MetadataImport{URL: url, Metadata: ssod.IdPMetadata{EntityID: *u.EntityID, SigninURL: *u.SigninURL, SignoutURL: *u.SignoutURL}}
	for _, n := range ns {
		m.Metadata.Certificates = append(m.Metadata.Certificates, testX509(n))
	}
	return m
}

var metadataTests = []test{
	{"ImportCreatesRefreshAddsAndDisables", func(e *env) {
		e.ctx = ssod.WithActor(e.ctx, ssod.Actor{AccountID: e.alice.ID, KeyID: "k"})
		url := "https://idp.example.com/metadata"
		m := metadataImport("okta", &url, 1, 2, 1)
		m.Name, m.Enabled = ptr("Okta"), ptr(true)
		in, err := e.s.ImportMetadata(e.ctx, e.alice.ID, "", m, now)
		if err != nil {
			e.t.Fatal(err)
		}
		want := ssod.Integration{ID: in.ID, AccountID: e.alice.ID, Name: "Okta", Enabled: true,
			SigninURL: m.Metadata.SigninURL, SignoutURL: m.Metadata.SignoutURL, EntityID: m.Metadata.EntityID,
			JITPersona: ssod.DefaultJITPersona, LastUpdated: now, MetadataURL: url, MetadataRefreshedAt: now, MetadataClaimedAt: now}
		wantEqual(e.t, "ImportMetadata", *in, want)
		wantEqual(e.t, "GetIntegration", e.getIntegration(e.alice.ID, in.ID), want)
		certs := e.listCertificates(e.alice.ID, in.ID)
		if len(certs) != 2 || certs[0].X509 != testX509(1) || certs[1].X509 != testX509(2) || !certs[0].Enabled || !certs[1].Enabled {
			e.t.Fatalf("certificates after create: %+v, want 1 and 2 enabled, once each", certs)
		}
		// Bob cannot refresh or mark Alice's integration.
		_, err = e.s.ImportMetadata(e.ctx, e.bob.ID, in.ID, metadataImport("okta", nil, 3), now+10)
		wantCode(e.t, err, ssod.ENotFound)
		wantCode(e.t, e.s.RecordMetadataFailure(e.ctx, e.bob.ID, in.ID, "x"), ssod.ENotFound)

		// A failure is noted and leaves the rest.
		if err := e.s.RecordMetadataFailure(e.ctx, e.alice.ID, in.ID, "metadata_url answered 503"); err != nil {
			e.t.Fatal(err)
		}
		failed := want
		failed.MetadataError = "metadata_url answered 503"
		wantEqual(e.t, "after a failure", e.getIntegration(e.alice.ID, in.ID), failed)

		// The IdP rolls over: 2 stays, 3 is announced, 1 is gone; the entity
		// moved. A refresh keeps the URL and clears the failure.
		r := metadataImport("okta-2", nil, 2, 3)
		got, err := e.s.ImportMetadata(e.ctx, e.alice.ID, in.ID, r, now+100)
		if err != nil {
			e.t.Fatal(err)
		}
		after := want
		after.EntityID, after.SigninURL, after.SignoutURL = r.Metadata.EntityID, r.Metadata.SigninURL, r.Metadata.SignoutURL
		after.LastUpdated, after.MetadataRefreshedAt, after.MetadataClaimedAt = now+100, now+100, now+100
		wantEqual(e.t, "refresh", *got, after)
		certs = e.listCertificates(e.alice.ID, in.ID)
		if len(certs) != 3 || certs[0].Enabled || !certs[1].Enabled || certs[2].X509 != testX509(3) || !certs[2].Enabled {
			e.t.Fatalf("certificates after refresh: %+v, want 1 disabled, 2 and 3 enabled", certs)
		}
		// The same metadata again changes nothing but the time of reading:
		// no audit event, last_updated kept; a disabled certificate that is
		// still unpublished stays as it is.
		got, err = e.s.ImportMetadata(e.ctx, e.alice.ID, in.ID, r, now+200)
		if err != nil {
			e.t.Fatal(err)
		}
		if got.LastUpdated != now+100 || got.MetadataRefreshedAt != now+200 {
			e.t.Errorf("an unchanged refresh: last_updated %d, refreshed %d", got.LastUpdated, got.MetadataRefreshedAt)
		}
		evs, err := e.s.ListAuditEvents(e.ctx, e.alice.ID, 100)
		if err != nil {
			e.t.Fatal(err)
		}
		id := func(c ssod.Certificate) string { return strconv.FormatInt(c.ID, 10) }
		wantOps := []struct{ op, object string }{ // newest first
			{ssod.AuditCertificateUpdate, id(certs[0])},
			{ssod.AuditCertificateCreate, id(certs[2])},
			{ssod.AuditIntegrationUpdate, in.ID},
			{ssod.AuditCertificateCreate, id(certs[1])},
			{ssod.AuditCertificateCreate, id(certs[0])},
			{ssod.AuditIntegrationCreate, in.ID},
		}
		if len(evs) != len(wantOps) {
			e.t.Fatalf("%d audit events, want %d: %+v", len(evs), len(wantOps), evs)
		}
		for i, w := range wantOps {
			if evs[i].Operation != w.op || evs[i].ObjectID != w.object || evs[i].KeyID != "k" {
				e.t.Errorf("event %d = %s of %s by %q, want %s of %s", i, evs[i].Operation, evs[i].ObjectID, evs[i].KeyID, w.op, w.object)
			}
		}

		// Pasted XML forgets the URL.
		got, err = e.s.ImportMetadata(e.ctx, e.alice.ID, in.ID, metadataImport("okta-2", ptr(""), 2, 3), now+300)
		if err != nil {
			e.t.Fatal(err)
		}
		if got.MetadataURL != "" {
			e.t.Errorf("pasted metadata kept the URL %q", got.MetadataURL)
		}
	}},
	{"ImportIsAllOrNothing", func(e *env) {
		in := e.integration(e.alice.ID, "full")
		for n := range ssod.MaxCertificatesPerIntegration {
			e.certificate(e.alice.ID, in.ID, n)
		}
		before := e.listCertificates(e.alice.ID, in.ID)
		// One new certificate does not fit: nothing changes, not even the
		// integration's fields or the disabling of the unpublished ones.
		_, err := e.s.ImportMetadata(e.ctx, e.alice.ID, in.ID, metadataImport("moved", ptr("https://idp.example.com/m"), 0, 1000), now+1)
		wantProblem(e.t, err, ssod.ErrIntegrationFull())
		wantEqual(e.t, "certificates", e.listCertificates(e.alice.ID, in.ID), before)
		wantEqual(e.t, "integration", e.getIntegration(e.alice.ID, in.ID), *in)
		// A bad field is refused before anything is written.
		bad := metadataImport("bad", nil, 1)
		bad.Metadata.SigninURL = "javascript:alert(1)"
		_, err = e.s.ImportMetadata(e.ctx, e.alice.ID, in.ID, bad, now+2)
		wantCode(e.t, err, ssod.EInvalid)
		wantEqual(e.t, "integration after a bad import", e.getIntegration(e.alice.ID, in.ID), *in)
	}},
	{"ClaimTakesEachDueIntegrationOnce", func(e *env) {
		url := "https://idp.example.com/metadata"
		for i, name := range []string{"a", "b", "c"} {
			m := metadataImport(name, &url, i+1)
			m.Name, m.Enabled = ptr(name), ptr(true)
			if _, err := e.s.ImportMetadata(e.ctx, e.alice.ID, "", m, now); err != nil {
				e.t.Fatal(err)
			}
		}
		e.integration(e.bob.ID, "no-url") // never claimed
		// Not due yet: refreshed at now, due only for claims of those before.
		got, err := e.s.ClaimMetadataRefreshes(e.ctx, now-1, now+10, 10)
		if err != nil || len(got) != 0 {
			e.t.Fatalf("claim before due: %d, %v", len(got), err)
		}
		first, err := e.s.ClaimMetadataRefreshes(e.ctx, now, now+10, 2)
		if err != nil || len(first) != 2 {
			e.t.Fatalf("first claim: %d, %v", len(first), err)
		}
		second, err := e.s.ClaimMetadataRefreshes(e.ctx, now, now+10, 2)
		if err != nil || len(second) != 1 {
			e.t.Fatalf("second claim: %d, %v", len(second), err)
		}
		seen := map[string]bool{}
		for _, in := range append(first, second...) {
			if seen[in.ID] || in.MetadataClaimedAt != now+10 || in.MetadataURL != url {
				e.t.Errorf("claimed %+v twice or wrongly", in)
			}
			seen[in.ID] = true
		}
		if again, err := e.s.ClaimMetadataRefreshes(e.ctx, now, now+20, 10); err != nil || len(again) != 0 {
			e.t.Errorf("a claimed integration was claimed again: %d, %v", len(again), err)
		}
		if later, err := e.s.ClaimMetadataRefreshes(e.ctx, now+10, now+30, 10); err != nil || len(later) != 3 {
			e.t.Errorf("claims once due again: %d, %v", len(later), err)
		}
	}},
	{"SnapshotKeepsMetadata", func(e *env) {
		url := "https://idp.example.com/metadata"
		m := metadataImport("okta", &url, 1)
		m.Name, m.Enabled = ptr("Okta"), ptr(true)
		in, err := e.s.ImportMetadata(e.ctx, e.alice.ID, "", m, now)
		if err != nil {
			e.t.Fatal(err)
		}
		if err := e.s.RecordMetadataFailure(e.ctx, e.alice.ID, in.ID, "down"); err != nil {
			e.t.Fatal(err)
		}
		want := e.getIntegration(e.alice.ID, in.ID)
		snap, err := e.s.Export(e.ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		dst := e.newStore(e.t)
		if err := dst.Import(e.ctx, snap); err != nil {
			e.t.Fatal(err)
		}
		got, err := dst.GetIntegration(e.ctx, e.alice.ID, in.ID)
		if err != nil {
			e.t.Fatal(err)
		}
		wantEqual(e.t, "the copy", *got, want)
	}},
	{"ConcurrentClaimsTakeEachOnce", func(e *env) {
		url := "https://idp.example.com/metadata"
		const n = 12
		for i := range n {
			m := metadataImport(strconv.Itoa(i), &url, i)
			m.Name, m.Enabled = ptr(strconv.Itoa(i)), ptr(true)
			if _, err := e.s.ImportMetadata(e.ctx, e.alice.ID, "", m, now); err != nil {
				e.t.Fatal(err)
			}
		}
		var mu sync.Mutex
		claimed := map[string]int{}
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for {
					got, err := e.s.ClaimMetadataRefreshes(e.ctx, now, now+10, 2)
					if err != nil {
						e.t.Error(err)
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					for _, in := range got {
						claimed[in.ID]++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(claimed) != n {
			e.t.Errorf("%d integrations claimed, want %d", len(claimed), n)
		}
		for id, times := range claimed {
			if times != 1 {
				e.t.Errorf("integration %s claimed %d times", id, times)
			}
		}
	}},
}

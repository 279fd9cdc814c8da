package storetest

import (
	"regexp"

	"github.com/ssod/ssod"
)

// uuidV4 matches a lower-case random UUID, as the contract requires of
// integration ids.
var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// missingIntegrationID is a well-formed id no store will have generated.
const missingIntegrationID = "00000000-0000-4000-8000-000000000000"

// wantIntegrations checks ListIntegrations, in order.
func (e *env) wantIntegrations(accountID int64, want ...ssod.Integration) {
	e.t.Helper()
	got, err := e.s.ListIntegrations(e.ctx, accountID)
	if err != nil {
		e.t.Fatalf("ListIntegrations(%d): %v", accountID, err)
	}
	if len(want) == 0 {
		wantEmpty(e.t, "ListIntegrations", got)
		return
	}
	wantEqual(e.t, "ListIntegrations", got, want)
}

var integrationTests = []test{
	{"Create", func(e *env) {
		in := e.integration(e.alice.ID, "okta")
		if !uuidV4.MatchString(in.ID) {
			e.t.Errorf("id %q is not a lower-case UUID v4", in.ID)
		}
		want := ssod.Integration{
			ID:          in.ID,
			AccountID:   e.alice.ID,
			Name:        "okta",
			Enabled:     true,
			SigninURL:   "https://idp.example.com/okta/sso",
			SignoutURL:  "https://idp.example.com/okta/slo",
			EntityID:    "https://idp.example.com/okta",
			JITPersona:  ssod.DefaultJITPersona,
			LastUpdated: now,
		}
		wantEqual(e.t, "CreateIntegration", *in, want)
		wantEqual(e.t, "GetIntegration", e.getIntegration(e.alice.ID, in.ID), want)

		u := integrationUpdate("okta")
		u.Enabled, u.CompletedIntegration = ptr(false), ptr(true)
		second, err := e.s.CreateIntegration(e.ctx, e.alice.ID, u, now+1)
		if err != nil {
			e.t.Fatalf("CreateIntegration: %v", err)
		}
		if second.ID == in.ID {
			e.t.Errorf("two integrations share id %q", in.ID)
		}
		want.ID, want.Enabled, want.CompletedIntegration, want.LastUpdated = second.ID, false, true, now+1
		wantEqual(e.t, "second integration", e.getIntegration(e.alice.ID, second.ID), want)
	}},
	{"ListOldestFirst", func(e *env) {
		e.wantIntegrations(e.alice.ID)
		// All in the same second, and names out of order, so neither
		// last_updated, name nor the random id can stand in for creation
		// order.
		var want []ssod.Integration
		for _, name := range []string{"c", "a", "e", "b", "d"} {
			want = append(want, *e.integration(e.alice.ID, name))
		}
		bobs := e.integration(e.bob.ID, "bobs")
		e.wantIntegrations(e.alice.ID, want...)
		e.wantIntegrations(e.bob.ID, *bobs)
	}},
	{"GetMissingNotFound", func(e *env) {
		e.integration(e.alice.ID, "okta")
		_, err := e.s.GetIntegration(e.ctx, e.alice.ID, missingIntegrationID)
		wantCode(e.t, err, ssod.ENotFound)
		_, err = e.s.GetIntegration(e.ctx, e.alice.ID, "not-a-uuid")
		wantCode(e.t, err, ssod.ENotFound)
	}},
	{"UpdateChangesOnlyGivenFields", func(e *env) {
		cases := []struct {
			name   string
			update ssod.IntegrationUpdate
			change func(in *ssod.Integration)
		}{
			{"nothing", ssod.IntegrationUpdate{}, func(*ssod.Integration) {}},
			{"name", ssod.IntegrationUpdate{Name: ptr("renamed")}, func(in *ssod.Integration) { in.Name = "renamed" }},
			{"enabled", ssod.IntegrationUpdate{Enabled: ptr(false)}, func(in *ssod.Integration) { in.Enabled = false }},
			{"signin_url", ssod.IntegrationUpdate{SigninURL: ptr("https://new.example/in")},
				func(in *ssod.Integration) { in.SigninURL = "https://new.example/in" }},
			{"signout_url", ssod.IntegrationUpdate{SignoutURL: ptr("https://new.example/out")},
				func(in *ssod.Integration) { in.SignoutURL = "https://new.example/out" }},
			{"entity_id", ssod.IntegrationUpdate{EntityID: ptr("urn:new")}, func(in *ssod.Integration) { in.EntityID = "urn:new" }},
			{"completed_integration", ssod.IntegrationUpdate{CompletedIntegration: ptr(true)},
				func(in *ssod.Integration) { in.CompletedIntegration = true }},
			{"all", ssod.IntegrationUpdate{
				Name: ptr("all"), Enabled: ptr(false), SigninURL: ptr("https://all.example/in"),
				SignoutURL: ptr("https://all.example/out"), EntityID: ptr("urn:all"), CompletedIntegration: ptr(true),
				JITProvisioning: ptr(true), JITPersona: ptr(ssod.PersonaAccountant),
			}, func(in *ssod.Integration) {
				*in = ssod.Integration{ID: in.ID, AccountID: in.AccountID, Name: "all", SigninURL: "https://all.example/in",
					SignoutURL: "https://all.example/out", EntityID: "urn:all", CompletedIntegration: true,
					JITProvisioning: true, JITPersona: ssod.PersonaAccountant}
			}},
		}
		other := e.integration(e.alice.ID, "bystander")
		for _, c := range cases {
			in := e.integration(e.alice.ID, "before-"+c.name)
			want := *in
			c.change(&want)
			if want != *in { // an update that changes nothing keeps last_updated
				want.LastUpdated = now + 100
			}
			got, err := e.s.UpdateIntegration(e.ctx, e.alice.ID, in.ID, c.update, now+100)
			if err != nil {
				e.t.Errorf("update %s: %v", c.name, err)
				continue
			}
			wantEqual(e.t, "update "+c.name+": returned", *got, want)
			wantEqual(e.t, "update "+c.name+": stored", e.getIntegration(e.alice.ID, in.ID), want)
		}
		wantEqual(e.t, "integration not updated", e.getIntegration(e.alice.ID, other.ID), *other)
	}},
	{"UpdateMissingNotFound", func(e *env) {
		_, err := e.s.UpdateIntegration(e.ctx, e.alice.ID, missingIntegrationID, ssod.IntegrationUpdate{Name: ptr("x")}, now)
		wantCode(e.t, err, ssod.ENotFound)
		e.wantIntegrations(e.alice.ID)
	}},
	{"Delete", func(e *env) {
		gone := e.integration(e.alice.ID, "gone")
		kept := e.integration(e.alice.ID, "kept")
		if err := e.s.DeleteIntegration(e.ctx, e.alice.ID, gone.ID); err != nil {
			e.t.Fatalf("DeleteIntegration: %v", err)
		}
		_, err := e.s.GetIntegration(e.ctx, e.alice.ID, gone.ID)
		wantCode(e.t, err, ssod.ENotFound)
		wantCode(e.t, e.s.DeleteIntegration(e.ctx, e.alice.ID, gone.ID), ssod.ENotFound)
		wantCode(e.t, e.s.DeleteIntegration(e.ctx, e.alice.ID, missingIntegrationID), ssod.ENotFound)
		e.wantIntegrations(e.alice.ID, *kept)
	}},
	{"DeleteCascadesToCertificates", func(e *env) {
		gone := e.integration(e.alice.ID, "gone")
		kept := e.integration(e.alice.ID, "kept")
		g1 := e.certificate(e.alice.ID, gone.ID, 1)
		k1 := e.certificate(e.alice.ID, kept.ID, 2)
		g2 := e.certificate(e.alice.ID, gone.ID, 3)
		if err := e.s.DeleteIntegration(e.ctx, e.alice.ID, gone.ID); err != nil {
			e.t.Fatalf("DeleteIntegration: %v", err)
		}
		_, err := e.s.ListCertificates(e.ctx, e.alice.ID, gone.ID)
		wantCode(e.t, err, ssod.ENotFound)
		for _, c := range []*ssod.Certificate{g1, g2} {
			_, err := e.s.GetCertificate(e.ctx, e.alice.ID, c.ID)
			wantCode(e.t, err, ssod.ENotFound)
		}
		e.wantCertificates(e.alice.ID, kept.ID, *k1)
	}},
	{"OtherAccountsIsMissing", func(e *env) {
		in := e.integration(e.alice.ID, "alices")
		c := e.certificate(e.alice.ID, in.ID, 1)
		bob, missing := e.bob.ID, missingIntegrationID

		_, errOther := e.s.GetIntegration(e.ctx, bob, in.ID)
		_, errMissing := e.s.GetIntegration(e.ctx, bob, missing)
		wantLikeMissing(e.t, errOther, errMissing)

		u := ssod.IntegrationUpdate{Name: ptr("stolen"), Enabled: ptr(false)}
		_, errOther = e.s.UpdateIntegration(e.ctx, bob, in.ID, u, now+1)
		_, errMissing = e.s.UpdateIntegration(e.ctx, bob, missing, u, now+1)
		wantLikeMissing(e.t, errOther, errMissing)

		_, errOther = e.s.ListCertificates(e.ctx, bob, in.ID)
		_, errMissing = e.s.ListCertificates(e.ctx, bob, missing)
		wantLikeMissing(e.t, errOther, errMissing)

		wantLikeMissing(e.t, e.s.DeleteIntegration(e.ctx, bob, in.ID), e.s.DeleteIntegration(e.ctx, bob, missing))

		e.wantIntegrations(bob)
		e.wantIntegrations(e.alice.ID, *in)
		e.wantCertificates(e.alice.ID, in.ID, *c)
	}},
}

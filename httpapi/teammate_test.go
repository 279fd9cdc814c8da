package httpapi

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"testing"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/internal/samltest"
	"github.com/ssod/ssod/persona"
)

// signedInTeammate is the teammate of an accepted sign-in's body.
type signedInTeammate struct {
	Teammate struct {
		Username                   string   `json:"username"`
		IsAdmin                    bool     `json:"is_admin"`
		Scopes                     []string `json:"scopes"`
		HasRestrictedSubuserAccess bool     `json:"has_restricted_subuser_access"`
		SubuserAccess              []any    `json:"subuser_access"`
	} `json:"teammate"`
}

// signInAs posts a valid response for nameID with attrs, asking for JSON.
func (st *signInTest) signInAs(nameID string, attrs ...samltest.Attribute) (int, signedInTeammate, string) {
	st.t.Helper()
	r := st.valid()
	r.NameID, r.Attributes = nameID, attrs
	rec := st.post(url.Values{"SAMLResponse": {samltest.Encode(r.SignedAssertion(st.t, st.idp))}}, "application/json")
	var body signedInTeammate
	if rec.Code == 200 {
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			st.t.Fatal(err)
		}
	}
	return rec.Code, body, rec.Body.String()
}

// TestSignInUnknownTeammate: check 14 refuses a NameID that is no teammate of the
// integration's account: not the account's, another account's, a local part that differs
// in case, or no email address at all. Each refusal is traced and counted.
func TestSignInUnknownTeammate(t *testing.T) {
	st := newSignInTest(t, SAMLConfig{})
	other, err := st.store.CreateAccount(context.Background(), "other", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	st.addTeammate(other.ID, "carol@example.com")
	for _, nameID := range []string{"bob@example.com", "carol@example.com", "Alice@example.com", "alice"} {
		r := st.valid()
		r.NameID = nameID
		rec := st.postXML(r.SignedAssertion(t, st.idp))
		wantRefused(t, rec, 403, "saml_unknown_teammate")
		if tr := st.lastTrace(); tr.Result != "saml_unknown_teammate" || tr.NameID != nameID || tr.CertificateID != st.certID {
			t.Errorf("%s: trace %+v", nameID, tr)
		}
	}
	if got := st.metric(`ssod_saml_responses_total{result="saml_unknown_teammate"}`); got != "4" {
		t.Errorf("metric = %q, want 4", got)
	}
	if list, _ := st.store.ListTeammates(context.Background(), st.account, 10, 0); len(list) != 1 {
		t.Errorf("a refused sign-in created teammates: %+v", list)
	}
}

// TestSignInKnownTeammate: the domain of the NameID is compared without case, and the
// body carries the teammate as stored.
func TestSignInKnownTeammate(t *testing.T) {
	st := newSignInTest(t, SAMLConfig{})
	code, body, raw := st.signInAs("alice@EXAMPLE.com")
	if code != 200 || body.Teammate.Username != "alice@example.com" || !slices.Equal(body.Teammate.Scopes, []string{"stats.read"}) ||
		body.Teammate.IsAdmin || body.Teammate.HasRestrictedSubuserAccess || body.Teammate.SubuserAccess == nil {
		t.Fatalf("%d %s", code, raw)
	}
}

// TestSignInJustInTime: with jit_provisioning on, an unknown NameID becomes a teammate
// with the integration's jit_persona (names from the assertion's attributes), once, and
// the audit trail says it was provisioning; with it off again, a new NameID is refused.
func TestSignInJustInTime(t *testing.T) {
	st := newSignInTest(t, SAMLConfig{})
	ctx := context.Background()
	on, dev := true, "developer"
	if _, err := st.store.UpdateIntegration(ctx, st.account, st.in.ID, ssod.IntegrationUpdate{JITProvisioning: &on, JITPersona: &dev}, st.now.Unix()); err != nil {
		t.Fatal(err)
	}
	given := samltest.Attribute{Name: "givenName", Values: []string{"Dave"}}
	sn := samltest.Attribute{Name: "sn", Values: []string{"Jones"}}
	want, _ := persona.Scopes("developer")
	for range 2 {
		code, body, raw := st.signInAs("dave@example.com", given, sn)
		if code != 200 || body.Teammate.Username != "dave@example.com" || !slices.Equal(body.Teammate.Scopes, want) || body.Teammate.IsAdmin {
			t.Fatalf("%d %s", code, raw)
		}
	}
	tm, err := st.store.GetTeammate(ctx, st.account, "dave@example.com")
	if err != nil || tm.FirstName != "Dave" || tm.LastName != "Jones" || tm.Persona != "developer" {
		t.Fatalf("provisioned teammate %+v, %v", tm, err)
	}
	// Without name attributes the NameID's parts stand in.
	if code, _, raw := st.signInAs("erin@example.org"); code != 200 {
		t.Fatalf("%d %s", code, raw)
	}
	if tm, err := st.store.GetTeammate(ctx, st.account, "erin@example.org"); err != nil || tm.FirstName != "erin" || tm.LastName != "example.org" {
		t.Fatalf("provisioned teammate %+v, %v", tm, err)
	}
	events, err := st.store.ListAuditEvents(ctx, st.account, 100)
	if err != nil {
		t.Fatal(err)
	}
	var jit []ssod.AuditEvent
	for _, e := range events {
		if e.Operation == ssod.AuditTeammateJIT {
			jit = append(jit, e)
		}
	}
	if len(jit) != 2 || jit[1].ObjectID != "dave@example.com" || jit[1].ActorAccountID != 0 || jit[1].KeyID != "" {
		t.Errorf("JIT audit events %+v", jit)
	}
	// Not an email address: nothing to provision.
	if code, _, _ := st.signInAs("dave"); code != 403 {
		t.Errorf("a NameID that is no email address was provisioned: %d", code)
	}
	off := false
	if _, err := st.store.UpdateIntegration(ctx, st.account, st.in.ID, ssod.IntegrationUpdate{JITProvisioning: &off}, st.now.Unix()); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := st.signInAs("frank@example.com"); code != 403 {
		t.Errorf("JIT off: %d", code)
	}
}

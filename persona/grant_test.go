package persona

import (
	"slices"
	"testing"

	"github.com/ssod/ssod"
)

// TestGrant: the permission fields of a request become the scopes the teammate
// holds, one source at a time.
func TestGrant(t *testing.T) {
	yes, no := true, false
	str := func(s string) *string { return &s }
	list := func(s ...string) *[]string { return &s }
	admin := AdminScopes()
	marketer, _ := Scopes("marketer")
	cases := []struct {
		name       string
		u          ssod.TeammateUpdate
		field      string // the refused field, or ""
		scopes     []string
		persona    string
		isAdmin    bool
		restricted bool
	}{
		{"admin", ssod.TeammateUpdate{IsAdmin: &yes}, "", admin, "", true, false},
		{"persona", ssod.TeammateUpdate{Persona: str("marketer")}, "", marketer, "marketer", false, false},
		{"scopes", ssod.TeammateUpdate{Scopes: list("stats.read")}, "", []string{"stats.read"}, "", false, false},
		{"not admin any more", ssod.TeammateUpdate{IsAdmin: &no}, "", []string{}, "", false, false},
		{"restricted alone", ssod.TeammateUpdate{HasRestrictedSubuserAccess: &yes}, "", []string{}, "", false, true},
		{"admin and persona", ssod.TeammateUpdate{IsAdmin: &yes, Persona: str("observer")}, "persona", nil, "", false, false},
		{"admin and scopes", ssod.TeammateUpdate{IsAdmin: &yes, Scopes: list("a.read")}, "scopes", nil, "", false, false},
		{"persona and scopes", ssod.TeammateUpdate{Persona: str("observer"), Scopes: list("a.read")}, "scopes", nil, "", false, false},
		{"unknown persona", ssod.TeammateUpdate{Persona: str("owner")}, "persona", nil, "", false, false},
		{"empty persona", ssod.TeammateUpdate{Persona: str("")}, "persona", nil, "", false, false},
		{"restricted and persona", ssod.TeammateUpdate{HasRestrictedSubuserAccess: &yes, Persona: str("observer")}, "has_restricted_subuser_access", nil, "", false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := tc.u
			errs := Grant(&u)
			if tc.field != "" {
				if len(errs) != 1 || errs[0].Field != tc.field || errs[0].Code != ssod.EInvalid {
					t.Fatalf("problems %v, want one on %s", errs, tc.field)
				}
				return
			}
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			got := u.Apply(ssod.Teammate{Persona: "developer", Scopes: []string{"old"}, IsAdmin: !tc.isAdmin})
			if !slices.Equal(got.Scopes, tc.scopes) || got.Persona != tc.persona || got.IsAdmin != tc.isAdmin || got.HasRestrictedSubuserAccess != tc.restricted {
				t.Errorf("teammate %+v", got)
			}
		})
	}
}

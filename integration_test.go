package ssod

import (
	"regexp"
	"testing"
)

func TestNewIntegrationID(t *testing.T) {
	v4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 1000 {
		id := NewIntegrationID()
		if !v4.MatchString(id) || !ValidIntegrationID(id) {
			t.Fatalf("NewIntegrationID() = %q, not a lower-case UUID v4", id)
		}
		if seen[id] {
			t.Fatalf("NewIntegrationID() repeated %q", id)
		}
		seen[id] = true
	}
	for _, bad := range []string{"", "B0B98502-9408-4B24-9E3D-31ED7CB15312", "b0b98502-9408-4b24-9e3d-31ed7cb1531", "b0b98502x9408-4b24-9e3d-31ed7cb15312", "../../etc/passwd"} {
		if ValidIntegrationID(bad) {
			t.Errorf("ValidIntegrationID(%q) = true", bad)
		}
	}
}

func TestScopesRoundTrip(t *testing.T) {
	s, err := JoinScopes(AllScopes())
	if err != nil {
		t.Fatal(err)
	}
	got := SplitScopes(s)
	if len(got) != len(AllScopes()) || got[0] != ScopeSettingsRead {
		t.Fatalf("round trip = %v", got)
	}
	if _, err := JoinScopes([]Scope{"a,b"}); CodeOf(err) != EInvalid {
		t.Fatalf("a scope with a comma: %v", err)
	}
	if SplitScopes("") != nil {
		t.Fatal("empty text gave scopes")
	}
	if _, err := ParseScopes("sso.settings.read, sso.settings.raed"); err == nil {
		t.Fatal("misspelt scope accepted")
	}
}

func TestIntegrationFieldsRefuseBlankTextAndBadPorts(t *testing.T) {
	str := func(s string) *string { return &s }
	refused := []struct {
		field string
		u     IntegrationUpdate
	}{
		{"name", IntegrationUpdate{Name: str(" ")}},
		{"name", IntegrationUpdate{Name: str(" \u00a0\u2003\u3000 ")}},
		{"entity_id", IntegrationUpdate{EntityID: str("   ")}},
		{"signin_url", IntegrationUpdate{SigninURL: str("  ")}},
		{"signin_url", IntegrationUpdate{SigninURL: str("https://:80")}},
		{"signin_url", IntegrationUpdate{SigninURL: str("https://:80/sso")}},
		{"signin_url", IntegrationUpdate{SigninURL: str("https://[]:443/")}},
		{"signout_url", IntegrationUpdate{SignoutURL: str("https://idp.example.com:99999/slo")}},
		{"signout_url", IntegrationUpdate{SignoutURL: str("https://idp.example.com:0/slo")}},
		{"signout_url", IntegrationUpdate{SignoutURL: str("https://idp.example.com:65536/")}},
		{"signout_url", IntegrationUpdate{SignoutURL: str("https://idp.example.com:/slo")}},
		{"signout_url", IntegrationUpdate{SignoutURL: str("https://idp.example.com:https/slo")}},
		{"signout_url", IntegrationUpdate{SignoutURL: str("https://idp.example.com:-1/slo")}},
		{"signin_url", IntegrationUpdate{SigninURL: str("https://[::1]:0/")}},
	}
	for _, c := range refused {
		err := c.u.Validate()
		if p := ProblemsOf(err); err == nil || len(p) != 1 || p[0].Field != c.field || p[0].Code != EInvalid {
			t.Errorf("%+v: Validate() = %v, want one invalid %s", c.u, err, c.field)
		}
	}
	accepted := []IntegrationUpdate{
		{Name: str(" Okta ")},
		{EntityID: str("urn:x")},
		{SigninURL: str("https://idp.example.com:1/sso")},
		{SigninURL: str("https://idp.example.com:65535/sso")},
		{SigninURL: str("http://[::1]:8080/sso")},
		{SignoutURL: str("https://idp.example.com/slo")},
	}
	for _, u := range accepted {
		if err := u.Validate(); err != nil {
			t.Errorf("%+v: Validate() = %v", u, err)
		}
	}
}

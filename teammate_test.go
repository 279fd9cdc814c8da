package ssod

import "testing"

func TestUsernameKey(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"jane@example.com", "jane@EXAMPLE.com", true},
		{"Jane@Example.COM", "Jane@example.com", true},
		{"jane@example.com", "JANE@example.com", false},
		{"jane@example.com", "jane@example.org", false},
		{`"a@b"@example.com`, `"a@b"@EXAMPLE.com`, true},
	} {
		if got := UsernameKey(tc.a) == UsernameKey(tc.b); got != tc.same {
			t.Errorf("UsernameKey(%q) == UsernameKey(%q) is %v, want %v", tc.a, tc.b, got, tc.same)
		}
	}
}

func TestValidateUsername(t *testing.T) {
	for _, ok := range []string{"jane@example.com", "Jane.Doe+sso@Example.COM", "j@localhost"} {
		if e := ValidateUsername("email", ok); e != nil {
			t.Errorf("ValidateUsername(%q) = %v, want nil", ok, e)
		}
	}
	long := make([]byte, MaxUsernameLength)
	for i := range long {
		long[i] = 'a'
	}
	for _, bad := range []string{"", "jane", "jane@", "@example.com", "Jane <jane@example.com>", "<jane@example.com>",
		"jane@example.com\n", "jane @example.com", string(long[:MaxUsernameLength-11]) + "@example.com"} {
		if e := ValidateUsername("email", bad); e == nil {
			t.Errorf("ValidateUsername(%q) = nil, want an error", bad)
		}
	}
}

func TestTeammateValidate(t *testing.T) {
	ok := Teammate{Username: "jane@example.com", FirstName: "Jane", LastName: "Doe", Persona: PersonaDeveloper,
		HasRestrictedSubuserAccess: true, SubuserAccess: []SubuserAccess{{SubuserID: 2, PermissionType: PermissionAdmin}}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("Validate(%+v) = %v", ok, err)
	}
	for name, mut := range map[string]func(*Teammate){
		"persona":           func(t *Teammate) { t.Persona = "boss" },
		"restricted off":    func(t *Teammate) { t.HasRestrictedSubuserAccess = false },
		"permission type":   func(t *Teammate) { t.SubuserAccess[0].PermissionType = "owner" },
		"subuser id":        func(t *Teammate) { t.SubuserAccess[0].SubuserID = 0 },
		"duplicate subuser": func(t *Teammate) { t.SubuserAccess = append(t.SubuserAccess, t.SubuserAccess[0]) },
		"scope with comma":  func(t *Teammate) { t.Scopes = []string{"a,b"} },
		"blank first name":  func(t *Teammate) { t.FirstName = " " },
	} {
		bad := TeammateUpdate{}.Apply(ok)
		mut(&bad)
		if err := bad.Validate(); err == nil {
			t.Errorf("%s: Validate = nil, want an error", name)
		}
	}
}

func TestIntegrationJITPersona(t *testing.T) {
	p := "boss"
	if err := (IntegrationUpdate{JITPersona: &p}).Validate(); CodeOf(err) != EInvalid {
		t.Errorf("jit_persona %q: %v, want invalid", p, err)
	}
	p = PersonaMarketer
	if err := (IntegrationUpdate{JITPersona: &p}).Validate(); err != nil {
		t.Errorf("jit_persona %q: %v", p, err)
	}
}

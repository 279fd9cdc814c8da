package persona

import "github.com/ssod/ssod"

// Grant turns the permission fields of a request (or a seed file's entry)
// into the scopes the teammate holds (README, "SSO teammates"): is_admin:
// true grants every admin scope, persona its persona's, scopes exactly those. One source per
// request; parent-account permissions and restricted subuser access exclude
// each other. Sending a source replaces the others; restricting subuser
// access alone drops the parent-account permissions.
func Grant(u *ssod.TeammateUpdate) ssod.Errors {
	var errs ssod.Errors
	admin := u.IsAdmin != nil && *u.IsAdmin
	switch {
	case admin && u.Persona != nil:
		errs = append(errs, ssod.FieldErrorf(ssod.EInvalid, "persona", "send persona or is_admin: true, not both: an admin holds every scope"))
	case admin && u.Scopes != nil:
		errs = append(errs, ssod.FieldErrorf(ssod.EInvalid, "scopes", "send scopes or is_admin: true, not both: an admin holds every scope"))
	case u.Persona != nil && u.Scopes != nil:
		errs = append(errs, ssod.FieldErrorf(ssod.EInvalid, "scopes", "send scopes or persona, not both: a persona grants its own scopes"))
	}
	if u.Persona != nil && !Valid(*u.Persona) {
		errs = append(errs, ssod.FieldErrorf(ssod.EInvalid, "persona", "persona must be one of accountant, developer, marketer, observer"))
	}
	parent := admin || u.Persona != nil || u.Scopes != nil && len(*u.Scopes) > 0
	restricted := u.HasRestrictedSubuserAccess != nil && *u.HasRestrictedSubuserAccess
	if restricted && parent {
		errs = append(errs, ssod.FieldErrorf(ssod.EInvalid, "has_restricted_subuser_access",
			"a teammate with restricted subuser access cannot also have is_admin, a persona or scopes on the parent account"))
	}
	if len(errs) > 0 {
		return errs
	}
	no, none := false, ""
	switch {
	case admin:
		all := AdminScopes()
		u.Scopes, u.Persona = &all, &none
	case u.Persona != nil:
		granted, _ := Scopes(*u.Persona)
		u.Scopes, u.IsAdmin = &granted, &no
	case u.Scopes != nil:
		u.Persona, u.IsAdmin = &none, &no
	case restricted:
		empty := []string{}
		u.Scopes, u.Persona, u.IsAdmin = &empty, &none, &no
	case u.IsAdmin != nil: // is_admin: false alone takes the admin scopes away
		empty := []string{}
		u.Scopes, u.Persona = &empty, &none
	}
	if parent && u.HasRestrictedSubuserAccess == nil {
		u.HasRestrictedSubuserAccess = &no
	}
	return nil
}

// NewTeammate is the teammate a create request u (which passed
// ValidateCreate) makes in the account: its permission fields granted, then
// the whole teammate checked. The API and the console both create through it.
func NewTeammate(accountID int64, u ssod.TeammateUpdate) (ssod.Teammate, error) {
	if errs := Grant(&u); len(errs) > 0 {
		return ssod.Teammate{}, errs
	}
	t := u.Apply(ssod.Teammate{AccountID: accountID, Username: *u.Email})
	if err := t.Validate(); err != nil {
		return ssod.Teammate{}, err
	}
	return t, nil
}

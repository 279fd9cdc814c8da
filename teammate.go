package ssod

import (
	"context"
	"encoding/json"
	"fmt"
	"net/mail"
	"strings"
)

// Teammate is an SSO teammate (SendGrid's "SSO Teammate"): a person who may
// sign in to an account through one of its integrations' IdPs, and what
// they may do once signed in. Scopes are SendGrid's teammate scope names;
// ssod stores and returns them, it does not enforce them.
type Teammate struct {
	AccountID int64
	// Username is the email address the teammate was created with, exactly
	// as given; it never changes. UsernameKey(Username) identifies the
	// teammate within its account.
	Username                   string
	FirstName                  string
	LastName                   string
	IsAdmin                    bool
	Persona                    string // one of Personas, or "" for none
	Scopes                     []string
	HasRestrictedSubuserAccess bool
	SubuserAccess              []SubuserAccess
	CreatedAt                  int64 // Unix seconds
	UpdatedAt                  int64 // Unix seconds of the last change
}

// SubuserAccess is a teammate's access to one subuser of its account.
type SubuserAccess struct {
	SubuserID      int64  // the subuser's account ID
	PermissionType string // PermissionAdmin or PermissionRestricted
	Scopes         []string
}

// Permission types of SubuserAccess.
const (
	PermissionAdmin      = "admin"
	PermissionRestricted = "restricted"
)

// SendGrid's teammate personas, each a published set of scopes.
const (
	PersonaAccountant = "accountant"
	PersonaDeveloper  = "developer"
	PersonaMarketer   = "marketer"
	PersonaObserver   = "observer"
)

// Personas lists every persona, in SendGrid's order.
func Personas() []string {
	return []string{PersonaAccountant, PersonaDeveloper, PersonaMarketer, PersonaObserver}
}

// ValidPersona reports whether p names a persona.
func ValidPersona(p string) bool {
	switch p {
	case PersonaAccountant, PersonaDeveloper, PersonaMarketer, PersonaObserver:
		return true
	}
	return false
}

// Teammate limits.
const (
	// MaxTeammatesPerAccount is SendGrid's documented limit of teammates
	// per account, checked atomically with every create.
	MaxTeammatesPerAccount = 1000
	// MaxUsernameLength is the longest email address SMTP can carry
	// (RFC 5321's 254-byte path less its angle brackets).
	MaxUsernameLength = 254
	// MaxTeammateNameLength bounds first and last names.
	MaxTeammateNameLength = 255
	// MaxTeammateScopes bounds a scope list, far above SendGrid's ~300 scopes.
	MaxTeammateScopes = 1000
	// MaxScopeLength bounds one scope name.
	MaxScopeLength = 128
	// MaxSubuserAccess bounds a teammate's subuser_access list.
	MaxSubuserAccess = 1000
)

// UsernameKey is the form in which usernames are compared: an email address
// whose domain is compared case-insensitively (DNS names are) and whose local
// part is compared exactly (RFC 5321 leaves its case to the receiving
// server, and ssod cannot know what the IdP's mail server does). So
// "Jane@Example.COM" and "Jane@example.com" are one teammate, and
// "jane@example.com" is another. A SAML NameID is looked up the same way.
func UsernameKey(username string) string {
	at := strings.LastIndexByte(username, '@')
	if at < 0 {
		return username
	}
	return username[:at+1] + strings.ToLower(username[at+1:])
}

// ValidateUsername accepts a bare email address ("local@domain", no display
// name, no angle brackets) of at most MaxUsernameLength bytes.
func ValidateUsername(field, s string) *Error {
	if s == "" {
		return FieldErrorf(ERequired, field, "%s is required", field)
	}
	if len(s) > MaxUsernameLength || !storableText(s) || hasControl(s) {
		return FieldErrorf(EInvalid, field, "%s must be an email address of at most %d bytes", field, MaxUsernameLength)
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return FieldErrorf(EInvalid, field, "%s must be an email address such as jane@example.com", field)
	}
	return nil
}

// TeammateUpdate carries the fields of a create or PATCH request. A nil
// field was absent, which on PATCH means "leave unchanged". Email is read on
// create only: a username never changes.
type TeammateUpdate struct {
	Email                      *string
	FirstName                  *string
	LastName                   *string
	IsAdmin                    *bool
	Persona                    *string // "" clears the persona
	Scopes                     *[]string
	HasRestrictedSubuserAccess *bool
	SubuserAccess              *[]SubuserAccess
}

// ValidateCreate reports every problem that stops u from creating a
// teammate: email, first_name and last_name present, every field well formed.
func (u TeammateUpdate) ValidateCreate() error {
	var errs Errors
	if u.Email == nil {
		errs = append(errs, FieldErrorf(ERequired, "email", "email is required"))
	} else if e := ValidateUsername("email", *u.Email); e != nil {
		errs = append(errs, e)
	}
	for _, r := range []struct {
		name    string
		missing bool
	}{{"first_name", u.FirstName == nil}, {"last_name", u.LastName == nil}} {
		if r.missing {
			errs = append(errs, FieldErrorf(ERequired, r.name, "%s is required", r.name))
		}
	}
	errs = append(errs, u.problems()...)
	return errs.Err()
}

// Validate reports every malformed field of a PATCH request; absent fields
// are fine.
func (u TeammateUpdate) Validate() error {
	return Errors(u.problems()).Err()
}

func (u TeammateUpdate) problems() Errors {
	var errs Errors
	for _, f := range []struct {
		name  string
		value *string
	}{{"first_name", u.FirstName}, {"last_name", u.LastName}} {
		if f.value != nil {
			if e := checkText(f.name, *f.value, MaxTeammateNameLength); e != nil {
				errs = append(errs, e)
			}
		}
	}
	if u.Persona != nil && *u.Persona != "" && !ValidPersona(*u.Persona) {
		errs = append(errs, FieldErrorf(EInvalid, "persona", "persona must be one of %s", strings.Join(Personas(), ", ")))
	}
	if u.Scopes != nil {
		if e := checkScopes("scopes", *u.Scopes); e != nil {
			errs = append(errs, e)
		}
	}
	if u.SubuserAccess != nil {
		errs = append(errs, checkSubuserAccess(*u.SubuserAccess)...)
	}
	return errs
}

func checkScopes(field string, scopes []string) *Error {
	if len(scopes) > MaxTeammateScopes {
		return FieldErrorf(EInvalid, field, "%s may hold at most %d scopes", field, MaxTeammateScopes)
	}
	for _, s := range scopes {
		if s == "" || len(s) > MaxScopeLength || !storableText(s) || hasControl(s) || strings.ContainsAny(s, ", ") {
			return FieldErrorf(EInvalid, field, "%s holds %q, which is not a scope name", field, s)
		}
	}
	return nil
}

func checkSubuserAccess(list []SubuserAccess) Errors {
	const field = "subuser_access"
	if len(list) > MaxSubuserAccess {
		return Errors{FieldErrorf(EInvalid, field, "subuser_access may hold at most %d subusers", MaxSubuserAccess)}
	}
	var errs Errors
	seen := make(map[int64]bool, len(list))
	for _, a := range list {
		switch {
		case a.SubuserID <= 0:
			errs = append(errs, FieldErrorf(EInvalid, field, "subuser id %d is not a subuser id", a.SubuserID))
		case seen[a.SubuserID]:
			errs = append(errs, FieldErrorf(EInvalid, field, "subuser %d appears twice", a.SubuserID))
		case a.PermissionType != PermissionAdmin && a.PermissionType != PermissionRestricted:
			errs = append(errs, FieldErrorf(EInvalid, field, "permission_type must be admin or restricted"))
		}
		seen[a.SubuserID] = true
		if e := checkScopes(field, a.Scopes); e != nil {
			errs = append(errs, e)
		}
	}
	return errs
}

// Apply returns t with the fields present in u changed (Email aside).
// Slices are copied, so t and the result share nothing, and nil slices
// become empty ones.
func (u TeammateUpdate) Apply(t Teammate) Teammate {
	t.Scopes = cloneStrings(t.Scopes)
	t.SubuserAccess = cloneAccess(t.SubuserAccess)
	if u.FirstName != nil {
		t.FirstName = *u.FirstName
	}
	if u.LastName != nil {
		t.LastName = *u.LastName
	}
	if u.IsAdmin != nil {
		t.IsAdmin = *u.IsAdmin
	}
	if u.Persona != nil {
		t.Persona = *u.Persona
	}
	if u.Scopes != nil {
		t.Scopes = cloneStrings(*u.Scopes)
	}
	if u.HasRestrictedSubuserAccess != nil {
		t.HasRestrictedSubuserAccess = *u.HasRestrictedSubuserAccess
	}
	if u.SubuserAccess != nil {
		t.SubuserAccess = cloneAccess(*u.SubuserAccess)
	}
	return t
}

// Validate reports what stops t from being stored: the same field checks
// as a request, and subuser access only with restricted subuser access on.
func (t Teammate) Validate() error {
	var errs Errors
	if e := ValidateUsername("email", t.Username); e != nil {
		errs = append(errs, e)
	}
	u := TeammateUpdate{FirstName: &t.FirstName, LastName: &t.LastName, Persona: &t.Persona,
		Scopes: &t.Scopes, SubuserAccess: &t.SubuserAccess}
	errs = append(errs, u.problems()...)
	if len(t.SubuserAccess) > 0 && !t.HasRestrictedSubuserAccess {
		errs = append(errs, FieldErrorf(EInvalid, "has_restricted_subuser_access",
			"has_restricted_subuser_access must be true when subuser_access is not empty"))
	}
	return errs.Err()
}

// Equal reports whether t and o hold the same values; an update that
// changes nothing writes nothing.
func (t Teammate) Equal(o Teammate) bool {
	a, _ := json.Marshal(t) // plain values cannot fail
	b, _ := json.Marshal(o)
	return string(a) == string(b)
}

// cloneStrings copies s; an absent list becomes an empty one, so that a
// stored teammate never holds nil and compares equal to what a store reads.
func cloneStrings(s []string) []string {
	return append([]string{}, s...)
}

func cloneAccess(list []SubuserAccess) []SubuserAccess {
	out := make([]SubuserAccess, len(list))
	for i, a := range list {
		a.Scopes = cloneStrings(a.Scopes)
		out[i] = a
	}
	return out
}

// TeammateStore keeps SSO teammates. Every method is scoped to one account
// and finds a teammate by UsernameKey(username): another account's teammate
// is reported exactly as a missing one.
type TeammateStore interface {
	// CreateTeammate stores t (which must pass Validate) with CreatedAt =
	// UpdatedAt = now and records AuditTeammateCreate. EConflict when the
	// account has a teammate with the same UsernameKey; ErrTooManyTeammates
	// when it holds MaxTeammatesPerAccount, counted atomically with the
	// insert; EInvalid (field subuser_access) when a SubuserID is not a
	// subuser of the account; ENotFound when the account does not exist.
	CreateTeammate(ctx context.Context, t Teammate, now int64) (*Teammate, error)
	// GetTeammate returns ErrTeammateNotFound when the account has no
	// teammate with username's key. Sign-in looks a NameID up with it.
	GetTeammate(ctx context.Context, accountID int64, username string) (*Teammate, error)
	// ListTeammates returns up to limit of the account's teammates after
	// skipping offset, oldest first (none when limit < 1).
	ListTeammates(ctx context.Context, accountID int64, limit, offset int) ([]Teammate, error)
	// UpdateTeammate applies u (which must pass Validate; Email is ignored)
	// and sets UpdatedAt = now, recording AuditTeammateUpdate. ENotFound as
	// Get; EInvalid when the result fails Teammate.Validate or names a
	// subuser that is not the account's. An update that changes nothing
	// writes nothing and records nothing.
	UpdateTeammate(ctx context.Context, accountID int64, username string, u TeammateUpdate, now int64) (*Teammate, error)
	// DeleteTeammate deletes the teammate, recording AuditTeammateDelete.
	// ENotFound as Get.
	DeleteTeammate(ctx context.Context, accountID int64, username string) error
	// ProvisionTeammate is just-in-time provisioning at sign-in: it returns
	// the account's teammate with t.Username's key if there is one
	// (created false), and otherwise creates t as CreateTeammate does but
	// recording AuditTeammateJIT (created true). Atomic across instances:
	// of concurrent calls for the same new username exactly one creates,
	// and all return that teammate. ErrTooManyTeammates when a create is
	// needed and the account is full.
	ProvisionTeammate(ctx context.Context, t Teammate, now int64) (tm *Teammate, created bool, err error)
}

// ErrTeammateNotFound is what stores answer for a username that is not one
// of the account's teammates, whether it exists elsewhere or not.
func ErrTeammateNotFound(username string) *Error {
	return Errorf(ENotFound, "teammate %q not found", username)
}

// ErrTeammateExists is what CreateTeammate answers for a username the
// account already has (compared by UsernameKey).
func ErrTeammateExists(username string) *Error {
	return FieldErrorf(EConflict, "email", "a teammate with username %q already exists", username)
}

// ErrTooManyTeammates is what teammate creates return when the account
// already holds MaxTeammatesPerAccount.
func ErrTooManyTeammates() *Error {
	return Errorf(EInvalid, "the account already holds %d teammates, the most it may; delete one first", MaxTeammatesPerAccount)
}

// ErrNotASubuser is what teammate writes return for subuser access to an
// account that is not a subuser of the teammate's account.
func ErrNotASubuser(id int64) *Error {
	return FieldErrorf(EInvalid, "subuser_access", "account %d is not a subuser of this account", id)
}

// EncodeScopeList is the text form in which stores keep a teammate's scope
// list: a JSON array, so that no scope name can split into two.
func EncodeScopeList(scopes []string) (string, error) {
	b, err := json.Marshal(cloneStrings(scopes))
	if err != nil {
		return "", fmt.Errorf("encode scopes: %w", err)
	}
	return string(b), nil
}

// DecodeScopeList reads what EncodeScopeList wrote; never nil.
func DecodeScopeList(text string) ([]string, error) {
	scopes := []string{}
	if err := json.Unmarshal([]byte(text), &scopes); err != nil {
		return nil, fmt.Errorf("decode scopes: %w", err)
	}
	return cloneStrings(scopes), nil
}

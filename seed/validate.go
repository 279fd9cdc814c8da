package seed

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/apikey"
	"github.com/ssod/ssod/idpcert"
	"github.com/ssod/ssod/persona"
)

// maxKeyNameLength bounds a key's label, which the key list shows.
const maxKeyNameLength = 255

// maxFileSize bounds what a certificate's file is read up to: far above
// the 16 KiB a certificate may have, so idpcert says what is wrong.
const maxFileSize = 1 << 20

// Validate checks every entry of f as the API and the command line would
// check it, and that the entries agree with each other (names, ids and keys
// given once, references to entries of the file), and returns the seed a
// store applies. readFile reads a certificate's "file" by the name written.
// The first problem found is the error, an *Error.
func Validate(f *File, readFile func(name string) ([]byte, error)) (*ssod.Seed, error) {
	sd := &ssod.Seed{}
	accounts := map[string]int{} // name -> index
	for i, a := range f.Accounts {
		fail := func(field, format string, args ...any) error {
			return f.entryError("accounts", i, field, format, args...)
		}
		if a.Name == "" {
			return nil, fail("name", "required")
		}
		if err := ssod.ValidateAccountName(a.Name); err != nil {
			return nil, fail("name", "%s", message(err))
		}
		if j, ok := accounts[a.Name]; ok {
			return nil, fail("name", "accounts[%d] has this name already", j)
		}
		if a.Parent != "" {
			if _, ok := accounts[a.Parent]; !ok {
				return nil, fail("parent", "%q is not an account listed before this one", a.Parent)
			}
		}
		accounts[a.Name] = i
		sd.Accounts = append(sd.Accounts, ssod.SeedAccount{Name: a.Name, Parent: a.Parent})
	}

	keys := map[string]int{} // key id -> index
	for i, k := range f.Keys {
		fail := func(field, format string, args ...any) error { return f.entryError("keys", i, field, format, args...) }
		if err := knownAccount(accounts, k.Account); err != "" {
			return nil, fail("account", "%s", err)
		}
		if k.Key == "" {
			return nil, fail("key", "required")
		}
		// The message never repeats the key: it is a secret.
		id, secret, ok := apikey.Split(k.Key)
		if !ok {
			return nil, fail("key", "want SendGrid's shape: SG. then a %d-character id, '.', and a %d-character secret, of letters, digits, '-' and '_'",
				apikey.IDLength, apikey.SecretLength)
		}
		if j, ok := keys[id]; ok {
			return nil, fail("key", "keys[%d] has the same key id %q", j, id)
		}
		keys[id] = i
		if len(k.Name) > maxKeyNameLength || !utf8.ValidString(k.Name) || strings.ContainsFunc(k.Name, isControl) {
			return nil, fail("name", "want at most %d bytes of UTF-8 text without control characters", maxKeyNameLength)
		}
		scopes := ssod.AllScopes()
		if k.Scopes != nil {
			scopes = nil
			if len(*k.Scopes) == 0 {
				return nil, fail("scopes", "want at least one scope; leave scopes out for every scope")
			}
			for _, s := range *k.Scopes {
				switch {
				case !slices.Contains(ssod.AllScopes(), ssod.Scope(s)):
					return nil, fail("scopes", "unknown scope %q; the scopes are %s", s, scopeList())
				case slices.Contains(scopes, ssod.Scope(s)):
					return nil, fail("scopes", "scope %q given twice", s)
				}
				scopes = append(scopes, ssod.Scope(s))
			}
		}
		sd.Keys = append(sd.Keys, ssod.SeedKey{Account: k.Account, ID: id, SecretHash: apikey.HashSecret(secret), Name: k.Name, Scopes: scopes})
	}

	integrations := map[string]int{} // id -> index
	perAccount := map[string]int{}
	for i, in := range f.Integrations {
		fail := func(field, format string, args ...any) error {
			return f.entryError("integrations", i, field, format, args...)
		}
		if err := knownAccount(accounts, in.Account); err != "" {
			return nil, fail("account", "%s", err)
		}
		switch {
		case in.ID == "":
			return nil, fail("id", "required")
		case !ssod.ValidIntegrationID(in.ID):
			return nil, fail("id", "want a lower-case UUID, such as 9b0a4cd1-3c2f-4e5a-8b7d-1f2e3d4c5b6a")
		}
		if j, ok := integrations[in.ID]; ok {
			return nil, fail("id", "integrations[%d] has this id already", j)
		}
		u := ssod.IntegrationUpdate{Name: in.Name, Enabled: in.Enabled, SigninURL: in.SigninURL,
			SignoutURL: in.SignoutURL, EntityID: in.EntityID, CompletedIntegration: in.CompletedIntegration}
		if err := u.ValidateCreate(); err != nil {
			p := ssod.ProblemsOf(err)[0]
			return nil, fail(p.Field, "%s", p.Message)
		}
		if perAccount[in.Account]++; perAccount[in.Account] > ssod.MaxIntegrationsPerAccount {
			return nil, fail("account", "more than %d integrations for one account", ssod.MaxIntegrationsPerAccount)
		}
		integrations[in.ID] = i
		sd.Integrations = append(sd.Integrations, ssod.SeedIntegration{
			Account: in.Account, Integration: u.Apply(ssod.Integration{ID: in.ID, JITPersona: ssod.DefaultJITPersona}),
		})
	}

	certs := map[int64]int{} // id -> index
	type holding struct {
		n    int
		pems map[string]int64 // PEM -> certificate id
	}
	held := map[string]*holding{} // integration id -> what it holds
	for i, c := range f.Certificates {
		fail := func(field, format string, args ...any) error {
			return f.entryError("certificates", i, field, format, args...)
		}
		_, known := integrations[c.IntegrationID]
		switch {
		case c.IntegrationID == "":
			return nil, fail("integration_id", "required")
		case !known:
			return nil, fail("integration_id", "%q is not an integration of this file", c.IntegrationID)
		case c.ID < 1:
			return nil, fail("id", "required: a whole number from 1")
		}
		if j, ok := certs[c.ID]; ok {
			return nil, fail("id", "certificates[%d] has this id already", j)
		}
		certs[c.ID] = i
		var text, field string
		switch {
		case c.PublicCertificate != nil && c.File != nil:
			return nil, fail("file", "give public_certificate or file, not both")
		case c.PublicCertificate != nil:
			text, field = *c.PublicCertificate, "public_certificate"
		case c.File != nil:
			field = "file"
			b, err := readFile(*c.File)
			if err != nil {
				return nil, fail(field, "%v", err)
			}
			text = string(b)
		default:
			return nil, fail("public_certificate", "required: give public_certificate (PEM or base64) or file (a path relative to the seed file)")
		}
		x, err := idpcert.Parse(text)
		if err != nil {
			return nil, fail(field, "%s", message(err))
		}
		h := held[c.IntegrationID]
		if h == nil {
			h = &holding{pems: map[string]int64{}}
			held[c.IntegrationID] = h
		}
		if other, ok := h.pems[x.PEM]; ok {
			return nil, fail(field, "integration %s holds this certificate already, as certificate %d", c.IntegrationID, other)
		}
		if h.n++; h.n > ssod.MaxCertificatesPerIntegration {
			return nil, fail("integration_id", "more than %d certificates for one integration", ssod.MaxCertificatesPerIntegration)
		}
		h.pems[x.PEM] = c.ID
		enabled := c.Enabled == nil || *c.Enabled
		sd.Certificates = append(sd.Certificates, ssod.SeedCertificate{ID: c.ID, IntegrationID: c.IntegrationID, Enabled: enabled, X509: x})
	}

	parents := map[string]string{} // account name -> its parent's name
	for _, a := range f.Accounts {
		parents[a.Name] = a.Parent
	}
	teammates := map[string]map[string]int{} // account -> UsernameKey -> index
	for i, tm := range f.Teammates {
		fail := func(field, format string, args ...any) error {
			return f.entryError("teammates", i, field, format, args...)
		}
		st, err := validateTeammate(tm, accounts, parents, fail)
		if err != nil {
			return nil, err
		}
		byKey := teammates[tm.Account]
		if byKey == nil {
			byKey = map[string]int{}
			teammates[tm.Account] = byKey
		}
		key := ssod.UsernameKey(st.Username)
		if j, ok := byKey[key]; ok {
			return nil, fail("email", "teammates[%d] is the same teammate of account %q (usernames compare with the domain's case ignored)", j, tm.Account)
		}
		byKey[key] = i
		if len(byKey) > ssod.MaxTeammatesPerAccount {
			return nil, fail("account", "more than %d teammates for one account", ssod.MaxTeammatesPerAccount)
		}
		sd.Teammates = append(sd.Teammates, st)
	}
	return sd, nil
}

// validateTeammate checks a teammate entry as a create request is checked
// and grants its scopes as one is (persona.Grant).
func validateTeammate(tm Teammate, accounts map[string]int, parents map[string]string,
	fail func(field, format string, args ...any) error) (ssod.SeedTeammate, error) {
	var st ssod.SeedTeammate
	if err := knownAccount(accounts, tm.Account); err != "" {
		return st, fail("account", "%s", err)
	}
	u := ssod.TeammateUpdate{Email: tm.Email, FirstName: tm.FirstName, LastName: tm.LastName, IsAdmin: tm.IsAdmin,
		Persona: tm.Persona, Scopes: tm.Scopes, HasRestrictedSubuserAccess: tm.HasRestrictedSubuserAccess}
	if err := u.ValidateCreate(); err != nil {
		p := ssod.ProblemsOf(err)[0]
		return st, fail(p.Field, "%s", p.Message)
	}
	// The API's rule, so that a seeded teammate holds what the same create
	// request would have given it.
	if errs := persona.Grant(&u); len(errs) > 0 {
		return st, fail(errs[0].Field, "%s", errs[0].Message)
	}
	restricted := u.HasRestrictedSubuserAccess != nil && *u.HasRestrictedSubuserAccess
	if len(tm.SubuserAccess) > 0 && !restricted {
		return st, fail("has_restricted_subuser_access", "must be true when subuser_access is not empty")
	}
	t := ssod.Teammate{Username: *tm.Email, FirstName: *tm.FirstName, LastName: *tm.LastName,
		IsAdmin: u.IsAdmin != nil && *u.IsAdmin, HasRestrictedSubuserAccess: restricted, Scopes: []string{}}
	if u.Persona != nil {
		t.Persona = *u.Persona
	}
	if u.Scopes != nil {
		t.Scopes = slices.Clone(*u.Scopes)
	}
	for j, a := range tm.SubuserAccess {
		field := fmt.Sprintf("subuser_access[%d]", j)
		_, listed := accounts[a.Subuser]
		switch {
		case a.Subuser == "":
			return st, fail(field+".subuser", "required: the name of a subuser of account %q", tm.Account)
		case !listed:
			return st, fail(field+".subuser", "%q is not an account of this file", a.Subuser)
		case parents[a.Subuser] != tm.Account:
			return st, fail(field+".subuser", "%q is not a subuser of account %q", a.Subuser, tm.Account)
		case slices.Contains(st.Subusers, a.Subuser):
			return st, fail(field+".subuser", "%q appears twice", a.Subuser)
		case a.PermissionType != ssod.PermissionAdmin && a.PermissionType != ssod.PermissionRestricted:
			return st, fail(field+".permission_type", "want %q or %q", ssod.PermissionAdmin, ssod.PermissionRestricted)
		}
		st.Subusers = append(st.Subusers, a.Subuser)
		// Until a store gives the subusers their ids, each stands in with
		// its index in the file, which is distinct and positive.
		t.SubuserAccess = append(t.SubuserAccess, ssod.SubuserAccess{SubuserID: int64(accounts[a.Subuser]) + 1,
			PermissionType: a.PermissionType, Scopes: append([]string{}, a.Scopes...)})
	}
	if err := t.Validate(); err != nil {
		p := ssod.ProblemsOf(err)[0]
		return st, fail(p.Field, "%s", p.Message)
	}
	st.Account, st.Teammate = tm.Account, t
	return st, nil
}

// Load reads, parses and validates the seed file at path; certificate
// files are read relative to its folder. Every error names the file.
func Load(path string) (*ssod.Seed, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("seed file: %w", err)
	}
	dir := filepath.Dir(path)
	sd, err := parseAndValidate(data, func(name string) ([]byte, error) {
		if !filepath.IsAbs(name) {
			name = filepath.Join(dir, name)
		}
		return readLimited(name)
	})
	var e *Error
	if errors.As(err, &e) {
		e.File = path
	}
	return sd, err
}

func parseAndValidate(data []byte, readFile func(string) ([]byte, error)) (*ssod.Seed, error) {
	f, err := Parse(data)
	if err != nil {
		return nil, err
	}
	return Validate(f, readFile)
}

// readLimited reads a certificate file, at most maxFileSize of it.
func readLimited(name string) ([]byte, error) {
	fh, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(b) > maxFileSize {
		return nil, fmt.Errorf("%s is larger than %d bytes: not one certificate", name, maxFileSize)
	}
	return b, nil
}

// knownAccount returns why name cannot be an entry's account, or "".
func knownAccount(accounts map[string]int, name string) string {
	if name == "" {
		return "required"
	}
	if _, ok := accounts[name]; !ok {
		return fmt.Sprintf("%q is not an account of this file", name)
	}
	return ""
}

// message is an error's text for a seed author: a domain error's message
// without its code.
func message(err error) string {
	var e *ssod.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

func scopeList() string {
	var names []string
	for _, s := range ssod.AllScopes() {
		names = append(names, string(s))
	}
	return strings.Join(names, ", ")
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

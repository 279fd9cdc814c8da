package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/persona"
)

// subuserAccessJSON is one element of a teammate's subuser_access in a
// response. ssod's subusers have no disabled state, so disabled is false.
type subuserAccessJSON struct {
	ID             int64    `json:"id"`
	PermissionType string   `json:"permission_type"`
	Scopes         []string `json:"scopes"`
	Disabled       bool     `json:"disabled"`
}

// ssoTeammateJSON is the spec's PostSsoTeammates201 and PatchSsoTeammates200
// (the latter also has username and user_type; the create answer carries
// them too).
type ssoTeammateJSON struct {
	FirstName                  string              `json:"first_name"`
	LastName                   string              `json:"last_name"`
	Email                      string              `json:"email"`
	Username                   string              `json:"username"`
	UserType                   string              `json:"user_type"`
	IsAdmin                    bool                `json:"is_admin"`
	IsSSO                      bool                `json:"is_sso"`
	Scopes                     []string            `json:"scopes"`
	HasRestrictedSubuserAccess bool                `json:"has_restricted_subuser_access"`
	SubuserAccess              []subuserAccessJSON `json:"subuser_access"`
}

// teammateListItemJSON is one element of GET /v3/teammates's result.
type teammateListItemJSON struct {
	Username  string `json:"username"`
	Email     string `json:"email"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	UserType  string `json:"user_type"`
	IsAdmin   bool   `json:"is_admin"`
}

// teammateJSON is GET /v3/teammates/{username}'s answer.
type teammateJSON struct {
	Username  string   `json:"username"`
	FirstName string   `json:"first_name"`
	LastName  string   `json:"last_name"`
	Email     string   `json:"email"`
	Scopes    []string `json:"scopes"`
	UserType  string   `json:"user_type"`
	IsAdmin   bool     `json:"is_admin"`
}

// userType is the Teammates API's user_type: ssod has no owner teammate
// (the account's keys are its owner).
func userType(t *ssod.Teammate) string {
	if t.IsAdmin {
		return "admin"
	}
	return "teammate"
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func subuserAccessOf(t *ssod.Teammate) []subuserAccessJSON {
	out := make([]subuserAccessJSON, len(t.SubuserAccess))
	for i, a := range t.SubuserAccess {
		out[i] = subuserAccessJSON{ID: a.SubuserID, PermissionType: a.PermissionType, Scopes: nonNil(a.Scopes)}
	}
	return out
}

func ssoTeammateOf(t *ssod.Teammate) ssoTeammateJSON {
	return ssoTeammateJSON{
		FirstName: t.FirstName, LastName: t.LastName, Email: t.Username, Username: t.Username,
		UserType: userType(t), IsAdmin: t.IsAdmin, IsSSO: true, Scopes: nonNil(t.Scopes),
		HasRestrictedSubuserAccess: t.HasRestrictedSubuserAccess, SubuserAccess: subuserAccessOf(t),
	}
}

// decodeTeammate reads a create or PATCH body, reporting every bad field.
// email is read on create only: on PATCH it is an unknown field, ignored.
func decodeTeammate(w http.ResponseWriter, r *http.Request, create bool) (ssod.TeammateUpdate, ssod.Errors, error) {
	var u ssod.TeammateUpdate
	obj, err := readObject(w, r)
	if err != nil {
		return u, nil, err
	}
	var errs ssod.Errors
	names := []string{"first_name", "last_name", "is_admin", "persona", "scopes", "has_restricted_subuser_access", "subuser_access"}
	if create {
		obj.str("email", &u.Email, &errs)
		names = append(names, "email")
	}
	obj.str("first_name", &u.FirstName, &errs)
	obj.str("last_name", &u.LastName, &errs)
	obj.boolean("is_admin", &u.IsAdmin, &errs)
	obj.str("persona", &u.Persona, &errs)
	obj.strings("scopes", &u.Scopes, &errs)
	obj.boolean("has_restricted_subuser_access", &u.HasRestrictedSubuserAccess, &errs)
	obj.subuserAccess("subuser_access", &u.SubuserAccess, &errs)
	obj.exactNames(&errs, names...)
	return u, errs, nil
}

// strings reads an optional array of strings into *dst.
func (o object) strings(name string, dst **[]string, errs *ssod.Errors) {
	raw, ok := o.present(name)
	if !ok {
		return
	}
	var v []string
	if raw[0] != '[' || json.Unmarshal(raw, &v) != nil {
		*errs = append(*errs, ssod.FieldErrorf(ssod.EInvalid, name, "%s must be an array of strings", name))
		return
	}
	if v == nil {
		v = []string{}
	}
	*dst = &v
}

// subuserAccess reads subuser_access: [{"id": integer, "permission_type":
// "admin"|"restricted", "scopes": [string]}].
func (o object) subuserAccess(name string, dst **[]ssod.SubuserAccess, errs *ssod.Errors) {
	raw, ok := o.present(name)
	if !ok {
		return
	}
	var items []json.RawMessage
	if raw[0] != '[' || json.Unmarshal(raw, &items) != nil {
		*errs = append(*errs, ssod.FieldErrorf(ssod.EInvalid, name, "%s must be an array of objects", name))
		return
	}
	out := make([]ssod.SubuserAccess, 0, len(items))
	for _, item := range items {
		var a struct {
			ID             *json.Number `json:"id"`
			PermissionType *string      `json:"permission_type"`
			Scopes         []string     `json:"scopes"`
		}
		dec := json.NewDecoder(bytes.NewReader(item))
		dec.UseNumber()
		if len(item) == 0 || item[0] != '{' || dec.Decode(&a) != nil {
			*errs = append(*errs, ssod.FieldErrorf(ssod.EInvalid, name, "%s must be an array of objects with id, permission_type and scopes", name))
			return
		}
		if a.ID == nil || a.PermissionType == nil {
			*errs = append(*errs, ssod.FieldErrorf(ssod.ERequired, name, "each element of %s needs id and permission_type", name))
			return
		}
		id, err := strconv.ParseInt(a.ID.String(), 10, 64)
		if err != nil {
			*errs = append(*errs, ssod.FieldErrorf(ssod.EInvalid, name, "a subuser id must be an integer, not %s", a.ID.String()))
			return
		}
		out = append(out, ssod.SubuserAccess{SubuserID: id, PermissionType: *a.PermissionType, Scopes: a.Scopes})
	}
	*dst = &out
}

// errTeammateNotFound is the one answer for a username that names none of
// the caller's teammates.
var errTeammateNotFound = ssod.Errorf(ssod.ENotFound, "teammate not found")

// teammateUsername returns the path's username, or ENotFound when it cannot
// be one.
func teammateUsername(r *http.Request) (string, error) {
	name := r.PathValue("username")
	if ssod.ValidateUsername("username", name) != nil {
		return "", errTeammateNotFound
	}
	return name, nil
}

// teammateStoreError maps what a teammate store call returned: an existing
// username is a bad email (the contract's error_ids have no conflict), a
// missing teammate has the one not-found message.
func teammateStoreError(err error) error {
	switch ssod.CodeOf(err) {
	case ssod.EConflict:
		return ssod.FieldErrorf(ssod.EInvalid, "email", "%s", ssod.ProblemsOf(err)[0].Message)
	case ssod.ENotFound:
		return errTeammateNotFound
	}
	return storeFailed(err)
}

func (s *Server) createTeammate(w http.ResponseWriter, r *http.Request, c caller) error {
	u, errs, err := decodeTeammate(w, r, true)
	if err != nil {
		return err
	}
	errs = withValidation(errs, u.ValidateCreate())
	if err := errs.Err(); err != nil {
		return err
	}
	t, err := persona.NewTeammate(c.AccountID, u)
	if err != nil {
		return err
	}
	created, err := s.store.CreateTeammate(r.Context(), t, s.now().Unix())
	if err != nil {
		return teammateStoreError(err)
	}
	writeJSON(w, http.StatusCreated, ssoTeammateOf(created))
	return nil
}

func (s *Server) updateTeammate(w http.ResponseWriter, r *http.Request, c caller) error {
	// The body is judged before the object, as the contract orders checks.
	u, errs, err := decodeTeammate(w, r, false)
	if err != nil {
		return err
	}
	errs = withValidation(errs, u.Validate())
	if err := errs.Err(); err != nil {
		return err
	}
	if errs := persona.Grant(&u); len(errs) > 0 {
		return errs
	}
	name, err := teammateUsername(r)
	if err != nil {
		return err
	}
	t, err := s.store.UpdateTeammate(r.Context(), c.AccountID, name, u, s.now().Unix())
	if err != nil {
		return teammateStoreError(err)
	}
	writeJSON(w, http.StatusOK, ssoTeammateOf(t))
	return nil
}

// pageParam reads an optional non-negative integer query parameter of at
// most max.
func pageParam(r *http.Request, name string, def, max int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > max || strconv.Itoa(n) != v {
		return 0, ssod.FieldErrorf(ssod.EInvalid, name, "%s must be an integer from 0 to %d", name, max)
	}
	return n, nil
}

// Teammates API paging: SendGrid's default and largest page.
const maxTeammatesPage = 500

func (s *Server) listTeammates(w http.ResponseWriter, r *http.Request, c caller) error {
	limit, err := pageParam(r, "limit", maxTeammatesPage, maxTeammatesPage)
	if err != nil {
		return err
	}
	// No account holds more than MaxTeammatesPerAccount: a larger offset is
	// simply past the end.
	offset, err := pageParam(r, "offset", 0, 1<<31-1)
	if err != nil {
		return err
	}
	list, err := s.store.ListTeammates(r.Context(), c.AccountID, limit, offset)
	if err != nil {
		return storeFailed(err)
	}
	out := struct {
		Result []teammateListItemJSON `json:"result"`
	}{Result: make([]teammateListItemJSON, len(list))}
	for i := range list {
		t := &list[i]
		out.Result[i] = teammateListItemJSON{Username: t.Username, Email: t.Username, FirstName: t.FirstName,
			LastName: t.LastName, UserType: userType(t), IsAdmin: t.IsAdmin}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getTeammate(w http.ResponseWriter, r *http.Request, c caller) error {
	name, err := teammateUsername(r)
	if err != nil {
		return err
	}
	t, err := s.store.GetTeammate(r.Context(), c.AccountID, name)
	if err != nil {
		return teammateStoreError(err)
	}
	writeJSON(w, http.StatusOK, teammateJSON{Username: t.Username, FirstName: t.FirstName, LastName: t.LastName,
		Email: t.Username, Scopes: nonNil(t.Scopes), UserType: userType(t), IsAdmin: t.IsAdmin})
	return nil
}

func (s *Server) deleteTeammate(w http.ResponseWriter, r *http.Request, c caller) error {
	name, err := teammateUsername(r)
	if err != nil {
		return err
	}
	if err := s.store.DeleteTeammate(r.Context(), c.AccountID, name); err != nil {
		return teammateStoreError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

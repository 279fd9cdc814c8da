// Package seed reads the seed file of `ssod serve --seed`: JSON naming the
// accounts, API keys (with their exact key strings), integrations and
// certificates (with their ids) and SSO teammates a deployment starts with. Parse reads the
// file's shape; Validate checks every entry as the API would and resolves
// it into an ssod.Seed for a store to apply. Every problem is one *Error
// naming the entry and the field, so a bad file is fixed in one look.
package seed

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/ssod/ssod/apikey"
)

// File is a seed file as written, before Validate checks its entries.
type File struct {
	Accounts     []Account
	Keys         []Key
	Integrations []Integration
	Certificates []Certificate
	Teammates    []Teammate

	// where each entry starts, by section and index, for messages
	starts map[string][]int
	data   []byte
}

// Account is an entry of "accounts".
type Account struct {
	Name   string `json:"name"`
	Parent string `json:"parent"`
}

// Key is an entry of "keys". Scopes nil means every scope.
type Key struct {
	Account string    `json:"account"`
	Key     string    `json:"key"`
	Name    string    `json:"name"`
	Scopes  *[]string `json:"scopes"`
}

// Integration is an entry of "integrations"; nil fields were absent.
type Integration struct {
	Account              string  `json:"account"`
	ID                   string  `json:"id"`
	Name                 *string `json:"name"`
	Enabled              *bool   `json:"enabled"`
	SigninURL            *string `json:"signin_url"`
	SignoutURL           *string `json:"signout_url"`
	EntityID             *string `json:"entity_id"`
	CompletedIntegration *bool   `json:"completed_integration"`
}

// Certificate is an entry of "certificates": the certificate inline or in
// a file relative to the seed file's folder. Enabled nil means true.
type Certificate struct {
	IntegrationID     string  `json:"integration_id"`
	ID                int64   `json:"id"`
	Enabled           *bool   `json:"enabled"`
	PublicCertificate *string `json:"public_certificate"`
	File              *string `json:"file"`
}

// Teammate is an entry of "teammates"; nil fields were absent. Its
// permissions are given as in a create request: is_admin: true, a persona,
// or scopes.
type Teammate struct {
	Account                    string          `json:"account"`
	Email                      *string         `json:"email"`
	FirstName                  *string         `json:"first_name"`
	LastName                   *string         `json:"last_name"`
	IsAdmin                    *bool           `json:"is_admin"`
	Persona                    *string         `json:"persona"`
	Scopes                     *[]string       `json:"scopes"`
	HasRestrictedSubuserAccess *bool           `json:"has_restricted_subuser_access"`
	SubuserAccess              []SubuserAccess `json:"subuser_access"`
}

// SubuserAccess is an element of a teammate's "subuser_access": the
// subuser by its name in the file, since its id is the store's to give.
type SubuserAccess struct {
	Subuser        string   `json:"subuser"`
	PermissionType string   `json:"permission_type"`
	Scopes         []string `json:"scopes"`
}

// Error is one problem of a seed file: where it is (the entry, by section,
// index and name or id, and the field) and what is wrong.
type Error struct {
	File    string // the seed file's path; "" until Load sets it
	Section string // "accounts", ...; "" for the file as a whole
	Index   int
	Entry   string // the entry's name or id as written, "" if it has none
	Field   string
	Line    int // 1-based; 0 when unknown
	Column  int
	Message string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("seed file")
	if e.File != "" {
		b.WriteString(" " + e.File)
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	}
	if e.Section != "" {
		fmt.Fprintf(&b, ": %s[%d]", e.Section, e.Index)
		if e.Entry != "" {
			fmt.Fprintf(&b, " (%s)", e.Entry)
		}
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ": field %q", e.Field)
	}
	b.WriteString(": " + e.Message)
	return b.String()
}

// sections are the file's top-level members; each is optional.
var sections = []string{"accounts", "keys", "integrations", "certificates", "teammates"}

// fields are the members each section's entries may have: anything else
// is a typo, which must not pass silently. Go's JSON decoder would also
// take "Name" for "name", so names are compared here, exactly.
var fields = map[string][]string{
	"accounts":     {"name", "parent"},
	"keys":         {"account", "key", "name", "scopes"},
	"integrations": {"account", "id", "name", "enabled", "signin_url", "signout_url", "entity_id", "completed_integration"},
	"certificates": {"integration_id", "id", "enabled", "public_certificate", "file"},
	"teammates": {"account", "email", "first_name", "last_name", "is_admin", "persona", "scopes",
		"has_restricted_subuser_access", "subuser_access"},
}

// accessFields are the members of an element of a teammate's
// subuser_access.
var accessFields = []string{"subuser", "permission_type", "scopes"}

// Parse reads a seed file's JSON: an object of optional sections, each an
// array of objects whose members are known, each given once, with values of
// the right type. It checks no values; Validate does.
func Parse(data []byte) (*File, error) {
	if err := json.Unmarshal(data, new(any)); err != nil {
		return nil, syntaxError(data, err)
	}
	f := &File{starts: map[string][]int{}, data: data}
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, _ := dec.Token(); tok != json.Delim('{') {
		return nil, f.errorAt(0, &Error{Message: "want a JSON object of sections: " + strings.Join(sections, ", ")})
	}
	seen := map[string]bool{}
	for dec.More() {
		at := int(dec.InputOffset())
		tok, err := dec.Token()
		if err != nil {
			return nil, syntaxError(data, err)
		}
		name := tok.(string) // a member name: the syntax is already checked
		switch {
		case !slices.Contains(sections, name):
			return nil, f.errorAt(skipSpace(data, at), &Error{Field: name, Message: "unknown section; want " + strings.Join(sections, ", ")})
		case seen[name]:
			return nil, f.errorAt(skipSpace(data, at), &Error{Field: name, Message: "section given twice"})
		}
		seen[name] = true
		if err := f.parseSection(dec, name); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// parseSection reads one section's array, entry by entry, noting where
// each starts.
func (f *File) parseSection(dec *json.Decoder, section string) error {
	at := skipSpace(f.data, int(dec.InputOffset()))
	if tok, _ := dec.Token(); tok != json.Delim('[') {
		return f.errorAt(at, &Error{Field: section, Message: "want an array of entries"})
	}
	for i := 0; dec.More(); i++ {
		start := skipSpace(f.data, int(dec.InputOffset()))
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return syntaxError(f.data, err)
		}
		f.starts[section] = append(f.starts[section], start)
		if err := f.parseEntry(section, i, raw); err != nil {
			return err
		}
	}
	_, err := dec.Token() // ']'
	return err
}

// parseEntry checks one entry's members and decodes it into its section.
func (f *File) parseEntry(section string, i int, raw json.RawMessage) error {
	fail := func(field, format string, args ...any) error {
		return f.entryError(section, i, field, format, args...)
	}
	members, err := objectMembers(raw)
	if err != nil {
		return fail("", "want a JSON object")
	}
	allowed := fields[section]
	seen := map[string]bool{}
	for _, m := range members {
		if seen[m] {
			return fail(m, "given twice")
		}
		seen[m] = true
		if !slices.Contains(allowed, m) {
			return fail(m, "unknown field; want one of %s", strings.Join(allowed, ", "))
		}
	}
	var dst any
	switch section {
	case "accounts":
		f.Accounts = append(f.Accounts, Account{})
		dst = &f.Accounts[i]
	case "keys":
		f.Keys = append(f.Keys, Key{})
		dst = &f.Keys[i]
	case "integrations":
		f.Integrations = append(f.Integrations, Integration{})
		dst = &f.Integrations[i]
	case "certificates":
		f.Certificates = append(f.Certificates, Certificate{})
		dst = &f.Certificates[i]
	case "teammates":
		if err := f.checkAccessMembers(i, raw); err != nil {
			return err
		}
		f.Teammates = append(f.Teammates, Teammate{})
		dst = &f.Teammates[i]
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fail(te.Field, "want %s, not a JSON %s", typeName(te.Type.String()), te.Value)
		}
		return fail("", "%v", err)
	}
	return nil
}

// checkAccessMembers checks the member names of each element of a
// teammate's subuser_access, as parseEntry does the entry's.
func (f *File) checkAccessMembers(i int, raw json.RawMessage) error {
	var entry struct {
		Access json.RawMessage `json:"subuser_access"`
	}
	var elems []json.RawMessage
	if json.Unmarshal(raw, &entry) != nil || json.Unmarshal(entry.Access, &elems) != nil {
		return nil // absent or not an array: decoding says what is wrong
	}
	for j, el := range elems {
		field := fmt.Sprintf("subuser_access[%d]", j)
		members, err := objectMembers(el)
		if err != nil {
			return f.entryError("teammates", i, field, "want a JSON object with %s", strings.Join(accessFields, ", "))
		}
		seen := map[string]bool{}
		for _, m := range members {
			switch {
			case seen[m]:
				return f.entryError("teammates", i, field+"."+m, "given twice")
			case !slices.Contains(accessFields, m):
				return f.entryError("teammates", i, field+"."+m, "unknown field; want one of %s", strings.Join(accessFields, ", "))
			}
			seen[m] = true
		}
	}
	return nil
}

// objectMembers returns the member names of a JSON object, in order,
// repeats included.
func objectMembers(raw json.RawMessage) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("not an object")
	}
	var names []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		names = append(names, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return names, nil
}

// typeName words a Go type as the JSON a seed author writes.
func typeName(goType string) string {
	switch strings.TrimPrefix(goType, "*") {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "int64":
		return "a whole number"
	case "[]string":
		return "an array of strings"
	case "[]seed.SubuserAccess":
		return "an array of objects"
	case "seed.SubuserAccess":
		return "an object"
	}
	return goType
}

// entryError is an *Error about one entry, located at its start and named
// by its name or id.
func (f *File) entryError(section string, i int, field, format string, args ...any) error {
	e := &Error{Section: section, Index: i, Field: field, Message: fmt.Sprintf(format, args...)}
	if starts := f.starts[section]; i < len(starts) {
		e.Entry = entryName(section, f.data[starts[i]:])
		_ = f.errorAt(starts[i], e)
	}
	return e
}

// entryName reads the name or id an entry goes by from its text, which
// may not decode as its section's type. A key is named by its name or its
// key id, never by the key, which is a secret.
func entryName(section string, text []byte) string {
	var m map[string]json.RawMessage
	if json.NewDecoder(bytes.NewReader(text)).Decode(&m) != nil {
		return ""
	}
	order := map[string][]string{
		"accounts": {"name"}, "keys": {"name"}, "integrations": {"id", "name"},
		"certificates": {"id"}, "teammates": {"email"},
	}[section]
	for _, k := range order {
		var s string
		var n int64
		switch {
		case json.Unmarshal(m[k], &s) == nil && s != "":
			return k + " " + strconv.Quote(s)
		case json.Unmarshal(m[k], &n) == nil && m[k] != nil:
			return k + " " + strconv.FormatInt(n, 10)
		}
	}
	var key string
	if section == "keys" && json.Unmarshal(m["key"], &key) == nil {
		if id, _, ok := apikey.Split(key); ok {
			return "key id " + strconv.Quote(id)
		}
	}
	return ""
}

// errorAt sets e's line and column to those of byte offset off.
func (f *File) errorAt(off int, e *Error) *Error {
	e.Line, e.Column = position(f.data, off)
	return e
}

// syntaxError is the *Error of malformed JSON, at the offset the decoder
// gives.
func syntaxError(data []byte, err error) error {
	e := &Error{Message: "invalid JSON: " + err.Error()}
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		// The offset is just after the byte that broke the syntax.
		e.Line, e.Column = position(data, max(int(se.Offset)-1, 0))
		e.Message = "invalid JSON: " + se.Error()
	case errors.Is(err, io.ErrUnexpectedEOF):
		e.Line, e.Column = position(data, len(data))
		e.Message = "invalid JSON: the file ends in the middle of a value"
	}
	return e
}

// position returns the 1-based line and column (in bytes) of offset off.
func position(data []byte, off int) (line, col int) {
	off = min(off, len(data))
	line = 1 + bytes.Count(data[:off], []byte("\n"))
	return line, off - bytes.LastIndexByte(data[:off], '\n')
}

// skipSpace returns the offset of the first byte at or after off that is
// neither white space nor a separator: the decoder's offset stops before
// them.
func skipSpace(data []byte, off int) int {
	for off < len(data) && strings.IndexByte(" \t\r\n,:", data[off]) >= 0 {
		off++
	}
	return off
}

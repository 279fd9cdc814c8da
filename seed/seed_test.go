package seed

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/apikey"
	"github.com/ssod/ssod/internal/testcert"
	"github.com/ssod/ssod/persona"
)

const (
	testKey   = "SG.aaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	testKey2  = "SG.cccccccccccccccccccccc.ddddddddddddddddddddddddddddddddddddddddddd"
	testInteg = "11111111-1111-4111-8111-111111111111"
)

// validSeed is a seed with every kind of entry, one per line so that the
// tests can name lines: line 3 is accounts[0], 4 accounts[1], 7 keys[0], 8
// keys[1], 11 integrations[0], 14 certificates[0], 15 certificates[1],
// 18 to 21 teammates[0] to [3].
func validSeed(t *testing.T) string {
	pem, _ := json.Marshal(testcert.New(t, testcert.Options{CommonName: "inline"}).PEM)
	return `{
  "accounts": [
    {"name": "main"},
    {"name": "eu-team", "parent": "main"}
  ],
  "keys": [
    {"account": "main", "key": "` + testKey + `", "name": "ci"},
    {"account": "eu-team", "key": "` + testKey2 + `", "scopes": ["sso.settings.read"]}
  ],
  "integrations": [
    {"account": "main", "id": "` + testInteg + `", "name": "Okta", "enabled": true, "signin_url": "https://idp.example.com/sso", "signout_url": "https://idp.example.com/slo", "entity_id": "http://www.okta.com/x"}
  ],
  "certificates": [
    {"integration_id": "` + testInteg + `", "id": 7, "public_certificate": ` + string(pem) + `},
    {"integration_id": "` + testInteg + `", "id": 8, "file": "certs/idp.pem", "enabled": false}
  ],
  "teammates": [
    {"account": "main", "email": "jane@example.com", "first_name": "Jane", "last_name": "Doe", "is_admin": true},
    {"account": "main", "email": "max@example.com", "first_name": "Max", "last_name": "Roe", "persona": "developer"},
    {"account": "main", "email": "eve@example.com", "first_name": "Eve", "last_name": "Poe", "has_restricted_subuser_access": true, "subuser_access": [{"subuser": "eu-team", "permission_type": "restricted", "scopes": ["mail.send"]}]},
    {"account": "eu-team", "email": "jane@example.com", "first_name": "Jane", "last_name": "Eu", "scopes": ["stats.read"]}
  ]
}`
}

// files is a readFile over a map, failing as os.ReadFile does.
func files(m map[string]string) func(string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		if s, ok := m[name]; ok {
			return []byte(s), nil
		}
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
}

func TestValidSeed(t *testing.T) {
	filePEM := testcert.New(t, testcert.Options{CommonName: "file"}).PEM
	f, err := Parse([]byte(validSeed(t)))
	if err != nil {
		t.Fatal(err)
	}
	sd, err := Validate(f, files(map[string]string{"certs/idp.pem": filePEM}))
	if err != nil {
		t.Fatal(err)
	}
	id, secret, _ := apikey.Split(testKey)
	if len(sd.Accounts) != 2 || sd.Accounts[1] != (ssod.SeedAccount{Name: "eu-team", Parent: "main"}) {
		t.Errorf("accounts %+v", sd.Accounts)
	}
	if k := sd.Keys[0]; k.ID != id || !apikey.Verify(secret, k.SecretHash) || k.Name != "ci" || len(k.Scopes) != len(ssod.AllScopes()) {
		t.Errorf("key without scopes: %+v; want every scope", k)
	}
	if k := sd.Keys[1]; len(k.Scopes) != 1 || k.Scopes[0] != ssod.ScopeSettingsRead {
		t.Errorf("key with scopes: %+v", k)
	}
	if in := sd.Integrations[0]; in.ID != testInteg || in.Account != "main" || in.Name != "Okta" || !in.Enabled || in.CompletedIntegration {
		t.Errorf("integration %+v", in)
	}
	if c := sd.Certificates[0]; c.ID != 7 || !c.Enabled || c.NotAfter == 0 || !strings.HasPrefix(c.PEM, "-----BEGIN CERTIFICATE-----\n") {
		t.Errorf("inline certificate %+v: want enabled by default, parsed", c)
	}
	if c := sd.Certificates[1]; c.ID != 8 || c.Enabled || c.PEM != filePEM {
		t.Errorf("certificate from a file %+v", c)
	}
	// Teammates get the scopes a create request would grant them.
	if len(sd.Teammates) != 4 {
		t.Fatalf("teammates %+v", sd.Teammates)
	}
	if tm := sd.Teammates[0]; tm.Account != "main" || tm.Username != "jane@example.com" || tm.FirstName != "Jane" || tm.LastName != "Doe" ||
		!tm.IsAdmin || tm.Persona != "" || !slices.Equal(tm.Scopes, persona.AdminScopes()) || tm.HasRestrictedSubuserAccess {
		t.Errorf("admin teammate %+v: want every admin scope", tm)
	}
	developer, _ := persona.Scopes("developer")
	if tm := sd.Teammates[1]; tm.IsAdmin || tm.Persona != "developer" || !slices.Equal(tm.Scopes, developer) {
		t.Errorf("developer teammate %+v: want the persona's scopes", tm)
	}
	if tm := sd.Teammates[2]; !tm.HasRestrictedSubuserAccess || len(tm.Scopes) != 0 || !slices.Equal(tm.Subusers, []string{"eu-team"}) ||
		len(tm.SubuserAccess) != 1 || tm.SubuserAccess[0].PermissionType != ssod.PermissionRestricted || !slices.Equal(tm.SubuserAccess[0].Scopes, []string{"mail.send"}) {
		t.Errorf("teammate with subuser access %+v", tm)
	}
	if tm := sd.Teammates[3]; tm.Account != "eu-team" || tm.Username != "jane@example.com" || !slices.Equal(tm.Scopes, []string{"stats.read"}) || tm.Persona != "" {
		t.Errorf("teammate with scopes %+v: want exactly those scopes", tm)
	}
	// Every section is optional.
	for _, doc := range []string{`{}`, `{"accounts": []}`, ` {"teammates": []} `} {
		if f, err := Parse([]byte(doc)); err != nil {
			t.Errorf("%s: %v", doc, err)
		} else if _, err := Validate(f, files(nil)); err != nil {
			t.Errorf("%s: %v", doc, err)
		}
	}
}

func TestBadSeed(t *testing.T) {
	cert := testcert.New(t, testcert.Options{})
	certJSON, _ := json.Marshal(cert.PEM)
	tests := []struct {
		name    string
		edit    func(s string) string
		section string
		index   int
		entry   string
		field   string
		line    int
		message string
	}{
		{"syntax", func(s string) string { return strings.Replace(s, `"ci"}`, `"ci"`, 1) }, "", 0, "", "", 8, "invalid JSON"},
		{"truncated", func(s string) string { return s[:40] }, "", 0, "", "", 3, "invalid JSON"},
		{"not an object", func(string) string { return `[1]` }, "", 0, "", "", 1, "want a JSON object"},
		{"unknown section", func(s string) string { return strings.Replace(s, `"keys"`, `"Keys"`, 1) }, "", 0, "", "Keys", 6, "unknown section"},
		{"section twice", func(s string) string { return strings.Replace(s, `"keys": [`, `"accounts": [], "keys": [`, 1) }, "", 0, "", "accounts", 6, "section given twice"},
		{"section not an array", func(s string) string {
			return strings.Replace(s, `"accounts": [`, `"accounts": {"x": [`, 1)
		}, "", 0, "", "", 0, "invalid JSON"},
		{"section null", func(string) string { return `{"accounts": null}` }, "", 0, "", "accounts", 1, "want an array"},
		{"entry not an object", func(s string) string { return strings.Replace(s, `{"name": "main"}`, `"main"`, 1) }, "accounts", 0, "", "", 3, "want a JSON object"},
		{"unknown field", func(s string) string { return strings.Replace(s, `"parent"`, `"parnet"`, 1) }, "accounts", 1, `name "eu-team"`, "parnet", 4, "unknown field"},
		{"field in other case", func(s string) string { return strings.Replace(s, `{"name": "main"}`, `{"Name": "main"}`, 1) }, "accounts", 0, "", "Name", 3, "unknown field"},
		{"field twice", func(s string) string {
			return strings.Replace(s, `{"name": "main"}`, `{"name": "main", "name": "x"}`, 1)
		}, "accounts", 0, `name "x"`, "name", 3, "given twice"},
		{"wrong type", func(s string) string { return strings.Replace(s, `"enabled": true`, `"enabled": "yes"`, 1) }, "integrations", 0, `id "` + testInteg + `"`, "enabled", 11, "want true or false, not a JSON string"},
		{"scope not a string", func(s string) string { return strings.Replace(s, `["sso.settings.read"]`, `[1]`, 1) }, "keys", 1, "", "scopes", 8, "not a JSON number"},
		{"id not whole", func(s string) string { return strings.Replace(s, `"id": 7`, `"id": 7.5`, 1) }, "certificates", 0, "", "id", 14, "want a whole number"},
		{"bad account name", func(s string) string { return strings.Replace(s, `"main"}`, `"ma in"}`, 1) }, "accounts", 0, `name "ma in"`, "name", 3, "letters, digits"},
		{"duplicate account", func(s string) string { return strings.Replace(s, `"eu-team", "parent"`, `"main", "parent"`, 1) }, "accounts", 1, `name "main"`, "name", 4, "accounts[0] has this name"},
		{"unknown parent", func(s string) string { return strings.Replace(s, `"parent": "main"`, `"parent": "nope"`, 1) }, "accounts", 1, "", "parent", 4, `"nope" is not an account listed before`},
		{"unknown key account", func(s string) string {
			return strings.Replace(s, `{"account": "main", "key"`, `{"account": "mian", "key"`, 1)
		}, "keys", 0, `name "ci"`, "account", 7, `"mian" is not an account`},
		{"key missing", func(s string) string { return strings.Replace(s, `"key": "`+testKey+`", `, ``, 1) }, "keys", 0, "", "key", 7, "required"},
		{"bad key shape", func(s string) string { return strings.Replace(s, testKey, testKey[:60], 1) }, "keys", 0, "", "key", 7, "want SendGrid's shape"},
		{"duplicate key id", func(s string) string { return strings.Replace(s, testKey2[:26], testKey[:26], 1) }, "keys", 1, "", "key", 8, "same key id"},
		{"unknown scope", func(s string) string { return strings.Replace(s, `"sso.settings.read"]`, `"sso.setings.read"]`, 1) }, "keys", 1, `key id "cccccccccccccccccccccc"`, "scopes", 8, `unknown scope "sso.setings.read"`},
		{"empty scopes", func(s string) string { return strings.Replace(s, `["sso.settings.read"]`, `[]`, 1) }, "keys", 1, "", "scopes", 8, "at least one scope"},
		{"scope twice", func(s string) string {
			return strings.Replace(s, `["sso.settings.read"]`, `["sso.settings.read", "sso.settings.read"]`, 1)
		}, "keys", 1, "", "scopes", 8, "given twice"},
		{"bad integration id", func(s string) string {
			return strings.Replace(s, `"id": "`+testInteg, `"id": "`+strings.ToUpper("aaaaaaaa-1111-4111-8111-111111111111"), 1)
		}, "integrations", 0, "", "id", 11, "lower-case UUID"},
		{"bad URL", func(s string) string { return strings.Replace(s, `"https://idp.example.com/sso"`, `"ftp://idp"`, 1) }, "integrations", 0, "", "signin_url", 11, "absolute http or https URL"},
		{"blank name", func(s string) string { return strings.Replace(s, `"Okta"`, `"  "`, 1) }, "integrations", 0, "", "name", 11, "must not be blank"},
		{"missing entity_id", func(s string) string { return strings.Replace(s, `, "entity_id": "http://www.okta.com/x"`, ``, 1) }, "integrations", 0, "", "entity_id", 11, "required"},
		{"duplicate integration", func(s string) string {
			line := `{"account": "main", "id": "` + testInteg + `", "name": "Okta", "enabled": true, "signin_url": "https://idp.example.com/sso", "signout_url": "https://idp.example.com/slo", "entity_id": "http://www.okta.com/x"}`
			return strings.Replace(s, line, line+",\n    "+line, 1)
		}, "integrations", 1, "", "id", 12, "integrations[0] has this id"},
		{"unknown integration", func(s string) string {
			return strings.Replace(s, `"integration_id": "`+testInteg+`", "id": 8`, `"integration_id": "22222222-2222-4222-8222-222222222222", "id": 8`, 1)
		}, "certificates", 1, "id 8", "integration_id", 15, "not an integration of this file"},
		{"certificate id missing", func(s string) string { return strings.Replace(s, `"id": 8, `, ``, 1) }, "certificates", 1, "", "id", 15, "required"},
		{"duplicate certificate id", func(s string) string { return strings.Replace(s, `"id": 8`, `"id": 7`, 1) }, "certificates", 1, "id 7", "id", 15, "certificates[0] has this id"},
		{"no certificate", func(s string) string { return strings.Replace(s, `, "file": "certs/idp.pem"`, ``, 1) }, "certificates", 1, "", "public_certificate", 15, "required"},
		{"both", func(s string) string {
			return strings.Replace(s, `"file": "certs/idp.pem"`, `"file": "certs/idp.pem", "public_certificate": "x"`, 1)
		}, "certificates", 1, "", "file", 15, "not both"},
		{"unreadable file", func(s string) string { return strings.Replace(s, `certs/idp.pem`, `certs/missing.pem`, 1) }, "certificates", 1, "", "file", 15, "certs/missing.pem"},
		{"not a certificate", func(s string) string { return strings.Replace(s, `certs/idp.pem`, `certs/key.pem`, 1) }, "certificates", 1, "", "file", 15, "private key"},
		{"bad inline certificate", func(s string) string {
			i := strings.Index(s, `"public_certificate": "`) + len(`"public_certificate": "`)
			return s[:i] + "bm90IGEgY2VydGlmaWNhdGU=" + s[strings.Index(s[i:], `"`)+i:]
		}, "certificates", 0, "", "public_certificate", 14, ""},
		{"duplicate certificate", func(s string) string {
			return strings.Replace(s, `"file": "certs/idp.pem"`, `"public_certificate": `+string(certJSON), 1)
		}, "certificates", 1, "", "public_certificate", 15, "as certificate 7"},
		{"unknown teammate account", func(s string) string {
			return strings.Replace(s, `{"account": "main", "email": "jane@`, `{"account": "nope", "email": "jane@`, 1)
		}, "teammates", 0, `email "jane@example.com"`, "account", 18, `"nope" is not an account`},
		{"teammate email missing", func(s string) string { return strings.Replace(s, `"email": "max@example.com", `, ``, 1) }, "teammates", 1, "", "email", 19, "required"},
		{"teammate email not an address", func(s string) string {
			return strings.Replace(s, `"max@example.com"`, `"Max <max@example.com>"`, 1)
		}, "teammates", 1, `email "Max <max@example.com>"`, "email", 19, "email address"},
		{"teammate first_name missing", func(s string) string { return strings.Replace(s, `"first_name": "Max", `, ``, 1) }, "teammates", 1, `email "max@example.com"`, "first_name", 19, "required"},
		{"teammate twice by the comparison rule", func(s string) string {
			return strings.Replace(s, `"max@example.com"`, `"jane@EXAMPLE.com"`, 1)
		}, "teammates", 1, `email "jane@EXAMPLE.com"`, "email", 19, `teammates[0] is the same teammate of account "main"`},
		{"unknown persona", func(s string) string { return strings.Replace(s, `"developer"`, `"dev"`, 1) }, "teammates", 1, "", "persona", 19, "persona must be one of"},
		{"admin with a persona", func(s string) string {
			return strings.Replace(s, `"is_admin": true}`, `"is_admin": true, "persona": "observer"}`, 1)
		}, "teammates", 0, "", "persona", 18, "not both"},
		{"persona with scopes", func(s string) string {
			return strings.Replace(s, `"persona": "developer"}`, `"persona": "developer", "scopes": ["mail.send"]}`, 1)
		}, "teammates", 1, "", "scopes", 19, "not both"},
		{"restricted with scopes", func(s string) string {
			return strings.Replace(s, `"last_name": "Eu", `, `"last_name": "Eu", "has_restricted_subuser_access": true, `, 1)
		}, "teammates", 3, "", "has_restricted_subuser_access", 21, "cannot also have"},
		{"subuser access unrestricted", func(s string) string {
			return strings.Replace(s, `"has_restricted_subuser_access": true, "subuser_access"`, `"subuser_access"`, 1)
		}, "teammates", 2, "", "has_restricted_subuser_access", 20, "must be true"},
		{"unknown subuser", func(s string) string { return strings.Replace(s, `"subuser": "eu-team"`, `"subuser": "eu"`, 1) }, "teammates", 2, `email "eve@example.com"`, "subuser_access[0].subuser", 20, `"eu" is not an account of this file`},
		{"not a subuser", func(s string) string { return strings.Replace(s, `"subuser": "eu-team"`, `"subuser": "main"`, 1) }, "teammates", 2, "", "subuser_access[0].subuser", 20, `"main" is not a subuser of account "main"`},
		{"subuser twice", func(s string) string {
			return strings.Replace(s, `"scopes": ["mail.send"]}]`, `"scopes": ["mail.send"]}, {"subuser": "eu-team", "permission_type": "admin"}]`, 1)
		}, "teammates", 2, "", "subuser_access[1].subuser", 20, "appears twice"},
		{"bad permission type", func(s string) string { return strings.Replace(s, `"restricted"`, `"owner"`, 1) }, "teammates", 2, "", "subuser_access[0].permission_type", 20, `want "admin" or "restricted"`},
		{"unknown subuser access field", func(s string) string { return strings.Replace(s, `"permission_type"`, `"permission"`, 1) }, "teammates", 2, "", "subuser_access[0].permission", 20, "unknown field"},
		{"subuser access not an array", func(s string) string {
			return strings.Replace(s, `[{"subuser": "eu-team", "permission_type": "restricted", "scopes": ["mail.send"]}]`, `"eu-team"`, 1)
		}, "teammates", 2, "", "subuser_access", 20, "want an array of objects"},
		{"unknown teammate field", func(s string) string { return strings.Replace(s, `"is_admin"`, `"admin"`, 1) }, "teammates", 0, "", "admin", 18, "unknown field"},
		{"teammate field in other case", func(s string) string { return strings.Replace(s, `"first_name": "Jane"`, `"First_Name": "Jane"`, 1) }, "teammates", 0, "", "First_Name", 18, "unknown field"},
		{"teammate wrong type", func(s string) string { return strings.Replace(s, `"is_admin": true`, `"is_admin": "yes"`, 1) }, "teammates", 0, "", "is_admin", 18, "want true or false"},
		{"bad teammate scope", func(s string) string { return strings.Replace(s, `"stats.read"`, `"stats read"`, 1) }, "teammates", 3, "", "scopes", 21, "not a scope name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := validSeed(t)
			// certificates[0] is cert, so that a duplicate of it can be made.
			i := strings.Index(doc, `"public_certificate": `) + len(`"public_certificate": `)
			doc = doc[:i] + string(certJSON) + doc[i+strings.Index(doc[i:], `}`):]
			doc = tc.edit(doc)
			_, err := parseAndValidate([]byte(doc), files(map[string]string{
				"certs/idp.pem": testcert.New(t, testcert.Options{}).PEM,
				"certs/key.pem": cert.KeyPEM(t),
			}))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T), want a *seed.Error", err, err)
			}
			got := Error{Section: e.Section, Index: e.Index, Entry: e.Entry, Field: e.Field, Line: e.Line}
			want := Error{Section: tc.section, Index: tc.index, Entry: tc.entry, Field: tc.field, Line: tc.line}
			if tc.entry == "" {
				got.Entry = "" // not every case cares
			}
			if tc.line == 0 {
				got.Line = 0
			}
			if got != want || !strings.Contains(e.Message, tc.message) {
				t.Errorf("error %q\n got %+v\nwant %+v and a message with %q", err, got, want, tc.message)
			}
			if strings.Contains(err.Error(), testKey[26:]) || strings.Contains(err.Error(), testKey2[26:]) {
				t.Errorf("error %q shows a key's secret", err)
			}
		})
	}
}

func TestLimits(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"accounts": [{"name": "main"}], "integrations": [{"account": "main", "id": "` + testInteg + `", "name": "a", "enabled": true, "signin_url": "https://a.example", "signout_url": "https://a.example", "entity_id": "a"}], "certificates": [`)
	for i := range ssod.MaxCertificatesPerIntegration + 1 {
		if i > 0 {
			b.WriteString(",")
		}
		pem, _ := json.Marshal(testcert.New(t, testcert.Options{}).PEM)
		b.WriteString(`{"integration_id": "` + testInteg + `", "id": ` + itoa(i+1) + `, "public_certificate": ` + string(pem) + `}`)
	}
	b.WriteString("]}")
	_, err := parseAndValidate([]byte(b.String()), files(nil))
	var e *Error
	if !errors.As(err, &e) || e.Section != "certificates" || e.Index != ssod.MaxCertificatesPerIntegration || e.Field != "integration_id" {
		t.Fatalf("101 certificates in one integration: %v", err)
	}
}

func TestTeammateLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"accounts": [{"name": "main"}, {"name": "other"}], "teammates": [`)
	// The other account's teammates do not count towards main's limit.
	b.WriteString(`{"account": "other", "email": "t@example.com", "first_name": "T", "last_name": "T"}`)
	for i := range ssod.MaxTeammatesPerAccount + 1 {
		b.WriteString(`, {"account": "main", "email": "t` + itoa(i) + `@example.com", "first_name": "T", "last_name": "T"}`)
	}
	b.WriteString("]}")
	_, err := parseAndValidate([]byte(b.String()), files(nil))
	var e *Error
	if !errors.As(err, &e) || e.Section != "teammates" || e.Index != ssod.MaxTeammatesPerAccount+1 || e.Field != "account" {
		t.Fatalf("%d teammates in one account: %v", ssod.MaxTeammatesPerAccount+1, err)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestLoad reads certificate files relative to the seed file and names the
// file in every error.
func TestLoad(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "certs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "certs", "idp.pem"), []byte(testcert.New(t, testcert.Options{}).PEM), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "seed.json")
	if err := os.WriteFile(path, []byte(validSeed(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	if sd, err := Load(path); err != nil || len(sd.Certificates) != 2 || len(sd.Teammates) != 4 {
		t.Fatalf("Load: %+v, %v", sd, err)
	}
	if err := os.WriteFile(path, []byte(`{"acounts": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if want := "seed file " + path + ":1:2: field \"acounts\": unknown section"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q, want it to start with %q", err, want)
	}
	if _, err := Load(filepath.Join(dir, "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("missing file: %v", err)
	}
}

// TestExample loads the example the README shows.
func TestExample(t *testing.T) {
	sd, err := Load("../examples/seed.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(sd.Accounts) != 2 || len(sd.Keys) != 2 || len(sd.Integrations) != 2 || len(sd.Certificates) != 2 || len(sd.Teammates) != 3 {
		t.Errorf("example seed: %+v", sd)
	}
}

func FuzzParseSeed(f *testing.F) {
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"accounts": [{"name": "main"}, {"name": "a", "parent": "main"}], "keys": [{"account": "main", "key": "` + testKey + `", "scopes": ["sso.settings.read"]}]}`))
	f.Add([]byte(`{"integrations": [{"account": "main", "id": "` + testInteg + `", "name": "x", "enabled": true}], "certificates": [{"integration_id": "x", "id": 1, "file": "a"}]}`))
	f.Add([]byte(`{"teammates": [{"email": "a@b"}], "accounts": [1, {"name": "x", "name": 2}]}`))
	if b, err := os.ReadFile("../examples/seed.json"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := strings.Count(string(data), "\n") + 1
		sd, err := parseAndValidate(data, files(map[string]string{"a": "not a certificate"}))
		if err == nil {
			if sd == nil {
				t.Fatal("no seed and no error")
			}
			return
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("error %v (%T) is not a *seed.Error", err, err)
		}
		if e.Line < 0 || e.Line > lines || (e.Line > 0 && e.Column < 1) {
			t.Fatalf("error %q at %d:%d, outside the %d lines", err, e.Line, e.Column, lines)
		}
	})
}

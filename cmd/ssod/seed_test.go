package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ssod/ssod/internal/testcert"
	"github.com/ssod/ssod/persona"
)

// The example seed's keys, integrations and certificates (examples/seed.json);
// its teammates are read by name in testSeedFile.
const (
	exampleSeed      = "../../examples/seed.json"
	exampleKey       = "SG.example-ci-key-0000001.this-is-an-example-secret-not-for-real-use0"
	exampleEUKey     = "SG.eu-team-read-key-00002.another-example-secret-not-for-real-use-001"
	exampleOkta      = "4a1c2e7b-5d3f-4e8a-9b6c-0d1e2f3a4b5c"
	exampleEntra     = "7f6e5d4c-3b2a-4190-8f7e-6d5c4b3a2910"
	exampleCertsFile = "../../examples/certs/idp.pem"
)

// testSeedFile starts ssod serve with the example seed and finds every
// object through the API with the seeded keys; starts again on the same
// database (nothing changes, what was added since stays); and is refused,
// naming the entry, when a copy of the seed changes a value.
func testSeedFile(t *testing.T, dsn string) {
	rememberSecret(exampleKey[26:])
	rememberSecret(exampleEUKey[26:])
	ts := startServer(t, dsn, "--seed", exampleSeed)
	if ts.Key != "" || strings.Contains(ts.Logs.String(), "new database") {
		t.Errorf("a seeded start printed a first-start key:\n%s", ts.Logs.String())
	}
	var example map[string][]map[string]any
	raw, err := os.ReadFile(exampleSeed)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &example); err != nil {
		t.Fatal(err)
	}
	filePEM, err := os.ReadFile(exampleCertsFile)
	if err != nil {
		t.Fatal(err)
	}

	main := ts.client(exampleKey)
	checkSeeded := func() {
		t.Helper()
		r := main.do("GET", "/v3/sso/integrations?si=true", nil)
		ins := decode[[]map[string]any](t, r)
		if r.Status != 200 || len(ins) < 1 {
			t.Fatalf("GET integrations with the seeded key: %d %s", r.Status, r.Body)
		}
		want := example["integrations"][0]
		for _, f := range []string{"id", "name", "enabled", "signin_url", "signout_url", "entity_id", "completed_integration"} {
			if ins[0][f] != want[f] {
				t.Errorf("integration %s = %v, the seed says %v", f, ins[0][f], want[f])
			}
		}
		certs := decode[[]map[string]any](t, main.do("GET", "/v3/sso/integrations/"+exampleOkta+"/certificates", nil))
		if len(certs) < 2 {
			t.Fatalf("certificates: %v", certs)
		}
		for i, want := range []struct {
			id      float64
			enabled bool
			pem     string
		}{{7, true, example["certificates"][0]["public_certificate"].(string)}, {8, false, string(filePEM)}} {
			c := certs[i]
			if c["id"] != want.id || c["enabled"] != want.enabled || c["public_certificate"] != want.pem || c["integration_id"] != exampleOkta {
				t.Errorf("certificate %d: %v", i, c)
			}
		}
		if r := main.do("GET", "/v3/sso/certificates/8", nil); r.Status != 200 {
			t.Errorf("GET certificate 8: %d", r.Status)
		}
		// The subuser's integration, through its parent's key and through
		// its own read-only key.
		entra := decode[map[string]any](t, main.with("On-Behalf-Of", "eu-team").do("GET", "/v3/sso/integrations/"+exampleEntra+"?si=true", nil))
		if entra["name"] != "Entra ID" || entra["enabled"] != false || entra["completed_integration"] != false {
			t.Errorf("eu-team's integration: %v", entra)
		}
		// The teammates, with the scopes is_admin and persona grant.
		developer, _ := persona.Scopes("developer")
		for _, want := range []struct {
			username, first, userType string
			admin                     bool
			scopes                    []string
		}{
			{"jane@example.com", "Jane", "admin", true, persona.AdminScopes()},
			{"max@example.com", "Max", "teammate", false, developer},
			{"eve@example.com", "Eve", "teammate", false, []string{}},
		} {
			r := main.do("GET", "/v3/teammates/"+want.username, nil)
			got := decode[struct {
				Username  string   `json:"username"`
				FirstName string   `json:"first_name"`
				UserType  string   `json:"user_type"`
				IsAdmin   bool     `json:"is_admin"`
				Scopes    []string `json:"scopes"`
			}](t, r)
			if r.Status != 200 || got.Username != want.username || got.FirstName != want.first || got.UserType != want.userType ||
				got.IsAdmin != want.admin || !slices.Equal(got.Scopes, want.scopes) {
				t.Errorf("GET teammate %s: %d %s", want.username, r.Status, r.Body)
			}
		}
		eu := ts.client(exampleEUKey)
		if r := eu.do("GET", "/v3/sso/integrations/"+exampleEntra, nil); r.Status != 200 {
			t.Errorf("eu-team's key reads its integration: %d", r.Status)
		}
		wantError(t, eu.do("DELETE", "/v3/sso/integrations/"+exampleEntra, nil), 403, "", "forbidden")
		if r := eu.do("GET", "/v3/sso/integrations/"+exampleOkta, nil); r.Status != 404 {
			t.Errorf("eu-team's key reads main's integration: %d", r.Status)
		}
	}
	checkSeeded()
	// Ids handed out later continue after the seed's.
	created := decode[map[string]any](t, main.do("POST", "/v3/sso/certificates", map[string]any{
		"integration_id": exampleOkta, "public_certificate": testcert.New(t, testcert.Options{}).PEM,
	}))
	if created["id"] != float64(9) {
		t.Errorf("first certificate after the seed: id %v, want 9", created["id"])
	}

	// Again on the same database: the same objects, and what was added since.
	ts.stop()
	ts = startServer(t, dsn, "--seed", exampleSeed)
	main = ts.client(exampleKey)
	checkSeeded()
	if r := main.do("GET", "/v3/sso/certificates/9", nil); r.Status != 200 {
		t.Errorf("the certificate added after the seed is gone after a restart: %d", r.Status)
	}
	ts.stop()

	// A copy with one value changed is refused, naming the entry and field.
	changed := copyExample(t)
	edit(t, filepath.Join(changed, "seed.json"), `"name": "Okta"`, `"name": "Okta EU"`)
	err = serveOnce(t, dsn, "--seed", filepath.Join(changed, "seed.json"))
	if err == nil || !strings.Contains(err.Error(), `integration "`+exampleOkta+`"`) || !strings.Contains(err.Error(), `name "Okta", the seed says "Okta EU"`) {
		t.Errorf("a changed value: %v; want the start refused naming the integration and its name", err)
	}
	changed = copyExample(t)
	edit(t, filepath.Join(changed, "seed.json"), `"persona": "developer"`, `"persona": "observer"`)
	err = serveOnce(t, dsn, "--seed", filepath.Join(changed, "seed.json"))
	if err == nil || !strings.Contains(err.Error(), `teammate "max@example.com" of account "main"`) || !strings.Contains(err.Error(), `persona "developer", the seed says "observer"`) {
		t.Errorf("a changed teammate: %v; want the start refused naming the teammate and its persona", err)
	}
}

// TestBadSeedFileLeavesNoDatabase: a seed file that does not check out
// stops the start before the database is opened.
func TestBadSeedFileLeavesNoDatabase(t *testing.T) {
	dir := copyExample(t)
	edit(t, filepath.Join(dir, "seed.json"), `"file": "certs/idp.pem"`, `"file": "certs/missing.pem"`)
	db := filepath.Join(t.TempDir(), "ssod.db")
	err := serveOnce(t, db, "--seed", filepath.Join(dir, "seed.json"))
	want := "seed file " + filepath.Join(dir, "seed.json") + ":"
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), `certificates[1] (id 8): field "file"`) {
		t.Errorf("error %v; want one starting %q naming certificates[1]'s file", err, want)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("a bad seed file left a database behind: %v", err)
	}
	// SSOD_SEED works as --seed.
	var out bytes.Buffer
	err = run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--db", db},
		env(map[string]string{"SSOD_SEED": filepath.Join(dir, "seed.json")}), &out, &out)
	if err == nil || !strings.Contains(err.Error(), "certs/missing.pem") {
		t.Errorf("SSOD_SEED: %v", err)
	}
}

// serveOnce runs ssod serve and returns its error, stopping it if it does
// start.
func serveOnce(t *testing.T, dsn string, args ...string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var logs syncBuffer
	return run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--db", dsn}, args...), env(nil), &logs, &logs)
}

// copyExample copies examples/seed.json and its certificate into a new
// folder and returns the folder.
func copyExample(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "certs"), 0o755); err != nil {
		t.Fatal(err)
	}
	for from, to := range map[string]string{exampleSeed: "seed.json", exampleCertsFile: "certs/idp.pem"} {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, to), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// edit replaces old, which must occur, with new in the file.
func edit(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s holds no %q", path, old)
	}
	if err := os.WriteFile(path, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSeedInMemory: the seed is how a suite gets known keys into a
// database in memory, which no other command can reach.
func TestSeedInMemory(t *testing.T) {
	rememberSecret(exampleKey[26:])
	ts := startServer(t, ":memory:", "--seed", exampleSeed)
	if r := ts.client(exampleKey).do("GET", "/v3/sso/certificates/7", nil); r.Status != 200 {
		t.Errorf("GET certificate 7 with the seeded key: %d %s", r.Status, r.Body)
	}
}

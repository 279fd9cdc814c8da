package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ssod/ssod/sqlite"
)

func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, env(nil), &out, &errOut)
	return out.String(), err
}

// newDatabase makes an empty, migrated SQLite database, as the first
// `ssod serve` would, for commands that refuse a missing file.
func newDatabase(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ssod.db")
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestKeysCommands(t *testing.T) {
	db := newDatabase(t)
	if _, err := runCLI(t, "accounts", "create", "acme", "--db", db); err != nil {
		t.Fatal(err)
	}
	if _, err := runCLI(t, "accounts", "create", "acme", "--db", db); err == nil {
		t.Fatal("duplicate account accepted")
	}
	if _, err := runCLI(t, "accounts", "create", "sub", "--parent", "nobody", "--db", db); err == nil {
		t.Fatal("unknown parent accepted")
	}
	if _, err := runCLI(t, "accounts", "create", "bad name", "--db", db); err == nil {
		t.Fatal("account name with a space accepted")
	}
	key, err := runCLI(t, "keys", "create", "--account", "acme", "--scopes", "sso.settings.read", "--name", "ci", "--db", db)
	if err != nil {
		t.Fatal(err)
	}
	key = strings.TrimSpace(key)
	if !keyPattern.MatchString(key) || strings.Count(key, "\n") != 0 {
		t.Fatalf("keys create printed %q, want the key alone", key)
	}
	if _, err := runCLI(t, "keys", "create", "--account", "acme", "--scopes", "sso.settings.raed", "--db", db); err == nil {
		t.Fatal("misspelt scope accepted")
	}
	list, err := runCLI(t, "keys", "list", "--db", db)
	if err != nil {
		t.Fatal(err)
	}
	id := key[3:25]
	if !strings.Contains(list, id) || !strings.Contains(list, "sso.settings.read") || !strings.Contains(list, "acme") {
		t.Fatalf("keys list:\n%s", list)
	}
	if strings.Contains(list, key[26:]) {
		t.Fatal("keys list shows a secret")
	}
	if _, err := runCLI(t, "keys", "revoke", id, "--db", db); err != nil {
		t.Fatal(err)
	}
	if _, err := runCLI(t, "keys", "revoke", "AAAAAAAAAAAAAAAAAAAAAA", "--db", db); err == nil {
		t.Fatal("revoking an unknown key succeeded")
	}
	list, _ = runCLI(t, "keys", "list", "--account", "acme", "--db", db)
	for line := range strings.Lines(list) {
		cols := strings.Fields(line)
		if cols[0] == id && cols[len(cols)-1] == "-" {
			t.Fatalf("revoked key not shown as revoked:\n%s", list)
		}
	}
	if !strings.Contains(list, id) {
		t.Fatalf("keys list --account lost the key:\n%s", list)
	}
	if _, err := runCLI(t, "bogus"); err == nil {
		t.Fatal("unknown command accepted")
	}
}

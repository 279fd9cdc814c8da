// Package pgtest gives tests an isolated PostgreSQL database to run ssod
// against: a fresh schema on the server named by SSOD_TEST_POSTGRES, dropped
// when the test ends. Tests skip, visibly, when the variable is unset, so
// `go test ./...` passes on a machine without PostgreSQL, except under
// CI=true, where they fail.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ssod/ssod/internal/testenv"
)

// EnvVar names the environment variable holding the server's connection
// string, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const EnvVar = testenv.Postgres

// DSN creates a schema of its own for t on the server named by EnvVar and
// returns a connection string whose search_path selects it, so that every
// test, and every parallel subtest, works on empty tables that no other run
// touches. The schema is dropped, with everything in it, when t ends; stores
// opened on it must be closed first, which t.Cleanup's last-in-first-out
// order does for cleanups registered after DSN returns.
//
// DSN skips t when EnvVar is unset (fails it under CI=true, see testenv)
// and fails it when the server cannot be reached: a test asked to use
// PostgreSQL must not pass without it.
func DSN(t testing.TB) string {
	t.Helper()
	base := testenv.Lookup(t, EnvVar, "PostgreSQL tests")
	var b [8]byte
	rand.Read(b[:]) // never fails; see crypto/rand.Read
	schema := "ssodtest_" + hex.EncodeToString(b[:])

	// The name is ours and safe as an identifier; quoting it anyway costs
	// nothing.
	exec(t, t.Context(), base, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize())
	t.Cleanup(func() {
		// t.Context is already done when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		exec(t, ctx, base, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	})
	dsn, err := withSearchPath(base, schema)
	if err != nil {
		t.Fatalf("pgtest: %s: %v", EnvVar, err)
	}
	return dsn
}

// exec runs one statement on its own short-lived connection to base, so a
// test's stores never share a connection, or a session setting, with it.
func exec(t testing.TB, ctx context.Context, base, sql string) {
	t.Helper()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("pgtest: connect to %s: %v", EnvVar, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("pgtest: %s: %v", sql, err)
	}
}

// withSearchPath adds search_path=schema to a connection string in either of
// pgx's forms, URL or keyword/value, replacing any search_path it had.
func withSearchPath(base, schema string) (string, error) {
	if !strings.HasPrefix(base, "postgres://") && !strings.HasPrefix(base, "postgresql://") {
		// Keyword/value: a later keyword overrides an earlier one.
		return base + " search_path=" + schema, nil
	}
	u, err := url.Parse(base)
	if err != nil {
		// Without the *url.Error around it, which would quote the whole
		// string, password included.
		return "", errors.Unwrap(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

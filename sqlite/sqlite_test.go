package sqlite

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/internal/migration"
	"github.com/ssod/ssod/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) ssod.Store {
		s := openStore(t, filepath.Join(t.TempDir(), "ssod.db"))
		t.Cleanup(func() { closeStore(t, s) })
		return s
	})
}

func openStore(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	return s
}

func closeStore(t *testing.T, s *Store) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestMigrationsAreIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ssod.db")
	s := openStore(t, path)
	if _, err := s.CreateAccount(t.Context(), "main", 0, 1); err != nil {
		t.Fatal(err)
	}
	closeStore(t, s)

	ms, err := migration.Load(migrationFS, "migration")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		s = openStore(t, path)
		if _, err := s.FindAccountByName(t.Context(), "main"); err != nil {
			t.Errorf("account lost on reopen: %v", err)
		}
		rows, err := s.reader.QueryContext(t.Context(), `SELECT version FROM schema_migrations ORDER BY version`)
		if err != nil {
			t.Fatal(err)
		}
		var got, want []int
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			got = append(got, v)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		for _, m := range ms {
			want = append(want, m.Version)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("schema_migrations holds versions %v, want one row each for %v", got, want)
		}
		closeStore(t, s)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ssod.db")
	s := openStore(t, path)
	if _, err := s.writer.ExecContext(t.Context(),
		`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	closeStore(t, s)
	if s, err := Open(t.Context(), path); err == nil {
		s.Close()
		t.Fatal("Open accepted a database migrated by a newer binary")
	}
}

// TestPragmas checks the settings durability and integrity rest on, on the
// connections themselves: the DSN could silently fail to apply them.
func TestPragmas(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "ssod.db"))
	defer closeStore(t, s)
	for _, tc := range []struct {
		pool         string
		pragma, want string
	}{
		{"writer", "journal_mode", "wal"},
		{"writer", "synchronous", "2"}, // FULL
		{"writer", "foreign_keys", "1"},
		{"writer", "busy_timeout", "5000"},
		{"writer", "query_only", "0"},
		{"reader", "journal_mode", "wal"},
		{"reader", "foreign_keys", "1"},
		{"reader", "busy_timeout", "5000"},
		{"reader", "query_only", "1"},
	} {
		db := s.writer
		if tc.pool == "reader" {
			db = s.reader
		}
		conn, err := db.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		var got string
		err = conn.QueryRowContext(t.Context(), "PRAGMA "+tc.pragma).Scan(&got)
		conn.Close()
		if err != nil {
			t.Errorf("%s: PRAGMA %s: %v", tc.pool, tc.pragma, err)
		} else if got != tc.want {
			t.Errorf("%s: PRAGMA %s = %s, want %s", tc.pool, tc.pragma, got, tc.want)
		}
	}
}

func TestReaderRefusesWrites(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "ssod.db"))
	defer closeStore(t, s)
	if _, err := s.reader.ExecContext(t.Context(), `INSERT INTO accounts (name, created_at) VALUES ('x', 0)`); err == nil {
		t.Error("the reader pool accepted a write")
	}
}

func TestReopenReturnsWhatWasWritten(t *testing.T) {
	// The URI-significant characters in the name check that the path is
	// escaped: unescaped, SQLite would open a file named "ssod".
	path := filepath.Join(t.TempDir(), "ssod?x=1#frag%41.db")
	storetest.Reopen(t, func() ssod.Store { return openStore(t, path) })
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database file not at the path given: %v", err)
	}
}

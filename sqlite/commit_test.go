package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

// Writes that share a batch commit or fail on their own: a failing write
// undoes only itself, and every acknowledged write is there after a reopen.
func TestBatchedWritesFailAlone(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ssod.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	var wg sync.WaitGroup
	results := make([]error, 200)
	for i := range results {
		wg.Go(func() {
			results[i] = s.write(ctx, "test", func(tx *sql.Tx) error {
				if _, err := tx.ExecContext(ctx, `INSERT INTO accounts (name, created_at) VALUES (?, 1)`, "acct"+strconv.Itoa(i)); err != nil {
					return err
				}
				if i%3 == 0 {
					return boom // after its insert: the savepoint must undo it
				}
				return nil
			})
		})
	}
	wg.Wait()
	s.Close()

	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	accounts, err := s.ListAccounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]bool{}
	for _, a := range accounts {
		stored[a.Name] = true
	}
	for i, err := range results {
		name := "acct" + strconv.Itoa(i)
		switch {
		case i%3 == 0 && !errors.Is(err, boom):
			t.Errorf("write %d: %v, want its own error", i, err)
		case i%3 == 0 && stored[name]:
			t.Errorf("write %d failed but its insert was committed", i)
		case i%3 != 0 && (err != nil || !stored[name]):
			t.Errorf("write %d: err %v, stored %v", i, err, stored[name])
		}
	}
}

func TestWriteAfterCloseFails(t *testing.T) {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "ssod.db"))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := s.write(context.Background(), "test", func(*sql.Tx) error { return nil }); !errors.Is(err, errClosed) {
		t.Fatalf("write after Close: %v", err)
	}
}

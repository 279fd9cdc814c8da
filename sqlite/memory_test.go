package sqlite

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/storetest"
)

// The whole contract holds on an in-memory database too, whose writer and
// readers are separate connections that must see one database.
func TestContractInMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) ssod.Store {
		s := openStore(t, Memory)
		t.Cleanup(func() { closeStore(t, s) })
		return s
	})
}

func TestInMemoryStoresAreSeparate(t *testing.T) {
	a, b := openStore(t, Memory), openStore(t, Memory)
	defer closeStore(t, a)
	defer closeStore(t, b)
	if _, err := a.CreateAccount(t.Context(), "main", 0, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := a.FindAccountByName(t.Context(), "main"); err != nil {
		t.Fatalf("the reader pool does not see the writer's account: %v", err)
	}
	if exists, err := b.HasAccounts(t.Context()); err != nil || exists {
		t.Fatalf("a second in-memory store sees the first one's account (%v, %v)", exists, err)
	}
}

func TestOpenExistingRefusesMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "typo.db")
	if s, err := OpenExisting(t.Context(), path); !errors.Is(err, fs.ErrNotExist) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("OpenExisting of a missing file: %v, want fs.ErrNotExist", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("OpenExisting created %s", path)
	}
	closeStore(t, openStore(t, path))
	s, err := OpenExisting(t.Context(), path)
	if err != nil {
		t.Fatalf("OpenExisting of an existing file: %v", err)
	}
	closeStore(t, s)
	if _, err := OpenExisting(t.Context(), Memory); err == nil {
		t.Fatal("OpenExisting accepted an in-memory database, which would be new and empty")
	}
}

package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/storetest"
)

func TestTeammateContract(t *testing.T) {
	storetest.RunTeammates(t, func(t *testing.T) ssod.Store {
		s := openStore(t, filepath.Join(t.TempDir(), "ssod.db"))
		t.Cleanup(func() { closeStore(t, s) })
		return s
	})
}

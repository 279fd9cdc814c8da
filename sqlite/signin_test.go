package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/ssod/ssod/storetest"
)

func BenchmarkSignIn(b *testing.B) {
	s, err := Open(b.Context(), filepath.Join(b.TempDir(), "ssod.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchmarkSignIn(b, s)
}

package postgres

import (
	"testing"

	"github.com/ssod/ssod/postgres/pgtest"
	"github.com/ssod/ssod/seed"
)

// BenchmarkResetTo measures a reset to the example seed, the operation a
// test suite runs between tests.
func BenchmarkResetTo(b *testing.B) {
	sd, err := seed.Load("../examples/seed.json")
	if err != nil {
		b.Fatal(err)
	}
	s, err := Open(b.Context(), pgtest.DSN(b))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for b.Loop() {
		if err := s.ResetTo(b.Context(), sd, 1_700_000_000); err != nil {
			b.Fatal(err)
		}
	}
}

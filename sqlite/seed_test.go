package sqlite

import (
	"testing"

	"github.com/ssod/ssod/seed"
)

// BenchmarkResetTo measures a reset of an in-memory store to the example
// seed, the operation a test suite runs between tests.
func BenchmarkResetTo(b *testing.B) {
	sd, err := seed.Load("../examples/seed.json")
	if err != nil {
		b.Fatal(err)
	}
	s, err := Open(b.Context(), Memory)
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

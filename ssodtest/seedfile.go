package ssodtest

import (
	"github.com/ssod/ssod"
	"github.com/ssod/ssod/seed"
)

// loadSeed reads and checks a seed file as `ssod serve --seed` does.
func loadSeed(path string) (*ssod.Seed, error) { return seed.Load(path) }

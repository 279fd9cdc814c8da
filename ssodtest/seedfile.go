package ssodtest

import (
	"errors"

	"github.com/ssod/ssod"
)

// loadSeed reads a seed file. (Filled in once the seed package lands.)
func loadSeed(path string) (*ssod.Seed, error) {
	return nil, errors.New("seed files: not yet")
}

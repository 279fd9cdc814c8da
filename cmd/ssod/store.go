package main

import (
	"context"
	"errors"
	"strings"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/sqlite"
)

// openStore opens the database a --db value names, running migrations.
func openStore(ctx context.Context, dsn string) (ssod.Store, error) {
	if isPostgres(dsn) {
		return nil, errors.New("PostgreSQL is not supported by this build yet")
	}
	return sqlite.Open(ctx, strings.TrimPrefix(dsn, "sqlite:"))
}

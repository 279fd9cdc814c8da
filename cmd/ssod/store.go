package main

import (
	"context"
	"strings"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/postgres"
	"github.com/ssod/ssod/sqlite"
)

// openStore opens the database a --db value names, running migrations:
// postgres:// or postgresql:// selects PostgreSQL, anything else is a
// SQLite file path, optionally written sqlite:PATH.
func openStore(ctx context.Context, dsn string) (ssod.Store, error) {
	if isPostgres(dsn) {
		return postgres.Open(ctx, dsn)
	}
	return sqlite.Open(ctx, strings.TrimPrefix(dsn, "sqlite:"))
}

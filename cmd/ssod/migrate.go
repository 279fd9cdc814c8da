package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
)

// migrateCmd copies a whole database into an empty one on another backend,
// ids and all, so a deployment can move from SQLite to PostgreSQL.
func migrateCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flagSet("migrate", stderr)
	from := fs.String("from", "", "the database to copy: sqlite:PATH (or postgres://...)")
	to := fs.String("to", "", "the empty database to fill: postgres://... (or sqlite:PATH)")
	if pos, err := parseArgs(fs, args); err != nil {
		return err
	} else if len(pos) > 0 || *from == "" || *to == "" {
		return fmt.Errorf("migrate: want --from DSN --to DSN\n%s", usage)
	}
	if !isPostgres(*from) {
		// Opening a missing SQLite file would create it and copy nothing.
		if _, err := os.Stat(strings.TrimPrefix(*from, "sqlite:")); err != nil {
			return fmt.Errorf("migrate: --from: %w", err)
		}
	}
	src, err := openStore(ctx, *from)
	if err != nil {
		return fmt.Errorf("migrate: open --from: %w", err)
	}
	defer src.Close()
	dst, err := openStore(ctx, *to)
	if err != nil {
		return fmt.Errorf("migrate: open --to: %w", err)
	}
	defer dst.Close()
	snap, err := src.Export(ctx)
	if err != nil {
		return fmt.Errorf("migrate: read --from: %w", err)
	}
	if err := dst.Import(ctx, snap); err != nil {
		return fmt.Errorf("migrate: write --to: %w", err)
	}
	fmt.Fprintf(stdout, "copied %d accounts, %d keys, %d integrations, %d certificates, %d audit events\n",
		len(snap.Accounts), len(snap.Keys), len(snap.Integrations), len(snap.Certificates), len(snap.AuditEvents))
	return nil
}

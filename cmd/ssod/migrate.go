package main

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// migrateCmd copies a whole database into an empty one on another backend,
// ids and all, so a deployment can move from SQLite to PostgreSQL.
func migrateCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flagSet("migrate")
	from := fs.String("from", "", "the database to copy: sqlite:PATH (or postgres://...)")
	to := fs.String("to", "", "the empty database to fill: postgres://... (or sqlite:PATH)")
	if pos, err := parseArgs(fs, args, stdout); err != nil {
		return err
	} else if len(pos) > 0 || *from == "" || *to == "" {
		return fmt.Errorf("migrate: want --from DSN --to DSN\n%s", usage)
	}
	fromDB, err := parseDatabase("--from", *from)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	toDB, err := parseDatabase("--to", *to)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if toDB.memory {
		return errors.New("migrate: --to :memory: would copy into a database that ends with this command")
	}
	src, err := fromDB.open(ctx, false) // a missing file would copy nothing
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer src.Close()
	dst, err := toDB.open(ctx, true)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer dst.Close()
	snap, err := src.Export(ctx)
	if err != nil {
		return fmt.Errorf("migrate: read --from: %w", err)
	}
	if err := dst.Import(ctx, snap); err != nil {
		return fmt.Errorf("migrate: write --to: %w", err)
	}
	fmt.Fprintf(stdout, "copied %d accounts, %d keys, %d integrations, %d certificates, %d audit events, "+
		"%d login traces, %d outstanding AuthnRequests, %d accepted assertions, %d teammates\n",
		len(snap.Accounts), len(snap.Keys), len(snap.Integrations), len(snap.Certificates), len(snap.AuditEvents),
		len(snap.LoginTraces), len(snap.AuthnRequests), len(snap.Assertions), len(snap.Teammates))
	return nil
}

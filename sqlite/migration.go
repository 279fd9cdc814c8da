package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"time"

	"github.com/ssod/ssod/internal/migration"
)

// migrationFS holds the schema migrations, NNNN_description.sql, applied in
// version order. A released migration is never edited; a change is a new file.
//
//go:embed migration/*.sql
var migrationFS embed.FS

// migrate applies the migrations db has not recorded yet, each in its own
// transaction together with its schema_migrations row, so a crash leaves
// every migration either fully applied and recorded or not at all. The check
// runs inside the IMMEDIATE transaction, so two processes starting at once
// cannot both apply the same migration.
func migrate(ctx context.Context, db *sql.DB) error {
	ms, err := migration.Load(migrationFS, "migration")
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	const create = `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL
	) STRICT`
	if _, err := db.ExecContext(ctx, create); err != nil {
		return fmt.Errorf("sqlite: migrate: create schema_migrations: %w", err)
	}
	var newest int
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&newest); err != nil {
		return fmt.Errorf("sqlite: migrate: read schema version: %w", err)
	}
	if known := ms[len(ms)-1].Version; newest > known {
		// A newer binary has changed the schema in ways this one cannot know.
		return fmt.Errorf("sqlite: migrate: database schema version %d is newer than this binary's %d", newest, known)
	}
	for _, m := range ms {
		if err := applyMigration(ctx, db, m); err != nil {
			return fmt.Errorf("sqlite: migrate %s: %w", m.Name, err)
		}
	}
	return nil
}

// applyMigration applies m unless it is already recorded.
func applyMigration(ctx context.Context, db *sql.DB, m migration.Migration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() // no-op after Commit
	var applied bool
	err = tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?)`, m.Version).Scan(&applied)
	if err != nil || applied {
		return err
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.Version, m.Name, time.Now().Unix())
	if err != nil {
		return err
	}
	return tx.Commit()
}

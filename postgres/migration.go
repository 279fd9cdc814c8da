package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ssod/ssod/internal/migration"
)

// migrationFS holds the schema migrations, NNNN_description.sql, applied in
// version order. A released migration is never edited; a change is a new file.
//
//go:embed migration/*.sql
var migrationFS embed.FS

// migrationLockKey is the advisory lock every ssod instance takes while it
// migrates: "ssod_mig" in ASCII, unlikely to clash with another
// application's key. It is one key per database, not per schema, which
// serializes migrations of unrelated schemas too; they are short.
const migrationLockKey int64 = 0x73736f645f6d6967

// migrate applies the migrations the database has not recorded yet, each in
// its own transaction together with its schema_migrations row (PostgreSQL's
// DDL is transactional), so a crash leaves every migration either fully
// applied and recorded or not at all.
//
// It all runs on one connection holding a session advisory lock. Without it,
// instances starting together would race: two CREATE TABLE IF NOT EXISTS can
// both find no table and one then fails on the catalog's unique index, and
// two instances could both apply the same migration.
func migrate(ctx context.Context, pool *pgxpool.Pool) (err error) {
	ms, err := migration.Load(migrationFS, "migration")
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer conn.Release()
	// Waiting ends with ctx: pgx cancels the query when ctx is done.
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLockKey); err != nil {
		return fmt.Errorf("postgres: migrate: take lock: %w", err)
	}
	defer func() {
		// A fresh context: ctx being done may be why migrate is returning.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, uerr := conn.Exec(uctx, `SELECT pg_advisory_unlock($1)`, migrationLockKey); uerr != nil {
			// The session may still hold the lock. Closing it is what
			// releases the lock for sure; Release then drops the closed
			// connection instead of pooling it.
			conn.Conn().Close(uctx)
			err = errors.Join(err, fmt.Errorf("postgres: migrate: release lock: %w", uerr))
		}
	}()
	return migrateLocked(ctx, conn.Conn(), ms)
}

// migrateLocked does migrate's work once the lock is held.
func migrateLocked(ctx context.Context, conn *pgx.Conn, ms []migration.Migration) error {
	const create = `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at BIGINT  NOT NULL
	)`
	if _, err := conn.Exec(ctx, create); err != nil {
		return fmt.Errorf("postgres: migrate: create schema_migrations: %w", err)
	}
	rows, err := conn.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("postgres: migrate: read schema version: %w", err)
	}
	applied, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return fmt.Errorf("postgres: migrate: read schema version: %w", err)
	}
	if len(applied) > 0 {
		if newest, known := slices.Max(applied), ms[len(ms)-1].Version; newest > known {
			// A newer binary has changed the schema in ways this one cannot know.
			return fmt.Errorf("postgres: migrate: database schema version %d is newer than this binary's %d", newest, known)
		}
	}
	for _, m := range ms {
		if slices.Contains(applied, m.Version) {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			// No arguments: pgx sends the file with the simple protocol,
			// which runs several statements in one call.
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
				m.Version, m.Name, time.Now().Unix())
			return err
		})
		if err != nil {
			return fmt.Errorf("postgres: migrate %s: %w", m.Name, err)
		}
	}
	return nil
}

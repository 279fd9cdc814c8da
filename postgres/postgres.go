// Package postgres implements ssod.Store on PostgreSQL through pgx and its
// connection pool, so that several ssod instances can serve one shared
// database.
//
// Nothing is kept in process: every promise the store makes (ids never
// reused, certificates never outliving their integration, updates never
// mixing) is kept by the database itself, through identity columns, a
// composite foreign key with ON DELETE CASCADE, transactions and row locks,
// so it holds across instances as well as across goroutines. Concurrent
// reads by id share one query (see coalescer); the Store itself answers
// nothing from memory, and Coherence is what lets a read cache in front of
// it stay current across instances. Every change of an integration or
// certificate writes its audit event in its own transaction.
//
// The DSN is a pgx connection string. Parameters pgx does not know are sent
// to the server as settings, so postgres://…/db?search_path=tenant keeps
// every table in schema tenant; the schema must exist.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ssod/ssod"
)

// Store is an ssod.Store backed by one PostgreSQL database (or one schema of
// it, chosen by the DSN's search_path).
type Store struct {
	pool *pgxpool.Pool
	// Reads by id outside a transaction go through these, so concurrent
	// requests share queries (see coalescer).
	certReads        *coalescer[int64, ssod.Certificate]
	integrationReads *coalescer[string, ssod.Integration]
	certLists        *coalescer[string, []ssod.Certificate] // by integration id
	// coherence, when set (by NewCoherence), tells the other instances of
	// every change of certificates; see writeChange.
	coherence *Coherence
}

var _ ssod.Store = (*Store)(nil)

// Open connects to the database named by dsn and brings its schema up to
// date, under an advisory lock so that instances starting together migrate
// one after the other. The caller must Close the store.
func Open(ctx context.Context, dsn string) (*Store, error) {
	if dsn == "" {
		// pgx would fall back to PG* environment variables and libpq
		// defaults, which is never what an empty --db meant.
		return nil, errors.New("postgres: open: empty DSN")
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err) // pgx redacts the password
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	// The pool connects lazily; pinging makes a bad address or password fail
	// Open rather than the first request.
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return newStore(pool), nil
}

// Batch reads: one lane per kind of read lets the most requests gather
// behind the running query (two lanes measured no faster and with a longer
// p99), and leaves the rest of the pool to writes; 128 keys keep a batch's
// query short.
const (
	readLanes    = 1
	maxReadBatch = 128
	batchTimeout = 10 * time.Second
)

func newStore(pool *pgxpool.Pool) *Store {
	s := &Store{pool: pool}
	s.certReads = &coalescer[int64, ssod.Certificate]{
		fetch: s.certificatesByID, lanes: readLanes, maxBatch: maxReadBatch, timeout: batchTimeout,
	}
	s.integrationReads = &coalescer[string, ssod.Integration]{
		fetch: s.integrationsByID, lanes: readLanes, maxBatch: maxReadBatch, timeout: batchTimeout,
	}
	s.certLists = &coalescer[string, []ssod.Certificate]{
		fetch: s.certificatesOf, lanes: readLanes, maxBatch: maxReadBatch, timeout: batchTimeout,
	}
	return s
}

// byID runs query with the ids as its one array parameter and maps each
// scanned row by its id.
func byID[K comparable, V any](ctx context.Context, q querier, scan func(scanner) (V, error), id func(V) K, query string, ids []K) (map[K]V, error) {
	rows, err := list(ctx, q, scan, query, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[K]V, len(rows))
	for _, v := range rows {
		out[id(v)] = v
	}
	return out, nil
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// Close closes the pool, waiting for connections in use to be returned. It
// always returns nil; the error is there for ssod.Store.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// querier is what *pgxpool.Pool and pgx.Tx share, so a read helper serves
// both plain reads and reads inside a write transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// scanner is what pgx.Row and pgx.Rows share, so one scan function per table
// serves single-row and list queries.
type scanner interface {
	Scan(dest ...any) error
}

// list runs a query and scans every row with scan. It returns an empty,
// non-nil slice when there are no rows, which encodes as the JSON [] the API
// promises (pgx.CollectRows would return nil).
func list[T any](ctx context.Context, q querier, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// finishTimeout bounds a commit or rollback, which runs under no client's
// context.
const finishTimeout = 10 * time.Second

// write runs fn in one read-committed transaction and commits it, or rolls
// it back when fn fails. fn's error is returned as is, so domain errors keep
// their code; the caller wraps the others.
func (s *Store) write(ctx context.Context, fn func(tx pgx.Tx) error) error {
	_, err := s.writeTx(ctx, fn)
	return err
}

// writeTx is write, also saying whether the commit was sent: after that, an
// error leaves the outcome unknown.
//
// fn runs under ctx, so a client that goes away stops a write that has not
// committed. The commit does not: a client that resets its connection while
// the commit is under way would otherwise make pgx drop the connection and
// report failure for a write the database may well have committed.
func (s *Store) writeTx(ctx context.Context, fn func(tx pgx.Tx) error) (committing bool, err error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return false, err
	}
	err = fn(tx)
	finish, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer cancel()
	if err != nil {
		_ = tx.Rollback(finish) // a failed rollback closes the connection, which rolls back too
		return false, err
	}
	return true, tx.Commit(finish)
}

// writeChange is write for a change of the certificates ids (of any
// number of them when nil), which other instances may hold in their
// caches. With a Coherence, the notice of the change commits with it, and
// writeChange returns once the other instances have dropped their copies:
// also when the client has gone, and also when the commit's outcome is
// unknown, since the notice went out if the change did.
func (s *Store) writeChange(ctx context.Context, ids []int64, fn func(tx pgx.Tx) error) error {
	if s.coherence == nil {
		return s.write(ctx, fn)
	}
	n := s.coherence.newNotice(ids)
	defer n.release()
	committing, err := s.writeTx(ctx, func(tx pgx.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return n.send(ctx, tx)
	})
	if committing {
		n.wait(ctx)
	}
	return err
}

// read runs fn in one read-only repeatable-read transaction, so several
// queries see the same snapshot. A read-only transaction at that level never
// fails to serialize, so there is nothing to retry.
func (s *Store) read(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
}

// wrap adds the operation to an unexpected error and returns domain errors
// (*ssod.Error, ssod.Errors) as they are, since their message is for the
// client. A *pgconn.PgError's message leaves out its Detail, which is where
// PostgreSQL quotes the values of a violated key, and pgx never prints bound
// arguments, so no certificate or secret hash leaks through here. A nil
// error stays nil.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var e *ssod.Error
	var es ssod.Errors
	if errors.As(err, &e) || errors.As(err, &es) {
		return err
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// unstorable reports whether PostgreSQL would refuse s as TEXT: a NUL byte
// or invalid UTF-8 is an error there, where SQLite stores and compares such
// strings. Lookups answer "not found" for them without asking, as the SQLite
// store does, so that a caller that forgot to validate input gets a 404
// rather than a 500.
func unstorable(s string) bool {
	return !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0
}

// SQLSTATE codes the store maps to domain errors.
const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
)

// isCode reports whether err is a PostgreSQL error with the SQLSTATE code.
func isCode(err error, code string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == code
}

// isUnique reports whether err is a UNIQUE or PRIMARY KEY violation: the
// caller asked for something that already exists.
func isUnique(err error) bool { return isCode(err, uniqueViolation) }

// isForeignKey reports whether err is a foreign key violation: a row names a
// parent that does not exist (or no longer does).
func isForeignKey(err error) bool { return isCode(err, foreignKeyViolation) }

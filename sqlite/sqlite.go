// Package sqlite implements ssod.Store on an embedded SQLite database, through
// database/sql and the pure-Go modernc.org/sqlite driver so the binary needs
// no cgo.
//
// The database runs in WAL mode with synchronous=FULL, so every acknowledged
// write survives a power cut and readers never wait for the writer. Writes go
// through a single connection that begins its transactions IMMEDIATE, so two
// writers never deadlock upgrading a read lock; reads use a separate pool.
package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/ssod/ssod"
)

// Store is an ssod.Store backed by one SQLite database file, or by a database
// in memory.
type Store struct {
	writer *sql.DB // one connection: SQLite allows one writer at a time anyway
	reader *sql.DB // read-only pool; WAL lets it run beside the writer
	reads  *prepared
	keep   *memoryKeeper // for an in-memory database only
	// Writes go to one goroutine that commits them in batches (see
	// commit.go); closing stops it.
	writes    chan *writeRequest
	closing   chan struct{}
	loopDone  chan struct{}
	closeOnce sync.Once
}

var _ ssod.Store = (*Store)(nil)

// Pragmas every connection gets. busy_timeout makes a connection wait for a
// lock held by another process (the CLI beside a running server) instead of
// failing at once.
const commonPragmas = "_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)"

// writerParams makes the writer durable and its transactions IMMEDIATE.
// journal_mode is persistent in the file; setting it here converts a new file
// before any reader connects.
const writerParams = commonPragmas +
	"&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate"

// readerParams makes reader connections refuse writes, so a write sent to the
// wrong pool fails loudly instead of bypassing the single writer.
// cache_size gives each reader 4 MiB of page cache (SQLite's default is
// 2 MiB), so that the inner pages of a large database's indexes stay in
// memory.
const readerParams = commonPragmas + "&_pragma=query_only(1)&_pragma=cache_size(-4096)"

// Memory is the path that selects a database held in memory for the life of
// the Store, as SQLite's own ":memory:" does.
const Memory = ":memory:"

// Open opens the database file at path, creating it if needed, and brings its
// schema up to date; path Memory opens a new, empty in-memory database. The
// caller must Close the store.
func Open(ctx context.Context, path string) (*Store, error) {
	return open(ctx, path, "")
}

// OpenExisting is Open for a database file that must already exist: it never
// creates one, so a mistyped path fails (with an error wrapping
// fs.ErrNotExist) instead of showing an empty new database.
func OpenExisting(ctx context.Context, path string) (*Store, error) {
	if path == Memory {
		return nil, errors.New("sqlite: open: an in-memory database exists only inside the process that made it")
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	// mode=rw keeps SQLite from creating the file should it vanish between
	// the check above and the open.
	return open(ctx, path, "mode=rw&")
}

func open(ctx context.Context, path, mode string) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite: open: empty database path")
	}
	// The driver reads _pragma and _txlock from SQLite's URI form,
	// "file:PATH?params".
	name := "file:" + uriEscaper.Replace(path) + "?" + mode
	var keep *memoryKeeper
	if path == Memory {
		var err error
		if keep, err = openMemory(ctx); err != nil {
			return nil, err
		}
		name = keep.name
	}
	writer, err := openDB(ctx, name+writerParams, 1)
	if err != nil {
		keep.close()
		return nil, fmt.Errorf("sqlite: open writer: %w", err)
	}
	if err := migrate(ctx, writer); err != nil {
		writer.Close()
		keep.close()
		return nil, err
	}
	reader, err := openDB(ctx, name+readerParams, max(4, runtime.NumCPU()))
	if err != nil {
		writer.Close()
		keep.close()
		return nil, fmt.Errorf("sqlite: open reader: %w", err)
	}
	s := &Store{
		writer: writer, reader: reader, reads: newPrepared(reader), keep: keep,
		writes: make(chan *writeRequest), closing: make(chan struct{}), loopDone: make(chan struct{}),
	}
	go s.commitLoop()
	return s, nil
}

// memoryKeeper holds one connection to an in-memory database, because the
// memdb VFS frees the database when its last connection closes, and
// database/sql may close and reopen the pools' connections.
type memoryKeeper struct {
	name string // "file:/NAME?vfs=memdb&", to which the pools add params
	db   *sql.DB
	conn *sql.Conn
}

// openMemory makes a new in-memory database. Each connection to ":memory:"
// would get a database of its own; the memdb VFS shares one among all
// connections that name it with a leading "/", with SQLite's usual locking
// (busy_timeout applies, unlike shared-cache mode). A random name keeps two
// stores in one process apart.
func openMemory(ctx context.Context) (*memoryKeeper, error) {
	k := &memoryKeeper{name: "file:/ssod-memory-" + rand.Text() + "?vfs=memdb&"}
	var err error
	if k.db, err = sql.Open("sqlite", k.name+commonPragmas); err != nil {
		return nil, fmt.Errorf("sqlite: open in-memory database: %w", err)
	}
	if k.conn, err = k.db.Conn(ctx); err != nil {
		k.db.Close()
		return nil, fmt.Errorf("sqlite: open in-memory database: %w", err)
	}
	return k, nil
}

// close lets the in-memory database go; nil (a file database) does nothing.
func (k *memoryKeeper) close() error {
	if k == nil {
		return nil
	}
	return errors.Join(k.conn.Close(), k.db.Close())
}

// openDB opens a pool of at most conns connections and pings it, so that a
// bad path or pragma fails Open rather than the first request.
func openDB(ctx context.Context, name string, conns int) (*sql.DB, error) {
	db, err := sql.Open("sqlite", name)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// uriEscaper escapes what SQLite's URI filenames would otherwise read as
// syntax: '%' starts an escape, '?' the query and '#' the fragment.
var uriEscaper = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")

// Ping reports whether both pools answer.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.writer.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping writer: %w", err)
	}
	if err := s.reader.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping reader: %w", err)
	}
	return nil
}

// Close closes both pools. Closing the last connection checkpoints the WAL
// into the main file.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { close(s.closing) })
	<-s.loopDone
	s.reads.close()
	rerr := s.reader.Close()
	werr := s.writer.Close()
	if err := errors.Join(rerr, werr, s.keep.close()); err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}

// querier is what *sql.DB and *sql.Tx share, so a read helper serves both
// plain reads and reads inside a write transaction.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// scanner is what *sql.Row and *sql.Rows share, so one scan function per
// table serves single-row and list queries.
type scanner interface {
	Scan(dest ...any) error
}

// list runs a query and scans every row with scan. It returns an empty, non-nil
// slice when there are no rows, which encodes as the JSON [] the API promises.
func list[T any](ctx context.Context, q querier, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
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

// read runs fn in one read transaction on the reader pool, so several
// queries see the same snapshot.
func (s *Store) read(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("sqlite: %s: begin: %w", op, err)
	}
	defer tx.Rollback() // a read transaction has nothing to commit
	return fn(tx)
}

// wrap adds the operation to an unexpected error and returns domain errors
// (*ssod.Error, ssod.Errors) as they are, since their message is for the
// client. Driver messages hold at most table and column names, never the
// values bound, so no certificate or secret hash leaks through here.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var e *ssod.Error
	var es ssod.Errors
	if errors.As(err, &e) || errors.As(err, &es) {
		return err
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// isConstraint reports whether err is the SQLite constraint violation with
// the given extended result code, such as SQLITE_CONSTRAINT_UNIQUE.
func isConstraint(err error, code int) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == code
}

// isUnique reports whether err is a UNIQUE or PRIMARY KEY violation: both
// mean the caller asked for something that already exists.
func isUnique(err error) bool {
	return isConstraint(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE) ||
		isConstraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}

// isForeignKey reports whether err is a foreign key violation: a row names a
// parent that does not exist.
func isForeignKey(err error) bool {
	return isConstraint(err, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY)
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/postgres"
	"github.com/ssod/ssod/readcache"
	"github.com/ssod/ssod/sqlite"
)

// database is what a --db value names: a PostgreSQL URL, a SQLite file, or
// a SQLite database in memory.
type database struct {
	flag   string // "--db", "--from", "--to": messages name it
	dsn    string // postgres://… as given
	path   string // the SQLite file, or sqlite.Memory
	memory bool
}

// parseDatabase reads a --db value: postgres:// or postgresql:// selects
// PostgreSQL; ":memory:" (also written file::memory: or sqlite::memory:) an
// in-memory SQLite database; anything else is a SQLite file path,
// optionally written sqlite:PATH.
func parseDatabase(flagName, value string) (database, error) {
	if isPostgres(value) {
		return database{flag: flagName, dsn: value}, nil
	}
	path := strings.TrimPrefix(value, "sqlite:")
	switch {
	case path == "":
		return database{}, fmt.Errorf("%s: empty database path", flagName)
	case path == sqlite.Memory || path == "file::memory:":
		return database{flag: flagName, path: sqlite.Memory, memory: true}, nil
	case strings.HasPrefix(path, "file:"):
		// SQLite would read this as a URI; ssod would create a file named
		// after it.
		return database{}, fmt.Errorf("%s %s: want a file path, sqlite:PATH or :memory:, not a SQLite URI", flagName, value)
	}
	return database{flag: flagName, path: path}, nil
}

// String names the database in messages: the file path, or the URL without
// its password.
func (d database) String() string {
	switch {
	case d.memory:
		return sqlite.Memory
	case d.path != "":
		return d.path
	}
	if u, err := url.Parse(d.dsn); err == nil {
		return u.Redacted()
	}
	return "postgres://…" // unparseable: show nothing that may hold a password
}

// open opens the database and runs migrations. Only create may make a new
// SQLite file: the commands that merely read or add to a database refuse a
// path that does not exist, as it is most likely a typo.
func (d database) open(ctx context.Context, create bool) (ssod.Store, error) {
	var store ssod.Store
	var err error
	switch {
	case d.dsn != "":
		store, err = postgres.Open(ctx, d.dsn)
	case create:
		store, err = sqlite.Open(ctx, d.path)
	case d.memory:
		return nil, fmt.Errorf("%s %s: an in-memory database lives only inside the ssod serve that made it", d.flag, d)
	default:
		store, err = sqlite.OpenExisting(ctx, d.path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s %s: no such database file (ssod serve or ssod migrate --to creates one)", d.flag, d)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", d.flag, d, err)
	}
	return store, nil
}

// coherentMaxAge bounds how long an instance on PostgreSQL trusts a cached
// certificate, should another instance's change ever fail to reach it
// (its notice commits with the change, so only a fault in the database's
// delivery could lose it).
const coherentMaxAge = 30 * time.Second

// maxCachedCertificates bounds the read cache: about 2 KiB each, so
// that a large database still runs in well under 100 MB.
const maxCachedCertificates = 4_000

// withReadCache puts the certificate read cache in front of store; stop
// ends what keeps it current, before the store closes.
func withReadCache(store ssod.Store, logger *slog.Logger) (_ ssod.Store, stop func()) {
	pg, ok := store.(*postgres.Store)
	if !ok {
		// This process owns the SQLite file and sees every write, so reads
		// of certificates can come from memory without ever being stale.
		return readcache.New(store, maxCachedCertificates), func() {}
	}
	// Other instances write to this database too: their changes reach this
	// cache, and this instance's reach theirs, through the database itself
	// (see postgres.Coherence).
	coh := postgres.NewCoherence(pg, postgres.CoherenceOptions{}, logger)
	cache := readcache.NewCoherent(pg, maxCachedCertificates, coherentMaxAge, coh)
	coh.Start(cache.Invalidate)
	return cache, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := coh.Close(ctx); err != nil {
			logger.Warn("leaving the cache group", "err", err)
		}
	}
}

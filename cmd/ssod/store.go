package main

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/postgres"
	"github.com/ssod/ssod/readcache"
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

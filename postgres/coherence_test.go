package postgres

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/postgres/pgtest"
	"github.com/ssod/ssod/readcache"
	"github.com/ssod/ssod/storetest"
)

// Short leases keep the tests quick; the protocol is the same.
var testLease = CoherenceOptions{Lease: 600 * time.Millisecond, LeaseRenew: 200 * time.Millisecond, Margin: 100 * time.Millisecond}

// counting counts the reads that reach the database.
type counting struct {
	*Store
	reads atomic.Int64
}

func (c *counting) GetCertificate(ctx context.Context, accountID, id int64) (*ssod.Certificate, error) {
	c.reads.Add(1)
	return c.Store.GetCertificate(ctx, accountID, id)
}

type instance struct {
	db    *counting
	coh   *Coherence
	cache *readcache.Store
}

// startInstance opens dsn with a coherent read cache, as ssod serve does on
// PostgreSQL, and waits until the cache is in use.
func startInstance(t *testing.T, dsn string) *instance {
	t.Helper()
	s := openStore(t, dsn)
	in := &instance{db: &counting{Store: s}}
	in.coh = NewCoherence(s, testLease, nil)
	in.cache = readcache.NewCoherent(in.db, 1000, time.Minute, in.coh)
	in.coh.Start(in.cache.Invalidate)
	t.Cleanup(func() {
		if err := in.coh.Close(context.Background()); err != nil {
			t.Errorf("Close: %v", err)
		}
		closeStore(t, s)
	})
	waitFor(t, "the cache lease", in.coh.Valid)
	return in
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestCoherentCacheContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) ssod.Store {
		return startInstance(t, pgtest.DSN(t)).cache
	})
}

func seedCertificate(t *testing.T, s ssod.Store) (account int64, in *ssod.Integration, c *ssod.Certificate) {
	t.Helper()
	ctx := t.Context()
	acct, err := s.CreateAccount(ctx, "main", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	in, err = s.CreateIntegration(ctx, acct.ID, integrationUpdate("okta"), 2)
	if err != nil {
		t.Fatal(err)
	}
	c, err = s.CreateCertificate(ctx, acct.ID, ssod.CertificateUpdate{IntegrationID: &in.ID, X509: &ssod.X509{PEM: "p"}})
	if err != nil {
		t.Fatal(err)
	}
	return acct.ID, in, c
}

// While readers keep instance 2's cache hot, every write acknowledged by
// instance 1 is in the next read through instance 2, and the cache did
// answer most reads.
func TestCoherentCachesSeeEveryAcknowledgedWrite(t *testing.T) {
	dsn := pgtest.DSN(t)
	a, b := startInstance(t, dsn), startInstance(t, dsn)
	ctx := t.Context()
	account, in, c := seedCertificate(t, a.cache)

	stopReaders := readInBackground(t, 8, func(int, int) error {
		_, err := b.cache.GetCertificate(ctx, account, c.ID)
		return err
	})
	for round := range 100 {
		enabled := round%2 == 0
		if _, err := a.cache.UpdateCertificate(ctx, account, c.ID, ssod.CertificateUpdate{Enabled: &enabled}); err != nil {
			t.Fatal(err)
		}
		got, err := b.cache.GetCertificate(ctx, account, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Enabled != enabled {
			t.Fatalf("round %d: instance 2 reads enabled=%v after instance 1 wrote %v", round, got.Enabled, enabled)
		}
		time.Sleep(time.Millisecond) // let the readers fill the cache again
	}
	if reads, fromDB := stopReaders(), b.db.reads.Load(); fromDB*2 > reads {
		t.Fatalf("the database answered %d of %d reads: the cache was not in use", fromDB, reads)
	}

	if err := a.cache.DeleteIntegration(ctx, account, in.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.cache.GetCertificate(ctx, account, c.ID); ssod.CodeOf(err) != ssod.ENotFound {
		t.Fatalf("instance 2 reads a certificate whose integration instance 1 deleted: %v", err)
	}
}

// An instance whose listening connection dies stops answering from memory
// at once, and when it has a lease again it starts from an empty cache: it
// may have missed changes meanwhile.
func TestCoherenceLapsesWithItsConnection(t *testing.T) {
	dsn := pgtest.DSN(t)
	a, b := startInstance(t, dsn), startInstance(t, dsn)
	ctx := t.Context()
	account, _, c := seedCertificate(t, a.cache)
	if _, err := b.cache.GetCertificate(ctx, account, c.ID); err != nil { // cached in b
		t.Fatal(err)
	}
	var killed bool
	err := a.db.pool.QueryRow(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`,
		listenerName+b.coh.id).Scan(&killed)
	if err != nil || !killed {
		t.Fatalf("could not end instance 2's listening connection: %v", err)
	}
	waitFor(t, "instance 2 to stop using its cache", func() bool { return !b.coh.Valid() })
	// A change no instance is told of.
	if _, err := a.db.pool.Exec(ctx, `UPDATE certificates SET enabled = false WHERE id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "instance 2 to take a lease again", b.coh.Valid)
	if got, err := b.cache.GetCertificate(ctx, account, c.ID); err != nil || got.Enabled {
		t.Fatalf("instance 2 with a new lease reads %+v, %v; want the change made while it had none", got, err)
	}
}

// A change waits for an instance that holds a lease but never answers, and
// only until that lease ends.
func TestChangedWaitsOutASilentLease(t *testing.T) {
	dsn := pgtest.DSN(t)
	a := startInstance(t, dsn)
	ctx := t.Context()
	account, _, c := seedCertificate(t, a.cache)
	off := false
	start := time.Now()
	if _, err := a.cache.UpdateCertificate(ctx, account, c.ID, ssod.CertificateUpdate{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	alone := time.Since(start)
	const silence = 1500 * time.Millisecond
	if _, err := a.db.pool.Exec(ctx, `INSERT INTO cache_members (id, expires_at) VALUES ('silent', now() + $1 * interval '1 millisecond')`,
		silence.Milliseconds()); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	on := true
	if _, err := a.cache.UpdateCertificate(ctx, account, c.ID, ssod.CertificateUpdate{Enabled: &on}); err != nil {
		t.Fatal(err)
	}
	waited := time.Since(start)
	if waited < silence-200*time.Millisecond || waited > silence+5*time.Second {
		t.Fatalf("a change with a silent lease of %v answered after %v (alone: %v)", silence, waited, alone)
	}
	if alone > silence/2 {
		t.Fatalf("a change with no other instance took %v", alone)
	}
}

// Several writers, each on its own certificate, write through either
// instance while readers keep both caches hot; after every acknowledged
// write, a read through the other instance returns exactly it.
func TestCoherentCachesUnderConcurrentWriters(t *testing.T) {
	dsn := pgtest.DSN(t)
	instances := []*instance{startInstance(t, dsn), startInstance(t, dsn)}
	ctx := t.Context()
	account, in, _ := seedCertificate(t, instances[0].cache)
	const writers = 4
	certs := make([]*ssod.Certificate, writers)
	for i := range certs {
		c, err := instances[i%2].cache.CreateCertificate(ctx, account, ssod.CertificateUpdate{IntegrationID: &in.ID, X509: &ssod.X509{PEM: fmt.Sprint("writer ", i)}})
		if err != nil {
			t.Fatal(err)
		}
		certs[i] = c
	}
	stopReaders := readInBackground(t, 6, func(g, i int) error {
		_, err := instances[g%2].cache.GetCertificate(ctx, account, certs[i%writers].ID)
		return err
	})
	var writersWG sync.WaitGroup
	for w := range writers {
		writersWG.Go(func() {
			for round := range 40 {
				via, other := instances[(w+round)%2], instances[(w+round+1)%2]
				enabled := round%2 == 0
				x := ssod.X509{PEM: fmt.Sprintf("w%d-r%d", w, round), NotBefore: int64(round), NotAfter: int64(w)}
				want, err := via.cache.UpdateCertificate(ctx, account, certs[w].ID, ssod.CertificateUpdate{Enabled: &enabled, X509: &x})
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
				got, err := other.cache.GetCertificate(ctx, account, certs[w].ID)
				if err != nil {
					t.Errorf("writer %d: read back: %v", w, err)
					return
				}
				if *got != *want {
					t.Errorf("writer %d round %d: the other instance reads %+v after the write of %+v", w, round, *got, *want)
					return
				}
			}
		})
	}
	writersWG.Wait()
	stopReaders()
}

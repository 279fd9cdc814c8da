package postgres

import (
	"context"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/internal/migration"
	"github.com/ssod/ssod/postgres/pgtest"
	"github.com/ssod/ssod/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) ssod.Store {
		s := openStore(t, pgtest.DSN(t))
		t.Cleanup(func() { closeStore(t, s) })
		return s
	})
}

func openStore(t *testing.T, dsn string) *Store {
	t.Helper()
	s, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func closeStore(t *testing.T, s *Store) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// appliedVersions reads schema_migrations in version order.
func appliedVersions(t *testing.T, s *Store) []int {
	t.Helper()
	rows, err := s.pool.Query(t.Context(), `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// wantAllMigrations fails t unless schema_migrations holds exactly one row
// per embedded migration.
func wantAllMigrations(t *testing.T, s *Store) {
	t.Helper()
	ms, err := migration.Load(migrationFS, "migration")
	if err != nil {
		t.Fatal(err)
	}
	var want []int
	for _, m := range ms {
		want = append(want, m.Version)
	}
	if got := appliedVersions(t, s); !reflect.DeepEqual(got, want) {
		t.Errorf("schema_migrations holds versions %v, want one row each for %v", got, want)
	}
}

func TestMigrationsAreIdempotent(t *testing.T) {
	dsn := pgtest.DSN(t)
	first := openStore(t, dsn)
	defer closeStore(t, first)
	if _, err := first.CreateAccount(t.Context(), "main", 0, 1); err != nil {
		t.Fatal(err)
	}
	// The first store stays open: a migration lock it failed to release
	// would make the next Open wait until the deadline.
	for i := range 2 {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		s, err := Open(ctx, dsn)
		cancel()
		if err != nil {
			t.Fatalf("Open #%d on a migrated schema: %v", i+2, err)
		}
		if _, err := s.FindAccountByName(t.Context(), "main"); err != nil {
			t.Errorf("account lost on reopen: %v", err)
		}
		wantAllMigrations(t, s)
		closeStore(t, s)
	}
}

// TestConcurrentOpen starts several instances on one empty schema at once.
// Without the advisory lock their CREATE TABLE statements race and all but
// one Open fail; several rounds make a lucky interleaving unlikely.
func TestConcurrentOpen(t *testing.T) {
	const instances = 4
	for round := range 3 {
		t.Run(fmt.Sprint("round", round), func(t *testing.T) {
			dsn := pgtest.DSN(t)
			stores := make([]*Store, instances)
			errs := make([]error, instances)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range instances {
				wg.Go(func() {
					<-start
					stores[i], errs[i] = Open(t.Context(), dsn)
				})
			}
			close(start)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("Open #%d: %v", i, err)
					continue
				}
				defer closeStore(t, stores[i])
			}
			if errs[0] == nil {
				wantAllMigrations(t, stores[0])
			}
		})
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	dsn := pgtest.DSN(t)
	s := openStore(t, dsn)
	if _, err := s.pool.Exec(t.Context(),
		`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	closeStore(t, s)
	s, err := Open(t.Context(), dsn)
	if err == nil {
		s.Close()
		t.Fatal("Open accepted a database migrated by a newer binary")
	}
	if !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open failed for another reason than the newer schema: %v", err)
	}
}

func TestPing(t *testing.T) {
	s := openStore(t, pgtest.DSN(t))
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping on an open store: %v", err)
	}
	closeStore(t, s)
	if err := s.Ping(t.Context()); err == nil {
		t.Error("Ping on a closed store succeeded")
	}
}

// TestTablesLiveInTheDSNSchema checks that the search_path given in the DSN
// decides where the tables go, which is what lets instances (and tests)
// share one database in separate schemas.
func TestTablesLiveInTheDSNSchema(t *testing.T) {
	dsnA, dsnB := pgtest.DSN(t), pgtest.DSN(t)
	a, b := openStore(t, dsnA), openStore(t, dsnB)
	defer closeStore(t, a)
	defer closeStore(t, b)

	u, err := url.Parse(dsnA)
	if err != nil {
		t.Fatal(err)
	}
	schema := u.Query().Get("search_path")
	rows, err := a.pool.Query(t.Context(),
		`SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`, schema)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"accepted_assertions", "accounts", "api_keys", "audit_events", "authn_requests", "cache_members",
		"certificates", "console_sessions", "console_signins", "expiry_events", "expiry_states", "expiry_webhooks", "integrations", "login_trace_counters", "login_traces",
		"schema_migrations", "teammate_subusers", "teammates", "webhook_signing_keys"}
	if !reflect.DeepEqual(tables, want) {
		t.Errorf("schema %s holds tables %v, want %v", schema, tables, want)
	}

	if _, err := a.CreateAccount(t.Context(), "only-in-a", 0, 1); err != nil {
		t.Fatal(err)
	}
	if got, err := b.ListAccounts(t.Context()); err != nil || len(got) != 0 {
		t.Errorf("a store on another schema lists accounts %+v (error %v), want none", got, err)
	}
}

// TestTwoInstancesShareOneDatabase runs two stores on one schema, as two
// ssod instances behind a load balancer would.
func TestTwoInstancesShareOneDatabase(t *testing.T) {
	dsn := pgtest.DSN(t)
	s1, s2 := openStore(t, dsn), openStore(t, dsn)
	defer closeStore(t, s1)
	defer closeStore(t, s2)
	ctx := t.Context()
	instances := []*Store{s1, s2}

	acct, err := s1.CreateAccount(ctx, "main", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("WritesAreVisibleToTheOther", func(t *testing.T) {
		in, err := s1.CreateIntegration(ctx, acct.ID, integrationUpdate("okta"), 2)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s2.GetIntegration(ctx, acct.ID, in.ID)
		if err != nil || !reflect.DeepEqual(*got, *in) {
			t.Errorf("instance 2 reads %+v (error %v), instance 1 wrote %+v", got, err, *in)
		}
	})

	// Each instance PATCHes a different field of the same integration at
	// once. A read-modify-write without a row lock lets the later writer
	// put back the field the earlier one changed; with it, both survive.
	t.Run("ConcurrentIntegrationUpdatesCompose", func(t *testing.T) {
		for round := range 20 {
			in, err := s1.CreateIntegration(ctx, acct.ID, integrationUpdate(fmt.Sprint("i", round)), 2)
			if err != nil {
				t.Fatal(err)
			}
			name, signin := fmt.Sprint("renamed", round), fmt.Sprintf("https://idp.example/%d/in", round)
			updates := []ssod.IntegrationUpdate{{Name: &name}, {SigninURL: &signin}}
			errs := make([]error, len(instances))
			storetest.Parallel(len(instances), func(i int) {
				_, errs[i] = instances[i].UpdateIntegration(ctx, acct.ID, in.ID, updates[i], 3)
			})
			for i, err := range errs {
				if err != nil {
					t.Fatalf("update through instance %d: %v", i+1, err)
				}
			}
			got, err := s2.GetIntegration(ctx, acct.ID, in.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Name != name || got.SigninURL != signin {
				t.Fatalf("round %d: after concurrent updates of name and signin_url the integration is %+v: an update was lost", round, *got)
			}
		}
	})

	// As above for certificates: one instance disables, the other replaces
	// the X.509 data, and both changes must be in the row.
	t.Run("ConcurrentCertificateUpdatesCompose", func(t *testing.T) {
		in, err := s1.CreateIntegration(ctx, acct.ID, integrationUpdate("compose"), 2)
		if err != nil {
			t.Fatal(err)
		}
		no := false
		for round := range 20 {
			c, err := s1.CreateCertificate(ctx, acct.ID, ssod.CertificateUpdate{IntegrationID: &in.ID, X509: &ssod.X509{PEM: "old"}})
			if err != nil {
				t.Fatal(err)
			}
			x := ssod.X509{PEM: fmt.Sprint("new", round), NotBefore: 1, NotAfter: 2}
			updates := []ssod.CertificateUpdate{{Enabled: &no}, {X509: &x}}
			errs := make([]error, len(instances))
			storetest.Parallel(len(instances), func(i int) {
				_, errs[i] = instances[i].UpdateCertificate(ctx, acct.ID, c.ID, updates[i])
			})
			for i, err := range errs {
				if err != nil {
					t.Fatalf("update through instance %d: %v", i+1, err)
				}
			}
			got, err := s2.GetCertificate(ctx, acct.ID, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Enabled || got.X509 != x {
				t.Fatalf("round %d: after concurrent updates of enabled and the X.509 data the certificate is %+v: an update was lost", round, *got)
			}
		}
	})

	t.Run("ConcurrentCertificateUpdatesDoNotMix", func(t *testing.T) {
		a, err := s1.CreateIntegration(ctx, acct.ID, integrationUpdate("a"), 2)
		if err != nil {
			t.Fatal(err)
		}
		b, err := s2.CreateIntegration(ctx, acct.ID, integrationUpdate("b"), 2)
		if err != nil {
			t.Fatal(err)
		}
		c, err := s1.CreateCertificate(ctx, acct.ID, ssod.CertificateUpdate{IntegrationID: &a.ID, X509: &ssod.X509{PEM: "p0"}})
		if err != nil {
			t.Fatal(err)
		}
		const n = 8
		for round := range 5 {
			writes := make([]ssod.Certificate, n)
			for i := range writes {
				writes[i] = ssod.Certificate{ID: c.ID, AccountID: acct.ID, IntegrationID: []string{a.ID, b.ID}[i%2],
					X509:    ssod.X509{PEM: fmt.Sprintf("p%d-%d", round, i), NotBefore: int64(i), NotAfter: int64(round)},
					Enabled: i/2%2 == 0}
			}
			errs := make([]error, n)
			storetest.Parallel(n, func(i int) {
				w := writes[i]
				_, errs[i] = instances[i%2].UpdateCertificate(ctx, acct.ID, c.ID,
					ssod.CertificateUpdate{IntegrationID: &w.IntegrationID, Enabled: &w.Enabled, X509: &w.X509})
			})
			for i, err := range errs {
				if err != nil {
					t.Fatalf("update %d: %v", i, err)
				}
			}
			got, err := s2.GetCertificate(ctx, acct.ID, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(writes, *got) {
				t.Fatalf("round %d: the certificate is %+v, none of the writes %+v", round, *got, writes)
			}
		}
	})
}

// Reads by id are batched (see coalescer), never cached: while readers
// keep instance 2's batches full, every write acknowledged by instance 1 is
// in the next read through instance 2.
func TestBatchedReadsSeeEveryAcknowledgedWrite(t *testing.T) {
	dsn := pgtest.DSN(t)
	s1, s2 := openStore(t, dsn), openStore(t, dsn)
	defer closeStore(t, s1)
	defer closeStore(t, s2)
	ctx := t.Context()
	acct, err := s1.CreateAccount(ctx, "main", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	in, err := s1.CreateIntegration(ctx, acct.ID, integrationUpdate("okta"), 2)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s1.CreateCertificate(ctx, acct.ID, ssod.CertificateUpdate{IntegrationID: &in.ID, X509: &ssod.X509{PEM: "p"}})
	if err != nil {
		t.Fatal(err)
	}
	stopReaders := readInBackground(t, 16, func(int, int) error {
		if _, err := s2.GetCertificate(ctx, acct.ID, c.ID); err != nil {
			return err
		}
		if _, err := s2.GetIntegration(ctx, acct.ID, in.ID); err != nil {
			return err
		}
		_, err := s2.ListCertificates(ctx, acct.ID, in.ID)
		return err
	})
	for round := range 200 {
		enabled := round%2 == 0
		if _, err := s1.UpdateCertificate(ctx, acct.ID, c.ID, ssod.CertificateUpdate{Enabled: &enabled}); err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprint("name", round)
		if _, err := s1.UpdateIntegration(ctx, acct.ID, in.ID, ssod.IntegrationUpdate{Name: &name}, 3); err != nil {
			t.Fatal(err)
		}
		gotC, err := s2.GetCertificate(ctx, acct.ID, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		gotI, err := s2.GetIntegration(ctx, acct.ID, in.ID)
		if err != nil {
			t.Fatal(err)
		}
		if gotC.Enabled != enabled || gotI.Name != name {
			t.Fatalf("round %d: instance 2 reads enabled=%v name=%q after instance 1 wrote enabled=%v name=%q",
				round, gotC.Enabled, gotI.Name, enabled, name)
		}
		added, err := s1.CreateCertificate(ctx, acct.ID, ssod.CertificateUpdate{IntegrationID: &in.ID, X509: &ssod.X509{PEM: fmt.Sprint("p", round)}})
		if err != nil {
			t.Fatal(err)
		}
		listed, err := s2.ListCertificates(ctx, acct.ID, in.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(listed) != round%50+2 || listed[len(listed)-1] != *added {
			t.Fatalf("round %d: instance 2 lists %d certificates ending %+v, after instance 1 added %+v as number %d",
				round, len(listed), listed[len(listed)-1], *added, round%50+2)
		}
		if round%50 == 49 { // stay below the integration's limit
			for _, old := range listed[1:] {
				if _, err := s1.DeleteCertificate(ctx, acct.ID, old.ID); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if stopReaders() == 0 {
		t.Fatal("the background readers never completed a read, so no batch was shared")
	}
	if _, err := s1.DeleteCertificate(ctx, acct.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s2.GetCertificate(ctx, acct.ID, c.ID); ssod.CodeOf(err) != ssod.ENotFound {
		t.Fatalf("instance 2 reads a certificate instance 1 deleted: %v", err)
	}
}

// readInBackground runs read in n goroutines, over and over (g is the
// goroutine, i counts its calls), until stop; stop waits for them and
// returns how many reads succeeded. A failed read fails the test.
func readInBackground(t *testing.T, n int, read func(g, i int) error) (stop func() int64) {
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	var ok atomic.Int64
	for g := range n {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				if err := read(g, i); err != nil {
					t.Errorf("background read: %v", err)
					return
				}
				ok.Add(1)
			}
		})
	}
	return func() int64 {
		cancel()
		wg.Wait()
		return ok.Load()
	}
}

func integrationUpdate(name string) ssod.IntegrationUpdate {
	yes := true
	link := "https://idp.example/" + name
	return ssod.IntegrationUpdate{Name: &name, Enabled: &yes, SigninURL: &link, SignoutURL: &link, EntityID: &link}
}

func TestReopenReturnsWhatWasWritten(t *testing.T) {
	dsn := pgtest.DSN(t)
	storetest.Reopen(t, func() ssod.Store { return openStore(t, dsn) })
}

// TestOpenErrorsHideThePassword needs no server: the DSNs point nowhere or
// do not parse, and Open must fail without repeating the password.
func TestOpenErrorsHideThePassword(t *testing.T) {
	const secret = "s3cr3t-pw"
	for _, dsn := range []string{
		"",
		"postgres://ssod:" + secret + "@127.0.0.1:1/ssod?sslmode=disable&connect_timeout=5", // nothing listens on port 1
		"postgres://ssod:" + secret + "@127.0.0.1:notaport/ssod",
		"host=127.0.0.1 port=1 user=ssod password=" + secret + " sslmode=disable connect_timeout=5",
	} {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		s, err := Open(ctx, dsn)
		cancel()
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", dsn)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("Open error shows the password: %v", err)
		}
		if !strings.HasPrefix(err.Error(), "postgres: ") {
			t.Errorf("Open error %q does not say which store failed", err)
		}
	}
}

// TestUnstorableLookupsAreNotFound checks that strings PostgreSQL cannot hold
// as TEXT, which SQLite simply fails to find, are "not found" here too and
// not an internal error.
func TestUnstorableLookupsAreNotFound(t *testing.T) {
	s := openStore(t, pgtest.DSN(t))
	defer closeStore(t, s)
	ctx := t.Context()
	acct, err := s.CreateAccount(ctx, "main", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"nul\x00byte", "bad\xffutf8"} {
		want := func(what string, err error, code ssod.Code) {
			t.Helper()
			if got := ssod.CodeOf(err); got != code {
				t.Errorf("%s(%q): got %v (code %q), want code %q", what, bad, err, got, code)
			}
		}
		_, err := s.FindAccountByName(ctx, bad)
		want("FindAccountByName", err, ssod.ENotFound)
		_, err = s.FindKey(ctx, bad)
		want("FindKey", err, ssod.ENotFound)
		want("RevokeKey", s.RevokeKey(ctx, bad, 2), ssod.ENotFound)
		_, err = s.GetIntegration(ctx, acct.ID, bad)
		want("GetIntegration", err, ssod.ENotFound)
		_, err = s.UpdateIntegration(ctx, acct.ID, bad, ssod.IntegrationUpdate{}, 2)
		want("UpdateIntegration", err, ssod.ENotFound)
		want("DeleteIntegration", s.DeleteIntegration(ctx, acct.ID, bad), ssod.ENotFound)
		_, err = s.ListCertificates(ctx, acct.ID, bad)
		want("ListCertificates", err, ssod.ENotFound)
		_, err = s.CreateCertificate(ctx, acct.ID, ssod.CertificateUpdate{IntegrationID: &bad, X509: &ssod.X509{PEM: "p"}})
		want("CreateCertificate", err, ssod.EInvalid)
	}
}

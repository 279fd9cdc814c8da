package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/ssod/ssod"
)

// seedTables are every table of objects, which a seed fills and a reset
// empties. Locking them in this one order is what keeps two seeders (or
// resets) from waiting on each other in a circle.
const seedTables = `accounts, api_keys, integrations, certificates, audit_events, teammates, teammate_subusers`

// resetTables are seedTables and what sign-in remembers of them.
const resetTables = seedTables + `, console_sessions, console_signins, authn_requests, accepted_assertions, login_trace_counters, login_traces`

// resetOrder is resetTables, each before the tables it refers to.
var resetOrder = []string{"console_sessions", "console_signins", "teammate_subusers", "teammates", "login_traces", "login_trace_counters", "accepted_assertions", "authn_requests",
	"certificates", "integrations", "api_keys", "audit_events", "accounts"}

// identities are the identity columns of resetTables, which a reset
// restarts.
var identities = []struct{ table, column string }{
	{"accounts", "id"}, {"integrations", "seq"}, {"certificates", "id"}, {"audit_events", "id"}, {"login_traces", "id"}, {"teammates", "seq"},
}

// A seed or a reset locks whole tables, which requests lock in other
// orders (a row, then its parent's through a foreign key), so waiting for
// one table while holding another could end in a deadlock, whose victim
// might be the request. Instead a seed or reset waits at most lockTimeout
// for each lock, far below PostgreSQL's deadlock_timeout of 1 s: on a
// timeout it gives every lock back, the requests it held up go on, and it
// tries again, up to lockAttempts times.
const (
	lockTimeout      = "200ms"
	lockAttempts     = 50
	lockNotAvailable = "55P03"
	deadlockDetected = "40P01"
)

// ApplySeed implements ssod.Seeder. SHARE ROW EXCLUSIVE on every table
// queues it behind every writer, and every writer (on any instance) behind
// it, while reads go on; two instances that start together with one seed
// apply it once, the second finding every entry as the first wrote it.
func (s *Store) ApplySeed(ctx context.Context, sd *ssod.Seed, now int64) error {
	return wrap("apply seed", s.retryLocks(ctx, func() error {
		return s.write(ctx, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '`+lockTimeout+`'`); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `LOCK TABLE `+seedTables+` IN SHARE ROW EXCLUSIVE MODE`); err != nil {
				return err
			}
			return applySeed(ctx, tx, sd, now)
		})
	}))
}

// ResetTo implements ssod.Resetter. It locks every table ACCESS EXCLUSIVE,
// so readers and writers wait for the commit and then see only the new
// state. It empties them with DELETE and restarts their identity columns
// with ALTER TABLE … RESTART, which a rollback undoes (setval would not be
// undone). TRUNCATE … RESTART IDENTITY does both too, but makes new files
// for every table and index, which for the few rows of a test suite took
// about 3 times as long on an idle machine (18 ms against 6.5 ms) and 10
// times on a busy one (BenchmarkResetTo). Other instances' certificate
// caches are told to drop everything, in the same transaction.
func (s *Store) ResetTo(ctx context.Context, sd *ssod.Seed, now int64) error {
	return wrap("reset", s.retryLocks(ctx, func() error {
		return s.writeChange(ctx, nil, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '`+lockTimeout+`'`); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `LOCK TABLE `+resetTables+` IN ACCESS EXCLUSIVE MODE`); err != nil {
				return err
			}
			b := &pgx.Batch{}
			for _, t := range resetOrder {
				b.Queue(`DELETE FROM ` + t)
			}
			for _, c := range identities {
				b.Queue(`ALTER TABLE ` + c.table + ` ALTER COLUMN ` + c.column + ` RESTART`)
			}
			if err := tx.SendBatch(ctx, b).Close(); err != nil {
				return err
			}
			return applySeed(ctx, tx, sd, now)
		})
	}))
}

// retryLocks runs fn until it does not fail for want of a lock.
func (s *Store) retryLocks(ctx context.Context, fn func() error) error {
	var err error
	for range lockAttempts {
		if err = fn(); !isCode(err, lockNotAvailable) && !isCode(err, deadlockDetected) {
			return err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return err
}

// applySeed writes what the store lacks of sd inside tx, compares what it
// holds, and moves the certificates' sequence past the seed's ids.
func applySeed(ctx context.Context, tx pgx.Tx, sd *ssod.Seed, now int64) error {
	ctx = ssod.WithActor(ctx, ssod.Actor{KeyID: ssod.SeedAuditKeyID})
	accounts := map[string]int64{}
	for _, a := range sd.Accounts {
		parent := accounts[a.Parent] // 0 for none
		got, err := scanAccount(tx.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE name = $1`, a.Name))
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			err = tx.QueryRow(ctx, `INSERT INTO accounts (name, parent_id, created_at) VALUES ($1, NULLIF($2::bigint, 0), $3) RETURNING id`,
				a.Name, parent, now).Scan(&got.ID)
			if err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			if err := ssod.CheckSeedAccount(a, parent, got); err != nil {
				return err
			}
		}
		accounts[a.Name] = got.ID
	}
	for _, k := range sd.Keys {
		got, err := scanKey(tx.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = $1`, k.ID))
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			scopes, err := ssod.JoinScopes(k.Scopes)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO api_keys (`+keyColumns+`) VALUES ($1, $2, $3, $4, $5, $6, 0)`,
				k.ID, accounts[k.Account], k.Name, scopes, k.SecretHash, now); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			if err := ssod.CheckSeedKey(k, accounts[k.Account], got); err != nil {
				return err
			}
		}
	}
	integrationAccount := map[string]int64{}
	for _, si := range sd.Integrations {
		acct := accounts[si.Account]
		integrationAccount[si.ID] = acct
		got, err := scanIntegration(tx.QueryRow(ctx, `SELECT `+integrationRead+` FROM integrations WHERE id = $1`, si.ID))
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM integrations WHERE account_id = $1`, acct).Scan(&n); err != nil {
				return err
			}
			if n >= ssod.MaxIntegrationsPerAccount {
				return ssod.SeedRefused("integration "+strconv.Quote(si.ID), ssod.ErrTooManyIntegrations())
			}
			in := si.Integration
			in.AccountID, in.LastUpdated = acct, now
			if in.JITPersona == "" {
				in.JITPersona = ssod.DefaultJITPersona // seed files do not set JIT yet
			}
			if _, err := tx.Exec(ctx, `INSERT INTO integrations (`+integrationColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
				in.ID, in.AccountID, in.Name, in.Enabled, in.SigninURL, in.SignoutURL,
				in.EntityID, in.CompletedIntegration, in.LastUpdated, in.JITProvisioning, in.JITPersona); err != nil {
				return err
			}
			if err := recordAuditAt(ctx, tx, now, acct, ssod.AuditIntegrationCreate, in.ID, nil, &in); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			if err := ssod.CheckSeedIntegration(si, acct, got); err != nil {
				return err
			}
		}
	}
	for _, sc := range sd.Certificates {
		got, err := scanCertificate(tx.QueryRow(ctx, `SELECT `+certificateColumns+` FROM certificates WHERE id = $1`, sc.ID))
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			c := ssod.Certificate{ID: sc.ID, AccountID: integrationAccount[sc.IntegrationID], IntegrationID: sc.IntegrationID, X509: sc.X509, Enabled: sc.Enabled}
			if err := checkRoom(ctx, tx, c.AccountID, c.IntegrationID, c.PEM, 0, true); err != nil {
				return ssod.SeedRefused("certificate "+strconv.FormatInt(sc.ID, 10), err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO certificates (`+certificateColumns+`) OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, $4, $5, $6, $7)`,
				c.ID, c.AccountID, c.IntegrationID, c.PEM, c.NotBefore, c.NotAfter, c.Enabled); err != nil {
				return err
			}
			if err := recordAuditAt(ctx, tx, now, c.AccountID, ssod.AuditCertificateCreate, strconv.FormatInt(c.ID, 10), nil, &c); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			if err := ssod.CheckSeedCertificate(sc, got); err != nil {
				return err
			}
		}
	}
	for _, st := range sd.Teammates {
		st = st.Resolve(accounts)
		got, err := getTeammate(ctx, tx, st.AccountID, st.Username)
		switch {
		case ssod.CodeOf(err) == ssod.ENotFound:
			t := st.Teammate
			t.CreatedAt, t.UpdatedAt = now, now
			if err := insertTeammate(ctx, tx, &t); err != nil {
				return ssod.SeedRefused(fmt.Sprintf("teammate %q of account %q", st.Username, st.Account), err)
			}
			if err := recordAuditAt(ctx, tx, now, t.AccountID, ssod.AuditTeammateCreate, t.Username, nil, &t); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			if err := ssod.CheckSeedTeammate(st, got); err != nil {
				return err
			}
		}
	}
	b := &pgx.Batch{}
	queueAdvance(b, "certificates", 0)
	return tx.SendBatch(ctx, b).Close()
}

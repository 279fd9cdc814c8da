package postgres

import (
	"context"
	"errors"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/ssod/ssod"
)

// seedTables are every table of objects, which a seed fills and a reset
// empties (sign-in records included: they reference integrations, and
// TRUNCATE refuses a table another references unless both go). Locking them
// in this one order is what keeps two seeders (or resets) from waiting on
// each other in a circle.
const seedTables = `accounts, api_keys, integrations, certificates, audit_events, authn_requests, accepted_assertions, login_trace_counters, login_traces`

// deadlockDetected is the SQLSTATE PostgreSQL gives the transaction it
// cancels to break a cycle of lock waits.
const deadlockDetected = "40P01"

// seedAttempts bounds how often a seed or reset that lost a deadlock (to a
// request locking rows in another order) is tried again; it holds no lock
// once cancelled, so the next attempt usually goes through.
const seedAttempts = 5

// ApplySeed implements ssod.Seeder. SHARE ROW EXCLUSIVE on every table
// queues it behind every writer, and every writer (on any instance) behind
// it, while reads go on; two instances that start together with one seed
// apply it once, the second finding every entry as the first wrote it.
func (s *Store) ApplySeed(ctx context.Context, sd *ssod.Seed, now int64) error {
	return wrap("apply seed", s.retryDeadlock(func() error {
		return s.write(ctx, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `LOCK TABLE `+seedTables+` IN SHARE ROW EXCLUSIVE MODE`); err != nil {
				return err
			}
			return applySeed(ctx, tx, sd, now)
		})
	}))
}

// ResetTo implements ssod.Resetter. TRUNCATE takes ACCESS EXCLUSIVE locks,
// so readers and writers wait for the commit and then see only the new
// state; it restarts the identity sequences inside the transaction (a
// rollback restores them), which DELETE and setval could not: setval is
// never rolled back. Other instances' certificate caches are told to drop
// everything, in the same transaction.
func (s *Store) ResetTo(ctx context.Context, sd *ssod.Seed, now int64) error {
	return wrap("reset", s.retryDeadlock(func() error {
		return s.writeChange(ctx, nil, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `TRUNCATE `+seedTables+` RESTART IDENTITY`); err != nil {
				return err
			}
			return applySeed(ctx, tx, sd, now)
		})
	}))
}

func (s *Store) retryDeadlock(fn func() error) error {
	var err error
	for range seedAttempts {
		if err = fn(); !isCode(err, deadlockDetected) {
			return err
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
		got, err := scanIntegration(tx.QueryRow(ctx, `SELECT `+integrationColumns+` FROM integrations WHERE id = $1`, si.ID))
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM integrations WHERE account_id = $1`, acct).Scan(&n); err != nil {
				return err
			}
			if n >= ssod.MaxIntegrationsPerAccount {
				return ssod.ErrTooManyIntegrations()
			}
			in := si.Integration
			in.AccountID, in.LastUpdated = acct, now
			if _, err := tx.Exec(ctx, `INSERT INTO integrations (`+integrationColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
				in.ID, in.AccountID, in.Name, in.Enabled, in.SigninURL, in.SignoutURL,
				in.EntityID, in.CompletedIntegration, in.LastUpdated); err != nil {
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
				return ssod.SeedCertificateRefused(sc.ID, err)
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
	b := &pgx.Batch{}
	queueAdvance(b, "certificates", 0)
	return tx.SendBatch(ctx, b).Close()
}

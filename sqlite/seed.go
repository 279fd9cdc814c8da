package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/ssod/ssod"
)

// ApplySeed implements ssod.Seeder. The single writer makes every check
// and insert one step.
func (s *Store) ApplySeed(ctx context.Context, sd *ssod.Seed, now int64) error {
	return wrap("apply seed", s.write(ctx, "apply seed", func(tx *sql.Tx) error {
		return applySeed(ctx, tx, sd, now)
	}))
}

// resetTables are every table of objects and of what sign-in remembers,
// children first. sqlite_sequence
// is emptied with them, so AUTOINCREMENT counts from 1 again; accounts'
// ids (a plain INTEGER PRIMARY KEY) restart by themselves once it is empty.
var resetTables = []string{"console_sessions", "console_signins", "teammate_subusers", "teammates", "login_traces", "accepted_assertions", "authn_requests",
	"certificates", "integrations", "api_keys", "audit_events", "accounts"}

// ResetTo implements ssod.Resetter. It is one write like any other, so the
// single writer orders it with concurrent writes, and readers (WAL) see the
// last commit before it or its own.
func (s *Store) ResetTo(ctx context.Context, sd *ssod.Seed, now int64) error {
	return wrap("reset", s.write(ctx, "reset", func(tx *sql.Tx) error {
		for _, t := range resetTables {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+t); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sqlite_sequence`); err != nil {
			return err
		}
		return applySeed(ctx, tx, sd, now)
	}))
}

// applySeed writes what the store lacks of sd inside tx and compares what
// it holds. Explicit certificate ids raise AUTOINCREMENT's counter by
// themselves, so later ids continue after the seed's.
func applySeed(ctx context.Context, tx *sql.Tx, sd *ssod.Seed, now int64) error {
	ctx = ssod.WithActor(ctx, ssod.Actor{KeyID: ssod.SeedAuditKeyID})
	accounts := map[string]int64{}
	for _, a := range sd.Accounts {
		parent := accounts[a.Parent] // 0 for none
		got, err := scanAccount(tx.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE name = ?`, a.Name))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			res, err := tx.ExecContext(ctx, `INSERT INTO accounts (name, parent_id, created_at) VALUES (?, ?, ?)`,
				a.Name, sql.Null[int64]{V: parent, Valid: parent != 0}, now)
			if err != nil {
				return err
			}
			if got.ID, err = res.LastInsertId(); err != nil {
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
		got, err := scanKey(tx.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = ?`, k.ID))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			scopes, err := ssod.JoinScopes(k.Scopes)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO api_keys (`+keyColumns+`) VALUES (?, ?, ?, ?, ?, ?, 0)`,
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
		got, err := scanIntegration(tx.QueryRowContext(ctx, `SELECT `+integrationRead+` FROM integrations WHERE id = ?`, si.ID))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM integrations WHERE account_id = ?`, acct).Scan(&n); err != nil {
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
			if _, err := tx.ExecContext(ctx, `INSERT INTO integrations (`+integrationColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
		got, err := scanCertificate(tx.QueryRowContext(ctx, `SELECT `+certificateColumns+` FROM certificates WHERE id = ?`, sc.ID))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			c := ssod.Certificate{ID: sc.ID, AccountID: integrationAccount[sc.IntegrationID], IntegrationID: sc.IntegrationID, X509: sc.X509, Enabled: sc.Enabled}
			if err := checkRoom(ctx, tx, c.AccountID, c.IntegrationID, c.PEM, 0, true); err != nil {
				return ssod.SeedRefused("certificate "+strconv.FormatInt(sc.ID, 10), err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO certificates (`+certificateColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
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
	return nil
}

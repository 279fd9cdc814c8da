package sqlite

import (
	"context"
	"database/sql"

	"github.com/ssod/ssod"
)

const auditColumns = `id, at, account_id, actor_account_id, key_id, operation, object_id, before, after`

// Export implements ssod.Exporter.
func (s *Store) Export(ctx context.Context) (*ssod.Snapshot, error) {
	snap := &ssod.Snapshot{}
	err := s.read(ctx, "export", func(tx *sql.Tx) error {
		var err error
		if snap.Accounts, err = list(ctx, tx, scanAccount, `SELECT `+accountColumns+` FROM accounts ORDER BY id`); err != nil {
			return err
		}
		if snap.Keys, err = list(ctx, tx, scanKey, `SELECT `+keyColumns+` FROM api_keys ORDER BY id`); err != nil {
			return err
		}
		if snap.Integrations, err = list(ctx, tx, scanIntegration, `SELECT `+integrationRead+` FROM integrations ORDER BY seq`); err != nil {
			return err
		}
		if snap.Certificates, err = list(ctx, tx, scanCertificate, `SELECT `+certificateColumns+` FROM certificates ORDER BY id`); err != nil {
			return err
		}
		if snap.AuditEvents, err = list(ctx, tx, scanAuditEvent, `SELECT `+auditColumns+` FROM audit_events ORDER BY id`); err != nil {
			return err
		}
		if snap.Teammates, err = exportTeammates(ctx, tx); err != nil {
			return err
		}
		if snap.AuthnRequests, err = list(ctx, tx, scanSignInRecord,
			`SELECT integration_id, request_id, expires_at FROM authn_requests ORDER BY integration_id, request_id`); err != nil {
			return err
		}
		if snap.Assertions, err = list(ctx, tx, scanSignInRecord,
			`SELECT integration_id, assertion_id, expires_at FROM accepted_assertions ORDER BY integration_id, assertion_id`); err != nil {
			return err
		}
		if snap.LoginTraces, err = list(ctx, tx, scanTrace, `SELECT `+traceColumns+` FROM login_traces ORDER BY id`); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx,
			`SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'certificates'), 0),
			        COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'login_traces'), 0)`).
			Scan(&snap.LastCertificateID, &snap.LastLoginTraceID)
	})
	if err != nil {
		return nil, wrap("export", err)
	}
	return snap, nil
}

// Import implements ssod.Importer. Explicit ids raise AUTOINCREMENT's
// counters to the highest one written, so new ids continue after them.
func (s *Store) Import(ctx context.Context, snap *ssod.Snapshot) error {
	err := s.write(ctx, "import", func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM accounts) + (SELECT count(*) FROM audit_events)`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return ssod.Errorf(ssod.EConflict, "the target database is not empty")
		}
		for _, a := range snap.Accounts {
			var parent any
			if a.ParentID != 0 {
				parent = a.ParentID
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO accounts (id, name, parent_id, created_at) VALUES (?, ?, ?, ?)`,
				a.ID, a.Name, parent, a.CreatedAt); err != nil {
				return err
			}
		}
		for _, k := range snap.Keys {
			scopes, err := ssod.JoinScopes(k.Scopes)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO api_keys (`+keyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				k.ID, k.AccountID, k.Name, scopes, k.SecretHash, k.CreatedAt, k.RevokedAt); err != nil {
				return err
			}
		}
		for _, in := range snap.Integrations {
			if _, err := tx.ExecContext(ctx, `INSERT INTO integrations (`+integrationRead+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				in.ID, in.AccountID, in.Name, in.Enabled, in.SigninURL, in.SignoutURL, in.EntityID, in.CompletedIntegration, in.LastUpdated,
				in.JITProvisioning, in.JITPersona, in.MetadataURL, in.MetadataRefreshedAt, in.MetadataError, in.MetadataClaimedAt); err != nil {
				return err
			}
		}
		for _, c := range snap.Certificates {
			if _, err := tx.ExecContext(ctx, `INSERT INTO certificates (`+certificateColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				c.ID, c.AccountID, c.IntegrationID, c.PEM, c.NotBefore, c.NotAfter, c.Enabled); err != nil {
				return err
			}
		}
		for _, e := range snap.AuditEvents {
			if _, err := tx.ExecContext(ctx, `INSERT INTO audit_events (`+auditColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				e.ID, e.At, e.AccountID, e.ActorAccountID, e.KeyID, e.Operation, e.ObjectID, e.Before, e.After); err != nil {
				return err
			}
		}
		for i := range snap.Teammates {
			t := snap.Teammates[i]
			// Imported as it was, bypassing the limit: the copy keeps what the
			// source held.
			scopes, err := ssod.EncodeScopeList(t.Scopes)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx,
				`INSERT INTO teammates (username_key, `+teammateColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				ssod.UsernameKey(t.Username), t.AccountID, t.Username, t.FirstName, t.LastName, t.IsAdmin, t.Persona, scopes,
				t.HasRestrictedSubuserAccess, t.CreatedAt, t.UpdatedAt); err != nil {
				return err
			}
			if err := writeSubusers(ctx, tx, &t); err != nil {
				return err
			}
		}
		for _, r := range snap.AuthnRequests {
			if _, err := tx.ExecContext(ctx, `INSERT INTO authn_requests (integration_id, request_id, expires_at) VALUES (?, ?, ?)`,
				r.IntegrationID, r.ID, r.ExpiresAt); err != nil {
				return err
			}
		}
		for _, r := range snap.Assertions {
			if _, err := tx.ExecContext(ctx, `INSERT INTO accepted_assertions (integration_id, assertion_id, expires_at) VALUES (?, ?, ?)`,
				r.IntegrationID, r.ID, r.ExpiresAt); err != nil {
				return err
			}
		}
		// Traces come by id, which within an integration is the order n
		// numbers them in.
		nth := map[string]int64{}
		for _, t := range snap.LoginTraces {
			nth[t.IntegrationID]++
			if _, err := insertTrace(ctx, tx, t, nth[t.IntegrationID]); err != nil {
				return err
			}
		}
		// AUTOINCREMENT keeps its counters here; a deleted highest id must
		// stay used.
		if err := raiseSequence(ctx, tx, "certificates", snap.LastCertificateID); err != nil {
			return err
		}
		return raiseSequence(ctx, tx, "login_traces", snap.LastLoginTraceID)
	})
	return wrap("import", err)
}

// raiseSequence makes AUTOINCREMENT's next id for table at least floor + 1.
func raiseSequence(ctx context.Context, tx *sql.Tx, table string, floor int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?`, floor, table)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx,
		`INSERT INTO sqlite_sequence (name, seq) SELECT ?, ? WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = ?)`,
		table, floor, table)
	return err
}

func scanSignInRecord(r scanner) (ssod.SignInRecord, error) {
	var rec ssod.SignInRecord
	err := r.Scan(&rec.IntegrationID, &rec.ID, &rec.ExpiresAt)
	return rec, err
}

package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/ssod/ssod"
)

// Export implements ssod.Exporter. One repeatable-read transaction gives
// every table the same snapshot.
func (s *Store) Export(ctx context.Context) (*ssod.Snapshot, error) {
	snap := &ssod.Snapshot{}
	err := s.read(ctx, func(tx pgx.Tx) error {
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
		// IDs in byte order (COLLATE "C"), the order SQLite gives, so that
		// both stores export alike.
		if snap.AuthnRequests, err = list(ctx, tx, scanSignInRecord,
			`SELECT integration_id, request_id, expires_at FROM authn_requests
			 ORDER BY integration_id COLLATE "C", request_id COLLATE "C"`); err != nil {
			return err
		}
		if snap.Assertions, err = list(ctx, tx, scanSignInRecord,
			`SELECT integration_id, assertion_id, expires_at FROM accepted_assertions
			 ORDER BY integration_id COLLATE "C", assertion_id COLLATE "C"`); err != nil {
			return err
		}
		if snap.Teammates, err = exportTeammates(ctx, tx); err != nil {
			return err
		}
		if snap.LoginTraces, err = list(ctx, tx, scanStoredTrace, `SELECT `+traceColumns+` FROM login_traces ORDER BY id`); err != nil {
			return err
		}
		// The identity sequences remember the highest id handed out, deleted
		// or not; NULL when they have handed out none. Sequences are outside
		// transactions, so this may count an insert the snapshot does not
		// see (or one rolled back), which only makes the copy skip more ids.
		return tx.QueryRow(ctx,
			`SELECT COALESCE(pg_sequence_last_value(pg_get_serial_sequence('certificates', 'id')::regclass), 0),
			        COALESCE(pg_sequence_last_value(pg_get_serial_sequence('login_traces', 'id')::regclass), 0)`).
			Scan(&snap.LastCertificateID, &snap.LastLoginTraceID)
	})
	if err != nil {
		return nil, wrap("export", err)
	}
	return snap, nil
}

// Import implements ssod.Importer. Rows keep their ids (OVERRIDING SYSTEM
// VALUE), except integrations' seq, which is generated anew in the given
// order and so keeps "oldest first"; the identity sequences are then moved
// past the highest imported id, so new ids continue after them.
func (s *Store) Import(ctx context.Context, snap *ssod.Snapshot) error {
	err := s.write(ctx, func(tx pgx.Tx) error {
		// SHARE ROW EXCLUSIVE conflicts with itself and with every writer's
		// ROW EXCLUSIVE, so a concurrent import or first account waits until
		// this one ends and then finds the store not empty; the check below
		// cannot be overtaken.
		if _, err := tx.Exec(ctx, `LOCK TABLE accounts, audit_events IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		var empty bool
		if err := tx.QueryRow(ctx,
			`SELECT NOT EXISTS (SELECT 1 FROM accounts) AND NOT EXISTS (SELECT 1 FROM audit_events)`).Scan(&empty); err != nil {
			return err
		}
		if !empty {
			return ssod.Errorf(ssod.EConflict, "the target database is not empty")
		}
		// One batch: every insert in one round trip, run in order, the
		// first failure failing the whole transaction.
		b := &pgx.Batch{}
		for _, a := range snap.Accounts {
			b.Queue(`INSERT INTO accounts (id, name, parent_id, created_at) OVERRIDING SYSTEM VALUE
				VALUES ($1, $2, NULLIF($3::bigint, 0), $4)`,
				a.ID, a.Name, a.ParentID, a.CreatedAt)
		}
		for _, k := range snap.Keys {
			scopes, err := ssod.JoinScopes(k.Scopes)
			if err != nil {
				return err
			}
			b.Queue(`INSERT INTO api_keys (`+keyColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
				k.ID, k.AccountID, k.Name, scopes, k.SecretHash, k.CreatedAt, k.RevokedAt)
		}
		for _, in := range snap.Integrations {
			b.Queue(`INSERT INTO integrations (`+integrationRead+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
				in.ID, in.AccountID, in.Name, in.Enabled, in.SigninURL, in.SignoutURL,
				in.EntityID, in.CompletedIntegration, in.LastUpdated, in.JITProvisioning, in.JITPersona,
				in.MetadataURL, in.MetadataRefreshedAt, in.MetadataError, in.MetadataClaimedAt)
		}
		for _, c := range snap.Certificates {
			b.Queue(`INSERT INTO certificates (`+certificateColumns+`) OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, $4, $5, $6, $7)`,
				c.ID, c.AccountID, c.IntegrationID, c.PEM, c.NotBefore, c.NotAfter, c.Enabled)
		}
		for _, e := range snap.AuditEvents {
			b.Queue(`INSERT INTO audit_events (`+auditColumns+`) OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
				e.ID, e.At, e.AccountID, e.ActorAccountID, e.KeyID, e.Operation, e.ObjectID, e.Before, e.After)
		}
		for _, r := range snap.AuthnRequests {
			b.Queue(`INSERT INTO authn_requests (integration_id, request_id, expires_at) VALUES ($1, $2, $3)`,
				r.IntegrationID, r.ID, r.ExpiresAt)
		}
		for _, r := range snap.Assertions {
			b.Queue(`INSERT INTO accepted_assertions (integration_id, assertion_id, expires_at) VALUES ($1, $2, $3)`,
				r.IntegrationID, r.ID, r.ExpiresAt)
		}
		// Traces come by id, which within an integration is the order n
		// numbers them in; each counter then holds its integration's last n.
		nth := map[string]int64{}
		for _, t := range snap.LoginTraces {
			nth[t.IntegrationID]++
			b.Queue(`INSERT INTO login_traces (n, `+traceColumns+`) OVERRIDING SYSTEM VALUE
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
				nth[t.IntegrationID], t.ID, t.IntegrationID, t.Time, t.Result, t.Message, orNull(t.NameID),
				orNull(t.AssertionID), orNull(t.CertificateID), orNull(t.InResponseTo), orNull(t.RequestID))
		}
		b.Queue(`INSERT INTO login_trace_counters (integration_id, n) SELECT integration_id, max(n) FROM login_traces GROUP BY integration_id`)
		// A deleted highest certificate or trace id must stay used.
		queueAdvance(b, "accounts", 0)
		queueAdvance(b, "certificates", snap.LastCertificateID)
		queueAdvance(b, "audit_events", 0)
		queueAdvance(b, "login_traces", snap.LastLoginTraceID)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		return importTeammates(ctx, tx, snap.Teammates)
	})
	return wrap("import", err)
}

// queueAdvance queues moving the identity sequence of table's id column so
// that the next id is above every id in the table and above floor. It never
// moves a sequence back, so not even an id of a rolled-back insert is handed
// out twice. table is one of ours, never input.
func queueAdvance(b *pgx.Batch, table string, floor int64) {
	b.Queue(`SELECT setval(seq, GREATEST(v, 1), v > 0)
		FROM (SELECT pg_get_serial_sequence($1, 'id')::regclass AS seq) s,
		LATERAL (SELECT GREATEST(
			(SELECT max(id) FROM `+table+`), $2::bigint, COALESCE(pg_sequence_last_value(s.seq), 0)) AS v) m`,
		table, floor)
}

func scanSignInRecord(r scanner) (ssod.SignInRecord, error) {
	var rec ssod.SignInRecord
	err := r.Scan(&rec.IntegrationID, &rec.ID, &rec.ExpiresAt)
	return rec, err
}

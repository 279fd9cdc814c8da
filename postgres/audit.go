package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ssod/ssod"
)

const auditColumns = `id, at, account_id, actor_account_id, key_id, operation, object_id, before, after`

// recordAudit writes the event for a change made under ctx inside the
// change's transaction, so a change and its record commit or vanish together.
func recordAudit(ctx context.Context, tx pgx.Tx, accountID int64, op, objectID string, before, after any) error {
	return recordAuditAt(ctx, tx, time.Now().Unix(), accountID, op, objectID, before, after)
}

// recordAuditAt is recordAudit at a given time.
func recordAuditAt(ctx context.Context, tx pgx.Tx, at, accountID int64, op, objectID string, before, after any) error {
	ev := ssod.NewAuditEvent(ctx, at, accountID, op, objectID, before, after)
	_, err := tx.Exec(ctx,
		`INSERT INTO audit_events (at, account_id, actor_account_id, key_id, operation, object_id, before, after)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		ev.At, ev.AccountID, ev.ActorAccountID, ev.KeyID, ev.Operation, ev.ObjectID, ev.Before, ev.After)
	return err
}

func scanAuditEvent(r scanner) (ssod.AuditEvent, error) {
	var ev ssod.AuditEvent
	err := r.Scan(&ev.ID, &ev.At, &ev.AccountID, &ev.ActorAccountID, &ev.KeyID, &ev.Operation, &ev.ObjectID, &ev.Before, &ev.After)
	return ev, err
}

// ListAuditEvents implements ssod.AuditStore. A negative limit means no
// limit, as in SQLite, where PostgreSQL would refuse it.
func (s *Store) ListAuditEvents(ctx context.Context, accountID int64, limit int) ([]ssod.AuditEvent, error) {
	var lim any = limit
	if limit < 0 {
		lim = nil // LIMIT NULL is no limit
	}
	// Two queries rather than "$1 = 0 OR account_id = $1", whose generic
	// plan could not use the (account_id, id) index.
	query, args := `SELECT `+auditColumns+` FROM audit_events ORDER BY id DESC LIMIT $1`, []any{lim}
	if accountID != 0 {
		query = `SELECT ` + auditColumns + ` FROM audit_events WHERE account_id = $1 ORDER BY id DESC LIMIT $2`
		args = []any{accountID, lim}
	}
	evs, err := list(ctx, s.pool, scanAuditEvent, query, args...)
	if err != nil {
		return nil, wrap("list audit events", err)
	}
	return evs, nil
}

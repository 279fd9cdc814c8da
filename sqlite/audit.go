package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/ssod/ssod"
)

// recordAudit writes the event for a change made under ctx inside the
// change's transaction, so a change and its record commit or vanish together.
func recordAudit(ctx context.Context, tx *sql.Tx, accountID int64, op, objectID string, before, after any) error {
	return recordAuditAt(ctx, tx, time.Now().Unix(), accountID, op, objectID, before, after)
}

// recordAuditAt is recordAudit at a given time.
func recordAuditAt(ctx context.Context, tx *sql.Tx, at, accountID int64, op, objectID string, before, after any) error {
	ev := ssod.NewAuditEvent(ctx, at, accountID, op, objectID, before, after)
	_, err := tx.ExecContext(ctx,
		`INSERT INTO audit_events (at, account_id, actor_account_id, key_id, operation, object_id, before, after)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		ev.At, ev.AccountID, ev.ActorAccountID, ev.KeyID, ev.Operation, ev.ObjectID, ev.Before, ev.After)
	return err
}

func scanAuditEvent(r scanner) (ssod.AuditEvent, error) {
	var ev ssod.AuditEvent
	err := r.Scan(&ev.ID, &ev.At, &ev.AccountID, &ev.ActorAccountID, &ev.KeyID, &ev.Operation, &ev.ObjectID, &ev.Before, &ev.After)
	return ev, err
}

// ListAuditEvents implements ssod.AuditStore.
func (s *Store) ListAuditEvents(ctx context.Context, accountID int64, limit int) ([]ssod.AuditEvent, error) {
	evs, err := list(ctx, s.reads, scanAuditEvent,
		`SELECT id, at, account_id, actor_account_id, key_id, operation, object_id, before, after
		 FROM audit_events WHERE ? = 0 OR account_id = ? ORDER BY id DESC LIMIT ?`,
		accountID, accountID, limit)
	if err != nil {
		return nil, wrap("list audit events", err)
	}
	return evs, nil
}

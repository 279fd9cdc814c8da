package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/ssod/ssod"
)

func getExpiryWebhook(ctx context.Context, q querier, accountID int64) (*ssod.ExpiryWebhook, error) {
	w := ssod.ExpiryWebhook{AccountID: accountID}
	err := q.QueryRowContext(ctx,
		`SELECT w.url, w.enabled, k.public_key FROM expiry_webhooks w
		 JOIN webhook_signing_keys k ON k.account_id = w.account_id WHERE w.account_id = ?`, accountID).
		Scan(&w.URL, &w.Enabled, &w.PublicKey)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ssod.ErrExpiryWebhookNotFound()
	}
	if err != nil {
		return nil, err
	}
	return &w, nil
}

// PutExpiryWebhook implements ssod.ExpiryWebhookStore.
func (s *Store) PutExpiryWebhook(ctx context.Context, accountID int64, url string, enabled bool, key ssod.SigningKey) (*ssod.ExpiryWebhook, error) {
	const op = "put expiry webhook"
	var out *ssod.ExpiryWebhook
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO webhook_signing_keys (account_id, private_key, public_key)
			VALUES (?, ?, ?) ON CONFLICT (account_id) DO NOTHING`, accountID, key.Private, key.Public)
		if isForeignKey(err) {
			return ssod.Errorf(ssod.ENotFound, "account %d does not exist", accountID)
		}
		if err != nil {
			return err
		}
		before, err := getExpiryWebhook(ctx, tx, accountID)
		if err != nil && ssod.CodeOf(err) != ssod.ENotFound {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO expiry_webhooks (account_id, url, enabled, updated_at)
			VALUES (?, ?, ?, unixepoch()) ON CONFLICT (account_id) DO UPDATE
			SET url = excluded.url, enabled = excluded.enabled, updated_at = excluded.updated_at`,
			accountID, url, enabled); err != nil {
			return err
		}
		if out, err = getExpiryWebhook(ctx, tx, accountID); err != nil {
			return err
		}
		if before != nil && before.URL == out.URL && before.Enabled == out.Enabled {
			return nil // nothing changed: nothing to audit
		}
		return recordAudit(ctx, tx, accountID, ssod.AuditExpiryWebhookUpdate, ssod.ExpiryWebhookObject, before, out)
	})
	if err != nil {
		return nil, wrap(op, err)
	}
	return out, nil
}

// GetExpiryWebhook implements ssod.ExpiryWebhookStore.
func (s *Store) GetExpiryWebhook(ctx context.Context, accountID int64) (*ssod.ExpiryWebhook, error) {
	w, err := getExpiryWebhook(ctx, s.reader, accountID)
	return w, wrap("get expiry webhook", err)
}

// DeleteExpiryWebhook implements ssod.ExpiryWebhookStore.
func (s *Store) DeleteExpiryWebhook(ctx context.Context, accountID int64) error {
	const op = "delete expiry webhook"
	return wrap(op, s.write(ctx, op, func(tx *sql.Tx) error {
		before, err := getExpiryWebhook(ctx, tx, accountID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM expiry_webhooks WHERE account_id = ?`, accountID); err != nil {
			return err
		}
		return recordAudit(ctx, tx, accountID, ssod.AuditExpiryWebhookDelete, ssod.ExpiryWebhookObject, before, nil)
	}))
}

// ListExpiryWatches implements ssod.ExpiryWebhookStore.
func (s *Store) ListExpiryWatches(ctx context.Context) ([]ssod.ExpiryWatch, error) {
	var ws []ssod.ExpiryWatch
	err := s.read(ctx, "list expiry watches", func(tx *sql.Tx) error {
		const watched = ` FROM integrations i
			JOIN expiry_webhooks w ON w.account_id = i.account_id AND w.enabled
			WHERE i.enabled`
		var err error
		ws, err = list(ctx, tx, func(r scanner) (ssod.ExpiryWatch, error) {
			var w ssod.ExpiryWatch
			return w, r.Scan(&w.AccountID, &w.IntegrationID, &w.Epoch)
		}, `SELECT i.account_id, i.id, COALESCE((SELECT epoch FROM expiry_states WHERE integration_id = i.id), 0)`+watched+` ORDER BY i.seq`)
		if err != nil {
			return err
		}
		certs, err := list(ctx, tx, scanCertificateWindow,
			`SELECT c.id, c.account_id, c.integration_id, c.not_before, c.not_after, c.enabled
			 FROM certificates c JOIN integrations i ON i.id = c.integration_id
			 JOIN expiry_webhooks w ON w.account_id = i.account_id AND w.enabled
			 WHERE i.enabled ORDER BY c.id`)
		if err != nil {
			return err
		}
		marks, err := list(ctx, tx, func(r scanner) (ssod.QueuedMark, error) {
			var m ssod.QueuedMark
			return m, r.Scan(&m.IntegrationID, &m.Event, &m.DaysLeft)
		}, `SELECT e.integration_id, e.event, e.days_left FROM expiry_events e
			JOIN expiry_states st ON st.integration_id = e.integration_id AND st.epoch = e.epoch ORDER BY e.id`)
		if err != nil {
			return err
		}
		ssod.AttachToWatches(ws, certs, marks)
		return nil
	})
	if err != nil {
		return nil, wrap("list expiry watches", err)
	}
	return ws, nil
}

// QueueExpiryEvent implements ssod.ExpiryWebhookStore. The single writer
// makes the epoch check, the renewal and the insert one step.
func (s *Store) QueueExpiryEvent(ctx context.Context, ev ssod.ExpiryEvent) (bool, error) {
	const op = "queue expiry event"
	var queued bool
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO expiry_states (integration_id, epoch) VALUES (?, 0) ON CONFLICT DO NOTHING`, ev.IntegrationID)
		if isForeignKey(err) {
			return nil // the integration has gone
		}
		if err != nil {
			return err
		}
		var epoch int64
		if err := tx.QueryRowContext(ctx, `SELECT epoch FROM expiry_states WHERE integration_id = ?`, ev.IntegrationID).Scan(&epoch); err != nil {
			return err
		}
		if epoch != ev.Epoch {
			return nil
		}
		if ev.Event == ssod.EventSigningRenewed {
			ev.Epoch++
			if _, err := tx.ExecContext(ctx, `UPDATE expiry_states SET epoch = ? WHERE integration_id = ?`, ev.Epoch, ev.IntegrationID); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO expiry_events (account_id, integration_id, epoch, event, days_left,
			signing_valid_until, timestamp, event_id, status, attempts, next_attempt, last_error, lease_until, lease_token)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, '', 0, '') ON CONFLICT DO NOTHING`,
			ev.AccountID, ev.IntegrationID, ev.Epoch, ev.Event, ev.DaysLeft, ev.SigningValidUntil, ev.Timestamp,
			ev.EventID, ssod.DeliveryPending, ev.Timestamp)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		queued = n == 1
		return err
	})
	if err != nil {
		return false, wrap(op, err)
	}
	return queued, nil
}

const expiryEventColumns = `e.id, e.account_id, e.integration_id, e.epoch, e.event, e.days_left, e.signing_valid_until,
	e.timestamp, e.event_id, e.status, e.attempts, e.next_attempt, e.last_error`

func scanExpiryEvent(r scanner, more ...any) (ssod.ExpiryEvent, error) {
	var ev ssod.ExpiryEvent
	var until sql.Null[int64]
	err := r.Scan(append([]any{&ev.ID, &ev.AccountID, &ev.IntegrationID, &ev.Epoch, &ev.Event, &ev.DaysLeft, &until,
		&ev.Timestamp, &ev.EventID, &ev.Status, &ev.Attempts, &ev.NextAttempt, &ev.LastError}, more...)...)
	if until.Valid {
		ev.SigningValidUntil = &until.V
	}
	return ev, err
}

// ClaimExpiryEvent implements ssod.ExpiryWebhookStore.
func (s *Store) ClaimExpiryEvent(ctx context.Context, now, leaseUntil int64, token string) (*ssod.ExpiryClaim, error) {
	const op = "claim expiry event"
	var c *ssod.ExpiryClaim
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		var claim ssod.ExpiryClaim
		var err error
		claim.ExpiryEvent, err = scanExpiryEvent(tx.QueryRowContext(ctx, `SELECT `+expiryEventColumns+`, w.url, k.private_key
			FROM expiry_events e
			JOIN expiry_webhooks w ON w.account_id = e.account_id AND w.enabled
			JOIN webhook_signing_keys k ON k.account_id = e.account_id
			WHERE e.status = ? AND e.next_attempt <= ? AND e.lease_until <= ?
			ORDER BY e.next_attempt, e.id LIMIT 1`, ssod.DeliveryPending, now, now), &claim.URL, &claim.PrivateKey)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE expiry_events SET lease_until = ?, lease_token = ? WHERE id = ?`,
			leaseUntil, token, claim.ID); err != nil {
			return err
		}
		claim.Token = token
		c = &claim
		return nil
	})
	if err != nil {
		return nil, wrap(op, err)
	}
	return c, nil
}

// FinishExpiryEvent implements ssod.ExpiryWebhookStore.
func (s *Store) FinishExpiryEvent(ctx context.Context, id int64, token string, a ssod.ExpiryAttempt) (bool, error) {
	const op = "finish expiry event"
	if token == "" {
		return false, nil // an empty token would match every unleased event
	}
	var done bool
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE expiry_events SET status = ?, attempts = attempts + 1, next_attempt = ?,
			last_error = ?, lease_until = 0, lease_token = '' WHERE id = ? AND lease_token = ?`,
			a.Status, a.NextAttempt, a.LastError, id, token)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		done = n == 1
		return err
	})
	if err != nil {
		return false, wrap(op, err)
	}
	return done, nil
}

// ListExpiryEvents implements ssod.ExpiryWebhookStore.
func (s *Store) ListExpiryEvents(ctx context.Context, accountID int64) ([]ssod.ExpiryEvent, error) {
	evs, err := list(ctx, s.reader, func(r scanner) (ssod.ExpiryEvent, error) { return scanExpiryEvent(r) },
		`SELECT `+expiryEventColumns+` FROM expiry_events e WHERE e.account_id = ? ORDER BY e.id`, accountID)
	if err != nil {
		return nil, wrap("list expiry events", err)
	}
	return evs, nil
}

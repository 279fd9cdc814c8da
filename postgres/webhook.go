package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/ssod/ssod"
)

func getExpiryWebhook(ctx context.Context, q querier, accountID int64) (*ssod.ExpiryWebhook, error) {
	w := ssod.ExpiryWebhook{AccountID: accountID}
	err := q.QueryRow(ctx,
		`SELECT w.url, w.enabled, k.public_key FROM expiry_webhooks w
		 JOIN webhook_signing_keys k ON k.account_id = w.account_id WHERE w.account_id = $1`, accountID).
		Scan(&w.URL, &w.Enabled, &w.PublicKey)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ssod.ErrExpiryWebhookNotFound()
	}
	if err != nil {
		return nil, err
	}
	return &w, nil
}

// PutExpiryWebhook implements ssod.ExpiryWebhookStore. The key row, locked
// by the insert or the FOR UPDATE, orders concurrent puts of one account.
func (s *Store) PutExpiryWebhook(ctx context.Context, accountID int64, url string, enabled bool, key ssod.SigningKey) (*ssod.ExpiryWebhook, error) {
	var out *ssod.ExpiryWebhook
	err := s.write(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO webhook_signing_keys (account_id, private_key, public_key)
			VALUES ($1, $2, $3) ON CONFLICT (account_id) DO NOTHING`, accountID, key.Private, key.Public)
		if isForeignKey(err) {
			return ssod.Errorf(ssod.ENotFound, "account %d does not exist", accountID)
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT 1 FROM webhook_signing_keys WHERE account_id = $1 FOR UPDATE`, accountID); err != nil {
			return err
		}
		before, err := getExpiryWebhook(ctx, tx, accountID)
		if err != nil && ssod.CodeOf(err) != ssod.ENotFound {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO expiry_webhooks (account_id, url, enabled, updated_at)
			VALUES ($1, $2, $3, extract(epoch FROM now())::bigint) ON CONFLICT (account_id) DO UPDATE
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
		return nil, wrap("put expiry webhook", err)
	}
	return out, nil
}

// GetExpiryWebhook implements ssod.ExpiryWebhookStore.
func (s *Store) GetExpiryWebhook(ctx context.Context, accountID int64) (*ssod.ExpiryWebhook, error) {
	w, err := getExpiryWebhook(ctx, s.pool, accountID)
	return w, wrap("get expiry webhook", err)
}

// DeleteExpiryWebhook implements ssod.ExpiryWebhookStore.
func (s *Store) DeleteExpiryWebhook(ctx context.Context, accountID int64) error {
	return wrap("delete expiry webhook", s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT 1 FROM webhook_signing_keys WHERE account_id = $1 FOR UPDATE`, accountID); err != nil {
			return err
		}
		before, err := getExpiryWebhook(ctx, tx, accountID)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM expiry_webhooks WHERE account_id = $1`, accountID); err != nil {
			return err
		}
		return recordAudit(ctx, tx, accountID, ssod.AuditExpiryWebhookDelete, ssod.ExpiryWebhookObject, before, nil)
	}))
}

// ListExpiryWatches implements ssod.ExpiryWebhookStore.
func (s *Store) ListExpiryWatches(ctx context.Context) ([]ssod.ExpiryWatch, error) {
	var ws []ssod.ExpiryWatch
	err := s.read(ctx, func(tx pgx.Tx) error {
		var err error
		ws, err = list(ctx, tx, func(r scanner) (ssod.ExpiryWatch, error) {
			var w ssod.ExpiryWatch
			return w, r.Scan(&w.AccountID, &w.IntegrationID, &w.Epoch)
		}, `SELECT i.account_id, i.id, COALESCE(st.epoch, 0) FROM integrations i
			JOIN expiry_webhooks w ON w.account_id = i.account_id AND w.enabled
			LEFT JOIN expiry_states st ON st.integration_id = i.id
			WHERE i.enabled ORDER BY i.seq`)
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

// QueueExpiryEvent implements ssod.ExpiryWebhookStore. The integration's
// state row, locked FOR UPDATE, orders instances queueing for it at once:
// the second sees the first's epoch and key.
func (s *Store) QueueExpiryEvent(ctx context.Context, ev ssod.ExpiryEvent) (bool, error) {
	var queued bool
	err := s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO expiry_states (integration_id, epoch)
			SELECT id, 0 FROM integrations WHERE id = $1 ON CONFLICT DO NOTHING`, ev.IntegrationID); err != nil {
			return err
		}
		var epoch int64
		err := tx.QueryRow(ctx, `SELECT epoch FROM expiry_states WHERE integration_id = $1 FOR UPDATE`, ev.IntegrationID).Scan(&epoch)
		if errors.Is(err, pgx.ErrNoRows) || err == nil && epoch != ev.Epoch {
			return nil // the integration has gone, or another instance renewed it
		}
		if err != nil {
			return err
		}
		if ev.Event == ssod.EventSigningRenewed {
			ev.Epoch++
			if _, err := tx.Exec(ctx, `UPDATE expiry_states SET epoch = $1 WHERE integration_id = $2`, ev.Epoch, ev.IntegrationID); err != nil {
				return err
			}
		}
		tag, err := tx.Exec(ctx, `INSERT INTO expiry_events (account_id, integration_id, epoch, event, days_left,
			signing_valid_until, timestamp, event_id, status, attempts, next_attempt, last_error, lease_until, lease_token)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $7, '', 0, '') ON CONFLICT DO NOTHING`,
			ev.AccountID, ev.IntegrationID, ev.Epoch, ev.Event, ev.DaysLeft, ev.SigningValidUntil, ev.Timestamp,
			ev.EventID, ssod.DeliveryPending)
		queued = tag.RowsAffected() == 1
		return err
	})
	if err != nil {
		return false, wrap("queue expiry event", err)
	}
	return queued, nil
}

const expiryEventColumns = `e.id, e.account_id, e.integration_id, e.epoch, e.event, e.days_left, e.signing_valid_until,
	e.timestamp, e.event_id, e.status, e.attempts, e.next_attempt, e.last_error`

func scanExpiryEvent(r scanner, more ...any) (ssod.ExpiryEvent, error) {
	var ev ssod.ExpiryEvent
	err := r.Scan(append([]any{&ev.ID, &ev.AccountID, &ev.IntegrationID, &ev.Epoch, &ev.Event, &ev.DaysLeft, &ev.SigningValidUntil,
		&ev.Timestamp, &ev.EventID, &ev.Status, &ev.Attempts, &ev.NextAttempt, &ev.LastError}, more...)...)
	return ev, err
}

// ClaimExpiryEvent implements ssod.ExpiryWebhookStore. SKIP LOCKED lets
// instances claiming at once take different events instead of queueing on
// one; the lease then keeps the event out of later claims until it ends.
func (s *Store) ClaimExpiryEvent(ctx context.Context, now, leaseUntil int64, token string) (*ssod.ExpiryClaim, error) {
	var c *ssod.ExpiryClaim
	err := s.write(ctx, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `WITH due AS (
				SELECT e.id FROM expiry_events e
				JOIN expiry_webhooks w ON w.account_id = e.account_id AND w.enabled
				WHERE e.status = $1 AND e.next_attempt <= $2 AND e.lease_until <= $2
				ORDER BY e.next_attempt, e.id LIMIT 1 FOR UPDATE OF e SKIP LOCKED)
			UPDATE expiry_events SET lease_until = $3, lease_token = $4 FROM due
			WHERE expiry_events.id = due.id RETURNING expiry_events.id`,
			ssod.DeliveryPending, now, leaseUntil, token).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		claim := ssod.ExpiryClaim{Token: token}
		claim.ExpiryEvent, err = scanExpiryEvent(tx.QueryRow(ctx, `SELECT `+expiryEventColumns+`, w.url, k.private_key
			FROM expiry_events e
			JOIN expiry_webhooks w ON w.account_id = e.account_id
			JOIN webhook_signing_keys k ON k.account_id = e.account_id
			WHERE e.id = $1`, id), &claim.URL, &claim.PrivateKey)
		c = &claim
		return err
	})
	if err != nil {
		return nil, wrap("claim expiry event", err)
	}
	return c, nil
}

// FinishExpiryEvent implements ssod.ExpiryWebhookStore.
func (s *Store) FinishExpiryEvent(ctx context.Context, id int64, token string, a ssod.ExpiryAttempt) (bool, error) {
	if token == "" {
		return false, nil // an empty token would match every unleased event
	}
	tag, err := s.pool.Exec(ctx, `UPDATE expiry_events SET status = $1, attempts = attempts + 1, next_attempt = $2,
		last_error = $3, lease_until = 0, lease_token = '' WHERE id = $4 AND lease_token = $5`,
		a.Status, a.NextAttempt, a.LastError, id, token)
	if err != nil {
		return false, wrap("finish expiry event", err)
	}
	return tag.RowsAffected() == 1, nil
}

// ListExpiryEvents implements ssod.ExpiryWebhookStore.
func (s *Store) ListExpiryEvents(ctx context.Context, accountID int64) ([]ssod.ExpiryEvent, error) {
	evs, err := list(ctx, s.pool, func(r scanner) (ssod.ExpiryEvent, error) { return scanExpiryEvent(r) },
		`SELECT `+expiryEventColumns+` FROM expiry_events e WHERE e.account_id = $1 ORDER BY e.id`, accountID)
	if err != nil {
		return nil, wrap("list expiry events", err)
	}
	return evs, nil
}

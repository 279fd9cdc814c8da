package postgres

import (
	"context"
	"errors"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/ssod/ssod"
)

const integrationColumns = `id, account_id, name, enabled, signin_url, signout_url, entity_id, completed_integration, last_updated, jit_provisioning, jit_persona`

// integrationRead is what reads select: integrationColumns, which inserts
// name, and the metadata columns, which inserts leave at their defaults.
const integrationRead = integrationColumns + `, metadata_url, metadata_refreshed_at, metadata_error, metadata_claimed_at`

func scanIntegration(r scanner) (ssod.Integration, error) {
	var in ssod.Integration
	err := r.Scan(&in.ID, &in.AccountID, &in.Name, &in.Enabled, &in.SigninURL, &in.SignoutURL,
		&in.EntityID, &in.CompletedIntegration, &in.LastUpdated, &in.JITProvisioning, &in.JITPersona,
		&in.MetadataURL, &in.MetadataRefreshedAt, &in.MetadataError, &in.MetadataClaimedAt)
	return in, err
}

// CreateIntegration implements ssod.IntegrationStore.
func (s *Store) CreateIntegration(ctx context.Context, accountID int64, u ssod.IntegrationUpdate, now int64) (*ssod.Integration, error) {
	if err := u.ValidateCreate(); err != nil {
		return nil, err // a caller bug; storing empty fields would hide it
	}
	in := u.Apply(ssod.Integration{ID: ssod.NewIntegrationID(), AccountID: accountID, JITPersona: ssod.DefaultJITPersona, LastUpdated: now})
	err := s.write(ctx, func(tx pgx.Tx) error { return insertIntegration(ctx, tx, &in) })
	if err != nil {
		return nil, wrap("create integration", err)
	}
	return &in, nil
}

// insertIntegration stores in, a new integration, and its audit event, if
// its account has room.
func insertIntegration(ctx context.Context, tx pgx.Tx, in *ssod.Integration) error {
	// Locking the account queues its creates, from any instance, so that
	// the count cannot be overtaken; FOR NO KEY UPDATE leaves foreign key
	// checks free. The count is a statement of its own, whose snapshot
	// is taken once the lock is held.
	_, err := tx.Exec(ctx, `SELECT FROM accounts WHERE id = $1 FOR NO KEY UPDATE`, in.AccountID)
	if err != nil {
		return err
	}
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM integrations WHERE account_id = $1`, in.AccountID).Scan(&n); err != nil {
		return err
	}
	if n >= ssod.MaxIntegrationsPerAccount {
		return ssod.ErrTooManyIntegrations()
	}
	_, err = tx.Exec(ctx,
		`INSERT INTO integrations (`+integrationRead+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		in.ID, in.AccountID, in.Name, in.Enabled, in.SigninURL, in.SignoutURL,
		in.EntityID, in.CompletedIntegration, in.LastUpdated, in.JITProvisioning, in.JITPersona,
		in.MetadataURL, in.MetadataRefreshedAt, in.MetadataError, in.MetadataClaimedAt)
	if isForeignKey(err) {
		return ssod.Errorf(ssod.ENotFound, "account %d does not exist", in.AccountID)
	}
	if err != nil {
		return err
	}
	return recordAudit(ctx, tx, in.AccountID, ssod.AuditIntegrationCreate, in.ID, nil, in)
}

// ListIntegrations implements ssod.IntegrationStore.
func (s *Store) ListIntegrations(ctx context.Context, accountID int64) ([]ssod.Integration, error) {
	ins, err := list(ctx, s.pool, scanIntegration,
		`SELECT `+integrationRead+` FROM integrations WHERE account_id = $1 ORDER BY seq`, accountID)
	if err != nil {
		return nil, wrap("list integrations", err)
	}
	return ins, nil
}

// GetIntegration implements ssod.IntegrationStore.
func (s *Store) GetIntegration(ctx context.Context, accountID int64, id string) (*ssod.Integration, error) {
	if unstorable(id) {
		return nil, ssod.ErrIntegrationNotFound(id)
	}
	in, ok, err := s.integrationReads.get(ctx, id)
	if err != nil {
		return nil, wrap("get integration", err)
	}
	if !ok || in.AccountID != accountID {
		return nil, ssod.ErrIntegrationNotFound(id)
	}
	return &in, nil
}

// integrationsByID reads the integrations of ids, of any account: the caller
// checks the owner.
func (s *Store) integrationsByID(ctx context.Context, ids []string) (map[string]ssod.Integration, error) {
	return byID(ctx, s.pool, scanIntegration, func(in ssod.Integration) string { return in.ID },
		`SELECT `+integrationRead+` FROM integrations WHERE id = ANY($1)`, ids)
}

// getIntegration reads one of the account's integrations in tx, with lock
// ("FOR UPDATE" or "FOR KEY SHARE") appended to the query. Another
// account's is reported as missing.
func getIntegration(ctx context.Context, tx pgx.Tx, accountID int64, id, lock string) (ssod.Integration, error) {
	if unstorable(id) {
		return ssod.Integration{}, ssod.ErrIntegrationNotFound(id)
	}
	in, err := scanIntegration(tx.QueryRow(ctx,
		`SELECT `+integrationRead+` FROM integrations WHERE id = $1 AND account_id = $2 `+lock, id, accountID))
	if errors.Is(err, pgx.ErrNoRows) {
		return in, ssod.ErrIntegrationNotFound(id)
	}
	return in, err
}

// UpdateIntegration implements ssod.IntegrationStore.
func (s *Store) UpdateIntegration(ctx context.Context, accountID int64, id string, u ssod.IntegrationUpdate, now int64) (*ssod.Integration, error) {
	var in ssod.Integration
	err := s.write(ctx, func(tx pgx.Tx) error {
		// FOR UPDATE makes a concurrent update, from this instance or
		// another, wait and then read what this one wrote, so every field it
		// leaves unchanged keeps this one's value: two PATCHes compose
		// instead of the later one undoing the earlier.
		old, err := getIntegration(ctx, tx, accountID, id, "FOR UPDATE")
		if err != nil {
			return err
		}
		in = u.Apply(old)
		if in == old {
			return nil // nothing changes: no write, no audit event, last_updated kept
		}
		in.LastUpdated = now
		if err := updateIntegrationRow(ctx, tx, &in); err != nil {
			return err
		}
		return recordAudit(ctx, tx, accountID, ssod.AuditIntegrationUpdate, id, &old, &in)
	})
	if err != nil {
		return nil, wrap("update integration", err)
	}
	return &in, nil
}

// updateIntegrationRow writes every field of in to its row, which the
// caller has locked.
func updateIntegrationRow(ctx context.Context, tx pgx.Tx, in *ssod.Integration) error {
	_, err := tx.Exec(ctx,
		`UPDATE integrations SET name = $1, enabled = $2, signin_url = $3, signout_url = $4, entity_id = $5,
		     completed_integration = $6, last_updated = $7, jit_provisioning = $8, jit_persona = $9,
		     metadata_url = $10, metadata_refreshed_at = $11, metadata_error = $12, metadata_claimed_at = $13
		 WHERE id = $14 AND account_id = $15`,
		in.Name, in.Enabled, in.SigninURL, in.SignoutURL, in.EntityID,
		in.CompletedIntegration, in.LastUpdated, in.JITProvisioning, in.JITPersona,
		in.MetadataURL, in.MetadataRefreshedAt, in.MetadataError, in.MetadataClaimedAt, in.ID, in.AccountID)
	return err
}

// DeleteIntegration implements ssod.IntegrationStore.
func (s *Store) DeleteIntegration(ctx context.Context, accountID int64, id string) error {
	if unstorable(id) {
		return ssod.ErrIntegrationNotFound(id)
	}
	// One transaction: the foreign key's ON DELETE CASCADE removes the
	// certificates in it, and each removed certificate gets its own audit
	// record. FOR UPDATE on the integration makes a certificate insert or
	// move into it, whose foreign key check takes FOR KEY SHARE on it, either
	// commit first (and then be listed here, since each statement of a
	// read-committed transaction sees what committed before it) or wait and
	// then fail. FOR UPDATE on the certificates keeps one from being moved
	// out between the list and the delete, so the list is exactly what the
	// cascade removes. Its certificates are many: the other instances drop
	// every copy.
	err := s.writeChange(ctx, nil, func(tx pgx.Tx) error {
		old, err := getIntegration(ctx, tx, accountID, id, "FOR UPDATE")
		if err != nil {
			return err
		}
		certs, err := list(ctx, tx, scanCertificate,
			`SELECT `+certificateColumns+` FROM certificates WHERE integration_id = $1 AND account_id = $2 ORDER BY id FOR UPDATE`,
			id, accountID)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM integrations WHERE id = $1 AND account_id = $2`, id, accountID); err != nil {
			return err
		}
		for i := range certs {
			if err := recordAudit(ctx, tx, accountID, ssod.AuditCertificateDelete, strconv.FormatInt(certs[i].ID, 10), &certs[i], nil); err != nil {
				return err
			}
		}
		return recordAudit(ctx, tx, accountID, ssod.AuditIntegrationDelete, id, &old, nil)
	})
	return wrap("delete integration", err)
}

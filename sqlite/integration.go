package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strconv"

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
	const op = "create integration"
	err := s.write(ctx, op, func(tx *sql.Tx) error { return insertIntegration(ctx, tx, &in) })
	if err != nil {
		return nil, wrap(op, err)
	}
	return &in, nil
}

// insertIntegration stores in, a new integration, and its audit event, if
// its account has room.
func insertIntegration(ctx context.Context, tx *sql.Tx, in *ssod.Integration) error {
	// The single writer makes the count and the insert one step.
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM integrations WHERE account_id = ?`, in.AccountID).Scan(&n); err != nil {
		return err
	}
	if n >= ssod.MaxIntegrationsPerAccount {
		return ssod.ErrTooManyIntegrations()
	}
	_, err := tx.ExecContext(ctx,
		`INSERT INTO integrations (`+integrationRead+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
	ins, err := list(ctx, s.reads, scanIntegration,
		`SELECT `+integrationRead+` FROM integrations WHERE account_id = ? ORDER BY seq`, accountID)
	if err != nil {
		return nil, wrap("list integrations", err)
	}
	return ins, nil
}

// GetIntegration implements ssod.IntegrationStore.
func (s *Store) GetIntegration(ctx context.Context, accountID int64, id string) (*ssod.Integration, error) {
	in, err := getIntegration(ctx, s.reads, accountID, id)
	if err != nil {
		return nil, wrap("get integration", err)
	}
	return &in, nil
}

// getIntegration reads one of the account's integrations through q, the
// reader or a write transaction. Another account's is reported as missing.
func getIntegration(ctx context.Context, q querier, accountID int64, id string) (ssod.Integration, error) {
	in, err := scanIntegration(q.QueryRowContext(ctx,
		`SELECT `+integrationRead+` FROM integrations WHERE id = ? AND account_id = ?`, id, accountID))
	if errors.Is(err, sql.ErrNoRows) {
		return in, ssod.ErrIntegrationNotFound(id)
	}
	return in, err
}

// UpdateIntegration implements ssod.IntegrationStore.
func (s *Store) UpdateIntegration(ctx context.Context, accountID int64, id string, u ssod.IntegrationUpdate, now int64) (*ssod.Integration, error) {
	const op = "update integration"
	var in ssod.Integration
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		old, err := getIntegration(ctx, tx, accountID, id)
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
		return nil, wrap(op, err)
	}
	return &in, nil
}

// updateIntegrationRow writes every field of in to its row.
func updateIntegrationRow(ctx context.Context, tx *sql.Tx, in *ssod.Integration) error {
	_, err := tx.ExecContext(ctx,
		`UPDATE integrations SET name = ?, enabled = ?, signin_url = ?, signout_url = ?, entity_id = ?,
		     completed_integration = ?, last_updated = ?, jit_provisioning = ?, jit_persona = ?,
		     metadata_url = ?, metadata_refreshed_at = ?, metadata_error = ?, metadata_claimed_at = ?
		 WHERE id = ? AND account_id = ?`,
		in.Name, in.Enabled, in.SigninURL, in.SignoutURL, in.EntityID,
		in.CompletedIntegration, in.LastUpdated, in.JITProvisioning, in.JITPersona,
		in.MetadataURL, in.MetadataRefreshedAt, in.MetadataError, in.MetadataClaimedAt, in.ID, in.AccountID)
	return err
}

// DeleteIntegration implements ssod.IntegrationStore.
func (s *Store) DeleteIntegration(ctx context.Context, accountID int64, id string) error {
	const op = "delete integration"
	// One transaction: the foreign key's ON DELETE CASCADE removes the
	// certificates in it, and a certificate insert for this integration
	// either commits before (and is removed) or fails after. Each removed
	// certificate gets its own audit record.
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		old, err := getIntegration(ctx, tx, accountID, id)
		if err != nil {
			return err
		}
		certs, err := list(ctx, tx, scanCertificate,
			`SELECT `+certificateColumns+` FROM certificates WHERE integration_id = ? AND account_id = ? ORDER BY id`,
			id, accountID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM integrations WHERE id = ? AND account_id = ?`, id, accountID); err != nil {
			return err
		}
		for i := range certs {
			if err := recordAudit(ctx, tx, accountID, ssod.AuditCertificateDelete, strconv.FormatInt(certs[i].ID, 10), &certs[i], nil); err != nil {
				return err
			}
		}
		return recordAudit(ctx, tx, accountID, ssod.AuditIntegrationDelete, id, &old, nil)
	})
	return wrap(op, err)
}

package sqlite

import (
	"context"
	"database/sql"
	"strconv"

	"github.com/ssod/ssod"
)

// ImportMetadata implements ssod.MetadataStore.
func (s *Store) ImportMetadata(ctx context.Context, accountID int64, id string, m ssod.MetadataImport, now int64) (*ssod.Integration, error) {
	const op = "import metadata"
	var in ssod.Integration
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		if err := m.Validate(id == ""); err != nil {
			return err
		}
		if id == "" {
			in, _ = m.Imported(nil, ssod.NewIntegrationID(), accountID, now)
			if err := insertIntegration(ctx, tx, &in); err != nil {
				return err
			}
		} else {
			old, err := getIntegration(ctx, tx, accountID, id)
			if err != nil {
				return err
			}
			var changed bool
			in, changed = m.Imported(&old, id, accountID, now)
			if err := updateIntegrationRow(ctx, tx, &in); err != nil {
				return err
			}
			if changed {
				if err := recordAudit(ctx, tx, accountID, ssod.AuditIntegrationUpdate, id, &old, &in); err != nil {
					return err
				}
			}
		}
		return syncCertificates(ctx, tx, accountID, in.ID, m.Metadata.Certificates)
	})
	if err != nil {
		return nil, wrap(op, err)
	}
	return &in, nil
}

// syncCertificates makes an integration's certificates follow what its IdP
// publishes: each one it lacks added, enabled, and each enabled one no longer
// published disabled; the rest left as they are.
func syncCertificates(ctx context.Context, tx *sql.Tx, accountID int64, integrationID string, published []ssod.X509) error {
	held, err := list(ctx, tx, scanCertificate,
		`SELECT `+certificateColumns+` FROM certificates WHERE integration_id = ? AND account_id = ? ORDER BY id`,
		integrationID, accountID)
	if err != nil {
		return err
	}
	adds, disables := ssod.CertificateChanges(held, published)
	for _, x := range adds {
		c := ssod.Certificate{AccountID: accountID, IntegrationID: integrationID, X509: x, Enabled: true}
		if err := insertCertificate(ctx, tx, &c); err != nil {
			return err
		}
	}
	for _, old := range disables {
		c := old
		c.Enabled = false
		if _, err := tx.ExecContext(ctx, `UPDATE certificates SET enabled = ? WHERE id = ? AND account_id = ?`, false, c.ID, accountID); err != nil {
			return err
		}
		if err := recordAudit(ctx, tx, accountID, ssod.AuditCertificateUpdate, strconv.FormatInt(c.ID, 10), &old, &c); err != nil {
			return err
		}
	}
	return nil
}

// RecordMetadataFailure implements ssod.MetadataStore.
func (s *Store) RecordMetadataFailure(ctx context.Context, accountID int64, id, message string) error {
	const op = "record metadata failure"
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE integrations SET metadata_error = ? WHERE id = ? AND account_id = ?`,
			ssod.TruncateMetadataError(message), id, accountID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err == nil {
				err = ssod.ErrIntegrationNotFound(id)
			}
			return err
		}
		return nil
	})
	return wrap(op, err)
}

// ClaimMetadataRefreshes implements ssod.MetadataStore. The single writer
// makes the claim one step.
func (s *Store) ClaimMetadataRefreshes(ctx context.Context, due, now int64, limit int) ([]ssod.Integration, error) {
	const op = "claim metadata refreshes"
	var ins []ssod.Integration
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		var err error
		ins, err = list(ctx, tx, scanIntegration,
			`UPDATE integrations SET metadata_claimed_at = ?
			 WHERE seq IN (SELECT seq FROM integrations WHERE metadata_url <> '' AND metadata_claimed_at <= ?
			               ORDER BY metadata_claimed_at, seq LIMIT ?)
			 RETURNING `+integrationRead, now, due, limit)
		return err
	})
	if err != nil {
		return nil, wrap(op, err)
	}
	return ins, nil
}

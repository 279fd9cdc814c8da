package postgres

import (
	"context"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/ssod/ssod"
)

// ImportMetadata implements ssod.MetadataStore. It may disable any of the
// integration's certificates, so the other instances drop every copy.
func (s *Store) ImportMetadata(ctx context.Context, accountID int64, id string, m ssod.MetadataImport, now int64) (*ssod.Integration, error) {
	var in ssod.Integration
	err := s.writeChange(ctx, nil, func(tx pgx.Tx) error {
		if err := m.Validate(id == ""); err != nil {
			return err
		}
		if id == "" {
			in, _ = m.Imported(nil, ssod.NewIntegrationID(), accountID, now)
			if err := insertIntegration(ctx, tx, &in); err != nil {
				return err
			}
		} else {
			// FOR UPDATE queues this import behind PATCHes, certificate
			// writes into the integration and other imports, from any
			// instance, so its room checks and changes see theirs.
			old, err := getIntegration(ctx, tx, accountID, id, "FOR UPDATE")
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
		return nil, wrap("import metadata", err)
	}
	return &in, nil
}

// syncCertificates makes an integration's certificates follow what its IdP
// publishes (ssod.CertificateChanges). The caller holds the integration's
// lock; FOR UPDATE keeps the certificates read from changing under it.
func syncCertificates(ctx context.Context, tx pgx.Tx, accountID int64, integrationID string, published []ssod.X509) error {
	held, err := list(ctx, tx, scanCertificate,
		`SELECT `+certificateColumns+` FROM certificates WHERE integration_id = $1 AND account_id = $2 ORDER BY id FOR UPDATE`,
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
		if _, err := tx.Exec(ctx, `UPDATE certificates SET enabled = false WHERE id = $1 AND account_id = $2`, c.ID, accountID); err != nil {
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
	if unstorable(id) {
		return ssod.ErrIntegrationNotFound(id)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE integrations SET metadata_error = $1 WHERE id = $2 AND account_id = $3`,
		ssod.TruncateMetadataError(message), id, accountID)
	if err != nil {
		return wrap("record metadata failure", err)
	}
	if tag.RowsAffected() == 0 {
		return ssod.ErrIntegrationNotFound(id)
	}
	return nil
}

// ClaimMetadataRefreshes implements ssod.MetadataStore. SKIP LOCKED lets
// instances claiming together take different rows; the outer condition,
// which PostgreSQL checks again on a row another transaction changed, keeps
// a row claimed by one from being claimed by another in the same round.
func (s *Store) ClaimMetadataRefreshes(ctx context.Context, due, now int64, limit int) ([]ssod.Integration, error) {
	ins, err := list(ctx, s.pool, scanIntegration,
		`UPDATE integrations SET metadata_claimed_at = $1
		 WHERE metadata_url <> '' AND metadata_claimed_at <= $2
		   AND seq IN (SELECT seq FROM integrations WHERE metadata_url <> '' AND metadata_claimed_at <= $2
		               ORDER BY metadata_claimed_at, seq LIMIT $3 FOR UPDATE SKIP LOCKED)
		 RETURNING `+integrationRead, now, due, limit)
	if err != nil {
		return nil, wrap("claim metadata refreshes", err)
	}
	return ins, nil
}

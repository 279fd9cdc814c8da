package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strconv"

	"github.com/ssod/ssod"
)

const certificateColumns = `id, account_id, integration_id, public_certificate, not_before, not_after, enabled`

func scanCertificate(r scanner) (ssod.Certificate, error) {
	var c ssod.Certificate
	err := r.Scan(&c.ID, &c.AccountID, &c.IntegrationID, &c.PEM, &c.NotBefore, &c.NotAfter, &c.Enabled)
	return c, err
}

// CreateCertificate implements ssod.CertificateStore.
func (s *Store) CreateCertificate(ctx context.Context, accountID int64, u ssod.CertificateUpdate) (*ssod.Certificate, error) {
	const op = "create certificate"
	if err := u.ValidateCreate(); err != nil {
		return nil, err // a caller bug, reported rather than dereferenced
	}
	c := u.Apply(ssod.Certificate{AccountID: accountID, Enabled: true})
	// Selecting the integration in the insert itself makes the ownership
	// check and the write one atomic step: no row when it is not the
	// account's, and no window in which it could be deleted in between.
	// The single writer makes the room check and the insert one step too.
	err := s.write(ctx, op, func(tx *sql.Tx) error { return insertCertificate(ctx, tx, &c) })
	if err != nil {
		return nil, wrap(op, err)
	}
	return &c, nil
}

// insertCertificate stores c, a new certificate, giving it its id, and its
// audit event, if its integration is its account's and has room for it.
func insertCertificate(ctx context.Context, tx *sql.Tx, c *ssod.Certificate) error {
	if err := checkRoom(ctx, tx, c.AccountID, c.IntegrationID, c.PEM, 0, true); err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx,
		`INSERT INTO certificates (account_id, integration_id, public_certificate, not_before, not_after, enabled)
		 SELECT account_id, id, ?, ?, ?, ? FROM integrations WHERE id = ? AND account_id = ?`,
		c.PEM, c.NotBefore, c.NotAfter, c.Enabled, c.IntegrationID, c.AccountID)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ssod.ErrIntegrationNotYours()
	}
	if c.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	return recordAudit(ctx, tx, c.AccountID, ssod.AuditCertificateCreate, strconv.FormatInt(c.ID, 10), nil, c)
}

// checkRoom refuses to put a certificate with pem into one of the account's
// integrations that already holds it in another certificate than self, or,
// when the certificate is new to it (adding), that is full. Certificates
// carry their account, so another account's integration shows nothing.
func checkRoom(ctx context.Context, tx *sql.Tx, accountID int64, integrationID, pem string, self int64, adding bool) error {
	var n int
	var dup sql.NullInt64
	err := tx.QueryRowContext(ctx,
		`SELECT count(*), min(CASE WHEN public_certificate = ? AND id <> ? THEN id END)
		 FROM certificates WHERE integration_id = ? AND account_id = ?`,
		pem, self, integrationID, accountID).Scan(&n, &dup)
	switch {
	case err != nil:
		return err
	case dup.Valid:
		return ssod.ErrDuplicateCertificate(dup.Int64)
	case adding && n >= ssod.MaxCertificatesPerIntegration:
		return ssod.ErrIntegrationFull()
	}
	return nil
}

// GetCertificate implements ssod.CertificateStore.
func (s *Store) GetCertificate(ctx context.Context, accountID int64, id int64) (*ssod.Certificate, error) {
	c, err := getCertificate(ctx, s.reads, accountID, id)
	if err != nil {
		return nil, wrap("get certificate", err)
	}
	return &c, nil
}

// getCertificate reads one of the account's certificates through q, the
// reader or a write transaction. Another account's is reported as missing.
func getCertificate(ctx context.Context, q querier, accountID, id int64) (ssod.Certificate, error) {
	c, err := scanCertificate(q.QueryRowContext(ctx,
		`SELECT `+certificateColumns+` FROM certificates WHERE id = ? AND account_id = ?`, id, accountID))
	if errors.Is(err, sql.ErrNoRows) {
		return c, ssod.ErrCertificateNotFound(id)
	}
	return c, err
}

// UpdateCertificate implements ssod.CertificateStore.
func (s *Store) UpdateCertificate(ctx context.Context, accountID int64, id int64, u ssod.CertificateUpdate) (*ssod.Certificate, error) {
	const op = "update certificate"
	var c ssod.Certificate
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		old, err := getCertificate(ctx, tx, accountID, id)
		if err != nil {
			return err
		}
		if u.IntegrationID != nil {
			if _, err := getIntegration(ctx, tx, accountID, *u.IntegrationID); err != nil {
				if ssod.CodeOf(err) == ssod.ENotFound {
					return ssod.ErrIntegrationNotYours()
				}
				return err
			}
		}
		c = u.Apply(old)
		if c == old {
			return nil // nothing changes: no write, no audit event
		}
		if u.IntegrationID != nil || u.X509 != nil {
			if err := checkRoom(ctx, tx, accountID, c.IntegrationID, c.PEM, id, c.IntegrationID != old.IntegrationID); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx,
			`UPDATE certificates SET integration_id = ?, public_certificate = ?, not_before = ?, not_after = ?, enabled = ?
			 WHERE id = ? AND account_id = ?`,
			c.IntegrationID, c.PEM, c.NotBefore, c.NotAfter, c.Enabled, id, accountID)
		if err != nil {
			return err
		}
		return recordAudit(ctx, tx, accountID, ssod.AuditCertificateUpdate, strconv.FormatInt(id, 10), &old, &c)
	})
	if err != nil {
		return nil, wrap(op, err)
	}
	return &c, nil
}

// DeleteCertificate implements ssod.CertificateStore.
func (s *Store) DeleteCertificate(ctx context.Context, accountID int64, id int64) (*ssod.Certificate, error) {
	const op = "delete certificate"
	var c ssod.Certificate
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		var err error
		if c, err = getCertificate(ctx, tx, accountID, id); err != nil {
			return err
		}
		if _, err = tx.ExecContext(ctx, `DELETE FROM certificates WHERE id = ? AND account_id = ?`, id, accountID); err != nil {
			return err
		}
		return recordAudit(ctx, tx, accountID, ssod.AuditCertificateDelete, strconv.FormatInt(id, 10), &c, nil)
	})
	if err != nil {
		return nil, wrap(op, err)
	}
	return &c, nil
}

// ListCertificates implements ssod.CertificateStore.
func (s *Store) ListCertificates(ctx context.Context, accountID int64, integrationID string) ([]ssod.Certificate, error) {
	const op = "list certificates"
	// One statement reads the list from one snapshot; certificates exist
	// only while their integration does (the foreign key), so a non-empty
	// list needs no ownership check of its own. Only an empty one asks
	// whether the integration is there at all.
	cs, err := list(ctx, s.reads, scanCertificate,
		`SELECT `+certificateColumns+` FROM certificates WHERE integration_id = ? AND account_id = ? ORDER BY id`,
		integrationID, accountID)
	if err == nil && len(cs) == 0 {
		_, err = getIntegration(ctx, s.reads, accountID, integrationID)
	}
	if err != nil {
		return nil, wrap(op, err)
	}
	return cs, nil
}

// ListCertificateWindows implements ssod.CertificateStore.
func (s *Store) ListCertificateWindows(ctx context.Context, accountID int64) ([]ssod.Certificate, error) {
	cs, err := list(ctx, s.reads, scanCertificateWindow,
		`SELECT `+certificateWindowColumns+` FROM certificates WHERE account_id = ? ORDER BY integration_id, id`, accountID)
	if err != nil {
		return nil, wrap("list certificate windows", err)
	}
	return cs, nil
}

// certificateWindowColumns leave out the PEM, which a horizon does not need
// and which is most of a certificate's bytes.
const certificateWindowColumns = `id, account_id, integration_id, not_before, not_after, enabled`

func scanCertificateWindow(r scanner) (ssod.Certificate, error) {
	var c ssod.Certificate
	err := r.Scan(&c.ID, &c.AccountID, &c.IntegrationID, &c.NotBefore, &c.NotAfter, &c.Enabled)
	return c, err
}

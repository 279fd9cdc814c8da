package postgres

import (
	"context"
	"errors"
	"strconv"

	"github.com/jackc/pgx/v5"

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
	if err := u.ValidateCreate(); err != nil {
		return nil, err // a caller bug, reported rather than dereferenced
	}
	c := u.Apply(ssod.Certificate{AccountID: accountID, Enabled: true})
	if unstorable(c.IntegrationID) {
		return nil, ssod.ErrIntegrationNotYours()
	}
	// Selecting the integration in the insert itself makes the ownership
	// check and the write one statement: no row when it is not the
	// account's. An integration deleted between the SELECT's snapshot and
	// the insert is caught by the foreign key, whose check waits for the
	// delete to commit and then fails.
	err := s.write(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx,
			`INSERT INTO certificates (account_id, integration_id, public_certificate, not_before, not_after, enabled)
			 SELECT account_id, id, $1, $2, $3, $4 FROM integrations WHERE id = $5 AND account_id = $6
			 RETURNING id`,
			c.PEM, c.NotBefore, c.NotAfter, c.Enabled, c.IntegrationID, accountID).Scan(&c.ID)
		if errors.Is(err, pgx.ErrNoRows) || isForeignKey(err) {
			return ssod.ErrIntegrationNotYours()
		}
		if err != nil {
			return err
		}
		return recordAudit(ctx, tx, accountID, ssod.AuditCertificateCreate, strconv.FormatInt(c.ID, 10), nil, &c)
	})
	if err != nil {
		return nil, wrap("create certificate", err)
	}
	return &c, nil
}

// GetCertificate implements ssod.CertificateStore.
func (s *Store) GetCertificate(ctx context.Context, accountID int64, id int64) (*ssod.Certificate, error) {
	c, ok, err := s.certReads.get(ctx, id)
	if err != nil {
		return nil, wrap("get certificate", err)
	}
	if !ok || c.AccountID != accountID {
		return nil, ssod.ErrCertificateNotFound(id)
	}
	return &c, nil
}

// certificatesByID reads the certificates of ids, of any account: the
// caller checks the owner.
func (s *Store) certificatesByID(ctx context.Context, ids []int64) (map[int64]ssod.Certificate, error) {
	return byID(ctx, s.pool, scanCertificate, func(c ssod.Certificate) int64 { return c.ID },
		`SELECT `+certificateColumns+` FROM certificates WHERE id = ANY($1)`, ids)
}

// lockCertificate reads one of the account's certificates in tx and locks
// its row until tx ends. Another account's is reported as missing.
func lockCertificate(ctx context.Context, tx pgx.Tx, accountID, id int64) (ssod.Certificate, error) {
	c, err := scanCertificate(tx.QueryRow(ctx,
		`SELECT `+certificateColumns+` FROM certificates WHERE id = $1 AND account_id = $2 FOR UPDATE`, id, accountID))
	if errors.Is(err, pgx.ErrNoRows) {
		return c, ssod.ErrCertificateNotFound(id)
	}
	return c, err
}

// UpdateCertificate implements ssod.CertificateStore.
func (s *Store) UpdateCertificate(ctx context.Context, accountID int64, id int64, u ssod.CertificateUpdate) (*ssod.Certificate, error) {
	var c ssod.Certificate
	err := s.writeChange(ctx, []int64{id}, func(tx pgx.Tx) error {
		// FOR UPDATE queues concurrent updates of this certificate, from any
		// instance, so each applies u to the row the previous one left and
		// the stored row is always exactly one update's result.
		old, err := lockCertificate(ctx, tx, accountID, id)
		if err != nil {
			return err
		}
		if u.IntegrationID != nil {
			// FOR KEY SHARE keeps the integration from being deleted until
			// this transaction ends; a delete then waits and cascades to the
			// moved certificate.
			if _, err := getIntegration(ctx, tx, accountID, *u.IntegrationID, "FOR KEY SHARE"); err != nil {
				if ssod.CodeOf(err) == ssod.ENotFound {
					return ssod.ErrIntegrationNotYours()
				}
				return err
			}
		}
		c = u.Apply(old)
		_, err = tx.Exec(ctx,
			`UPDATE certificates SET integration_id = $1, public_certificate = $2, not_before = $3, not_after = $4, enabled = $5
			 WHERE id = $6 AND account_id = $7`,
			c.IntegrationID, c.PEM, c.NotBefore, c.NotAfter, c.Enabled, id, accountID)
		if isForeignKey(err) {
			return ssod.ErrIntegrationNotYours() // not expected under FOR KEY SHARE; kept as the mapping of last resort
		}
		if err != nil {
			return err
		}
		return recordAudit(ctx, tx, accountID, ssod.AuditCertificateUpdate, strconv.FormatInt(id, 10), &old, &c)
	})
	if err != nil {
		return nil, wrap("update certificate", err)
	}
	return &c, nil
}

// DeleteCertificate implements ssod.CertificateStore.
func (s *Store) DeleteCertificate(ctx context.Context, accountID int64, id int64) (*ssod.Certificate, error) {
	// RETURNING hands back the row this very statement deleted, so nothing
	// needs reading first; the audit record joins it in one transaction.
	var c ssod.Certificate
	err := s.writeChange(ctx, []int64{id}, func(tx pgx.Tx) error {
		var err error
		c, err = scanCertificate(tx.QueryRow(ctx,
			`DELETE FROM certificates WHERE id = $1 AND account_id = $2 RETURNING `+certificateColumns, id, accountID))
		if errors.Is(err, pgx.ErrNoRows) {
			return ssod.ErrCertificateNotFound(id)
		}
		if err != nil {
			return err
		}
		return recordAudit(ctx, tx, accountID, ssod.AuditCertificateDelete, strconv.FormatInt(id, 10), &c, nil)
	})
	if err != nil {
		return nil, wrap("delete certificate", err)
	}
	return &c, nil
}

// ListCertificates implements ssod.CertificateStore.
func (s *Store) ListCertificates(ctx context.Context, accountID int64, integrationID string) ([]ssod.Certificate, error) {
	if unstorable(integrationID) {
		return nil, ssod.ErrIntegrationNotFound(integrationID)
	}
	// One statement (shared with concurrent lists) reads the list from one
	// snapshot. Certificates exist only while their integration does, and
	// carry its account (the composite foreign key), so a non-empty list
	// needs no ownership check of its own. Only an empty one asks whether
	// the integration is there at all: ids are made by the server, so it
	// cannot have appeared in between.
	cs, _, err := s.certLists.get(ctx, integrationID)
	if err == nil && len(cs) > 0 && cs[0].AccountID != accountID {
		return nil, ssod.ErrIntegrationNotFound(integrationID)
	}
	if err == nil && len(cs) == 0 {
		_, err = s.GetIntegration(ctx, accountID, integrationID)
	}
	if err != nil {
		return nil, wrap("list certificates", err)
	}
	// Requests for the same list share the batch's slice: each gets its own.
	return append([]ssod.Certificate{}, cs...), nil
}

// certificatesOf reads the certificates of the integrations ids, of any
// account, in id order; the caller checks the owner.
func (s *Store) certificatesOf(ctx context.Context, ids []string) (map[string][]ssod.Certificate, error) {
	rows, err := list(ctx, s.pool, scanCertificate,
		`SELECT `+certificateColumns+` FROM certificates WHERE integration_id = ANY($1) ORDER BY id`, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]ssod.Certificate, len(ids))
	for _, c := range rows {
		out[c.IntegrationID] = append(out[c.IntegrationID], c)
	}
	return out, nil
}

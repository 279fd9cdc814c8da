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
	err := s.write(ctx, func(tx pgx.Tx) error {
		// Locking the integration queues the creates and moves into it, from
		// any instance, so that its room check cannot be overtaken, and
		// keeps it from being deleted until this transaction ends.
		if _, err := lockIntegration(ctx, tx, accountID, c.IntegrationID); err != nil {
			return err
		}
		return insertCertificate(ctx, tx, &c)
	})
	if err != nil {
		return nil, wrap("create certificate", err)
	}
	return &c, nil
}

// insertCertificate stores c, a new certificate, giving it its id, and its
// audit event, if its integration has room for it. The caller has locked the
// integration (or made it in tx).
func insertCertificate(ctx context.Context, tx pgx.Tx, c *ssod.Certificate) error {
	if err := checkRoom(ctx, tx, c.AccountID, c.IntegrationID, c.PEM, 0, true); err != nil {
		return err
	}
	err := tx.QueryRow(ctx,
		`INSERT INTO certificates (account_id, integration_id, public_certificate, not_before, not_after, enabled)
		 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		c.AccountID, c.IntegrationID, c.PEM, c.NotBefore, c.NotAfter, c.Enabled).Scan(&c.ID)
	if isForeignKey(err) {
		return ssod.ErrIntegrationNotYours() // not expected under the lock; kept as the mapping of last resort
	}
	if err != nil {
		return err
	}
	return recordAudit(ctx, tx, c.AccountID, ssod.AuditCertificateCreate, strconv.FormatInt(c.ID, 10), nil, c)
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

// lockIntegration locks one of the account's integrations in tx until tx
// ends, for a write that puts a certificate into it: such writes queue, so
// each one's room check sees the others' certificates. FOR NO KEY UPDATE
// leaves foreign key checks (FOR KEY SHARE) free, and waits for a delete
// (FOR UPDATE), after which the integration is gone.
func lockIntegration(ctx context.Context, tx pgx.Tx, accountID int64, id string) (ssod.Integration, error) {
	in, err := getIntegration(ctx, tx, accountID, id, "FOR NO KEY UPDATE")
	if ssod.CodeOf(err) == ssod.ENotFound {
		return in, ssod.ErrIntegrationNotYours()
	}
	return in, err
}

// checkRoom refuses to put a certificate with pem into one of the account's
// integrations that already holds it in another certificate than self, or,
// when the certificate is new to it (adding), that is full. The caller has
// locked the integration. Certificates carry their account, so another
// account's integration shows nothing.
func checkRoom(ctx context.Context, tx pgx.Tx, accountID int64, integrationID, pem string, self int64, adding bool) error {
	var n int
	var dup *int64
	err := tx.QueryRow(ctx,
		`SELECT count(*), min(id) FILTER (WHERE public_certificate = $1 AND id <> $2)
		 FROM certificates WHERE integration_id = $3 AND account_id = $4`,
		pem, self, integrationID, accountID).Scan(&n, &dup)
	switch {
	case err != nil:
		return err
	case dup != nil:
		return ssod.ErrDuplicateCertificate(*dup)
	case adding && n >= ssod.MaxCertificatesPerIntegration:
		return ssod.ErrIntegrationFull()
	}
	return nil
}

// lockForUpdate locks, for an update u of certificate id, the integration
// the certificate will be in, when u changes the certificate or its
// integration, and then the certificate, whose row it returns. Creates and
// integration deletes also lock an integration before its certificates, so
// the locks never wait in a circle. FOR UPDATE on the certificate queues
// concurrent updates of it, from any instance, so each applies its change
// to the row the previous one left and the stored row is always exactly one
// update's result.
func lockForUpdate(ctx context.Context, tx pgx.Tx, accountID, id int64, u ssod.CertificateUpdate) (ssod.Certificate, error) {
	switch {
	case u.IntegrationID != nil:
		if _, err := lockIntegration(ctx, tx, accountID, *u.IntegrationID); err != nil {
			return ssod.Certificate{}, err
		}
		return lockCertificate(ctx, tx, accountID, id)
	case u.X509 == nil:
		return lockCertificate(ctx, tx, accountID, id) // its integration's room is not at stake
	}
	// A new PEM in the certificate's own integration, which a concurrent
	// move can change between reading it and locking the certificate: then
	// both locks are undone (with their savepoint) and taken again.
	for {
		var current string
		err := tx.QueryRow(ctx, `SELECT integration_id FROM certificates WHERE id = $1 AND account_id = $2`, id, accountID).Scan(&current)
		if errors.Is(err, pgx.ErrNoRows) {
			return ssod.Certificate{}, ssod.ErrCertificateNotFound(id)
		}
		if err != nil {
			return ssod.Certificate{}, err
		}
		sp, err := tx.Begin(ctx)
		if err != nil {
			return ssod.Certificate{}, err
		}
		if _, err := lockIntegration(ctx, sp, accountID, current); err != nil {
			if ssod.CodeOf(err) == ssod.EInvalid { // deleted, with the certificate
				return ssod.Certificate{}, ssod.ErrCertificateNotFound(id)
			}
			return ssod.Certificate{}, err
		}
		old, err := lockCertificate(ctx, sp, accountID, id)
		if err != nil {
			return old, err
		}
		if old.IntegrationID == current {
			return old, sp.Commit(ctx) // releasing the savepoint keeps its locks
		}
		if err := sp.Rollback(ctx); err != nil {
			return old, err
		}
	}
}

// UpdateCertificate implements ssod.CertificateStore.
func (s *Store) UpdateCertificate(ctx context.Context, accountID int64, id int64, u ssod.CertificateUpdate) (*ssod.Certificate, error) {
	var c ssod.Certificate
	err := s.writeChange(ctx, []int64{id}, func(tx pgx.Tx) error {
		old, err := lockForUpdate(ctx, tx, accountID, id, u)
		if err != nil {
			return err
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
		_, err = tx.Exec(ctx,
			`UPDATE certificates SET integration_id = $1, public_certificate = $2, not_before = $3, not_after = $4, enabled = $5
			 WHERE id = $6 AND account_id = $7`,
			c.IntegrationID, c.PEM, c.NotBefore, c.NotAfter, c.Enabled, id, accountID)
		if isForeignKey(err) {
			return ssod.ErrIntegrationNotYours() // not expected under the lock; kept as the mapping of last resort
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

// ListCertificateWindows implements ssod.CertificateStore.
func (s *Store) ListCertificateWindows(ctx context.Context, accountID int64) ([]ssod.Certificate, error) {
	cs, err := list(ctx, s.pool, scanCertificateWindow,
		`SELECT `+certificateWindowColumns+` FROM certificates WHERE account_id = $1 ORDER BY integration_id, id`, accountID)
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

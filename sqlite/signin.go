package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/ssod/ssod"
)

// pruneBatch is how many expired rows an insert deletes at most. More than
// one, so that the expired backlog shrinks with every insert, and few, so
// that an insert's cost stays bounded.
const pruneBatch = 4

// FindIntegration implements ssod.SignInStore.
func (s *Store) FindIntegration(ctx context.Context, id string) (*ssod.Integration, error) {
	in, err := scanIntegration(s.reads.QueryRowContext(ctx,
		`SELECT `+integrationRead+` FROM integrations WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ssod.ErrIntegrationNotFound(id)
	}
	if err != nil {
		return nil, wrap("find integration", err)
	}
	return &in, nil
}

// SaveAuthnRequest implements ssod.SignInStore.
func (s *Store) SaveAuthnRequest(ctx context.Context, integrationID, requestID string, expiresAt int64) error {
	if !ssod.ValidSignInID(requestID) {
		return ssod.Errorf(ssod.EInvalid, "an AuthnRequest ID must be 1 to %d bytes of UTF-8", ssod.MaxSignInIDLength)
	}
	const op = "save authn request"
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx,
			`INSERT INTO authn_requests (request_id, integration_id, expires_at) VALUES (?, ?, ?)`,
			requestID, integrationID, expiresAt)
		switch {
		case isUnique(err):
			return ssod.Errorf(ssod.EConflict, "AuthnRequest %q is already remembered", requestID)
		case isForeignKey(err):
			return ssod.ErrIntegrationNotFound(integrationID)
		case err != nil:
			return err
		}
		// The caller saved this request at expiresAt minus its lifetime:
		// that is now, for pruning.
		_, err = tx.ExecContext(ctx,
			`DELETE FROM authn_requests WHERE rowid IN
			     (SELECT rowid FROM authn_requests WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)`,
			expiresAt-ssod.AuthnRequestLifetime, pruneBatch)
		return err
	})
	return wrap(op, err)
}

// UseAuthnRequest implements ssod.SignInStore. The single writer makes the
// DELETE atomic; RETURNING says whether it found the row.
func (s *Store) UseAuthnRequest(ctx context.Context, integrationID, requestID string, now int64) (bool, error) {
	if !ssod.ValidSignInID(requestID) {
		return false, nil // never saved
	}
	const op = "use authn request"
	var used bool
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx,
			`DELETE FROM authn_requests WHERE request_id = ? AND integration_id = ? AND expires_at > ? RETURNING 1`,
			requestID, integrationID, now).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		used = err == nil
		return err
	})
	if err != nil {
		return false, wrap(op, err)
	}
	return used, nil
}

// UseAssertion implements ssod.SignInStore: one INSERT that either adds the
// record or takes over an expired one (DO UPDATE ... WHERE expired), and
// returns a row only when it did. On SQLite every write goes through the
// one writer, so sign-ins of all integrations queue there; they share its
// group commits (see commit.go), which is what keeps that queue short.
func (s *Store) UseAssertion(ctx context.Context, integrationID, assertionID string, expiresAt, now int64) (bool, error) {
	if !ssod.ValidSignInID(assertionID) {
		return false, ssod.Errorf(ssod.EInvalid, "an assertion ID must be 1 to %d bytes of UTF-8", ssod.MaxSignInIDLength)
	}
	const op = "use assertion"
	var first bool
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx,
			`INSERT INTO accepted_assertions (integration_id, assertion_id, expires_at) VALUES (?, ?, ?)
			 ON CONFLICT (integration_id, assertion_id) DO UPDATE SET expires_at = excluded.expires_at
			     WHERE accepted_assertions.expires_at <= ?
			 RETURNING 1`,
			integrationID, assertionID, expiresAt, now).Scan(&one)
		switch {
		case isForeignKey(err):
			return ssod.ErrIntegrationNotFound(integrationID)
		case errors.Is(err, sql.ErrNoRows): // a replay
		case err != nil:
			return err
		default:
			first = true
		}
		_, err = tx.ExecContext(ctx,
			`DELETE FROM accepted_assertions WHERE rowid IN
			     (SELECT rowid FROM accepted_assertions WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)`,
			now, pruneBatch)
		return err
	})
	if err != nil {
		return false, wrap(op, err)
	}
	return first, nil
}

const traceColumns = `id, integration_id, time, result, message, name_id, assertion_id, certificate_id, in_response_to, request_id`

func scanTrace(r scanner) (ssod.LoginTrace, error) {
	var t ssod.LoginTrace
	var nameID, assertionID, inResponseTo, requestID sql.NullString
	var certID sql.NullInt64
	err := r.Scan(&t.ID, &t.IntegrationID, &t.Time, &t.Result, &t.Message, &nameID, &assertionID, &certID, &inResponseTo, &requestID)
	t.NameID, t.AssertionID, t.CertificateID = nameID.String, assertionID.String, certID.Int64
	t.InResponseTo, t.RequestID = inResponseTo.String, requestID.String
	return t, err
}

// orNull stores a domain zero value ("" or 0, unknown) as NULL.
func orNull[T comparable](v T) any {
	var zero T
	if v == zero {
		return nil
	}
	return v
}

// insertTrace writes t with id (0: a new one) as the n-th trace of its
// integration.
func insertTrace(ctx context.Context, tx *sql.Tx, t ssod.LoginTrace, n int64) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx,
		`INSERT INTO login_traces (n, `+traceColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		n, orNull(t.ID), t.IntegrationID, t.Time, t.Result, t.Message,
		orNull(t.NameID), orNull(t.AssertionID), orNull(t.CertificateID), orNull(t.InResponseTo), orNull(t.RequestID)).Scan(&id)
	return id, err
}

// AddLoginTrace implements ssod.SignInStore. The trace is the next n of its
// integration (the single writer makes reading the highest and inserting one
// step); the traces MaxLoginTraces below it go in the same transaction, by
// one range delete on the (integration_id, n) index.
func (s *Store) AddLoginTrace(ctx context.Context, t ssod.LoginTrace) (*ssod.LoginTrace, error) {
	t = t.Stored()
	t.ID = 0
	const op = "add login trace"
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		var n int64
		err := tx.QueryRowContext(ctx,
			`SELECT COALESCE(max(n), 0) + 1 FROM login_traces WHERE integration_id = ?`, t.IntegrationID).Scan(&n)
		if err != nil {
			return err
		}
		id, err := insertTrace(ctx, tx, t, n)
		if isForeignKey(err) {
			return ssod.ErrIntegrationNotFound(t.IntegrationID)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_traces WHERE integration_id = ? AND n <= ?`,
			t.IntegrationID, n-ssod.MaxLoginTraces); err != nil {
			return err
		}
		t.ID = id
		return nil
	})
	if err != nil {
		return nil, wrap(op, err)
	}
	return &t, nil
}

// ListLoginTraces implements ssod.SignInStore.
func (s *Store) ListLoginTraces(ctx context.Context, accountID int64, integrationID string, limit int) ([]ssod.LoginTrace, error) {
	limit = min(max(limit, 0), ssod.MaxLoginTracesPerList)
	var ts []ssod.LoginTrace
	err := s.read(ctx, "list login traces", func(tx *sql.Tx) error {
		if _, err := getIntegration(ctx, tx, accountID, integrationID); err != nil {
			return err
		}
		var err error
		ts, err = list(ctx, tx, scanTrace,
			`SELECT `+traceColumns+` FROM login_traces WHERE integration_id = ? ORDER BY n DESC LIMIT ?`,
			integrationID, limit)
		return err
	})
	if err != nil {
		return nil, wrap("list login traces", err)
	}
	return ts, nil
}

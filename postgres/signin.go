package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ssod/ssod"
)

// pruneBatch is how many expired rows an insert deletes at most. More than
// one, so that the expired backlog shrinks with every insert, and few, so
// that an insert's cost stays bounded. SKIP LOCKED leaves rows another
// instance is pruning to it: pruning never makes one sign-in wait for
// another, of this integration or any other.
const pruneBatch = 4

// FindIntegration implements ssod.SignInStore.
func (s *Store) FindIntegration(ctx context.Context, id string) (*ssod.Integration, error) {
	if unstorable(id) {
		return nil, ssod.ErrIntegrationNotFound(id)
	}
	in, ok, err := s.integrationReads.get(ctx, id)
	if err != nil {
		return nil, wrap("find integration", err)
	}
	if !ok {
		return nil, ssod.ErrIntegrationNotFound(id)
	}
	return &in, nil
}

// SaveAuthnRequest implements ssod.SignInStore: the insert and the pruning
// go in one round trip, one implicit transaction.
func (s *Store) SaveAuthnRequest(ctx context.Context, integrationID, requestID string, expiresAt int64) error {
	if !ssod.ValidSignInID(requestID) {
		return ssod.Errorf(ssod.EInvalid, "an AuthnRequest ID must be 1 to %d bytes of UTF-8", ssod.MaxSignInIDLength)
	}
	if unstorable(integrationID) {
		return ssod.ErrIntegrationNotFound(integrationID)
	}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO authn_requests (request_id, integration_id, expires_at) VALUES ($1, $2, $3)`,
		requestID, integrationID, expiresAt)
	// The caller saved this request at expiresAt minus its lifetime: that
	// is now, for pruning.
	b.Queue(`DELETE FROM authn_requests WHERE request_id IN
	             (SELECT request_id FROM authn_requests WHERE expires_at <= $1
	              ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
		expiresAt-ssod.AuthnRequestLifetime, pruneBatch)
	err := s.pool.SendBatch(ctx, b).Close()
	switch {
	case isUnique(err):
		return ssod.Errorf(ssod.EConflict, "AuthnRequest %q is already remembered", requestID)
	case isForeignKey(err):
		return ssod.ErrIntegrationNotFound(integrationID)
	}
	return wrap("save authn request", err)
}

// UseAuthnRequest implements ssod.SignInStore: one DELETE ... RETURNING.
// Of two concurrent ones, from any instances, the second waits for the
// first's row lock and then finds the row gone.
func (s *Store) UseAuthnRequest(ctx context.Context, integrationID, requestID string, now int64) (bool, error) {
	if !ssod.ValidSignInID(requestID) || unstorable(integrationID) {
		return false, nil // never saved
	}
	var one int
	err := s.pool.QueryRow(ctx,
		`DELETE FROM authn_requests WHERE request_id = $1 AND integration_id = $2 AND expires_at > $3 RETURNING 1`,
		requestID, integrationID, now).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, wrap("use authn request", err)
	}
	return true, nil
}

// UseAssertion implements ssod.SignInStore: one INSERT that either adds the
// record or takes over an expired one (DO UPDATE ... WHERE expired), and
// returns a row only when it did. Of two concurrent ones, from any
// instances, the second waits on the first's insert into the primary key
// and then, the row being there, updates it only if it has expired. Sign-ins
// of different integrations touch different keys and rows: nothing is
// locked beyond them.
func (s *Store) UseAssertion(ctx context.Context, integrationID, assertionID string, expiresAt, now int64) (bool, error) {
	if !ssod.ValidSignInID(assertionID) {
		return false, ssod.Errorf(ssod.EInvalid, "an assertion ID must be 1 to %d bytes of UTF-8", ssod.MaxSignInIDLength)
	}
	if unstorable(integrationID) {
		return false, ssod.ErrIntegrationNotFound(integrationID)
	}
	b := &pgx.Batch{}
	var rows int
	b.Queue(`INSERT INTO accepted_assertions (integration_id, assertion_id, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (integration_id, assertion_id) DO UPDATE SET expires_at = EXCLUDED.expires_at
		    WHERE accepted_assertions.expires_at <= $4`,
		integrationID, assertionID, expiresAt, now).Exec(func(tag pgconn.CommandTag) error {
		rows = int(tag.RowsAffected())
		return nil
	})
	b.Queue(`DELETE FROM accepted_assertions WHERE (integration_id, assertion_id) IN
	             (SELECT integration_id, assertion_id FROM accepted_assertions WHERE expires_at <= $1
	              ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
		now, pruneBatch)
	// Close returns once the implicit transaction of both statements has
	// committed: a true is durable when it is returned.
	err := s.pool.SendBatch(ctx, b).Close()
	if isForeignKey(err) {
		return false, ssod.ErrIntegrationNotFound(integrationID)
	}
	if err != nil {
		return false, wrap("use assertion", err)
	}
	return rows == 1, nil
}

const traceColumns = `id, integration_id, time, result, message, name_id, assertion_id, certificate_id, in_response_to, request_id`

// scanTrace reads a trace whose every column may be NULL, as the list's
// outer join gives for an integration without traces; ok is false then.
func scanTrace(r scanner) (t ssod.LoginTrace, ok bool, err error) {
	var id, certID, tm *int64
	var integrationID, result, message, nameID, assertionID, inResponseTo, requestID *string
	err = r.Scan(&id, &integrationID, &tm, &result, &message, &nameID, &assertionID, &certID, &inResponseTo, &requestID)
	if err != nil || id == nil {
		return t, false, err
	}
	t.ID, t.IntegrationID, t.Time, t.Result, t.Message = *id, deref(integrationID), deref(tm), deref(result), deref(message)
	t.NameID, t.AssertionID, t.CertificateID = deref(nameID), deref(assertionID), deref(certID)
	t.InResponseTo, t.RequestID = deref(inResponseTo), deref(requestID)
	return t, true, nil
}

func scanStoredTrace(r scanner) (ssod.LoginTrace, error) {
	t, _, err := scanTrace(r)
	return t, err
}

func deref[T any](p *T) T {
	var v T
	if p != nil {
		v = *p
	}
	return v
}

// orNull stores a domain zero value ("" or 0, unknown) as NULL.
func orNull[T comparable](v T) any {
	var zero T
	if v == zero {
		return nil
	}
	return v
}

// AddLoginTrace implements ssod.SignInStore in one statement: take the
// integration's next number (locking its counter row, and no other, until
// the statement ends), insert the trace with it, and delete the traces
// MaxLoginTraces numbers older by one range delete on the (integration_id,
// n) index. The delete runs on the statement's snapshot, so a trace
// committed by another instance meanwhile may escape it; it is never one of
// the oldest, and the next trace's delete takes it.
func (s *Store) AddLoginTrace(ctx context.Context, t ssod.LoginTrace) (*ssod.LoginTrace, error) {
	t = t.Stored()
	if unstorable(t.IntegrationID) {
		return nil, ssod.ErrIntegrationNotFound(t.IntegrationID)
	}
	err := s.pool.QueryRow(ctx,
		`WITH c AS (
		     INSERT INTO login_trace_counters (integration_id, n) VALUES ($1, 1)
		     ON CONFLICT (integration_id) DO UPDATE SET n = login_trace_counters.n + 1
		     RETURNING n
		 ), t AS (
		     INSERT INTO login_traces (integration_id, n, time, result, message, name_id, assertion_id, certificate_id, in_response_to, request_id)
		     SELECT $1, c.n, $2, $3, $4, $5, $6, $7, $8, $9 FROM c
		     RETURNING id
		 ), old AS (
		     DELETE FROM login_traces WHERE integration_id = $1 AND n <= (SELECT n FROM c) - $10
		 )
		 SELECT id FROM t`,
		t.IntegrationID, t.Time, t.Result, t.Message, orNull(t.NameID), orNull(t.AssertionID),
		orNull(t.CertificateID), orNull(t.InResponseTo), orNull(t.RequestID), ssod.MaxLoginTraces).Scan(&t.ID)
	if isForeignKey(err) {
		return nil, ssod.ErrIntegrationNotFound(t.IntegrationID)
	}
	if err != nil {
		return nil, wrap("add login trace", err)
	}
	return &t, nil
}

// ListLoginTraces implements ssod.SignInStore in one query: the outer join
// gives no row when the account has no such integration, and one row of
// NULLs when it has no traces.
func (s *Store) ListLoginTraces(ctx context.Context, accountID int64, integrationID string, limit int) ([]ssod.LoginTrace, error) {
	if unstorable(integrationID) {
		return nil, ssod.ErrIntegrationNotFound(integrationID)
	}
	limit = min(max(limit, 0), ssod.MaxLoginTracesPerList)
	rows, err := s.pool.Query(ctx,
		`SELECT t.id, t.integration_id, t.time, t.result, t.message, t.name_id, t.assertion_id, t.certificate_id, t.in_response_to, t.request_id
		 FROM integrations i LEFT JOIN LATERAL (
		     SELECT * FROM login_traces WHERE integration_id = i.id ORDER BY n DESC LIMIT $3
		 ) t ON true
		 WHERE i.id = $1 AND i.account_id = $2
		 ORDER BY t.n DESC`,
		integrationID, accountID, limit)
	if err != nil {
		return nil, wrap("list login traces", err)
	}
	defer rows.Close()
	found := false
	ts := []ssod.LoginTrace{}
	for rows.Next() {
		found = true
		t, ok, err := scanTrace(rows)
		if err != nil {
			return nil, wrap("list login traces", err)
		}
		if ok {
			ts = append(ts, t)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list login traces", err)
	}
	if !found {
		return nil, ssod.ErrIntegrationNotFound(integrationID)
	}
	return ts, nil
}

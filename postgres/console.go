package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/ssod/ssod"
)

var errConsoleSessionNotFound = ssod.Errorf(ssod.ENotFound, "console session not found")

var errConsoleSignInNotFound = ssod.Errorf(ssod.ENotFound, "console sign-in not found or expired")

// CreateConsoleSession implements ssod.ConsoleStore: the insert and the
// pruning go in one round trip, one implicit transaction.
func (s *Store) CreateConsoleSession(ctx context.Context, cs ssod.ConsoleSession) error {
	if unstorable(cs.TokenHash) || unstorable(cs.Username) || unstorable(cs.KeyID) || unstorable(cs.CSRFToken) {
		return ssod.Errorf(ssod.EInvalid, "console session fields must be UTF-8 without NUL")
	}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO console_sessions (token_hash, account_id, username, key_id, csrf_token, created_at, last_seen, expires_at)
	         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		cs.TokenHash, cs.AccountID, cs.Username, cs.KeyID, cs.CSRFToken, cs.CreatedAt, cs.LastSeen, cs.ExpiresAt)
	b.Queue(`DELETE FROM console_sessions WHERE token_hash IN
	             (SELECT token_hash FROM console_sessions WHERE expires_at <= $1
	              ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)`, cs.CreatedAt, pruneBatch)
	err := s.pool.SendBatch(ctx, b).Close()
	switch {
	case isUnique(err):
		return ssod.Errorf(ssod.EConflict, "console session exists")
	case isForeignKey(err):
		return ssod.Errorf(ssod.ENotFound, "account %d not found", cs.AccountID)
	}
	return wrap("create console session", err)
}

// GetConsoleSession implements ssod.ConsoleStore.
func (s *Store) GetConsoleSession(ctx context.Context, tokenHash string) (*ssod.ConsoleSession, error) {
	if unstorable(tokenHash) {
		return nil, errConsoleSessionNotFound
	}
	cs := ssod.ConsoleSession{TokenHash: tokenHash}
	err := s.pool.QueryRow(ctx,
		`SELECT account_id, username, key_id, csrf_token, created_at, last_seen, expires_at
		 FROM console_sessions WHERE token_hash = $1`, tokenHash).
		Scan(&cs.AccountID, &cs.Username, &cs.KeyID, &cs.CSRFToken, &cs.CreatedAt, &cs.LastSeen, &cs.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errConsoleSessionNotFound
	}
	if err != nil {
		return nil, wrap("get console session", err)
	}
	return &cs, nil
}

// TouchConsoleSession implements ssod.ConsoleStore.
func (s *Store) TouchConsoleSession(ctx context.Context, tokenHash string, now int64) error {
	if unstorable(tokenHash) {
		return errConsoleSessionNotFound
	}
	tag, err := s.pool.Exec(ctx, `UPDATE console_sessions SET last_seen = $1 WHERE token_hash = $2`, now, tokenHash)
	if err != nil {
		return wrap("touch console session", err)
	}
	if tag.RowsAffected() == 0 {
		return errConsoleSessionNotFound
	}
	return nil
}

// DeleteConsoleSession implements ssod.ConsoleStore.
func (s *Store) DeleteConsoleSession(ctx context.Context, tokenHash string) error {
	if unstorable(tokenHash) {
		return nil
	}
	_, err := s.pool.Exec(ctx, `DELETE FROM console_sessions WHERE token_hash = $1`, tokenHash)
	return wrap("delete console session", err)
}

// SaveConsoleSignIn implements ssod.ConsoleStore.
func (s *Store) SaveConsoleSignIn(ctx context.Context, p ssod.ConsoleSignIn) error {
	if unstorable(p.StateHash) || unstorable(p.BindingHash) || unstorable(p.Username) {
		return ssod.Errorf(ssod.EInvalid, "console sign-in fields must be UTF-8 without NUL")
	}
	if unstorable(p.IntegrationID) {
		return ssod.ErrIntegrationNotFound(p.IntegrationID)
	}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO console_signins (state_hash, binding_hash, integration_id, username, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		p.StateHash, p.BindingHash, p.IntegrationID, p.Username, p.ExpiresAt)
	b.Queue(`DELETE FROM console_signins WHERE state_hash IN
	             (SELECT state_hash FROM console_signins WHERE expires_at <= $1
	              ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
		p.ExpiresAt-ssod.ConsoleSignInLifetime, pruneBatch)
	err := s.pool.SendBatch(ctx, b).Close()
	switch {
	case isUnique(err):
		return ssod.Errorf(ssod.EConflict, "console sign-in exists")
	case isForeignKey(err):
		return ssod.ErrIntegrationNotFound(p.IntegrationID)
	}
	return wrap("save console sign-in", err)
}

// VerifyConsoleSignIn implements ssod.ConsoleStore. One UPDATE: of two
// instances verifying the same sign-in, one finds username still empty.
func (s *Store) VerifyConsoleSignIn(ctx context.Context, stateHash, integrationID, username string, now int64) (bool, error) {
	if unstorable(stateHash) || unstorable(integrationID) || unstorable(username) {
		return false, nil
	}
	tag, err := s.pool.Exec(ctx,
		`UPDATE console_signins SET username = $1
		 WHERE state_hash = $2 AND integration_id = $3 AND username = '' AND expires_at > $4`,
		username, stateHash, integrationID, now)
	if err != nil {
		return false, wrap("verify console sign-in", err)
	}
	return tag.RowsAffected() == 1, nil
}

// TakeConsoleSignIn implements ssod.ConsoleStore.
func (s *Store) TakeConsoleSignIn(ctx context.Context, stateHash string, now int64) (*ssod.ConsoleSignIn, error) {
	if unstorable(stateHash) {
		return nil, errConsoleSignInNotFound
	}
	p := ssod.ConsoleSignIn{StateHash: stateHash}
	err := s.pool.QueryRow(ctx,
		`DELETE FROM console_signins WHERE state_hash = $1 RETURNING binding_hash, integration_id, username, expires_at`,
		stateHash).Scan(&p.BindingHash, &p.IntegrationID, &p.Username, &p.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) || err == nil && p.ExpiresAt <= now {
		return nil, errConsoleSignInNotFound
	}
	if err != nil {
		return nil, wrap("take console sign-in", err)
	}
	return &p, nil
}

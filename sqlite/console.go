package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/ssod/ssod"
)

var errConsoleSessionNotFound = ssod.Errorf(ssod.ENotFound, "console session not found")

var errConsoleSignInNotFound = ssod.Errorf(ssod.ENotFound, "console sign-in not found or expired")

// CreateConsoleSession implements ssod.ConsoleStore.
func (s *Store) CreateConsoleSession(ctx context.Context, cs ssod.ConsoleSession) error {
	const op = "create console session"
	return wrap(op, s.write(ctx, op, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx,
			`INSERT INTO console_sessions (token_hash, account_id, username, key_id, csrf_token, created_at, last_seen, expires_at)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			cs.TokenHash, cs.AccountID, cs.Username, cs.KeyID, cs.CSRFToken, cs.CreatedAt, cs.LastSeen, cs.ExpiresAt)
		switch {
		case isUnique(err):
			return ssod.Errorf(ssod.EConflict, "console session exists")
		case isForeignKey(err):
			return ssod.Errorf(ssod.ENotFound, "account %d not found", cs.AccountID)
		case err != nil:
			return err
		}
		_, err = tx.ExecContext(ctx,
			`DELETE FROM console_sessions WHERE rowid IN
			     (SELECT rowid FROM console_sessions WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)`,
			cs.CreatedAt, pruneBatch)
		return err
	}))
}

// GetConsoleSession implements ssod.ConsoleStore.
func (s *Store) GetConsoleSession(ctx context.Context, tokenHash string) (*ssod.ConsoleSession, error) {
	cs := ssod.ConsoleSession{TokenHash: tokenHash}
	err := s.reads.QueryRowContext(ctx,
		`SELECT account_id, username, key_id, csrf_token, created_at, last_seen, expires_at
		 FROM console_sessions WHERE token_hash = ?`, tokenHash).
		Scan(&cs.AccountID, &cs.Username, &cs.KeyID, &cs.CSRFToken, &cs.CreatedAt, &cs.LastSeen, &cs.ExpiresAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errConsoleSessionNotFound
	}
	if err != nil {
		return nil, wrap("get console session", err)
	}
	return &cs, nil
}

// TouchConsoleSession implements ssod.ConsoleStore.
func (s *Store) TouchConsoleSession(ctx context.Context, tokenHash string, now int64) error {
	const op = "touch console session"
	return wrap(op, s.write(ctx, op, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE console_sessions SET last_seen = ? WHERE token_hash = ?`, now, tokenHash)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return orNotFound(err, errConsoleSessionNotFound)
		}
		return nil
	}))
}

// orNotFound returns err, or else notFound.
func orNotFound(err error, notFound error) error {
	if err != nil {
		return err
	}
	return notFound
}

// DeleteConsoleSession implements ssod.ConsoleStore.
func (s *Store) DeleteConsoleSession(ctx context.Context, tokenHash string) error {
	const op = "delete console session"
	return wrap(op, s.write(ctx, op, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM console_sessions WHERE token_hash = ?`, tokenHash)
		return err
	}))
}

// SaveConsoleSignIn implements ssod.ConsoleStore.
func (s *Store) SaveConsoleSignIn(ctx context.Context, p ssod.ConsoleSignIn) error {
	const op = "save console sign-in"
	return wrap(op, s.write(ctx, op, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx,
			`INSERT INTO console_signins (state_hash, binding_hash, integration_id, username, expires_at) VALUES (?, ?, ?, ?, ?)`,
			p.StateHash, p.BindingHash, p.IntegrationID, p.Username, p.ExpiresAt)
		switch {
		case isUnique(err):
			return ssod.Errorf(ssod.EConflict, "console sign-in exists")
		case isForeignKey(err):
			return ssod.ErrIntegrationNotFound(p.IntegrationID)
		case err != nil:
			return err
		}
		_, err = tx.ExecContext(ctx,
			`DELETE FROM console_signins WHERE rowid IN
			     (SELECT rowid FROM console_signins WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)`,
			p.ExpiresAt-ssod.ConsoleSignInLifetime, pruneBatch)
		return err
	}))
}

// VerifyConsoleSignIn implements ssod.ConsoleStore.
func (s *Store) VerifyConsoleSignIn(ctx context.Context, stateHash, integrationID, username string, now int64) (bool, error) {
	const op = "verify console sign-in"
	var ok bool
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE console_signins SET username = ?
			 WHERE state_hash = ? AND integration_id = ? AND username = '' AND expires_at > ?`,
			username, stateHash, integrationID, now)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		ok = n == 1
		return err
	})
	return ok, wrap(op, err)
}

// TakeConsoleSignIn implements ssod.ConsoleStore.
func (s *Store) TakeConsoleSignIn(ctx context.Context, stateHash string, now int64) (*ssod.ConsoleSignIn, error) {
	const op = "take console sign-in"
	p := ssod.ConsoleSignIn{StateHash: stateHash}
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx,
			`DELETE FROM console_signins WHERE state_hash = ? RETURNING binding_hash, integration_id, username, expires_at`,
			stateHash).Scan(&p.BindingHash, &p.IntegrationID, &p.Username, &p.ExpiresAt)
		if errors.Is(err, sql.ErrNoRows) {
			return errConsoleSignInNotFound
		}
		return err
	})
	if err != nil {
		return nil, wrap(op, err)
	}
	if p.ExpiresAt <= now {
		return nil, errConsoleSignInNotFound
	}
	return &p, nil
}

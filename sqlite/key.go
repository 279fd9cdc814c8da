package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/ssod/ssod"
)

// CreateKey implements ssod.KeyStore.
func (s *Store) CreateKey(ctx context.Context, k ssod.APIKey) error {
	scopes, err := ssod.JoinScopes(k.Scopes)
	if err != nil {
		return err
	}
	_, err = s.writer.ExecContext(ctx,
		`INSERT INTO api_keys (id, account_id, name, scopes, secret_hash, created_at, revoked_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.AccountID, k.Name, scopes, k.SecretHash, k.CreatedAt, k.RevokedAt)
	switch {
	case isUnique(err):
		return ssod.Errorf(ssod.EConflict, "an API key with id %q already exists", k.ID)
	case isForeignKey(err):
		return ssod.Errorf(ssod.ENotFound, "account %d does not exist", k.AccountID)
	case err != nil:
		return wrap("create key", err) // the driver's message never holds the hash
	}
	return nil
}

const keyColumns = `id, account_id, name, scopes, secret_hash, created_at, revoked_at`

func scanKey(r scanner) (ssod.APIKey, error) {
	var k ssod.APIKey
	var scopes string
	err := r.Scan(&k.ID, &k.AccountID, &k.Name, &scopes, &k.SecretHash, &k.CreatedAt, &k.RevokedAt)
	k.Scopes = ssod.SplitScopes(scopes)
	return k, err
}

// FindKey implements ssod.KeyStore.
func (s *Store) FindKey(ctx context.Context, id string) (*ssod.APIKey, error) {
	k, err := scanKey(s.reads.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = ?`, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, ssod.Errorf(ssod.ENotFound, "API key %q not found", id)
	case err != nil:
		return nil, wrap("find key", err)
	}
	return &k, nil
}

// ListKeys implements ssod.KeyStore.
func (s *Store) ListKeys(ctx context.Context, accountID int64) ([]ssod.APIKey, error) {
	// accountID 0 matches every account: no account has id 0.
	ks, err := list(ctx, s.reads, scanKey,
		`SELECT `+keyColumns+` FROM api_keys WHERE ? IN (0, account_id) ORDER BY account_id, created_at, id`,
		accountID)
	if err != nil {
		return nil, wrap("list keys", err)
	}
	return ks, nil
}

// RevokeKey implements ssod.KeyStore.
func (s *Store) RevokeKey(ctx context.Context, id string, now int64) error {
	// One statement both keeps a first revocation time and, through the
	// number of rows it matched, tells an unknown key apart.
	res, err := s.writer.ExecContext(ctx,
		`UPDATE api_keys SET revoked_at = CASE WHEN revoked_at = 0 THEN ? ELSE revoked_at END WHERE id = ?`,
		now, id)
	if err != nil {
		return wrap("revoke key", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return wrap("revoke key", err)
	}
	if n == 0 {
		return ssod.Errorf(ssod.ENotFound, "API key %q not found", id)
	}
	return nil
}

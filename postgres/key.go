package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/ssod/ssod"
)

// CreateKey implements ssod.KeyStore.
func (s *Store) CreateKey(ctx context.Context, k ssod.APIKey) error {
	scopes, err := ssod.JoinScopes(k.Scopes)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx,
		`INSERT INTO api_keys (id, account_id, name, scopes, secret_hash, created_at, revoked_at)
		 VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		k.ID, k.AccountID, k.Name, scopes, k.SecretHash, k.CreatedAt, k.RevokedAt)
	switch {
	case isUnique(err):
		return ssod.Errorf(ssod.EConflict, "an API key with id %q already exists", k.ID)
	case isForeignKey(err):
		return ssod.Errorf(ssod.ENotFound, "account %d does not exist", k.AccountID)
	case err != nil:
		return wrap("create key", err) // see wrap: the hash never reaches the message
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
	if unstorable(id) {
		return nil, ssod.Errorf(ssod.ENotFound, "API key %q not found", id)
	}
	k, err := scanKey(s.pool.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = $1`, id))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, ssod.Errorf(ssod.ENotFound, "API key %q not found", id)
	case err != nil:
		return nil, wrap("find key", err)
	}
	return &k, nil
}

// ListKeys implements ssod.KeyStore.
func (s *Store) ListKeys(ctx context.Context, accountID int64) ([]ssod.APIKey, error) {
	// accountID 0 matches every account: no account has id 0.
	ks, err := list(ctx, s.pool, scanKey,
		`SELECT `+keyColumns+` FROM api_keys WHERE $1::bigint IN (0, account_id) ORDER BY account_id, created_at, id`,
		accountID)
	if err != nil {
		return nil, wrap("list keys", err)
	}
	return ks, nil
}

// RevokeKey implements ssod.KeyStore.
func (s *Store) RevokeKey(ctx context.Context, id string, now int64) error {
	if unstorable(id) {
		return ssod.Errorf(ssod.ENotFound, "API key %q not found", id)
	}
	// One statement both keeps a first revocation time and, through the
	// number of rows it matched, tells an unknown key apart.
	tag, err := s.pool.Exec(ctx,
		`UPDATE api_keys SET revoked_at = CASE WHEN revoked_at = 0 THEN $1 ELSE revoked_at END WHERE id = $2`,
		now, id)
	if err != nil {
		return wrap("revoke key", err)
	}
	if tag.RowsAffected() == 0 {
		return ssod.Errorf(ssod.ENotFound, "API key %q not found", id)
	}
	return nil
}

package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/ssod/ssod"
)

// CreateAccount implements ssod.AccountStore.
func (s *Store) CreateAccount(ctx context.Context, name string, parentID int64, now int64) (*ssod.Account, error) {
	var id int64
	// NULLIF stores "no parent" as NULL, which the foreign key lets through.
	err := s.pool.QueryRow(ctx,
		`INSERT INTO accounts (name, parent_id, created_at) VALUES ($1, NULLIF($2::bigint, 0), $3) RETURNING id`,
		name, parentID, now).Scan(&id)
	switch {
	case isUnique(err):
		return nil, ssod.FieldErrorf(ssod.EConflict, "name", "an account named %q already exists", name)
	case isForeignKey(err):
		return nil, ssod.Errorf(ssod.ENotFound, "parent account %d does not exist", parentID)
	case err != nil:
		return nil, wrap("create account", err)
	}
	return &ssod.Account{ID: id, Name: name, ParentID: parentID, CreatedAt: now}, nil
}

const accountColumns = `id, name, COALESCE(parent_id, 0), created_at`

func scanAccount(r scanner) (ssod.Account, error) {
	var a ssod.Account
	err := r.Scan(&a.ID, &a.Name, &a.ParentID, &a.CreatedAt)
	return a, err
}

// FindAccountByName implements ssod.AccountStore.
func (s *Store) FindAccountByName(ctx context.Context, name string) (*ssod.Account, error) {
	if unstorable(name) {
		return nil, ssod.Errorf(ssod.ENotFound, "account %q not found", name)
	}
	a, err := scanAccount(s.pool.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE name = $1`, name))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, ssod.Errorf(ssod.ENotFound, "account %q not found", name)
	case err != nil:
		return nil, wrap("find account", err)
	}
	return &a, nil
}

// ListAccounts implements ssod.AccountStore.
func (s *Store) ListAccounts(ctx context.Context) ([]ssod.Account, error) {
	as, err := list(ctx, s.pool, scanAccount, `SELECT `+accountColumns+` FROM accounts ORDER BY id`)
	if err != nil {
		return nil, wrap("list accounts", err)
	}
	return as, nil
}

// HasAccounts implements ssod.AccountStore.
func (s *Store) HasAccounts(ctx context.Context) (bool, error) {
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM accounts)`).Scan(&exists); err != nil {
		return false, wrap("has accounts", err)
	}
	return exists, nil
}

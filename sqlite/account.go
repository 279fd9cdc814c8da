package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/ssod/ssod"
)

// CreateAccount implements ssod.AccountStore.
func (s *Store) CreateAccount(ctx context.Context, name string, parentID int64, now int64) (*ssod.Account, error) {
	const op = "create account"
	res, err := s.writer.ExecContext(ctx,
		`INSERT INTO accounts (name, parent_id, created_at) VALUES (?, ?, ?)`,
		name, sql.Null[int64]{V: parentID, Valid: parentID != 0}, now)
	switch {
	case isUnique(err):
		return nil, ssod.FieldErrorf(ssod.EConflict, "name", "an account named %q already exists", name)
	case isForeignKey(err):
		return nil, ssod.Errorf(ssod.ENotFound, "parent account %d does not exist", parentID)
	case err != nil:
		return nil, wrap(op, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return nil, wrap(op, err)
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
	a, err := scanAccount(s.reads.QueryRowContext(ctx,
		`SELECT `+accountColumns+` FROM accounts WHERE name = ?`, name))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, ssod.Errorf(ssod.ENotFound, "account %q not found", name)
	case err != nil:
		return nil, wrap("find account", err)
	}
	return &a, nil
}

// ListAccounts implements ssod.AccountStore.
func (s *Store) ListAccounts(ctx context.Context) ([]ssod.Account, error) {
	as, err := list(ctx, s.reads, scanAccount, `SELECT `+accountColumns+` FROM accounts ORDER BY id`)
	if err != nil {
		return nil, wrap("list accounts", err)
	}
	return as, nil
}

// HasAccounts implements ssod.AccountStore.
func (s *Store) HasAccounts(ctx context.Context) (bool, error) {
	var exists bool
	if err := s.reads.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM accounts)`).Scan(&exists); err != nil {
		return false, wrap("has accounts", err)
	}
	return exists, nil
}

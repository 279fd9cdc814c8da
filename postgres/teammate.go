package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/ssod/ssod"
)

const teammateColumns = `account_id, username, first_name, last_name, is_admin, persona, scopes,
	has_restricted_subuser_access, created_at, updated_at`

func scanTeammate(r scanner) (ssod.Teammate, error) {
	var t ssod.Teammate
	var scopes string
	err := r.Scan(&t.AccountID, &t.Username, &t.FirstName, &t.LastName, &t.IsAdmin, &t.Persona, &scopes,
		&t.HasRestrictedSubuserAccess, &t.CreatedAt, &t.UpdatedAt)
	if err != nil {
		return t, err
	}
	t.Scopes, err = ssod.DecodeScopeList(scopes)
	return t, err
}

type subuserRow struct {
	account int64
	key     string
	access  ssod.SubuserAccess
}

func scanSubuserRow(r scanner) (subuserRow, error) {
	var row subuserRow
	var scopes string
	err := r.Scan(&row.account, &row.key, &row.access.SubuserID, &row.access.PermissionType, &scopes)
	if err != nil {
		return row, err
	}
	row.access.Scopes, err = ssod.DecodeScopeList(scopes)
	return row, err
}

const subuserColumns = `account_id, username_key, subuser_id, permission_type, scopes`

// attachSubusers fills in the subuser access of ts from rows, which are
// in position order.
func attachSubusers(ts []ssod.Teammate, rows []subuserRow) {
	type rowKey struct {
		account int64
		key     string
	}
	access := map[rowKey][]ssod.SubuserAccess{}
	for _, r := range rows {
		k := rowKey{r.account, r.key}
		access[k] = append(access[k], r.access)
	}
	for i := range ts {
		ts[i].SubuserAccess = append([]ssod.SubuserAccess{}, access[rowKey{ts[i].AccountID, ssod.UsernameKey(ts[i].Username)}]...)
	}
}

// getTeammate reads one of the account's teammates through q.
func getTeammate(ctx context.Context, q querier, accountID int64, username string) (ssod.Teammate, error) {
	if unstorable(username) {
		return ssod.Teammate{}, ssod.ErrTeammateNotFound(username)
	}
	key := ssod.UsernameKey(username)
	t, err := scanTeammate(q.QueryRow(ctx,
		`SELECT `+teammateColumns+` FROM teammates WHERE account_id = $1 AND username_key = $2`, accountID, key))
	if errors.Is(err, pgx.ErrNoRows) {
		return t, ssod.ErrTeammateNotFound(username)
	}
	if err != nil {
		return t, err
	}
	rows, err := list(ctx, q, scanSubuserRow, `SELECT `+subuserColumns+` FROM teammate_subusers
		WHERE account_id = $1 AND username_key = $2 ORDER BY position`, accountID, key)
	if err != nil {
		return t, err
	}
	ts := []ssod.Teammate{t}
	attachSubusers(ts, rows)
	return ts[0], nil
}

// writeSubusers replaces the teammate's subuser access rows, refusing a
// subuser that is not the account's.
func writeSubusers(ctx context.Context, tx pgx.Tx, t *ssod.Teammate) error {
	key := ssod.UsernameKey(t.Username)
	if _, err := tx.Exec(ctx, `DELETE FROM teammate_subusers WHERE account_id = $1 AND username_key = $2`, t.AccountID, key); err != nil {
		return err
	}
	for i, a := range t.SubuserAccess {
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM accounts WHERE id = $1 AND parent_id = $2)`,
			a.SubuserID, t.AccountID).Scan(&ok); err != nil {
			return err
		}
		if !ok {
			return ssod.ErrNotASubuser(a.SubuserID)
		}
		scopes, err := ssod.EncodeScopeList(a.Scopes)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx,
			`INSERT INTO teammate_subusers (account_id, username_key, position, subuser_id, permission_type, scopes)
			 VALUES ($1, $2, $3, $4, $5, $6)`, t.AccountID, key, i, a.SubuserID, a.PermissionType, scopes); err != nil {
			return err
		}
	}
	return nil
}

// lockAccount takes the account's row lock, which queues the account's
// teammate creates from every instance: the count and the lookup that
// follow, each a statement of its own under read committed, see every
// create that went before. FOR NO KEY UPDATE leaves foreign key checks free.
// ENotFound when there is no such account.
func lockAccount(ctx context.Context, tx pgx.Tx, accountID int64) error {
	tag, err := tx.Exec(ctx, `SELECT FROM accounts WHERE id = $1 FOR NO KEY UPDATE`, accountID)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return ssod.Errorf(ssod.ENotFound, "account %d does not exist", accountID)
	}
	return nil
}

// insertTeammate counts and inserts; the caller holds the account's lock.
func insertTeammate(ctx context.Context, tx pgx.Tx, t *ssod.Teammate) error {
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM teammates WHERE account_id = $1`, t.AccountID).Scan(&n); err != nil {
		return err
	}
	if n >= ssod.MaxTeammatesPerAccount {
		return ssod.ErrTooManyTeammates()
	}
	scopes, err := ssod.EncodeScopeList(t.Scopes)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx,
		`INSERT INTO teammates (username_key, `+teammateColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		ssod.UsernameKey(t.Username), t.AccountID, t.Username, t.FirstName, t.LastName, t.IsAdmin, t.Persona, scopes,
		t.HasRestrictedSubuserAccess, t.CreatedAt, t.UpdatedAt)
	switch {
	case isUnique(err):
		return ssod.ErrTeammateExists(t.Username)
	case isForeignKey(err):
		return ssod.Errorf(ssod.ENotFound, "account %d does not exist", t.AccountID)
	case err != nil:
		return err
	}
	return writeSubusers(ctx, tx, t)
}

// CreateTeammate implements ssod.TeammateStore.
func (s *Store) CreateTeammate(ctx context.Context, t ssod.Teammate, now int64) (*ssod.Teammate, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	t = ssod.TeammateUpdate{}.Apply(t) // the caller's slices stay the caller's
	t.CreatedAt, t.UpdatedAt = now, now
	err := s.write(ctx, func(tx pgx.Tx) error {
		if err := lockAccount(ctx, tx, t.AccountID); err != nil {
			return err
		}
		if err := insertTeammate(ctx, tx, &t); err != nil {
			return err
		}
		return recordAudit(ctx, tx, t.AccountID, ssod.AuditTeammateCreate, t.Username, nil, &t)
	})
	if err != nil {
		return nil, wrap("create teammate", err)
	}
	return &t, nil
}

// ProvisionTeammate implements ssod.TeammateStore. Under the account's row
// lock the lookup sees any teammate a concurrent provision committed, from
// this instance or another, so exactly one of them inserts.
func (s *Store) ProvisionTeammate(ctx context.Context, t ssod.Teammate, now int64) (*ssod.Teammate, bool, error) {
	if err := t.Validate(); err != nil {
		return nil, false, err
	}
	t = ssod.TeammateUpdate{}.Apply(t)
	t.CreatedAt, t.UpdatedAt = now, now
	var created bool
	err := s.write(ctx, func(tx pgx.Tx) error {
		created = false
		if err := lockAccount(ctx, tx, t.AccountID); err != nil {
			return err
		}
		old, err := getTeammate(ctx, tx, t.AccountID, t.Username)
		if err == nil {
			t = old
			return nil
		}
		if ssod.CodeOf(err) != ssod.ENotFound {
			return err
		}
		if err := insertTeammate(ctx, tx, &t); err != nil {
			return err
		}
		created = true
		return recordAudit(ctx, tx, t.AccountID, ssod.AuditTeammateJIT, t.Username, nil, &t)
	})
	if err != nil {
		return nil, false, wrap("provision teammate", err)
	}
	return &t, created, nil
}

// GetTeammate implements ssod.TeammateStore.
func (s *Store) GetTeammate(ctx context.Context, accountID int64, username string) (*ssod.Teammate, error) {
	var t ssod.Teammate
	err := s.read(ctx, func(tx pgx.Tx) error {
		var err error
		t, err = getTeammate(ctx, tx, accountID, username)
		return err
	})
	if err != nil {
		return nil, wrap("get teammate", err)
	}
	return &t, nil
}

// ListTeammates implements ssod.TeammateStore.
func (s *Store) ListTeammates(ctx context.Context, accountID int64, limit, offset int) ([]ssod.Teammate, error) {
	if limit < 1 {
		return []ssod.Teammate{}, nil
	}
	offset = max(offset, 0)
	var ts []ssod.Teammate
	err := s.read(ctx, func(tx pgx.Tx) error {
		var err error
		ts, err = list(ctx, tx, scanTeammate,
			`SELECT `+teammateColumns+` FROM teammates WHERE account_id = $1 ORDER BY seq LIMIT $2 OFFSET $3`,
			accountID, limit, offset)
		if err != nil || len(ts) == 0 {
			return err
		}
		keys := make([]string, len(ts))
		for i := range ts {
			keys[i] = ssod.UsernameKey(ts[i].Username)
		}
		rows, err := list(ctx, tx, scanSubuserRow, `SELECT `+subuserColumns+` FROM teammate_subusers
			WHERE account_id = $1 AND username_key = ANY($2) ORDER BY position`, accountID, keys)
		if err != nil {
			return err
		}
		attachSubusers(ts, rows)
		return nil
	})
	if err != nil {
		return nil, wrap("list teammates", err)
	}
	return ts, nil
}

// UpdateTeammate implements ssod.TeammateStore.
func (s *Store) UpdateTeammate(ctx context.Context, accountID int64, username string, u ssod.TeammateUpdate, now int64) (*ssod.Teammate, error) {
	if err := u.Validate(); err != nil {
		return nil, err
	}
	var t ssod.Teammate
	err := s.write(ctx, func(tx pgx.Tx) error {
		old, err := getTeammateForUpdate(ctx, tx, accountID, username)
		if err != nil {
			return err
		}
		t = u.Apply(old)
		if t.Equal(old) {
			return nil // nothing changes: no write, no audit event
		}
		if err := t.Validate(); err != nil {
			return err
		}
		t.UpdatedAt = now
		scopes, err := ssod.EncodeScopeList(t.Scopes)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx,
			`UPDATE teammates SET first_name = $1, last_name = $2, is_admin = $3, persona = $4, scopes = $5,
			     has_restricted_subuser_access = $6, updated_at = $7
			 WHERE account_id = $8 AND username_key = $9`,
			t.FirstName, t.LastName, t.IsAdmin, t.Persona, scopes, t.HasRestrictedSubuserAccess, t.UpdatedAt,
			accountID, ssod.UsernameKey(t.Username)); err != nil {
			return err
		}
		if err := writeSubusers(ctx, tx, &t); err != nil {
			return err
		}
		return recordAudit(ctx, tx, accountID, ssod.AuditTeammateUpdate, t.Username, &old, &t)
	})
	if err != nil {
		return nil, wrap("update teammate", err)
	}
	return &t, nil
}

// getTeammateForUpdate is getTeammate holding the teammate's row lock, so
// that two updates of one teammate apply one after the other, each to what
// the other wrote, and neither mixes its subuser rows with the other's.
func getTeammateForUpdate(ctx context.Context, tx pgx.Tx, accountID int64, username string) (ssod.Teammate, error) {
	if unstorable(username) {
		return ssod.Teammate{}, ssod.ErrTeammateNotFound(username)
	}
	if _, err := tx.Exec(ctx, `SELECT FROM teammates WHERE account_id = $1 AND username_key = $2 FOR UPDATE`,
		accountID, ssod.UsernameKey(username)); err != nil {
		return ssod.Teammate{}, err
	}
	return getTeammate(ctx, tx, accountID, username)
}

// DeleteTeammate implements ssod.TeammateStore.
func (s *Store) DeleteTeammate(ctx context.Context, accountID int64, username string) error {
	err := s.write(ctx, func(tx pgx.Tx) error {
		old, err := getTeammateForUpdate(ctx, tx, accountID, username)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM teammates WHERE account_id = $1 AND username_key = $2`,
			accountID, ssod.UsernameKey(old.Username)); err != nil {
			return err
		}
		return recordAudit(ctx, tx, accountID, ssod.AuditTeammateDelete, old.Username, &old, nil)
	})
	return wrap("delete teammate", err)
}

// exportTeammates reads every teammate, oldest first, with its access.
func exportTeammates(ctx context.Context, tx pgx.Tx) ([]ssod.Teammate, error) {
	ts, err := list(ctx, tx, scanTeammate, `SELECT `+teammateColumns+` FROM teammates ORDER BY seq`)
	if err != nil {
		return nil, err
	}
	rows, err := list(ctx, tx, scanSubuserRow, `SELECT `+subuserColumns+` FROM teammate_subusers ORDER BY position`)
	if err != nil {
		return nil, err
	}
	attachSubusers(ts, rows)
	return ts, nil
}

// importTeammates writes every teammate of a snapshot as it was, the limit
// aside: the copy keeps what the source held.
func importTeammates(ctx context.Context, tx pgx.Tx, ts []ssod.Teammate) error {
	for i := range ts {
		t := ts[i]
		scopes, err := ssod.EncodeScopeList(t.Scopes)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx,
			`INSERT INTO teammates (username_key, `+teammateColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			ssod.UsernameKey(t.Username), t.AccountID, t.Username, t.FirstName, t.LastName, t.IsAdmin, t.Persona, scopes,
			t.HasRestrictedSubuserAccess, t.CreatedAt, t.UpdatedAt); err != nil {
			return err
		}
		if err := writeSubusers(ctx, tx, &t); err != nil {
			return err
		}
	}
	return nil
}

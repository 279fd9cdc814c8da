package sqlite

import (
	"context"
	"database/sql"
	"errors"

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
	key    string
	access ssod.SubuserAccess
}

func scanSubuserRow(r scanner) (subuserRow, error) {
	var row subuserRow
	var scopes string
	err := r.Scan(&row.key, &row.access.SubuserID, &row.access.PermissionType, &scopes)
	if err != nil {
		return row, err
	}
	row.access.Scopes, err = ssod.DecodeScopeList(scopes)
	return row, err
}

// attachSubusers fills in the subuser access of ts, teammates of one
// account, with one query.
func attachSubusers(ctx context.Context, q querier, accountID int64, ts []ssod.Teammate, where string, args ...any) error {
	rows, err := list(ctx, q, scanSubuserRow,
		`SELECT username_key, subuser_id, permission_type, scopes FROM teammate_subusers
		 WHERE account_id = ? AND `+where+` ORDER BY username_key, position`, append([]any{accountID}, args...)...)
	if err != nil {
		return err
	}
	byKey := make(map[string][]ssod.SubuserAccess)
	for _, r := range rows {
		byKey[r.key] = append(byKey[r.key], r.access)
	}
	for i := range ts {
		ts[i].SubuserAccess = append([]ssod.SubuserAccess{}, byKey[ssod.UsernameKey(ts[i].Username)]...)
	}
	return nil
}

// getTeammate reads one of the account's teammates through q.
func getTeammate(ctx context.Context, q querier, accountID int64, username string) (ssod.Teammate, error) {
	key := ssod.UsernameKey(username)
	t, err := scanTeammate(q.QueryRowContext(ctx,
		`SELECT `+teammateColumns+` FROM teammates WHERE account_id = ? AND username_key = ?`, accountID, key))
	if errors.Is(err, sql.ErrNoRows) {
		return t, ssod.ErrTeammateNotFound(username)
	}
	if err != nil {
		return t, err
	}
	ts := []ssod.Teammate{t}
	if err := attachSubusers(ctx, q, accountID, ts, `username_key = ?`, key); err != nil {
		return t, err
	}
	return ts[0], nil
}

// writeSubusers replaces the teammate's subuser access rows, refusing a
// subuser that is not the account's.
func writeSubusers(ctx context.Context, tx *sql.Tx, t *ssod.Teammate) error {
	key := ssod.UsernameKey(t.Username)
	if _, err := tx.ExecContext(ctx, `DELETE FROM teammate_subusers WHERE account_id = ? AND username_key = ?`, t.AccountID, key); err != nil {
		return err
	}
	for i, a := range t.SubuserAccess {
		var ok bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM accounts WHERE id = ? AND parent_id = ?)`,
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
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO teammate_subusers (account_id, username_key, position, subuser_id, permission_type, scopes)
			 VALUES (?, ?, ?, ?, ?, ?)`, t.AccountID, key, i, a.SubuserID, a.PermissionType, scopes); err != nil {
			return err
		}
	}
	return nil
}

// insertTeammate counts and inserts in the caller's write transaction; the
// single writer makes the two one step.
func insertTeammate(ctx context.Context, tx *sql.Tx, t *ssod.Teammate) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM teammates WHERE account_id = ?`, t.AccountID).Scan(&n); err != nil {
		return err
	}
	if n >= ssod.MaxTeammatesPerAccount {
		return ssod.ErrTooManyTeammates()
	}
	scopes, err := ssod.EncodeScopeList(t.Scopes)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx,
		`INSERT INTO teammates (username_key, `+teammateColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
	const op = "create teammate"
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		if err := insertTeammate(ctx, tx, &t); err != nil {
			return err
		}
		return recordAudit(ctx, tx, t.AccountID, ssod.AuditTeammateCreate, t.Username, nil, &t)
	})
	if err != nil {
		return nil, wrap(op, err)
	}
	return &t, nil
}

// ProvisionTeammate implements ssod.TeammateStore. The single writer runs
// the lookup and the insert as one step, so of two sign-ins of the same new
// user the second finds the first's teammate.
func (s *Store) ProvisionTeammate(ctx context.Context, t ssod.Teammate, now int64) (*ssod.Teammate, bool, error) {
	if err := t.Validate(); err != nil {
		return nil, false, err
	}
	t = ssod.TeammateUpdate{}.Apply(t)
	t.CreatedAt, t.UpdatedAt = now, now
	const op = "provision teammate"
	var created bool
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		created = false
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
		return nil, false, wrap(op, err)
	}
	return &t, created, nil
}

// GetTeammate implements ssod.TeammateStore.
func (s *Store) GetTeammate(ctx context.Context, accountID int64, username string) (*ssod.Teammate, error) {
	var t ssod.Teammate
	err := s.read(ctx, "get teammate", func(tx *sql.Tx) error {
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
	err := s.read(ctx, "list teammates", func(tx *sql.Tx) error {
		var err error
		ts, err = list(ctx, tx, scanTeammate,
			`SELECT `+teammateColumns+` FROM teammates WHERE account_id = ? ORDER BY seq LIMIT ? OFFSET ?`,
			accountID, limit, offset)
		if err != nil || len(ts) == 0 {
			return err
		}
		return attachSubusers(ctx, tx, accountID, ts,
			`username_key IN (SELECT username_key FROM teammates WHERE account_id = ? ORDER BY seq LIMIT ? OFFSET ?)`,
			accountID, limit, offset)
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
	const op = "update teammate"
	var t ssod.Teammate
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		old, err := getTeammate(ctx, tx, accountID, username)
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
		if _, err := tx.ExecContext(ctx,
			`UPDATE teammates SET first_name = ?, last_name = ?, is_admin = ?, persona = ?, scopes = ?,
			     has_restricted_subuser_access = ?, updated_at = ?
			 WHERE account_id = ? AND username_key = ?`,
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
		return nil, wrap(op, err)
	}
	return &t, nil
}

// DeleteTeammate implements ssod.TeammateStore.
func (s *Store) DeleteTeammate(ctx context.Context, accountID int64, username string) error {
	const op = "delete teammate"
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		old, err := getTeammate(ctx, tx, accountID, username)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM teammates WHERE account_id = ? AND username_key = ?`,
			accountID, ssod.UsernameKey(old.Username)); err != nil {
			return err
		}
		return recordAudit(ctx, tx, accountID, ssod.AuditTeammateDelete, old.Username, &old, nil)
	})
	return wrap(op, err)
}

// exportTeammates reads every teammate, oldest first, with its access.
func exportTeammates(ctx context.Context, tx *sql.Tx) ([]ssod.Teammate, error) {
	ts, err := list(ctx, tx, scanTeammate, `SELECT `+teammateColumns+` FROM teammates ORDER BY seq`)
	if err != nil {
		return nil, err
	}
	type rowKey struct {
		account int64
		key     string
	}
	rows, err := tx.QueryContext(ctx,
		`SELECT account_id, username_key, subuser_id, permission_type, scopes FROM teammate_subusers ORDER BY account_id, username_key, position`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	access := map[rowKey][]ssod.SubuserAccess{}
	for rows.Next() {
		var k rowKey
		var a ssod.SubuserAccess
		var scopes string
		if err := rows.Scan(&k.account, &k.key, &a.SubuserID, &a.PermissionType, &scopes); err != nil {
			return nil, err
		}
		if a.Scopes, err = ssod.DecodeScopeList(scopes); err != nil {
			return nil, err
		}
		access[k] = append(access[k], a)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range ts {
		ts[i].SubuserAccess = append([]ssod.SubuserAccess{}, access[rowKey{ts[i].AccountID, ssod.UsernameKey(ts[i].Username)}]...)
	}
	return ts, nil
}

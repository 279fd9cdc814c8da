package postgres

import (
	"context"

	"github.com/ssod/ssod"
)

// ListIntegrationWindows implements ssod.SigningWindowStore.
func (s *Store) ListIntegrationWindows(ctx context.Context, accountID int64) ([]ssod.IntegrationWindows, error) {
	// Two statements rather than "$1 IN (0, account_id)", so that one
	// account's report uses the (account_id, seq) index.
	where, args := ``, []any{}
	if accountID != 0 {
		where, args = `WHERE i.account_id = $1`, []any{accountID}
	}
	rows, err := s.pool.Query(ctx, `SELECT i.id, i.account_id, i.name, i.enabled, c.id, c.not_before, c.not_after, c.enabled
		FROM integrations i LEFT JOIN certificates c ON c.integration_id = i.id `+where+`
		ORDER BY i.account_id, i.seq, c.id`, args...)
	if err != nil {
		return nil, wrap("list integration windows", err)
	}
	defer rows.Close()
	out := []ssod.IntegrationWindows{}
	for rows.Next() {
		var in ssod.Integration
		var id, notBefore, notAfter *int64
		var enabled *bool
		if err := rows.Scan(&in.ID, &in.AccountID, &in.Name, &in.Enabled, &id, &notBefore, &notAfter, &enabled); err != nil {
			return nil, wrap("list integration windows", err)
		}
		var c *ssod.Certificate
		if id != nil {
			c = &ssod.Certificate{ID: *id, AccountID: in.AccountID, IntegrationID: in.ID, Enabled: *enabled,
				X509: ssod.X509{NotBefore: *notBefore, NotAfter: *notAfter}}
		}
		out = ssod.AppendIntegrationWindow(out, in, c)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list integration windows", err)
	}
	return out, nil
}

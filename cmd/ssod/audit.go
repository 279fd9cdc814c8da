package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/ssod/ssod"
)

// auditList prints the audit trail, newest first, naming accounts.
func auditList(ctx context.Context, store ssod.Store, account string, limit int, stdout io.Writer) error {
	accounts, err := store.ListAccounts(ctx)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	var accountID int64
	for _, a := range accounts {
		names[a.ID] = a.Name
		if a.Name == account {
			accountID = a.ID
		}
	}
	if account != "" && accountID == 0 {
		return fmt.Errorf("account %q: %w", account, ssod.Errorf(ssod.ENotFound, "no such account"))
	}
	events, err := store.ListAuditEvents(ctx, accountID, limit)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tACCOUNT\tBY\tKEY_ID\tOPERATION\tOBJECT\tBEFORE\tAFTER")
	for _, e := range events {
		by := "cli"
		if e.ActorAccountID != 0 {
			by = names[e.ActorAccountID]
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", unixTime(e.At), names[e.AccountID], by, orDash(e.KeyID),
			e.Operation, e.ObjectID, orDash(e.Before), orDash(e.After))
	}
	return tw.Flush()
}

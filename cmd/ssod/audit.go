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
	names, accountID, err := accountNames(ctx, store, account)
	if err != nil {
		return err
	}
	events, err := store.ListAuditEvents(ctx, accountID, limit)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tACCOUNT\tBY\tKEY_ID\tOPERATION\tOBJECT\tBEFORE\tAFTER")
	for _, e := range events {
		by := "cli"
		switch {
		case e.ActorAccountID != 0:
			by = names[e.ActorAccountID]
		case e.Operation == ssod.AuditTeammateJIT:
			by = "jit" // a sign-in, not a person, made it
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", unixTime(e.At), names[e.AccountID], by, orDash(e.KeyID),
			e.Operation, e.ObjectID, orDash(e.Before), orDash(e.After))
	}
	return tw.Flush()
}

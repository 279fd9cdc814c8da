package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/ssod/ssod"
)

// loginsList prints an integration's login traces, newest first: what each POST to its
// Assertion Consumer Service decided and why.
func loginsList(ctx context.Context, store ssod.Store, integrationID string, limit int, stdout io.Writer) error {
	if integrationID == "" {
		return errors.New("logins list: --integration is required")
	}
	if limit < 1 || limit > ssod.MaxLoginTracesPerList {
		return fmt.Errorf("logins list: --limit must be from 1 to %d", ssod.MaxLoginTracesPerList)
	}
	in, err := store.FindIntegration(ctx, integrationID)
	if err != nil {
		return fmt.Errorf("integration %q: %w", integrationID, err)
	}
	traces, err := store.ListLoginTraces(ctx, in.AccountID, in.ID, limit)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTIME\tRESULT\tNAME_ID\tASSERTION_ID\tCERTIFICATE_ID\tIN_RESPONSE_TO\tREQUEST_ID\tMESSAGE")
	for _, t := range traces {
		cert := "-"
		if t.CertificateID != 0 {
			cert = strconv.FormatInt(t.CertificateID, 10)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, unixTime(t.Time), t.Result, orDash(t.NameID), orDash(t.AssertionID),
			cert, orDash(t.InResponseTo), orDash(t.RequestID), t.Message)
	}
	return tw.Flush()
}

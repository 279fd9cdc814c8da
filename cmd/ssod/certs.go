package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/httpapi"
)

// alertError is what certs expiring returns when an enabled integration is
// broken or expiring: main exits 1 for it rather than 2, so that cron and
// monitors can tell "found a problem" from "could not look".
type alertError struct {
	n      int
	within string
}

func (e *alertError) Error() string {
	return fmt.Sprintf("certs expiring: %d enabled integration(s) broken or expiring within %s", e.n, e.within)
}

// certsExpiring prints the expiry report of one account, or of all, as at
// now: a table, or with asJSON the API's JSON (with all accounts, each entry
// also names its account).
func certsExpiring(ctx context.Context, store ssod.Store, account, within string, asJSON bool, now int64, stdout io.Writer) error {
	window, err := ssod.ParseExpiryWindow(within)
	if err != nil {
		return fmt.Errorf("certs expiring: --within: %w", err)
	}
	names, accountID, err := accountNames(ctx, store, account)
	if err != nil {
		return err
	}
	list, err := store.ListIntegrationWindows(ctx, accountID)
	if err != nil {
		return err
	}
	report := ssod.ExpiryReport(list, now, window)
	if asJSON {
		err = printReportJSON(report, names, account == "", stdout)
	} else {
		err = printReportTable(report, names, now, stdout)
	}
	if err != nil {
		return err
	}
	alerting := 0
	for _, e := range report {
		if e.Alerting() {
			alerting++
		}
	}
	if alerting > 0 {
		return &alertError{n: alerting, within: within}
	}
	return nil
}

func printReportJSON(report []ssod.ExpiryEntry, names map[int64]string, withAccount bool, stdout io.Writer) error {
	type accountEntry struct {
		Account string `json:"account"`
		httpapi.ExpiryReportEntry
	}
	out := make([]any, len(report))
	for i, e := range report {
		out[i] = httpapi.NewExpiryReportEntry(e)
		if withAccount {
			out[i] = accountEntry{Account: names[e.Integration.AccountID], ExpiryReportEntry: httpapi.NewExpiryReportEntry(e)}
		}
	}
	return json.NewEncoder(stdout).Encode(out)
}

func printReportTable(report []ssod.ExpiryEntry, names map[int64]string, now int64, stdout io.Writer) error {
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STATUS\tSIGNING_VALID_UNTIL\tDAYS_LEFT\tENABLED\tACCOUNT\tINTEGRATION_ID\tNAME\tCERTIFICATES")
	for _, e := range report {
		until, daysLeft := "-", "-"
		if e.Status != ssod.SigningBroken {
			until = unixTime(e.ValidUntil)
			daysLeft = strconv.FormatInt((e.ValidUntil-now)/int64(ssod.Day/time.Second), 10)
		}
		enabled := 0
		for _, c := range e.Certificates {
			if c.Enabled {
				enabled++
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%t\t%s\t%s\t%s\t%d (%d enabled)\n", e.Status, until, daysLeft, e.Integration.Enabled,
			names[e.Integration.AccountID], e.Integration.ID, e.Integration.Name, len(e.Certificates), enabled)
	}
	return tw.Flush()
}

package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/apikey"
)

// admin runs the accounts and keys subcommands against the database.
func admin(ctx context.Context, cmd string, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flagSet(cmd)
	dsn := dbFlag(fs, getenv)
	var parent, account, scopes, name, integration, within *string
	var limit *int
	var asJSON *bool
	switch cmd {
	case "accounts create":
		parent = fs.String("parent", "", "name of the parent account (makes a subuser)")
	case "keys create":
		account = fs.String("account", "", "account the key acts for (required)")
		scopes = fs.String("scopes", "", "comma-separated scopes (default: all)")
		name = fs.String("name", "", "a label for the key")
	case "keys list":
		account = fs.String("account", "", "list only this account's keys")
	case "audit list":
		account = fs.String("account", "", "list only changes of this account's objects")
		limit = fs.Int("limit", 100, "how many events, newest first")
	case "logins list":
		integration = fs.String("integration", "", "the integration whose sign-ins to list (required)")
		limit = fs.Int("limit", ssod.DefaultLoginTraces, fmt.Sprintf("how many login traces, newest first (at most %d)", ssod.MaxLoginTracesPerList))
	case "certs expiring":
		account = fs.String("account", "", "report only this account's integrations")
		within = fs.String("within", "30d", "flag integrations that break within this window: days (30d) or a duration (12h)")
		asJSON = fs.Bool("json", false, "print the API's JSON instead of a table")
	case "accounts list", "keys revoke":
	default:
		return fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}
	pos, err := parseArgs(fs, args, stdout)
	if err != nil {
		return err
	}
	wantArgs := map[string]int{"accounts create": 1, "keys revoke": 1}[cmd]
	if len(pos) != wantArgs {
		return fmt.Errorf("%s: want %d argument(s), got %d\n%s", cmd, wantArgs, len(pos), usage)
	}
	db, err := parseDatabase("--db", *dsn)
	if err != nil {
		return err
	}
	store, err := db.open(ctx, false)
	if err != nil {
		return err
	}
	defer store.Close()
	now := time.Now().Unix()

	switch cmd {
	case "accounts create":
		if err := ssod.ValidateAccountName(pos[0]); err != nil {
			return err
		}
		var parentID int64
		if *parent != "" {
			p, err := store.FindAccountByName(ctx, *parent)
			if err != nil {
				return fmt.Errorf("parent %q: %w", *parent, err)
			}
			parentID = p.ID
		}
		acct, err := store.CreateAccount(ctx, pos[0], parentID, now)
		if err != nil {
			return fmt.Errorf("create account %q: %w", pos[0], err)
		}
		fmt.Fprintf(stdout, "%s\n", acct.Name)
	case "accounts list":
		list, err := store.ListAccounts(ctx)
		if err != nil {
			return err
		}
		byID := map[int64]string{}
		for _, a := range list {
			byID[a.ID] = a.Name
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		// The id is what a teammate's subuser_access names a subuser by.
		fmt.Fprintln(tw, "ID\tNAME\tPARENT\tCREATED")
		for _, a := range list {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", a.ID, a.Name, orDash(byID[a.ParentID]), unixTime(a.CreatedAt))
		}
		return tw.Flush()
	case "keys create":
		if *account == "" {
			return fmt.Errorf("keys create: --account is required")
		}
		acct, err := store.FindAccountByName(ctx, *account)
		if err != nil {
			return fmt.Errorf("account %q: %w", *account, err)
		}
		list := ssod.AllScopes()
		if *scopes != "" {
			if list, err = ssod.ParseScopes(*scopes); err != nil {
				return err
			}
		}
		key, err := createKey(ctx, store, acct.ID, list, *name)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, key)
	case "keys list":
		names, accountID, err := accountNames(ctx, store, *account)
		if err != nil {
			return err
		}
		keys, err := store.ListKeys(ctx, accountID)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KEY_ID\tACCOUNT\tNAME\tSCOPES\tCREATED\tREVOKED")
		for _, k := range keys {
			scopeNames := make([]string, len(k.Scopes))
			for i, s := range k.Scopes {
				scopeNames[i] = string(s)
			}
			revoked := "-"
			if k.RevokedAt != 0 {
				revoked = unixTime(k.RevokedAt)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, names[k.AccountID], orDash(k.Name), strings.Join(scopeNames, ","), unixTime(k.CreatedAt), revoked)
		}
		return tw.Flush()
	case "audit list":
		return auditList(ctx, store, *account, *limit, stdout)
	case "logins list":
		return loginsList(ctx, store, *integration, *limit, stdout)
	case "certs expiring":
		return certsExpiring(ctx, store, *account, *within, *asJSON, now, stdout)
	case "keys revoke":
		id := pos[0]
		if full, _, ok := apikey.Split(id); ok {
			id = full // a whole key was pasted: revoke it by its ID
		}
		if err := store.RevokeKey(ctx, id, now); err != nil {
			return fmt.Errorf("revoke key %q: %w", id, err)
		}
		fmt.Fprintf(stdout, "revoked %s\n", id)
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func unixTime(sec int64) string { return time.Unix(sec, 0).UTC().Format(time.RFC3339) }

// accountNames maps account ids to names for a listing, and resolves its
// --account filter to an id (0 when filter is empty: all accounts).
func accountNames(ctx context.Context, store ssod.Store, filter string) (map[int64]string, int64, error) {
	accounts, err := store.ListAccounts(ctx)
	if err != nil {
		return nil, 0, err
	}
	names := make(map[int64]string, len(accounts))
	var id int64
	for _, a := range accounts {
		names[a.ID] = a.Name
		if a.Name == filter {
			id = a.ID
		}
	}
	if filter != "" && id == 0 {
		return nil, 0, fmt.Errorf("account %q: %w", filter, ssod.Errorf(ssod.ENotFound, "no such account"))
	}
	return names, id, nil
}

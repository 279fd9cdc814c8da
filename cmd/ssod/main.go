// Command ssod serves SendGrid's v3 SSO Certificates and Integrations API
// from an embedded SQLite database (or PostgreSQL), and manages its
// accounts and API keys.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "ssod:", err)
		}
		os.Exit(2)
	}
}

const usage = `usage:
  ssod serve [--addr HOST:PORT] [--db DSN] [--public-url URL] [--rate-limit N/DURATION|off]
  ssod accounts create NAME [--parent NAME] [--db DSN]
  ssod accounts list [--db DSN]
  ssod keys create --account NAME [--scopes a,b,c] [--name LABEL] [--db DSN]
  ssod keys list [--account NAME] [--db DSN]
  ssod keys revoke KEY_ID [--db DSN]
  ssod audit list [--account NAME] [--limit N] [--db DSN]
  ssod migrate --from sqlite:PATH --to postgres://...
  ssod version
DSN: a file path or sqlite:PATH (SQLite, the default is ssod.db), or postgres://...
Every flag also reads an environment variable: SSOD_ADDR, SSOD_DB, SSOD_PUBLIC_URL, ...`

// run is the whole program, so that tests can run it in-process with their
// own arguments, environment and output.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return flag.ErrHelp
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(ctx, rest, getenv, stderr)
	case "migrate":
		return migrateCmd(ctx, rest, getenv, stdout, stderr)
	case "accounts", "keys", "audit":
		if len(rest) == 0 {
			return fmt.Errorf("%s: missing subcommand\n%s", cmd, usage)
		}
		return admin(ctx, cmd+" "+rest[0], rest[1:], getenv, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "ssod", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}

// flagSet returns a FlagSet whose errors go to stderr and return, not exit.
func flagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("ssod "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// envString registers a string flag whose default comes from an
// environment variable when set.
func envString(fs *flag.FlagSet, getenv func(string) string, name, env, def, help string) *string {
	if v := getenv(env); v != "" {
		def = v
	}
	return fs.String(name, def, help+" (env "+env+")")
}

// parseArgs parses flags wherever they stand among the positional
// arguments, as users type "accounts create NAME --parent P".
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		if args[0] == "--" {
			return append(positional, args[1:]...), nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// dbFlag is the --db flag every command that touches the database has.
func dbFlag(fs *flag.FlagSet, getenv func(string) string) *string {
	return envString(fs, getenv, "db", "SSOD_DB", "ssod.db", "database: a file path, sqlite:PATH or postgres://...")
}

func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

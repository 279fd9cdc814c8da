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
		os.Exit(exitCode(err))
	}
}

const usage = `usage:
  ssod serve [--addr HOST:PORT] [--db DSN] [--seed FILE] [--public-url URL] [--rate-limit N/DURATION|off]
  ssod accounts create NAME [--parent NAME] [--db DSN]
  ssod accounts list [--db DSN]
  ssod keys create --account NAME [--scopes a,b,c] [--name LABEL] [--db DSN]
  ssod keys list [--account NAME] [--db DSN]
  ssod keys revoke KEY_ID [--db DSN]
  ssod audit list [--account NAME] [--limit N] [--db DSN]
  ssod logins list --integration ID [--limit N] [--db DSN]
  ssod certs expiring [--within 30d] [--account NAME] [--json] [--db DSN]
  ssod migrate --from sqlite:PATH --to postgres://...
  ssod version
DSN: a file path or sqlite:PATH (SQLite, the default is ssod.db), :memory: (serve only), or postgres://...
Every command also takes --help.
Every flag also reads an environment variable: SSOD_ADDR, SSOD_DB, SSOD_PUBLIC_URL, ...`

// run is the whole program, so that tests can run it in-process with their
// own arguments, environment and output.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	err := dispatch(ctx, args, getenv, stdout, stderr)
	if errors.Is(err, errHelpShown) {
		return nil
	}
	return err
}

func dispatch(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return flag.ErrHelp
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(ctx, rest, getenv, stdout, stderr)
	case "migrate":
		return migrateCmd(ctx, rest, getenv, stdout)
	case "accounts", "keys", "audit", "logins", "certs":
		if len(rest) == 0 {
			return fmt.Errorf("%s: missing subcommand\n%s", cmd, usage)
		}
		if isHelp(rest[0]) {
			fmt.Fprintln(stdout, usage)
			return nil
		}
		return admin(ctx, cmd+" "+rest[0], rest[1:], getenv, stdout)
	case "version":
		if len(rest) > 0 && isHelp(rest[0]) {
			fmt.Fprintln(stdout, "usage: ssod version")
			return nil
		}
		fmt.Fprintln(stdout, "ssod", version)
		return nil
	case "help", "-h", "-help", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}

// exitCode is 1 for a command whose answer is "there is a problem" (certs
// expiring), 2 for one that failed or was misused.
func exitCode(err error) int {
	var alert *alertError
	if errors.As(err, &alert) {
		return 1
	}
	return 2
}

func isHelp(arg string) bool { return arg == "-h" || arg == "-help" || arg == "--help" }

// errHelpShown is what a command returns when it was asked for its usage
// and printed it: run then succeeds.
var errHelpShown = errors.New("help shown")

// flagSet returns a FlagSet that prints nothing itself: parseArgs shows the
// usage on stdout when asked, and errors reach the user once, through main.
func flagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("ssod "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// printUsage writes the command's lines of the usage text and its flags.
func printUsage(fs *flag.FlagSet, w io.Writer) {
	fmt.Fprintln(w, "usage:")
	for line := range strings.Lines(usage) {
		if strings.HasPrefix(strings.TrimSpace(line), fs.Name()+" ") || strings.TrimSpace(line) == fs.Name() {
			fmt.Fprint(w, line)
		}
	}
	fmt.Fprintln(w, "flags:")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
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
// arguments, as users type "accounts create NAME --parent P". Asked for
// help (-h, --help), it prints the command's usage on stdout and returns
// errHelpShown.
func parseArgs(fs *flag.FlagSet, args []string, stdout io.Writer) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
			printUsage(fs, stdout)
			return nil, errHelpShown
		} else if err != nil {
			return nil, fmt.Errorf("%s: %w (%s --help shows its flags)", strings.TrimPrefix(fs.Name(), "ssod "), err, fs.Name())
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

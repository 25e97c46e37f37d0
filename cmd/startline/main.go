// Command startline runs the Startline registration service: the HTTP API
// and web pages, the background workers, migrations and admin tasks.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: startline <command> [flags]

commands:
  serve                 run the API and web pages
  worker                run the background workers and scheduler
  all                   migrate, then run serve and worker in one process
  migrate               create the database if missing and apply migrations
  seed-demo             create the published demo event and staff logins
  staff add --email E --role organizer|reviewer [--password P]
  staff token --email E [--ttl 90d]
                        print a bearer token for scripts (expires after --ttl)
  staff tokens --email E
                        list the account's tokens (id, prefix, created, expires, last used, status)
  staff disable --email E
                        disable the account: its tokens and sessions stop working at once
  staff enable --email E
                        let a disabled account sign in again (old tokens stay revoked)
  staff revoke-tokens --email E [--id N]
                        revoke one token, or all tokens and browser sessions
  staff reset --email E [--password P]
                        new password and TOTP secret; revokes tokens and sessions
  verify ARTIFACT.json|URL
                        recompute a published draw or pre-queue order (or check a proof);
                        exit 0 when it matches, 1 when not
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		if !errors.Is(err, flag.ErrHelp) && !errors.Is(err, errMismatch) {
			fmt.Fprintln(os.Stderr, "startline:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(out, usage)
		return errors.New("no command")
	}
	if args[0] == "verify" { // for anyone: no configuration, no database
		return verifyCmd(ctx, args[1:], out)
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	// Notices about the configuration (a generated dev key) go to stderr:
	// stdout is what scripts read, e.g. TOKEN=$(startline staff token ...).
	cfg, err := loadConfig(os.Stderr)
	if err != nil {
		return err
	}
	switch args[0] {
	case "migrate":
		return migrateCmd(ctx, cfg, out)
	case "serve":
		return serveCmd(ctx, cfg, log, true, false)
	case "worker":
		return serveCmd(ctx, cfg, log, false, true)
	case "all":
		if err := migrateCmd(ctx, cfg, out); err != nil {
			return err
		}
		return serveCmd(ctx, cfg, log, true, true)
	case "seed-demo":
		return seedDemoCmd(ctx, cfg, log, out)
	case "staff":
		return staffCmd(ctx, cfg, log, args[1:], out)
	case "help", "-h", "--help":
		fmt.Fprint(out, usage)
		return nil
	}
	fmt.Fprint(out, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

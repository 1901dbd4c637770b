// Command fieldsync is the fieldsync server: it serves the sync API, runs migrations, manages
// users and devices, and loads the demo city. Run `fieldsync help` for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `fieldsync: the offline-first backend for field inspection.

Usage:
  fieldsync serve [flags]              run the API server (embedded PostgreSQL unless FIELDSYNC_DATABASE_URL is set)
  fieldsync migrate [flags]            apply the database migrations and exit
  fieldsync user add --username U --password P --role ROLE [--name N] [--region CODE] [--kinds k1,k2]
  fieldsync user list [--role ROLE] [--all]
  fieldsync user disable --username U
  fieldsync device list [--username U]
  fieldsync device revoke --id DEVICE_ID
  fieldsync demo load                  create the demo city and its demo logins (idempotent)
  fieldsync version

Every command takes the settings flags (see 'fieldsync serve -h'); FIELDSYNC_* variables set them too.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "fieldsync:", err)
		}
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[0], args[1:]
	sub := ""
	if len(rest) > 0 && (cmd == "user" || cmd == "device" || cmd == "demo") {
		sub, rest = rest[0], rest[1:]
	}
	switch cmd + " " + sub {
	case "serve ":
		return cmdServe(ctx, rest, stdout, stderr)
	case "migrate ":
		return cmdMigrate(ctx, rest, stdout, stderr)
	case "user add":
		return cmdUserAdd(ctx, rest, stdout, stderr)
	case "user list":
		return cmdUserList(ctx, rest, stdout, stderr)
	case "user disable":
		return cmdUserDisable(ctx, rest, stdout, stderr)
	case "device list":
		return cmdDeviceList(ctx, rest, stdout, stderr)
	case "device revoke":
		return cmdDeviceRevoke(ctx, rest, stdout, stderr)
	case "demo load":
		return cmdDemoLoad(ctx, rest, stdout, stderr)
	case "version ":
		fmt.Fprintln(stdout, "fieldsync", version)
		return nil
	case "help ", "-h ", "--help ":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", joinNonEmpty(cmd, sub))
}

func joinNonEmpty(a, b string) string {
	if b == "" {
		return a
	}
	return a + " " + b
}

// newFlags makes a flag set carrying every setting, parses args into cfg and validates it.
func newFlags(name string, stderr io.Writer, cfg *config) (*flag.FlagSet, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := bindConfig(fs, cfg); err != nil {
		return nil, err
	}
	return fs, nil
}

func parseFlags(fs *flag.FlagSet, args []string, cfg *config) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return cfg.validate()
}

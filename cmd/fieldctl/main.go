// Command fieldctl is the reference fieldsync phone in a terminal: a local database and queue
// under --home, commands that work offline, and a sync that pushes, uploads photos and pulls.
// Run `fieldctl help` for the commands. The phone itself is the package device.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/fieldsync/fieldsync/cmd/fieldctl/device"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `fieldctl: an offline fieldsync phone in a terminal.

Usage:
  fieldctl login [USERNAME] --server URL [--password-stdin]
  fieldctl logout [--offline]
  fieldctl status                                   queue, photos to upload, last sync, rejections, conflicts
  fieldctl sites [--kind K] [--region R] [--status S] [--text T] [--limit N]
  fieldctl findings [--kind K] [--region R] [--status S] [--text T] [--limit N]
  fieldctl visits [--kind K] [--region R] [--status S] [--text T] [--limit N]
  fieldctl visit new --kind KIND --site ID [--region ID] [--answer key=value]... [--answers FILE.json]
                     [--checklist ID:VERSION] [--notes N] [--lat --lon --crs --accuracy --mock]
  fieldctl visit submit VISIT
  fieldctl finding new --visit VISIT --category C --severity S --description D --unit U --deadline YYYY-MM-DD
  fieldctl finding start|rectify|recheck FINDING [--notes N] [--photo ID]... [--passed|--failed]
  fieldctl photo add VISIT FILE... [--finding F] [--caption C] [--time RFC3339] [--lat --lon --crs --accuracy --mock]
  fieldctl track import VISIT FILE.gpx
  fieldctl sync [--chunk-size BYTES] [--push-batch N] [--pull-limit N] [--no-photos]
  fieldctl export [--out FILE]
  fieldctl bench [--mutations N] [--photos N] [--photo-kib K] [--devices N] [--workers N]
  fieldctl simulate --server URL [--devices N] [--duration D] [--seed S] [--think D] [--offline P]
  fieldctl version

Every command takes --home DIR (default $FIELDCTL_HOME or ~/.fieldctl) and --json. Only login,
logout and sync need the network.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "fieldctl:", err)
		}
		os.Exit(2)
	}
}

// env is what every command gets.
type env struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	home   string
	server string
	json   bool
	quiet  bool
}

// command is one `fieldctl ...` verb: it defines its flags on fs and runs with the positional args.
type command func(e *env, fs *flag.FlagSet) func(args []string) error

var commands = map[string]command{
	"login": cmdLogin, "logout": cmdLogout, "status": cmdStatus, "sites": cmdList("site"),
	"findings": cmdList("finding"), "visits": cmdList("visit"), "visit new": cmdVisitNew,
	"visit submit": cmdVisitSubmit, "finding new": cmdFindingNew, "finding start": cmdFindingStep("start"),
	"finding rectify": cmdFindingStep("rectify"), "finding recheck": cmdFindingStep("recheck"),
	"photo add": cmdPhotoAdd, "track import": cmdTrackImport, "sync": cmdSync, "export": cmdExport,
	"simulate": cmdSimulate, "bench": cmdBench,
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return errors.New("no command given")
		}
		return nil
	}
	if args[0] == "version" {
		fmt.Fprintln(stdout, "fieldctl", version)
		return nil
	}
	name, rest := args[0], args[1:]
	if _, ok := commands[name]; !ok && len(rest) > 0 {
		name, rest = name+" "+rest[0], rest[1:]
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", strings.Join(args[:min(2, len(args))], " "))
	}
	e := &env{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr}
	fs := flag.NewFlagSet("fieldctl "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&e.home, "home", device.DefaultHome(), "the phone's directory")
	fs.StringVar(&e.server, "server", os.Getenv("FIELDCTL_SERVER"), "server URL (login; default the last login's)")
	fs.BoolVar(&e.json, "json", false, "print JSON for scripts")
	fs.BoolVar(&e.quiet, "quiet", false, "no progress bars")
	body := cmd(e, fs)
	pos, err := parseInterspersed(fs, rest)
	if err != nil {
		return err
	}
	return body(pos)
}

// parseInterspersed parses flags placed anywhere among the positional arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

// open opens the phone under --home.
func (e *env) open() (*device.Device, error) {
	return device.Open(e.home, device.Options{AppVersion: "fieldctl-" + version})
}

// out prints v as JSON with --json, else text.
func (e *env) out(v any, text string) error {
	if e.json {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	_, err := fmt.Fprint(e.stdout, text)
	return err
}

// need checks the number of positional arguments.
func need(args []string, n int, what string) error {
	if len(args) < n {
		return fmt.Errorf("missing %s", what)
	}
	return nil
}

// multi is a repeatable string flag.
type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/fieldsync/fieldsync/cmd/fieldctl/device"
	"golang.org/x/term"
)

func cmdLogin(e *env, fs *flag.FlagSet) func([]string) error {
	user := fs.String("user", "", "username (or the first argument)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from standard input")
	return func(args []string) error {
		if *user == "" && len(args) > 0 {
			*user = args[0]
		}
		if *user == "" {
			return errors.New("missing USERNAME")
		}
		d, err := e.open()
		if err != nil {
			return err
		}
		defer d.Close()
		server := e.server
		if server == "" {
			server = d.Server()
		}
		if server == "" {
			return errors.New("missing --server URL (e.g. http://127.0.0.1:8080)")
		}
		pw, err := e.password(*fromStdin)
		if err != nil {
			return err
		}
		s, err := d.Login(e.ctx, server, *user, pw, device.RetryPolicy{Attempts: 3})
		if err != nil {
			return err
		}
		return e.out(s, fmt.Sprintf("logged in as %s (%s, %s) on %s; device %s\n", s.Username, s.User.Name, s.User.Role,
			s.Server, s.DeviceID))
	}
}

// password reads the password from stdin (one line) or prompts without echo on a terminal.
func (e *env) password(fromStdin bool) (string, error) {
	f, isFile := e.stdin.(*os.File)
	if !fromStdin && isFile && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(e.stderr, "password: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		return string(b), err
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		if err != nil {
			return "", fmt.Errorf("no password on standard input: %w", err)
		}
		return "", errors.New("empty password")
	}
	return line, nil
}

func cmdLogout(e *env, fs *flag.FlagSet) func([]string) error {
	offline := fs.Bool("offline", false, "forget the token without telling the server (it stays valid there)")
	return func([]string) error {
		d, err := e.open()
		if err != nil {
			return err
		}
		defer d.Close()
		if *offline {
			err = d.ForgetToken()
		} else {
			err = d.Logout(e.ctx, device.RetryPolicy{Attempts: 3})
		}
		if err != nil {
			return err
		}
		return e.out(map[string]bool{"logged_out": true}, "logged out; queued work is kept for the next login\n")
	}
}

func cmdStatus(e *env, fs *flag.FlagSet) func([]string) error {
	return func([]string) error {
		d, err := e.open()
		if err != nil {
			return err
		}
		defer d.Close()
		st, err := d.Status(e.ctx)
		if err != nil {
			return err
		}
		return e.out(st, statusText(st))
	}
}

func statusText(st *device.Status) string {
	var b strings.Builder
	login := "not logged in"
	if st.LoggedIn {
		login = "logged in as " + st.Username
	}
	fmt.Fprintf(&b, "server:          %s (%s)\n", orDash(st.Server), login)
	fmt.Fprintf(&b, "device / client: %s / %s\n", st.DeviceID, st.ClientID)
	fmt.Fprintf(&b, "queue:           %d mutations (server has up to #%d, next #%d)\n", st.Queue, st.LastMutationID, st.NextMutationID)
	fmt.Fprintf(&b, "photos:          %d to upload, %d refused\n", st.PendingPhotos, st.FailedPhotos)
	fmt.Fprintf(&b, "last sync:       %s\n", orDash(st.LastSync))
	cursor := st.Cursor
	if len(cursor) > 24 {
		cursor = cursor[:24] + "…"
	}
	fmt.Fprintf(&b, "cursor:          %s\n", orDash(cursor))
	fmt.Fprintf(&b, "records:         %v\n", st.Records)
	if st.UpgradeRequired != "" {
		fmt.Fprintf(&b, "UPGRADE NEEDED:  %s (the queue is kept)\n", st.UpgradeRequired)
	}
	if st.LastError != "" {
		fmt.Fprintf(&b, "last error:      %s\n", st.LastError)
	}
	fmt.Fprintf(&b, "rejections:      %d\n", len(st.Rejections))
	for _, r := range st.Rejections {
		fmt.Fprintf(&b, "  #%d %s: %s %s %s\n", r.MutationID, r.Name, r.Code, r.Field, r.Message)
	}
	open := 0
	for _, c := range st.Conflicts {
		if !c.Resolved {
			open++
		}
	}
	fmt.Fprintf(&b, "conflicts:       %d (%d open)\n", len(st.Conflicts), open)
	for _, c := range st.Conflicts {
		fmt.Fprintf(&b, "  %s %s\n", c.ID, conflictLine(c))
	}
	return b.String()
}

func conflictLine(c device.Conflict) string {
	s := string(c.Data)
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	if c.Resolved {
		return "(resolved) " + s
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

package pgcluster

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// hbaConf replaces the pg_hba.conf written by initdb.
const hbaConf = `# Written by fieldsync (storage/pgcluster): SCRAM password logins over TCP from 127.0.0.1 only.
# Unix sockets are disabled (unix_socket_directories = '').
# TYPE  DATABASE  USER  ADDRESS       METHOD
host    all       all   127.0.0.1/32  scram-sha-256
`

// confBlock is appended to the postgresql.conf written by initdb, so that even a manual
// `pg_ctl start` on the directory listens on 127.0.0.1 only. The port is passed at each start.
const confBlock = `
# Added by fieldsync (storage/pgcluster). The port and any extra settings are passed with -c at
# each start; settings given on the command line override this file and ALTER SYSTEM.
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
`

// initCluster creates the data directory Dir/data with initdb, running as acct. initdb works in
// Dir/data.init, which is renamed to Dir/data only once complete, so a crash midway never leaves
// a half-initialised cluster that a later start would reuse.
func initCluster(ctx context.Context, dir, binDir string, acct account, noSync bool) error {
	dataDir := filepath.Join(dir, "data")
	if err := os.Remove(dataDir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("pgcluster: %s exists but holds no PG_VERSION, so it is not a PostgreSQL "+
			"data directory; move it away: %w", dataDir, err)
	}
	tmp := filepath.Join(dir, "data.init")
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("pgcluster: remove unfinished initdb: %w", err)
	}
	password, err := newPassword(dir)
	if err != nil {
		return err
	}
	// initdb reads the password from a file it can open as acct; removed right after.
	pwFile := filepath.Join(dir, "initdb.pwfile")
	if err := writeOwned(pwFile, password+"\n", acct); err != nil {
		return err
	}
	defer func() { _ = os.Remove(pwFile) }()

	args := []string{"-D", tmp, "-U", superuser, "--auth=scram-sha-256", "--pwfile=" + pwFile,
		"-E", "UTF8", "--locale=C"}
	if noSync {
		args = append(args, "--no-sync")
	}
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "initdb"), args...)
	cmd.Dir = dir
	cmd.Env = childEnv()
	cmd.SysProcAttr = sysProcAttr(acct, false)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("pgcluster: initdb %s: %w\n%s", tmp, err, tail(out.Bytes(), 20))
	}
	if err := writeOwned(filepath.Join(tmp, "pg_hba.conf"), hbaConf, acct); err != nil {
		return err
	}
	if err := appendFile(filepath.Join(tmp, "postgresql.conf"), confBlock); err != nil {
		return err
	}
	if err := os.Rename(tmp, dataDir); err != nil {
		return fmt.Errorf("pgcluster: move initialised cluster into place: %w", err)
	}
	return nil
}

// newPassword generates the superuser password and stores it in dir/password (mode 0600, owned
// by the server's user: postgres itself never needs to read it).
func newPassword(dir string) (string, error) {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // never fails (crypto/rand documents it)
	password := hex.EncodeToString(b)
	path := filepath.Join(dir, "password")
	if err := os.WriteFile(path+".tmp", []byte(password+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("pgcluster: write password file: %w", err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		return "", fmt.Errorf("pgcluster: write password file: %w", err)
	}
	return password, nil
}

// readPassword returns the superuser password stored in dir/password.
func readPassword(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "password"))
	if err != nil {
		return "", fmt.Errorf("pgcluster: read the superuser password of the cluster in %s "+
			"(created with the cluster; without it the cluster cannot be used): %w", dir, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// writeOwned writes content to path with mode 0600, owned by acct.
func writeOwned(path, content string, acct account) error {
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		return fmt.Errorf("pgcluster: write %s: %w", path, err)
	}
	if acct.switchUser {
		if err := os.Chown(path, acct.uid, acct.gid); err != nil {
			return fmt.Errorf("pgcluster: chown %s: %w", path, err)
		}
	}
	return nil
}

// appendFile appends content to the existing file at path.
func appendFile(path, content string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	if _, err := f.WriteString(content); err != nil {
		_ = f.Close()
		return fmt.Errorf("pgcluster: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("pgcluster: write %s: %w", path, err)
	}
	return nil
}

// childEnv returns the environment for initdb and postgres: the process's environment without
// PG* and locale variables (which would change their defaults), with LC_ALL=C so that server
// messages, which Start inspects, are in English.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "PG") || strings.HasPrefix(name, "LC_") || name == "LANG" || name == "LANGUAGE" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_ALL=C")
}

// tail returns the last n lines of b.
func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

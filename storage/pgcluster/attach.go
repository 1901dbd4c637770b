package pgcluster

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrInUse is returned by Start when another live process runs a cluster on the directory.
var ErrInUse = errors.New("pgcluster: cluster in use")

// Running is a cluster started by another process (e.g. `fieldsync serve`), found through its
// directory so admin commands can use it while the server runs.
type Running struct {
	port     int
	password string
}

// Attach finds the cluster another process runs on dir: the port from data/postmaster.pid and
// the superuser password from dir/password. It starts and stops nothing.
func Attach(dir string) (*Running, error) {
	pid, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid"))
	if err != nil {
		return nil, fmt.Errorf("pgcluster: attach to the cluster in %s: %w", dir, err)
	}
	lines := strings.Split(string(pid), "\n")
	if len(lines) < 4 {
		return nil, fmt.Errorf("pgcluster: attach to the cluster in %s: postmaster.pid is incomplete", dir)
	}
	port, err := strconv.Atoi(strings.TrimSpace(lines[3]))
	if err != nil || port <= 0 {
		return nil, fmt.Errorf("pgcluster: attach to the cluster in %s: no port in postmaster.pid", dir)
	}
	password, err := readPassword(dir)
	if err != nil {
		return nil, err
	}
	return &Running{port: port, password: password}, nil
}

// DSN returns a connection URL for database dbname on the running cluster.
func (r *Running) DSN(dbname string) string {
	return dsn(r.password, r.port, dbname)
}

func dsn(password string, port int, dbname string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(superuser, password),
		Host:     fmt.Sprintf("127.0.0.1:%d", port),
		Path:     "/" + dbname,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

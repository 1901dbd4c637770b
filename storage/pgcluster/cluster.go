// Package pgcluster runs a private PostgreSQL cluster that the fieldsync server owns: it initialises
// the cluster directory once with the PostgreSQL server binaries installed on the machine, starts
// `postgres` as a child process listening on 127.0.0.1 only, and stops it again.
//
// Layout of the cluster directory (Options.Dir):
//
//	Dir/               mode 0700, owned by the user PostgreSQL runs as
//	  data/            the data directory (PGDATA), created by initdb once and reused while
//	                   data/PG_VERSION exists; it is never re-initialised
//	  password         the generated superuser password (mode 0600, owned by the server's user)
//	  postgres.log     the server log (postgres's stderr); moved to postgres.log.1 at start when large
//	  fieldsync.lock   locked (flock) by the process that runs the cluster
//
// Authentication: the superuser is "fieldsync" with a random password generated at initdb and kept
// in Dir/password; pg_hba.conf allows SCRAM password logins over TCP from 127.0.0.1 only, and Unix
// sockets are disabled (unix_socket_directories = ”), so there is no socket path length limit and
// no trust login for other local users. DSN embeds the password.
//
// Users: PostgreSQL refuses to run as root. When the process runs as root, the cluster directory is
// chowned to the "postgres" system user and initdb and postgres run as that user; every parent of
// Dir must then be searchable by that user (see Start).
//
// Processes: postgres runs directly as a child (not daemonised through pg_ctl) in its own process
// group, so a Ctrl-C sent to the terminal reaches only the server, which stops the cluster
// explicitly (Stop) after finishing in-flight work. On Linux the child also gets a parent-death
// signal (SIGINT, PostgreSQL's fast shutdown), so it does not outlive a server or test binary that
// is killed. The directory lock tells a later Start that a postgres still running on the directory
// was left behind by a dead process: it is stopped (fast shutdown) and started again under the new
// owner. A second live process starting the same directory gets an error instead.
package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// superuser is the name of the cluster's superuser role created by initdb.
const superuser = "fieldsync"

// Options configures Start.
type Options struct {
	// Dir is the cluster directory, e.g. <data dir>/postgres. It is created if missing.
	Dir string
	// BinDir holds initdb, pg_ctl and postgres; "" discovers them (see FindBinDir), preferring the
	// major version an existing cluster was created with.
	BinDir string
	// Port is the TCP port on 127.0.0.1; 0 picks a free port at each start.
	Port int
	// Settings are extra server settings, passed as `-c name=value` at each start (not written
	// to disk), e.g. {"fsync": "off"} for tests. They override the package's defaults, except
	// "port", which is rejected (use Port). With fsync=off, initdb also skips its final sync.
	Settings map[string]string
	// Logger receives lifecycle messages; nil discards them.
	Logger *slog.Logger
}

// Cluster is a running PostgreSQL cluster started by Start. Its methods are safe for concurrent use.
type Cluster struct {
	dir      string
	dataDir  string
	binDir   string
	port     int
	password string
	log      *slog.Logger
	proc     *proc
	logFile  *os.File
	lock     *os.File

	stopOnce sync.Once
	stopErr  error
}

// Start initialises the cluster directory if needed and starts PostgreSQL on 127.0.0.1, returning
// once it accepts connections (at most 60 s, or until ctx is done). The process keeps running after
// ctx ends; call Stop to end it.
//
// When running as root, PostgreSQL runs as the "postgres" system user: Dir is chowned to it, and
// every existing parent of Dir must be searchable by it (a parent such as /root with mode 0700 is
// an error naming the directory; missing parents are created with mode 0755).
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.Dir == "" {
		return nil, errors.New("pgcluster: Options.Dir is empty")
	}
	if _, ok := opts.Settings["port"]; ok {
		return nil, errors.New("pgcluster: set the port with Options.Port, not Settings")
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: cluster directory: %w", err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	acct, err := runAccount()
	if err != nil {
		return nil, err
	}
	if err := prepareDir(dir, acct); err != nil {
		return nil, err
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir, dataDir: filepath.Join(dir, "data"), log: log, lock: lock}
	if err := c.start(ctx, opts, acct); err != nil {
		c.release()
		return nil, err
	}
	return c, nil
}

// start does Start's work once the directory is locked.
func (c *Cluster) start(ctx context.Context, opts Options, acct account) error {
	version, err := dataVersion(c.dataDir)
	if err != nil {
		return err
	}
	if c.binDir, err = chooseBinDir(opts.BinDir, version); err != nil {
		return err
	}
	if version == "" {
		t0 := time.Now()
		c.log.Info("pgcluster: initialising new cluster", "dir", c.dir, "bin", c.binDir)
		if err := initCluster(ctx, c.dir, c.binDir, acct, opts.Settings["fsync"] == "off"); err != nil {
			return err
		}
		c.log.Info("pgcluster: initialised cluster", "dir", c.dir, "took", time.Since(t0).Round(time.Millisecond))
	} else if err := checkOwner(c.dir, acct); err != nil {
		return err
	}
	if c.password, err = readPassword(c.dir); err != nil {
		return err
	}
	if err := clearStale(ctx, c.dataDir, c.log); err != nil {
		return err
	}
	if c.logFile, err = openLog(c.dir); err != nil {
		return err
	}
	return c.run(ctx, opts, acct)
}

// Port returns the TCP port on 127.0.0.1 the cluster listens on.
func (c *Cluster) Port() int { return c.port }

// Dir returns the absolute cluster directory.
func (c *Cluster) Dir() string { return c.dir }

// DSN returns a connection URL for database dbname as the superuser:
// postgres://fieldsync:PASSWORD@127.0.0.1:PORT/dbname?sslmode=disable.
func (c *Cluster) DSN(dbname string) string { return dsn(c.password, c.port, dbname) }

// Done returns a channel that is closed when the postgres process has exited, after Stop or
// because it died; a server can watch it to fail fast.
func (c *Cluster) Done() <-chan struct{} { return c.proc.Done() }

// Stop shuts PostgreSQL down with a fast shutdown (SIGINT, like `pg_ctl stop -m fast`: open
// transactions are rolled back, a checkpoint is written) and waits until the process has exited.
// If ctx ends first, it escalates to an immediate shutdown and then SIGKILL, and returns ctx's
// error. Stop is idempotent: later calls return the first call's result.
func (c *Cluster) Stop(ctx context.Context) error {
	c.stopOnce.Do(func() {
		c.stopErr = c.proc.stop(ctx)
		if c.stopErr == nil {
			c.log.Info("pgcluster: stopped", "dir", c.dir)
		}
		c.release()
	})
	return c.stopErr
}

// release closes the log file and gives up the directory lock.
func (c *Cluster) release() {
	if c.logFile != nil {
		_ = c.logFile.Close()
	}
	if c.lock != nil {
		_ = c.lock.Close()
	}
}

// CreateDatabase creates database name (owned by the superuser) unless it exists.
func (c *Cluster) CreateDatabase(ctx context.Context, name string) error {
	if name == "" {
		return errors.New("pgcluster: create database: empty name")
	}
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		return fmt.Errorf("pgcluster: create database %q: %w", name, err)
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	var exists bool
	err = conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists)
	if err != nil {
		return fmt.Errorf("pgcluster: create database %q: %w", name, err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // duplicate_database: created concurrently
		return nil
	}
	if err != nil {
		return fmt.Errorf("pgcluster: create database %q: %w", name, err)
	}
	return nil
}

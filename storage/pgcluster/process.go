package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"github.com/fieldsync/fieldsync/storage/child"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

const (
	readyTimeout  = 60 * time.Second // how long Start waits for connections to be accepted
	portAttempts  = 5                // starts tried with a fresh free port when the port was taken
	maxLogSize    = 16 << 20         // postgres.log is moved to postgres.log.1 at start beyond this
	logTailLines  = 30               // server log lines quoted in start errors
	killGraceTime = 5 * time.Second  // wait after each escalation in stop
)

// errPortTaken reports that postgres could not bind its port.
var errPortTaken = errors.New("pgcluster: port already in use")

// proc is a running postgres child process.
type proc struct{ *child.Proc }

// run starts postgres, retrying with a new free port when the chosen one was taken meanwhile.
func (c *Cluster) run(ctx context.Context, opts Options, acct account) error {
	for attempt := 1; ; attempt++ {
		c.port = opts.Port
		if c.port == 0 {
			p, err := freePort()
			if err != nil {
				return err
			}
			c.port = p
		}
		t0 := time.Now()
		err := c.runOnce(ctx, opts.Settings, acct)
		if err == nil {
			c.log.Info("pgcluster: started", "dir", c.dir, "port", c.port, "took", time.Since(t0).Round(time.Millisecond))
			return nil
		}
		if !errors.Is(err, errPortTaken) || opts.Port != 0 || attempt == portAttempts {
			return err
		}
		c.log.Warn("pgcluster: port taken, retrying with another", "port", c.port)
	}
}

// runOnce launches postgres on c.port and waits until it accepts connections; on failure the
// process has been stopped.
func (c *Cluster) runOnce(ctx context.Context, settings map[string]string, acct account) error {
	logStart, err := c.logFile.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("pgcluster: server log: %w", err)
	}
	args := []string{"-D", c.dataDir,
		"-c", "port=" + strconv.Itoa(c.port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=",
	}
	for _, name := range slices.Sorted(maps.Keys(settings)) {
		args = append(args, "-c", name+"="+settings[name])
	}
	cmd := exec.Command(filepath.Join(c.binDir, "postgres"), args...)
	cmd.Dir = c.dataDir
	cmd.Env = childEnv()
	cmd.Stdout, cmd.Stderr = c.logFile, c.logFile
	cmd.SysProcAttr = sysProcAttr(acct, true)
	if c.proc, err = launch(cmd); err != nil {
		return err
	}
	err = c.waitReady(ctx)
	if err == nil {
		return nil
	}
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_ = c.proc.stop(stopCtx)
	logTail := c.logSince(logStart)
	if strings.Contains(logTail, "could not bind") || strings.Contains(logTail, "Address already in use") {
		return fmt.Errorf("%w: %d\n%s", errPortTaken, c.port, logTail)
	}
	return fmt.Errorf("%w; server log %s:\n%s", err, filepath.Join(c.dir, "postgres.log"), logTail)
}

// launch starts cmd so that it dies with this process (see child.Launch).
func launch(cmd *exec.Cmd) (*proc, error) {
	p, err := child.Launch(cmd)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: start postgres: %w", err)
	}
	return &proc{p}, nil
}

// waitReady polls with real connections until the server accepts them and reports our data
// directory, the process exits, readyTimeout passes or ctx ends.
func (c *Cluster) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	// An exit cancels a connection attempt in flight (one to a port that another program holds
	// can otherwise hang until its timeout).
	go func() {
		select {
		case <-c.proc.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		err := c.ping(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-c.proc.Done():
			return fmt.Errorf("pgcluster: postgres exited during start: %v", c.proc.Err())
		default:
		}
		if ctx.Err() != nil {
			return fmt.Errorf("pgcluster: postgres not ready: %w (last attempt: %v)", ctx.Err(), err)
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
}

// ping connects once and checks that the server on c.port runs on c.dataDir (and not, say, a
// server that grabbed the port first).
func (c *Cluster) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(ctx) }()
	var dataDir string
	if err := conn.QueryRow(ctx, "SELECT current_setting('data_directory')").Scan(&dataDir); err != nil {
		return err
	}
	if dataDir != c.dataDir {
		return fmt.Errorf("pgcluster: port %d is served from %s", c.port, dataDir)
	}
	return nil
}

// stop sends SIGINT (fast shutdown) and waits for the exit; when ctx ends first, it sends SIGQUIT
// (immediate shutdown), then SIGKILL, waiting killGraceTime after each, and returns ctx's error.
func (p *proc) stop(ctx context.Context) error {
	select {
	case <-p.Done():
		return nil
	default:
	}
	if err := p.Cmd.Process.Signal(syscall.SIGINT); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("pgcluster: stop postgres: %w", err)
	}
	select {
	case <-p.Done():
		return nil
	case <-ctx.Done():
	}
	for _, sig := range []os.Signal{syscall.SIGQUIT, os.Kill} {
		_ = p.Cmd.Process.Signal(sig)
		select {
		case <-p.Done():
			return fmt.Errorf("pgcluster: stop postgres: fast shutdown interrupted: %w", ctx.Err())
		case <-time.After(killGraceTime):
		}
	}
	return fmt.Errorf("pgcluster: stop postgres: process %d did not exit: %w", p.Cmd.Process.Pid, ctx.Err())
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgcluster: find a free port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		return 0, fmt.Errorf("pgcluster: find a free port: %w", err)
	}
	return port, nil
}

// openLog opens dir/postgres.log for appending, first moving a large log to postgres.log.1.
func openLog(dir string) (*os.File, error) {
	path := filepath.Join(dir, "postgres.log")
	if fi, err := os.Stat(path); err == nil && fi.Size() > maxLogSize {
		if err := os.Rename(path, path+".1"); err != nil {
			return nil, fmt.Errorf("pgcluster: rotate server log: %w", err)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: open server log: %w", err)
	}
	return f, nil
}

// logSince returns the last logTailLines lines written to the server log after offset.
func (c *Cluster) logSince(offset int64) string {
	f, err := os.Open(c.logFile.Name())
	if err != nil {
		return "(server log unreadable: " + err.Error() + ")"
	}
	defer func() { _ = f.Close() }()
	b, err := io.ReadAll(io.NewSectionReader(f, offset, 1<<20))
	if err != nil {
		return "(server log unreadable: " + err.Error() + ")"
	}
	return tail(b, logTailLines)
}

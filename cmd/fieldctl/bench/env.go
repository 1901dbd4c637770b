// Package bench is `fieldctl bench`: the sync benchmarks in one command, each next to a baseline
// measured in the same run on the same servers. It starts its own throwaway PostgreSQL cluster
// (storage/pgcluster, default settings), MinIO (bin/minio, as the tests use) and the fieldsync
// server as a separate process (`fieldsync serve`, the binary `make build` puts in bin/), loads
// the demo city with `fieldsync demo load`, and drives the server with fieldctl phones over HTTP.
// The fieldctl binary links no server code: the server under test is the real binary.
package bench

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/fieldsync/fieldsync/cmd/fieldctl/device"
	"github.com/fieldsync/fieldsync/storage/blob/minioserver"
	"github.com/fieldsync/fieldsync/storage/child"
	"github.com/fieldsync/fieldsync/storage/pgcluster"
	_ "github.com/jackc/pgx/v5/stdlib" // the baselines' "pgx" database/sql driver
	"github.com/minio/minio-go/v7"
)

// bucket holds the run's photos and the upload baseline's objects.
const bucket = "bench"

// env is the servers of one run.
type env struct {
	dir    string
	pg     *pgcluster.Cluster
	mio    *minioserver.Server
	db     *sql.DB // the baselines' own connections to the server's database
	mc     *minio.Client
	server *child.Proc
	url    string
	hc     *http.Client
	homes  int
	// projectSite is a project site's id (for visits that carry photos).
	projectSite string
}

// FieldsyncBinary returns the server binary bench runs: path when set, else fieldsync beside the
// running fieldctl, else bin/fieldsync in the nearest directory above the working directory that
// holds go.mod.
func FieldsyncBinary(path string) (string, error) {
	if path != "" {
		if _, err := os.Stat(path); err != nil {
			return "", fmt.Errorf("bench: --fieldsync: %w", err)
		}
		return path, nil
	}
	if exe, err := os.Executable(); err == nil {
		if p := filepath.Join(filepath.Dir(exe), "fieldsync"); fileExists(p) {
			return p, nil
		}
	}
	if wd, err := os.Getwd(); err == nil {
		for dir := wd; ; dir = filepath.Dir(dir) {
			if fileExists(filepath.Join(dir, "go.mod")) {
				if p := filepath.Join(dir, "bin", "fieldsync"); fileExists(p) {
					return p, nil
				}
				break
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	return "", errors.New("bench: no fieldsync server binary found: run `make build` in the repository " +
		"(it writes bin/fieldsync) or pass --fieldsync PATH")
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

func start(ctx context.Context, cfg Config) (e *env, err error) {
	bin, err := FieldsyncBinary(cfg.Fieldsync)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "fieldctl-bench-")
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(dir, 0o711); err != nil { // PostgreSQL runs as "postgres" when we are root
		return nil, err
	}
	e = &env{dir: dir, hc: &http.Client{Timeout: 120 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}}}
	defer func() {
		if err != nil {
			e.close()
		}
	}()
	if e.pg, err = pgcluster.Start(ctx, pgcluster.Options{Dir: filepath.Join(dir, "postgres")}); err != nil {
		return nil, err
	}
	if err := e.pg.CreateDatabase(ctx, "bench"); err != nil {
		return nil, err
	}
	dsn := e.pg.DSN("bench")
	if e.mio, err = minioserver.Start(filepath.Join(dir, "minio")); err != nil {
		return nil, fmt.Errorf("%w (fieldctl bench runs bin/minio: run it from the repository after `make bin/minio`, or set FIELDSYNC_MINIO_BIN)", err)
	}
	if e.mc, err = e.mio.Client(); err != nil {
		return nil, err
	}
	serverEnv := append(os.Environ(), "FIELDSYNC_DATABASE_URL="+dsn, "FIELDSYNC_DATA_DIR="+filepath.Join(dir, "data"),
		"FIELDSYNC_S3_ENDPOINT="+e.mio.Endpoint, "FIELDSYNC_S3_ACCESS_KEY="+e.mio.AccessKey,
		"FIELDSYNC_S3_SECRET_KEY="+e.mio.SecretKey, "FIELDSYNC_S3_BUCKET="+bucket, "FIELDSYNC_LOG_LEVEL=warn",
		"FIELDSYNC_METRICS_ADDR=") // no metrics listener: a fixed port would clash with other servers
	cfg.Log("loading the demo city (fieldsync demo load)")
	load := exec.CommandContext(ctx, bin, "demo", "load")
	load.Env = serverEnv
	if out, err := load.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("bench: fieldsync demo load: %w\n%s", err, out)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	e.url = "http://127.0.0.1:" + strconv.Itoa(port)
	logf, err := os.Create(filepath.Join(dir, "fieldsync.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child keeps its own descriptor
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:"+strconv.Itoa(port))
	cmd.Env, cmd.Stdout, cmd.Stderr = serverEnv, logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if e.server, err = child.Launch(cmd); err != nil {
		return nil, fmt.Errorf("bench: start fieldsync: %w", err)
	}
	if err := e.waitReady(ctx, logf.Name()); err != nil {
		return nil, err
	}
	if e.db, err = sql.Open("pgx", dsn); err != nil {
		return nil, err
	}
	cfg.Log("PostgreSQL, MinIO and fieldsync (%s, pid %d) running under %s", bin, cmd.Process.Pid, dir)
	return e, nil
}

// waitReady polls /readyz until the server answers 200, or fails with its log's tail.
func (e *env) waitReady(ctx context.Context, logPath string) error {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-e.server.Done():
			b, _ := os.ReadFile(logPath)
			return fmt.Errorf("bench: fieldsync serve exited: %v\n%s", e.server.Err(), tail(b))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := e.hc.Get(e.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	b, _ := os.ReadFile(logPath)
	return fmt.Errorf("bench: fieldsync serve not ready after a minute\n%s", tail(b))
}

func tail(b []byte) string {
	lines := strings.Split(string(bytes.TrimRight(b, "\n")), "\n")
	return strings.Join(lines[max(0, len(lines)-20):], "\n")
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func (e *env) close() {
	if e.server != nil {
		_ = e.server.Cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-e.server.Done():
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-e.server.Cmd.Process.Pid, syscall.SIGKILL)
			<-e.server.Done()
		}
	}
	if e.db != nil {
		e.db.Close()
	}
	if e.mio != nil {
		_ = e.mio.Stop()
	}
	if e.pg != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		_ = e.pg.Stop(ctx)
		cancel()
	}
	_ = os.RemoveAll(e.dir)
}

// phone opens a new phone and logs it in as username (a demo user: its password follows the
// demo city's rule).
func (e *env) phone(ctx context.Context, username string) (*device.Device, error) {
	e.homes++
	d, err := device.Open(filepath.Join(e.dir, "phones", fmt.Sprint(e.homes)), device.Options{HTTPClient: e.hc, DeviceName: "bench"})
	if err != nil {
		return nil, err
	}
	pw := "demo-" + strings.ReplaceAll(username, ".", "-") + "-2026"
	if _, err := d.Login(ctx, e.url, username, pw, retry()); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func retry() device.RetryPolicy {
	return device.RetryPolicy{Base: 50 * time.Millisecond, Max: 2 * time.Second, Attempts: 8}
}

// Package bench is `fieldctl bench`: the sync benchmarks in one command, each next to a baseline
// measured in the same run on the same servers. It starts its own throwaway PostgreSQL cluster
// (storage/pgcluster, default settings) and MinIO (bin/minio, as the tests use), loads the demo
// city, serves fieldsync in-process on 127.0.0.1 and drives it with fieldctl phones over HTTP.
package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/fieldsync/fieldsync/cmd/fieldctl/device"
	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/server"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/fieldsync/fieldsync/storage/blob"
	"github.com/fieldsync/fieldsync/storage/blob/miniotest"
	"github.com/fieldsync/fieldsync/storage/pgcluster"
	fsync "github.com/fieldsync/fieldsync/sync"
	"github.com/fieldsync/fieldsync/sync/demo"
	"github.com/gofiber/fiber/v2"
)

// cheap password hashing: the benchmark measures sync, not argon2id at login.
var cheap = models.PasswordParams{MemoryKiB: 64, Iterations: 1, Threads: 1}

// env is the servers of one run.
type env struct {
	dir   string
	pg    *pgcluster.Cluster
	mio   *miniotest.Server
	store *storage.Store
	blob  *blob.MinIO
	app   *fiber.App
	url   string
	hc    *http.Client
	homes int
	// projectSite is a project site's id (for visits that carry photos).
	projectSite string
}

func start(ctx context.Context, log func(string, ...any)) (*env, error) {
	dir, err := os.MkdirTemp("", "fieldctl-bench-")
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(dir, 0o711); err != nil { // PostgreSQL runs as "postgres" when we are root
		return nil, err
	}
	e := &env{dir: dir, hc: &http.Client{Timeout: 120 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}}}
	if e.pg, err = pgcluster.Start(ctx, pgcluster.Options{Dir: filepath.Join(dir, "postgres")}); err != nil {
		e.close()
		return nil, err
	}
	if err := e.pg.CreateDatabase(ctx, "bench"); err != nil {
		e.close()
		return nil, err
	}
	dsn := e.pg.DSN("bench")
	if err := storage.MigrateDSN(ctx, dsn); err != nil {
		e.close()
		return nil, err
	}
	if e.store, err = storage.Open(ctx, dsn, storage.Options{MaxOpenConns: 16}); err != nil {
		e.close()
		return nil, err
	}
	sc := fsync.DefaultConfig()
	sc.Password = cheap
	if err := loadCity(ctx, fsync.New(e.store, sc)); err != nil {
		e.close()
		return nil, err
	}
	if e.mio, err = miniotest.Start(filepath.Join(dir, "minio")); err != nil {
		e.close()
		return nil, fmt.Errorf("%w (fieldctl bench runs bin/minio: run it from the repository after `make bin/minio`, or set FIELDSYNC_MINIO_BIN)", err)
	}
	if e.blob, err = blob.NewMinIO(ctx, blob.MinIOConfig{Endpoint: e.mio.Endpoint, AccessKey: e.mio.AccessKey,
		SecretKey: e.mio.SecretKey, Bucket: "bench"}); err != nil {
		e.close()
		return nil, err
	}
	cfg := server.DefaultConfig()
	cfg.Password = cheap
	if e.app, err = server.New(server.Deps{Store: e.store, Blob: e.blob, Config: cfg}); err != nil {
		e.close()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.close()
		return nil, err
	}
	e.url = "http://" + ln.Addr().String()
	go e.app.Listener(ln)
	log("PostgreSQL, MinIO and fieldsync running under %s", dir)
	return e, nil
}

// loadCity loads the demo city and its sites (no field work: the benchmarks push their own).
func loadCity(ctx context.Context, e *fsync.Engine) error {
	if _, err := demo.LoadCity(ctx, e); err != nil {
		return err
	}
	_, err := demo.LoadSites(ctx, e)
	return err
}

func (e *env) close() {
	if e.app != nil {
		_ = e.app.ShutdownWithTimeout(5 * time.Second)
	}
	if e.store != nil {
		e.store.Close()
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

// phone opens a new phone and logs it in as username.
func (e *env) phone(ctx context.Context, username string) (*device.Device, error) {
	e.homes++
	d, err := device.Open(filepath.Join(e.dir, "phones", fmt.Sprint(e.homes)), device.Options{HTTPClient: e.hc, DeviceName: "bench"})
	if err != nil {
		return nil, err
	}
	pw := "demo-" + username + "-2026"
	for i := range len(pw) {
		if pw[i] == '.' {
			pw = pw[:i] + "-" + pw[i+1:]
		}
	}
	if _, err := d.Login(ctx, e.url, username, pw, retry()); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func retry() device.RetryPolicy {
	return device.RetryPolicy{Base: 50 * time.Millisecond, Max: 2 * time.Second, Attempts: 8}
}

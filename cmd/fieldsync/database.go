package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/fieldsync/fieldsync/storage"
	"github.com/fieldsync/fieldsync/storage/pgcluster"
)

// database is an open, migrated store and, for the embedded default, the cluster behind it.
type database struct {
	Store   *storage.Store
	cluster *pgcluster.Cluster
	log     *slog.Logger
}

// openDatabase connects to FIELDSYNC_DATABASE_URL, or starts (initialising the first time) the
// private cluster under the data directory, then migrates the schema under an advisory lock.
//
// With attach (the admin commands), a cluster that a running `fieldsync serve` owns is used as it
// is, so users can be added while the server runs; serve itself never attaches.
func openDatabase(ctx context.Context, cfg *config, log *slog.Logger, attach bool) (*database, error) {
	d := &database{log: log}
	dsn := cfg.DatabaseURL
	if dsn == "" {
		if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
		var err error
		if dsn, err = d.embedded(ctx, filepath.Join(cfg.DataDir, "postgres"), attach); err != nil {
			d.Close()
			return nil, err
		}
	}
	st, err := storage.Open(ctx, dsn, storage.Options{})
	if err != nil {
		d.Close()
		return nil, err
	}
	d.Store = st
	if err := storage.Migrate(ctx, st.SQL(), log); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// embedded starts the private cluster in dir (or attaches to the one a running server owns) and
// returns the DSN of its fieldsync database.
func (d *database) embedded(ctx context.Context, dir string, attach bool) (string, error) {
	start := time.Now()
	cl, err := pgcluster.Start(ctx, pgcluster.Options{Dir: dir, Logger: d.log})
	if attach && errors.Is(err, pgcluster.ErrInUse) {
		running, aerr := pgcluster.Attach(dir)
		if aerr != nil {
			return "", fmt.Errorf("%w (and attaching to it failed: %v)", err, aerr)
		}
		d.log.Info("using the embedded PostgreSQL of the running server", "dir", dir)
		return running.DSN("fieldsync"), nil
	}
	if err != nil {
		return "", err
	}
	d.cluster = cl
	d.log.Info("embedded PostgreSQL ready", "dir", cl.Dir(), "port", cl.Port(), "took", time.Since(start).Round(time.Millisecond))
	if err := cl.CreateDatabase(ctx, "fieldsync"); err != nil {
		return "", err
	}
	return cl.DSN("fieldsync"), nil
}

// Close closes the pool and stops the embedded cluster, if any.
func (d *database) Close() {
	if d.Store != nil {
		d.Store.Close()
	}
	if d.cluster != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := d.cluster.Stop(ctx); err != nil {
			d.log.Error("stopping embedded PostgreSQL", "error", err)
		} else {
			d.log.Info("embedded PostgreSQL stopped")
		}
	}
}

// newLogger writes JSON lines at the configured level.
func newLogger(w io.Writer, level string) *slog.Logger {
	l, _ := parseLevel(level)
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

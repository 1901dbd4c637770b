package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fieldsync/fieldsync/models/democity"
	"github.com/fieldsync/fieldsync/server"
	"github.com/fieldsync/fieldsync/storage"
	fsync "github.com/fieldsync/fieldsync/sync"
	"github.com/fieldsync/fieldsync/sync/demo"
	"github.com/prometheus/client_golang/prometheus"
)

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg config
	fs, err := newFlags("serve", stderr, &cfg)
	if err != nil {
		return err
	}
	if err := parseFlags(fs, args, &cfg); err != nil {
		return err
	}
	started := time.Now()
	log := newLogger(stderr, cfg.LogLevel)
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s (FIELDSYNC_ADDR): %w", cfg.Addr, err)
	}
	defer ln.Close()
	var metricsLn net.Listener
	if cfg.MetricsAddr != "" {
		if metricsLn, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			return fmt.Errorf("listen on %s (FIELDSYNC_METRICS_ADDR; empty turns metrics off): %w", cfg.MetricsAddr, err)
		}
		defer metricsLn.Close()
	}
	db, err := openDatabase(ctx, &cfg, log, false)
	if err != nil {
		return err
	}
	defer db.Close()
	photos, err := openBlobStore(ctx, &cfg, log)
	if err != nil {
		return err
	}
	sc := server.DefaultConfig()
	sc.Version, sc.BodyLimit, sc.RequestTimeout, sc.TokenTTL = version, cfg.BodyLimit, cfg.RequestTimeout, cfg.TokenTTL
	sc.TrustedProxies = cfg.proxies()
	sc.PushBodyLimit = cfg.PushBodyLimit
	sc.Sync.MaxMutations, sc.Sync.Retention, sc.Sync.CoverageBufferM = cfg.PushMax, cfg.Retention, cfg.CoverageBuffer
	sc.Sync.ResultRetention, sc.Sync.Log = cfg.ResultWindow, log
	sc.Sync.Verdict = cfg.Verdict
	sc.Uploads.MaxSize, sc.Uploads.Expiry = int64(cfg.MaxPhotoBytes), cfg.UploadExpiry
	sc.PDFFont = cfg.PDFFont
	sc.MapTileURL, sc.ImageOrigins = cfg.MapTileURL, cfg.imageOrigins()
	// One upload service for the HTTP handlers and the workers: a finished upload wakes the
	// thumbnail worker at once; uploads finished on other instances are found by its poll.
	engine := fsync.New(db.Store, sc.Sync)
	uploads := fsync.NewUploads(engine, photos, sc.Uploads, log)
	if cfg.Demo {
		if err := ensureDemo(ctx, db.Store, engine, uploads, stdout, log); err != nil {
			return err
		}
	}
	reg := prometheus.NewRegistry()
	app, err := server.New(server.Deps{Store: db.Store, Blob: photos, Uploads: uploads, Log: log, Config: sc, Registry: reg})
	if err != nil {
		return err
	}
	if metricsLn != nil {
		ms := &http.Server{Handler: server.MetricsHandler(reg), ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout: time.Minute, WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
		go func() {
			if err := ms.Serve(metricsLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("metrics listener stopped", "error", err)
			}
		}()
		defer ms.Close()
	}
	go janitor(ctx, db.Store, engine, log, cfg.Retention, cfg.ResultWindow)
	go uploads.RunThumbnails(ctx, 30*time.Second)
	go uploadJanitor(ctx, uploads, log)
	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()
	fmt.Fprintf(stdout, "fieldsync %s listening on %s (ready in %s); Ctrl-C stops it\n", version, displayURL(ln.Addr()),
		time.Since(started).Round(time.Millisecond))
	fmt.Fprintf(stdout, "Supervisor web console: open %s/ and log in (e.g. supervisor or admin from the table above)\n", displayURL(ln.Addr()))
	if metricsLn != nil {
		fmt.Fprintf(stdout, "metrics on %s/metrics (FIELDSYNC_METRICS_ADDR)\n", displayURL(metricsLn.Addr()))
	}
	select {
	case err := <-served:
		return fmt.Errorf("server stopped: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	if err := app.ShutdownWithTimeout(30 * time.Second); err != nil {
		log.Error("shutdown", "error", err)
	}
	return nil
}

func displayURL(a net.Addr) string {
	host, port, _ := net.SplitHostPort(a.String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// ensureDemo loads the demo city, a few weeks of its field work and some photos into an empty database, prints
// a summary of what the database holds of it, and prints the demo logins.
func ensureDemo(ctx context.Context, st *storage.Store, engine *fsync.Engine, uploads *fsync.Uploads, stdout io.Writer, log *slog.Logger) error {
	n, err := st.CountUsers(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		now := time.Now()
		if _, err := loadDemo(ctx, st, now, log); err != nil {
			return err
		}
		// Photos only where a photo store is open: serve, not `demo load`.
		n, err := demo.LoadPhotos(ctx, engine, uploads, st, now)
		if err != nil {
			return err
		}
		log.Info("demo photos uploaded", "photos", n)
	}
	if err := printDemoCounts(ctx, st, stdout); err != nil {
		return err
	}
	printDemoLogins(stdout)
	return nil
}

// loadDemo loads the demo city (regions, users, checklists, sites), then its field work pushed
// through the sync engine as the demo users (sync/demo). Every step is idempotent.
func loadDemo(ctx context.Context, st *storage.Store, now time.Time, log *slog.Logger) (demo.Result, error) {
	started := time.Now()
	res, err := demo.Load(ctx, fsync.New(st, fsync.DefaultConfig()), now)
	if err != nil {
		return res, err
	}
	log.Info("demo city loaded", "regions", res.City.Regions, "users", res.City.Users, "checklists", res.City.Checklists,
		"sites", res.Sites.SiteCount(), "visits", res.Activity.TotalVisits(), "findings", res.Activity.Findings,
		"mutations", res.Activity.Applied, "took", time.Since(started).Round(time.Millisecond).String())
	return res, nil
}

// printDemoCounts prints the one-line summary of the demo city as the database holds it.
func printDemoCounts(ctx context.Context, st *storage.Store, stdout io.Writer) error {
	c, err := st.DemoCounts(ctx, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, demo.Summary(c))
	return nil
}

func printDemoLogins(w io.Writer) {
	fmt.Fprintln(w, "Demo logins (demo city 北山市):")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  USERNAME\tPASSWORD\tROLE\tSCOPE\tFOR")
	for _, u := range democity.Users() {
		scope := "whole city"
		if u.RegionCode != "" {
			scope = "region " + u.RegionCode
		}
		if len(u.Kinds) > 0 {
			scope += " / " + strings.Join(u.Kinds, ",")
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", u.Username, u.Password, u.Role, scope, u.Note)
	}
	tw.Flush()
}

// janitorBatch is how many rows one pruning statement deletes at most (see storage.PruneResults).
const janitorBatch = 10000

// janitor prunes expired tokens, stale login counters, change-log rows and tombstones older than
// the retention window (through the engine, which owns the change log), and stored push results
// older than the result retention, every hour until ctx ends. Of several servers, one prunes push
// results at a time (an advisory lock).
func janitor(ctx context.Context, st *storage.Store, engine *fsync.Engine, log *slog.Logger, retention, resultRetention time.Duration) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		cutoff := time.Now().Add(-24 * time.Hour)
		if n, err := st.PruneTokens(ctx, cutoff); err != nil {
			log.Warn("janitor: prune tokens", "error", err)
		} else if n > 0 {
			log.Info("janitor: pruned tokens", "count", n)
		}
		if err := st.PruneThrottle(ctx, cutoff); err != nil {
			log.Warn("janitor: prune login counters", "error", err)
		}
		if n, err := engine.PruneChanges(ctx, time.Now().Add(-retention)); err != nil {
			log.Warn("janitor: prune change log", "error", err)
		} else if n > 0 {
			log.Info("janitor: pruned change log and tombstones", "changes", n)
		}
		if rep, err := st.PruneResults(ctx, time.Now().Add(-resultRetention), janitorBatch); err != nil {
			log.Warn("janitor: prune push results", "error", err)
		} else if rep.Results > 0 || rep.Pushes > 0 {
			log.Info("janitor: pruned push results", "results", rep.Results, "push_markers", rep.Pushes)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// uploadJanitor expires abandoned uploads, finishes uploads whose last step failed (the object
// store was down) and sweeps orphaned parts, every minute.
func uploadJanitor(ctx context.Context, u *fsync.Uploads, log *slog.Logger) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rep, err := u.Janitor(ctx, time.Now(), 7*24*time.Hour)
		if err != nil {
			log.Warn("janitor: uploads", "error", err)
		}
		if rep != (fsync.JanitorReport{}) {
			log.Info("janitor: uploads", "expired", rep.Expired, "finished", rep.Finished, "pruned", rep.Pruned,
				"swept_parts", rep.Swept)
		}
	}
}

// Package simulate runs many virtual phones against a fieldsync server: each has its own home
// (local database), client id and token, logs in as one of a few demo users, and does days of
// field work compressed into minutes (visits of every kind its user may do, findings, photos,
// patrol tracks), going offline for a while now and then and retrying when the server is busy.
// At the end every phone syncs until its queue and photos are empty, and a supervisor's phone
// pulls everything and checks, through the API only, that the server holds exactly what the
// phones made.
package simulate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fieldsync/fieldsync/cmd/fieldctl/device"
	"github.com/fieldsync/fieldsync/cmd/fieldctl/fieldwork"
	"github.com/google/uuid"
)

// User is a demo login the phones share, and the kinds of work it does.
type User struct {
	Username, Password string
	Kinds              []string
}

// DemoPassword is the demo city's password for a username (demo-<name with . as ->-2026).
func DemoPassword(username string) string {
	return "demo-" + strings.ReplaceAll(username, ".", "-") + "-2026"
}

// DefaultUsers are the demo field workers the phones log in as, round robin.
func DefaultUsers() []User {
	mk := func(name string, kinds ...string) User { return User{name, DemoPassword(name), kinds} }
	return []User{
		mk("inspector"), // all four kinds, city-wide
		mk("inspector.jianan", "project_visit"),
		mk("ranger.dongsheng", "fire_patrol", "planting_check"),
		mk("dept.agri", "planting_check", "agri_input_check"),
	}
}

// Config is one simulation.
type Config struct {
	Server   string
	Devices  int
	Duration time.Duration
	Users    []User
	Verifier User          // the supervisor whose pull checks the result (default supervisor)
	Seed     uint64        // 0: random
	Think    time.Duration // mean pause between two visits of a phone (default 2 s)
	Offline  float64       // chance a phone skips syncing after a visit (an offline gap; default 0.3)
	Setup    int           // phones logging in and bootstrapping at once (default 16)
	Home     string        // where the phones' homes go (default a temp directory, removed after)
	Log      func(format string, args ...any)
}

// phone is one virtual device.
type phone struct {
	d    *device.Device
	w    *fieldwork.Worker
	user User
}

// Run runs the simulation and returns its figures.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Devices <= 0 || cfg.Duration <= 0 || cfg.Server == "" {
		return nil, errors.New("simulate: need a server, devices > 0 and a duration > 0")
	}
	if len(cfg.Users) == 0 {
		cfg.Users = DefaultUsers()
	}
	if cfg.Verifier.Username == "" {
		cfg.Verifier = User{Username: "supervisor", Password: DemoPassword("supervisor")}
	}
	if cfg.Seed == 0 {
		cfg.Seed = rand.Uint64()
	}
	if cfg.Think <= 0 {
		cfg.Think = 2 * time.Second
	}
	if cfg.Offline == 0 {
		cfg.Offline = 0.3
	}
	if cfg.Setup <= 0 {
		cfg.Setup = 16
	}
	if cfg.Log == nil {
		cfg.Log = func(string, ...any) {}
	}
	if cfg.Home == "" {
		dir, err := os.MkdirTemp("", "fieldctl-simulate-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		cfg.Home = dir
	}
	res := newResult(cfg)
	tag := fmt.Sprintf("sim-%x", cfg.Seed&0xffffffffff)
	ledger := &fieldwork.Ledger{}
	hc := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	retry := device.RetryPolicy{Base: 200 * time.Millisecond, Max: 5 * time.Second, Attempts: 8}

	// Setup: every phone logs in and bootstraps (bounded concurrency, like a morning's logins).
	start := time.Now()
	phones := make([]*phone, cfg.Devices)
	sem := make(chan struct{}, cfg.Setup)
	var wg sync.WaitGroup
	var setupErr error
	var mu sync.Mutex
	for i := range phones {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			p, err := newPhone(ctx, cfg, i, hc, retry, res, ledger, tag)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && setupErr == nil {
				setupErr = fmt.Errorf("phone %d: %w", i, err)
			}
			phones[i] = p
		})
	}
	wg.Wait()
	defer func() {
		for _, p := range phones {
			if p != nil {
				p.d.Close()
			}
		}
	}()
	if setupErr != nil {
		return res, setupErr
	}
	res.Setup = time.Since(start)
	cfg.Log("%d phones logged in and bootstrapped in %s; working for %s", cfg.Devices, res.Setup.Round(time.Millisecond), cfg.Duration)

	// The day: work, sync (or not: an offline gap), pause; until the duration is over.
	start = time.Now()
	deadline := start.Add(cfg.Duration)
	for _, p := range phones {
		wg.Go(func() { p.day(ctx, deadline, cfg, hc, retry, res) })
	}
	wg.Wait()
	res.Work = time.Since(start)

	// End of the day: every phone syncs until nothing is left.
	start = time.Now()
	for _, p := range phones {
		wg.Go(func() {
			for try := 0; ; try++ {
				rep, err := p.d.Sync(ctx, res.syncOptions(hc, retry))
				res.addReport(rep, err)
				st, serr := p.d.Status(ctx)
				if err == nil && serr == nil && st.Queue == 0 && st.PendingPhotos == 0 {
					return
				}
				if try == 20 || ctx.Err() != nil {
					res.addUnfinished(p.d.DeviceID(), err)
					return
				}
			}
		})
	}
	wg.Wait()
	res.Drain = time.Since(start)
	for _, p := range phones {
		rj, _ := p.d.Rejections(ctx)
		cf, _ := p.d.Conflicts(ctx)
		res.Rejections += len(rj)
		res.Conflicts += len(cf)
	}
	res.Visits, res.Findings, res.Photos, res.Tracks = ledger.Counts()
	if err := verify(ctx, cfg, hc, retry, ledger, tag, res); err != nil {
		return res, err
	}
	return res, nil
}

// newPhone opens phone i under cfg.Home, logs it in and bootstraps it.
func newPhone(ctx context.Context, cfg Config, i int, hc *http.Client, retry device.RetryPolicy, res *Result,
	ledger *fieldwork.Ledger, tag string) (*phone, error) {
	user := cfg.Users[i%len(cfg.Users)]
	home := filepath.Join(cfg.Home, fmt.Sprintf("phone-%04d", i))
	d, err := device.Open(home, device.Options{DeviceName: fmt.Sprintf("sim phone %d", i), HTTPClient: hc,
		Platform: "fieldctl-simulate"})
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	_, err = d.Login(ctx, cfg.Server, user.Username, user.Password, retry)
	res.addCall(device.CallInfo{Call: "login", Duration: time.Since(t0), Err: err})
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("login %s: %w", user.Username, err)
	}
	rep, err := d.Sync(ctx, res.syncOptions(hc, retry))
	res.addReport(rep, err)
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	sites, err := fieldwork.PulledSites(ctx, d)
	if err != nil {
		d.Close()
		return nil, err
	}
	dir := filepath.Join(home, "camera")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		d.Close()
		return nil, err
	}
	w := &fieldwork.Worker{D: d, Rnd: rand.New(rand.NewPCG(cfg.Seed, uint64(i))), Sites: sites, Dir: dir,
		Ledger: ledger, Tag: tag, Kinds: user.Kinds, MaxPhotos: 3, TrackPoints: 120}
	return &phone{d: d, w: w, user: user}, nil
}

// day is one phone's work until the deadline.
func (p *phone) day(ctx context.Context, deadline time.Time, cfg Config, hc *http.Client, retry device.RetryPolicy, res *Result) {
	for time.Now().Before(deadline) && ctx.Err() == nil {
		pause := time.Duration(p.w.Rnd.Float64() * 2 * float64(cfg.Think))
		if time.Now().Add(pause).After(deadline) {
			return
		}
		time.Sleep(pause)
		if _, err := p.w.Visit(ctx); err != nil {
			res.addWorkError(err)
			continue
		}
		if p.w.Rnd.Float64() < cfg.Offline {
			res.addOfflineGap()
			continue // no signal here: the work waits in the queue
		}
		rep, err := p.d.Sync(ctx, res.syncOptions(hc, retry))
		res.addReport(rep, err)
	}
}

// verify logs a supervisor in on a fresh phone, pulls everything and checks each thing the
// phones made is there once: visits submitted, findings, photos ready (GET /v1/photos/{id}),
// tracks with every point, and no other visit carrying the run's tag.
func verify(ctx context.Context, cfg Config, hc *http.Client, retry device.RetryPolicy, ledger *fieldwork.Ledger,
	tag string, res *Result) error {
	start := time.Now()
	home := filepath.Join(cfg.Home, "verifier")
	d, err := device.Open(home, device.Options{DeviceName: "simulate verifier", HTTPClient: hc})
	if err != nil {
		return err
	}
	defer d.Close()
	if _, err := d.Login(ctx, cfg.Server, cfg.Verifier.Username, cfg.Verifier.Password, retry); err != nil {
		return fmt.Errorf("verifier login: %w", err)
	}
	if _, err := d.Sync(ctx, device.SyncOptions{HTTPClient: hc, Retry: retry, SkipPush: true, SkipUploads: true}); err != nil {
		return fmt.Errorf("verifier pull: %w", err)
	}
	v := &res.Verify
	for _, id := range ledger.Visits {
		r, _ := d.Record(ctx, "visit", id.String())
		var vd struct {
			Status string `json:"status"`
		}
		switch {
		case r == nil:
			v.Lost = append(v.Lost, "visit "+id.String())
		case json.Unmarshal(r.Data, &vd) != nil || vd.Status != "submitted":
			v.Wrong = append(v.Wrong, "visit "+id.String()+" is "+vd.Status)
		}
	}
	tagged, err := d.Visits(ctx, device.Filter{Text: tag + " "})
	if err != nil {
		return err
	}
	v.Duplicated += max(0, len(tagged)-len(ledger.Visits))
	made := map[string]bool{}
	for _, id := range ledger.Visits {
		made[id.String()] = true
	}
	for _, r := range tagged {
		if !made[r.ID] {
			v.Unexpected = append(v.Unexpected, "visit "+r.ID)
		}
	}
	for _, id := range ledger.Findings {
		if r, _ := d.Record(ctx, "finding", id.String()); r == nil {
			v.Lost = append(v.Lost, "finding "+id.String())
		}
	}
	findings, _ := d.Findings(ctx, device.Filter{Text: " " + tag})
	v.Duplicated += max(0, len(findings)-len(ledger.Findings))
	for _, id := range ledger.Tracks {
		r, _ := d.Record(ctx, "track", id.String())
		if r == nil {
			v.Lost = append(v.Lost, "track "+id.String())
		} else {
			var td struct {
				Points []json.RawMessage `json:"points"`
			}
			if json.Unmarshal(r.Data, &td) != nil || len(td.Points) != ledger.Points[id] {
				v.Wrong = append(v.Wrong, fmt.Sprintf("track %s: %d points, made %d", id, len(td.Points), ledger.Points[id]))
			}
		}
	}
	tok, err := os.ReadFile(filepath.Join(home, "token")) // the verifier phone's own login
	if err != nil {
		return err
	}
	if err := verifyPhotos(ctx, cfg.Server, strings.TrimSpace(string(tok)), hc, ledger.Photos, v); err != nil {
		return err
	}
	v.Took = time.Since(start)
	return nil
}

// verifyPhotos asks GET /v1/photos/{id} for each photo (8 at a time) and wants status ready.
func verifyPhotos(ctx context.Context, server, token string, hc *http.Client, ids []uuid.UUID, v *Verification) error {
	var mu sync.Mutex
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			status, err := photoStatus(ctx, server, token, hc, id)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				v.Lost = append(v.Lost, fmt.Sprintf("photo %s: %v", id, err))
			case status != "ready":
				v.Wrong = append(v.Wrong, fmt.Sprintf("photo %s: %s", id, status))
			}
		})
	}
	wg.Wait()
	return ctx.Err()
}

// photoStatus is the status GET /v1/photos/{id} reports.
func photoStatus(ctx context.Context, server, token string, hc *http.Client, id uuid.UUID) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(server, "/")+"/v1/photos/"+id.String(), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET /v1/photos: %s", res.Status)
	}
	var pd struct {
		Status string `json:"status"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&pd); err != nil {
		return "", err
	}
	return pd.Status, nil
}

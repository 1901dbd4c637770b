// Package sync is fieldsync's protocol engine: push (ordered mutations per client, stored results,
// field-level merge, conflicts) and pull (a change-log cursor that never skips a commit, scopes,
// tombstones, bootstrap and reset). It knows nothing about HTTP.
package sync

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
)

// Config holds the protocol's limits.
type Config struct {
	MinProtocol      int           // below it a push gets ErrProtocolTooOld (426)
	MaxProtocol      int           // the newest protocol this server speaks
	MaxMutations     int           // per push (default 1,000)
	DefaultPullLimit int           // changes per pull page (default 500)
	MaxPullLimit     int           // (default 5,000)
	Retention        time.Duration // tombstones and change-log rows are kept this long (default 90 days)
	CoverageBufferM  float64       // a patrol covers the part of its area within this many metres of its track (default 100)
	Verdict          models.VerdictThresholds
	// ResultRetention is how long stored push results are kept for replay (default: Retention).
	// A mutation replayed later is answered "expired" (see PruneResults).
	ResultRetention time.Duration
	Log             *slog.Logger // where the engine reports what it must tell operators (nil: nowhere)
}

// DefaultConfig returns the production limits.
func DefaultConfig() Config {
	return Config{MinProtocol: 1, MaxProtocol: 1, MaxMutations: 1000, DefaultPullLimit: 500, MaxPullLimit: 5000,
		Retention: 90 * 24 * time.Hour, ResultRetention: 90 * 24 * time.Hour, CoverageBufferM: models.DefaultCoverageBufferM,
		Verdict: models.DefaultVerdictThresholds()}
}

// Engine runs pushes and pulls against the store. It holds no state between calls, so any number
// of API instances may run side by side.
type Engine struct {
	store    *storage.Store
	cfg      Config
	registry *Registry
	log      *slog.Logger

	// Test hooks, run inside a push's transaction before and after its change-log rows are
	// written (tests use them to widen the windows in which writers interleave). Nil in production.
	hookBeforeLog, hookAfterLog func()
}

// New builds an engine with the default registry of mutations and record types.
func New(store *storage.Store, cfg Config) *Engine {
	if cfg.CoverageBufferM <= 0 {
		cfg.CoverageBufferM = models.DefaultCoverageBufferM
	}
	if cfg.Verdict == (models.VerdictThresholds{}) {
		cfg.Verdict = models.DefaultVerdictThresholds()
	}
	if cfg.ResultRetention <= 0 {
		cfg.ResultRetention = cfg.Retention
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Engine{store: store, cfg: cfg, registry: registryFor(cfg), log: log}
}

// Registry returns the engine's registry, so kinds can plug in their rules.
func (e *Engine) Registry() *Registry { return e.registry }

// Config returns the engine's limits.
func (e *Engine) Config() Config { return e.cfg }

// Actor is who pushes or pulls: the user, their scope and their device.
type Actor struct {
	User     models.User
	Scope    models.Scope
	DeviceID string
}

// ErrProtocolTooOld means the phone speaks a protocol below the server's minimum (426).
type ErrProtocolTooOld struct{ Min, Got int }

func (e *ErrProtocolTooOld) Error() string {
	return fmt.Sprintf("sync: protocol version %d is below the minimum %d", e.Got, e.Min)
}

// ErrTooManyMutations means a push holds more mutations than the limit (413).
type ErrTooManyMutations struct{ Limit, Got int }

func (e *ErrTooManyMutations) Error() string {
	return fmt.Sprintf("sync: %d mutations in one push; the limit is %d", e.Got, e.Limit)
}

// ErrMutationGap means the first unseen mutation id is not last+1 (409); nothing was applied.
type ErrMutationGap struct{ Expected, Got int64 }

func (e *ErrMutationGap) Error() string {
	return fmt.Sprintf("sync: mutation gap: expected id %d, got %d", e.Expected, e.Got)
}

// ErrClientMismatch means the client id belongs to another user (403).
var ErrClientMismatch = storage.ErrClientMismatch

// ErrBadCursor means a pull cursor is not one this server issued (400).
var ErrBadCursor = errors.New("sync: cursor is not one this server issued")

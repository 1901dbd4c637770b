package device

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// SyncOptions tune one sync. The zero value pushes, uploads and pulls with the defaults.
type SyncOptions struct {
	// HTTPClient makes the calls of this sync (default: the Device's). Inject a fault proxy's
	// transport here.
	HTTPClient *http.Client
	Retry      RetryPolicy
	PushBatch  int   // mutations per push (default 500; the server takes at most 1,000)
	PullLimit  int   // changes per pull page (default 1,000)
	ChunkSize  int64 // bytes per tus PATCH (default 1 MiB)
	// SkipPush, SkipUploads and SkipPull leave out a phase.
	SkipPush, SkipUploads, SkipPull bool
	// Progress is told how each phase advances (for progress bars); may be nil.
	Progress func(Progress)
	// OnCall is told about every HTTP exchange (for latency figures); may be nil.
	OnCall func(CallInfo)
	// Notice receives one-line messages for people (retries, gaps, resets); may be nil.
	Notice func(msg string)
}

// Phases of a sync.
const (
	PhasePush   = "push"
	PhaseUpload = "upload"
	PhasePull   = "pull"
)

// Progress is where a phase stands. Total is -1 when unknown (a pull's length).
type Progress struct {
	Phase string
	Item  string // the photo being uploaded
	Done  int64
	Total int64
}

// CallInfo describes one HTTP exchange of a sync, retries included.
type CallInfo struct {
	Call     string // push, pull, upload.create, upload.head, upload.patch
	Duration time.Duration
	Status   int // 0 when no answer came
	Err      error
}

// SyncReport says what one sync did.
type SyncReport struct {
	Pushes         int           `json:"pushes"`
	Pushed         int           `json:"pushed"` // mutations acknowledged
	Applied        int           `json:"applied"`
	Conflicts      int           `json:"conflicts"`
	Rejected       int           `json:"rejected"`
	Expired        int           `json:"expired"`    // replays answered "expired": done long ago, result no longer kept
	Gaps           int           `json:"gaps"`       // 409 mutation-gap answers handled
	Renumbered     bool          `json:"renumbered"` // the queue was moved to the server's expected id
	PhotosUploaded int           `json:"photos_uploaded"`
	PhotosFailed   int           `json:"photos_failed"`
	BytesUploaded  int64         `json:"bytes_uploaded"`
	Pages          int           `json:"pages"`
	Changes        int           `json:"changes"`
	Resets         int           `json:"resets"`
	Retries        int           `json:"retries"`
	LastMutationID int64         `json:"last_mutation_id"`
	Queue          int           `json:"queue"` // left in the queue after the sync
	Duration       time.Duration `json:"duration_ns"`
}

// ErrUpgradeRequired means the server refused this app's protocol version (426): the queue is
// kept untouched; update the app and sync again.
var ErrUpgradeRequired = errors.New("the server needs a newer app (protocol too old); your queued work is kept")

// ErrTokenRejected means the server no longer accepts the token (expired, logged out, device
// revoked): log in again; nothing local is lost.
var ErrTokenRejected = errors.New("the server refused the login token: run fieldctl login again (queued work is kept)")

// session is one sync in progress.
type session struct {
	d      *Device
	opts   SyncOptions
	hc     *http.Client
	token  string
	report *SyncReport
}

// Sync pushes the queue, uploads pending photos, then pulls to the end. A failed push stops it;
// a failed upload does not keep the pull from running (its error is returned after). What was
// done so far is in the report; nothing already stored is lost, and the next Sync carries on.
func (d *Device) Sync(ctx context.Context, opts SyncOptions) (SyncReport, error) {
	start := time.Now()
	var rep SyncReport
	tok, err := d.token()
	if err != nil {
		return rep, err
	}
	if d.Server() == "" {
		return rep, ErrNotLoggedIn
	}
	if opts.PushBatch <= 0 || opts.PushBatch > 1000 {
		opts.PushBatch = 500
	}
	if opts.PullLimit <= 0 {
		opts.PullLimit = 1000
	}
	if opts.ChunkSize <= 0 {
		opts.ChunkSize = 1 << 20
	}
	s := &session{d: d, opts: opts, hc: opts.HTTPClient, token: tok, report: &rep}
	if s.hc == nil {
		s.hc = d.opts.HTTPClient
	}
	if !opts.SkipPush {
		err = s.push(ctx)
	}
	var uploadErr error
	if err == nil && !opts.SkipUploads {
		// A failed upload does not hold back the records: pull anyway, report the upload's error.
		uploadErr = s.uploadAll(ctx)
		if errors.Is(uploadErr, ErrTokenRejected) || ctx.Err() != nil {
			err, uploadErr = uploadErr, nil
		}
	}
	if err == nil && !opts.SkipPull {
		err = s.pull(ctx)
	}
	if err == nil {
		err = uploadErr
	}
	msg := ""
	if err != nil {
		msg = err.Error()
	} else {
		_ = setMeta(ctx, d.db, metaLastSync, d.now().Format(time.RFC3339))
	}
	_ = setMeta(context.WithoutCancel(ctx), d.db, metaLastError, msg)
	if st, serr := d.Status(context.WithoutCancel(ctx)); serr == nil {
		rep.Queue, rep.LastMutationID = st.Queue, st.LastMutationID
	}
	rep.Duration = time.Since(start)
	return rep, err
}

// call sends one request with retries and reports it.
func (s *session) call(ctx context.Context, name string, req request) (*response, error) {
	start := time.Now()
	res, err := do(ctx, s.hc, s.opts.Retry, req, func(wait time.Duration, cause error) {
		s.report.Retries++
		s.notice("%s: %v; retrying in %s", name, cause, wait.Round(time.Millisecond))
	})
	if s.opts.OnCall != nil {
		ci := CallInfo{Call: name, Duration: time.Since(start), Err: err}
		if res != nil {
			ci.Status = res.Status
		}
		s.opts.OnCall(ci)
	}
	if err == nil && res.Status == http.StatusUnauthorized {
		return res, ErrTokenRejected
	}
	return res, err
}

func (s *session) notice(format string, args ...any) {
	if s.opts.Notice != nil {
		s.opts.Notice(fmt.Sprintf(format, args...))
	}
}

func (s *session) progress(p Progress) {
	if s.opts.Progress != nil {
		s.opts.Progress(p)
	}
}

package simulate

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/fieldsync/fieldsync/cmd/fieldctl/device"
)

// Verification is what the supervisor's pull found.
type Verification struct {
	Lost       []string      `json:"lost"`       // made by a phone, missing on the server
	Duplicated int           `json:"duplicated"` // more records carry the run's tag than phones made
	Unexpected []string      `json:"unexpected"` // tagged records no phone made
	Wrong      []string      `json:"wrong"`      // there, but not as made (not submitted, photo not ready, points missing)
	Took       time.Duration `json:"took_ns"`
}

// OK reports whether the server holds exactly what the phones made.
func (v *Verification) OK() bool {
	return len(v.Lost) == 0 && v.Duplicated == 0 && len(v.Unexpected) == 0 && len(v.Wrong) == 0
}

// Result is a simulation's figures.
type Result struct {
	mu      sync.Mutex
	Devices int           `json:"devices"`
	Seed    uint64        `json:"seed"`
	Setup   time.Duration `json:"setup_ns"`
	Work    time.Duration `json:"work_ns"`
	Drain   time.Duration `json:"drain_ns"`

	Visits, Findings, Photos, Tracks int
	Syncs, SyncErrors, OfflineGaps   int
	Pushed, Applied, Retries         int
	Rejections, Conflicts            int
	PhotosUploaded                   int
	BytesUploaded                    int64
	Changes                          int
	WorkErrors                       []string
	Unfinished                       []string
	calls                            map[string][]time.Duration
	callErrs                         map[string]int
	Verify                           Verification
}

func newResult(cfg Config) *Result {
	return &Result{Devices: cfg.Devices, Seed: cfg.Seed, calls: map[string][]time.Duration{}, callErrs: map[string]int{}}
}

func (r *Result) addCall(c device.CallInfo) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls[c.Call] = append(r.calls[c.Call], c.Duration)
	if c.Err != nil || c.Status >= 500 || c.Status == http.StatusTooManyRequests {
		r.callErrs[c.Call]++
	}
}

func (r *Result) syncOptions(hc *http.Client, retry device.RetryPolicy) device.SyncOptions {
	return device.SyncOptions{HTTPClient: hc, Retry: retry, ChunkSize: 256 << 10, OnCall: r.addCall}
}

func (r *Result) addReport(rep device.SyncReport, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Syncs++
	if err != nil {
		r.SyncErrors++
	}
	r.Pushed += rep.Pushed
	r.Applied += rep.Applied
	r.Retries += rep.Retries
	r.PhotosUploaded += rep.PhotosUploaded
	r.BytesUploaded += rep.BytesUploaded
	r.Changes += rep.Changes
}

func (r *Result) addOfflineGap() {
	r.mu.Lock()
	r.OfflineGaps++
	r.mu.Unlock()
}

func (r *Result) addWorkError(err error) {
	r.mu.Lock()
	r.WorkErrors = append(r.WorkErrors, err.Error())
	r.mu.Unlock()
}

func (r *Result) addUnfinished(device string, err error) {
	r.mu.Lock()
	r.Unfinished = append(r.Unfinished, fmt.Sprintf("%s: %v", device, err))
	r.mu.Unlock()
}

// pct is the p-th percentile (0..100) of sorted durations.
func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p / 100)
	return sorted[i]
}

// Print writes the report for people.
func (r *Result) Print(w io.Writer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	secs := r.Work.Seconds()
	fmt.Fprintf(w, "fieldctl simulate: %d devices, seed %d\n", r.Devices, r.Seed)
	fmt.Fprintf(w, "setup (login + bootstrap pull): %s; work: %s; end-of-day drain: %s; verification: %s\n\n",
		r.Setup.Round(time.Millisecond), r.Work.Round(time.Millisecond), r.Drain.Round(time.Millisecond), r.Verify.Took.Round(time.Millisecond))
	fmt.Fprintf(w, "made: %d visits, %d findings, %d photos, %d patrol tracks\n", r.Visits, r.Findings, r.Photos, r.Tracks)
	fmt.Fprintf(w, "syncs: %d (%d failed and were retried later), %d offline gaps, %d call retries\n",
		r.Syncs, r.SyncErrors, r.OfflineGaps, r.Retries)
	fmt.Fprintf(w, "throughput over the work phase: %.1f mutations/s pushed, %.1f photos/s (%.1f KiB/s) uploaded, %.1f changes/s pulled\n\n",
		float64(r.Pushed)/secs, float64(r.PhotosUploaded)/secs, float64(r.BytesUploaded)/1024/secs, float64(r.Changes)/secs)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "call\tcount\terrors\tp50\tp90\tp99\tmax\t")
	names := make([]string, 0, len(r.calls))
	for n := range r.calls {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		d := slices.Clone(r.calls[n])
		slices.Sort(d)
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\t\n", n, len(d), r.callErrs[n], ms(pct(d, 50)), ms(pct(d, 90)), ms(pct(d, 99)), ms(d[len(d)-1]))
	}
	tw.Flush()
	fmt.Fprintf(w, "\nrejected mutations: %d; conflicts: %d; work errors: %d; phones that could not finish: %d\n",
		r.Rejections, r.Conflicts, len(r.WorkErrors), len(r.Unfinished))
	for _, e := range first(r.WorkErrors, 5) {
		fmt.Fprintln(w, "  work error:", e)
	}
	for _, e := range first(r.Unfinished, 5) {
		fmt.Fprintln(w, "  unfinished:", e)
	}
	v := &r.Verify
	fmt.Fprintf(w, "verification (a supervisor's pull and GET /v1/photos/{id}): %d lost, %d duplicated, %d unexpected, %d wrong\n",
		len(v.Lost), v.Duplicated, len(v.Unexpected), len(v.Wrong))
	for _, list := range [][]string{v.Lost, v.Unexpected, v.Wrong} {
		for _, e := range first(list, 5) {
			fmt.Fprintln(w, "  ", e)
		}
	}
	if v.OK() && len(r.Unfinished) == 0 && r.Rejections == 0 {
		fmt.Fprintln(w, "OK: the server holds exactly what the devices created")
	} else {
		fmt.Fprintln(w, "FAILED: the server does not hold exactly what the devices created")
	}
}

// Failed reports whether the run found anything lost, duplicated, rejected or unfinished.
func (r *Result) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.Verify.OK() || len(r.Unfinished) > 0 || r.Rejections > 0
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }

func first(s []string, n int) []string { return s[:min(n, len(s))] }

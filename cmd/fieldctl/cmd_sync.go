package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/fieldsync/fieldsync/cmd/fieldctl/device"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

func cmdSync(e *env, fs *flag.FlagSet) func([]string) error {
	chunk := fs.Int64("chunk-size", 1<<20, "bytes per upload request (tus PATCH)")
	batch := fs.Int("push-batch", 500, "mutations per push (at most 1,000)")
	limit := fs.Int("pull-limit", 1000, "changes per pull page")
	noPhotos := fs.Bool("no-photos", false, "push and pull records only; photos upload on a later sync")
	return func([]string) error {
		d, err := e.open()
		if err != nil {
			return err
		}
		defer d.Close()
		opts := device.SyncOptions{ChunkSize: *chunk, PushBatch: *batch, PullLimit: *limit, SkipUploads: *noPhotos}
		if !e.json {
			opts.Notice = func(msg string) { fmt.Fprintln(e.stderr, msg) }
		}
		bars := e.progress()
		opts.Progress = bars.update
		rep, err := d.Sync(e.ctx, opts)
		bars.finish()
		if err != nil {
			if errors.Is(err, device.ErrUpgradeRequired) {
				fmt.Fprintln(e.stderr, "The server needs a newer fieldctl. Nothing was lost: your queue is kept; update and sync again.")
			}
			if e.json {
				_ = e.out(map[string]any{"report": rep, "error": err.Error()}, "")
			}
			return err
		}
		return e.out(rep, fmt.Sprintf("pushed %d (applied %d, conflicts %d, rejected %d); uploaded %d photos (%d bytes, %d refused); pulled %d changes in %d pages; %d left in the queue\n",
			rep.Pushed, rep.Applied, rep.Conflicts, rep.Rejected, rep.PhotosUploaded, rep.BytesUploaded, rep.PhotosFailed,
			rep.Changes, rep.Pages, rep.Queue))
	}
}

// bars shows one progress bar per sync phase on a terminal; nothing with --json, --quiet or
// when stderr is not a terminal.
type bars struct {
	on    bool
	e     *env
	phase string
	bar   *progressbar.ProgressBar
}

func (e *env) progress() *bars {
	f, ok := e.stderr.(*os.File)
	return &bars{e: e, on: !e.json && !e.quiet && ok && term.IsTerminal(int(f.Fd()))}
}

func (b *bars) update(p device.Progress) {
	if !b.on {
		return
	}
	if p.Phase != b.phase+p.Item {
		b.finish()
		b.phase = p.Phase + p.Item
		desc := p.Phase
		if p.Item != "" {
			desc += " " + p.Item
		}
		opts := []progressbar.Option{progressbar.OptionSetWriter(b.e.stderr), progressbar.OptionSetDescription(desc),
			progressbar.OptionShowCount(), progressbar.OptionClearOnFinish()}
		if p.Phase == device.PhaseUpload {
			opts = append(opts, progressbar.OptionShowBytes(true))
		}
		b.bar = progressbar.NewOptions64(p.Total, opts...)
	}
	_ = b.bar.Set64(p.Done)
}

func (b *bars) finish() {
	if b.bar != nil {
		_ = b.bar.Finish()
		b.bar = nil
	}
}

func cmdList(typ string) command {
	return func(e *env, fs *flag.FlagSet) func([]string) error {
		var f device.Filter
		fs.StringVar(&f.Kind, "kind", "", "kind (site kind or kind of work)")
		fs.StringVar(&f.Region, "region", "", "region id, code or name (and everything under it)")
		fs.StringVar(&f.Status, "status", "", "status")
		fs.StringVar(&f.Text, "text", "", "text anywhere in the record")
		fs.IntVar(&f.Limit, "limit", 0, "at most this many")
		return func([]string) error {
			d, err := e.open()
			if err != nil {
				return err
			}
			defer d.Close()
			list := map[string]func() ([]device.Record, error){
				"site":    func() ([]device.Record, error) { return d.Sites(e.ctx, f) },
				"finding": func() ([]device.Record, error) { return d.Findings(e.ctx, f) },
				"visit":   func() ([]device.Record, error) { return d.Visits(e.ctx, f) },
			}[typ]
			recs, err := list()
			if err != nil {
				return err
			}
			var b strings.Builder
			for _, r := range recs {
				fmt.Fprintln(&b, listLine(r))
			}
			fmt.Fprintf(&b, "%d %ss\n", len(recs), typ)
			return e.out(recs, b.String())
		}
	}
}

// listLine is one record as a table row: id, kind, status, then its name or description.
func listLine(r device.Record) string {
	var x struct {
		Kind, Status, Name, Description, Category, Deadline string
	}
	_ = json.Unmarshal(r.Data, &x)
	label := x.Name
	if label == "" {
		label = strings.TrimSpace(x.Category + " " + x.Deadline + " " + x.Description)
	}
	local := ""
	if r.Local {
		local = " (not synced)"
	}
	return fmt.Sprintf("%s  %-16s %-16s %s%s", r.ID, x.Kind, x.Status, label, local)
}

func cmdExport(e *env, fs *flag.FlagSet) func([]string) error {
	out := fs.String("out", "", "write to this file instead of standard output")
	return func([]string) error {
		d, err := e.open()
		if err != nil {
			return err
		}
		defer d.Close()
		x, err := d.Export(e.ctx)
		if err != nil {
			return err
		}
		w := e.stdout
		if *out != "" {
			f, err := os.OpenFile(*out, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
			if err != nil {
				return err
			}
			defer f.Close()
			w = f
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(x)
	}
}

package main

import (
	"flag"
	"fmt"

	"github.com/fieldsync/fieldsync/cmd/fieldctl/bench"
)

// cmdBench runs the benchmark suite on its own PostgreSQL, MinIO and fieldsync server process.
func cmdBench(e *env, fs *flag.FlagSet) func([]string) error {
	var cfg bench.Config
	fs.IntVar(&cfg.Mutations, "mutations", 8000, "visit.create pushed")
	fs.IntVar(&cfg.Photos, "photos", 64, "photos uploaded")
	fs.IntVar(&cfg.PhotoKiB, "photo-kib", 512, "approximate photo size in KiB")
	fs.IntVar(&cfg.Devices, "devices", 1000, "phones in the incremental sync")
	fs.IntVar(&cfg.Workers, "workers", 8, "concurrent phones")
	fs.StringVar(&cfg.Fieldsync, "fieldsync", "", "the fieldsync server binary (default: beside fieldctl, else bin/fieldsync; `make build` makes it)")
	return func([]string) error {
		if !e.quiet {
			cfg.Log = func(format string, args ...any) { fmt.Fprintf(e.stderr, format+"\n", args...) }
		}
		rows, err := bench.Run(e.ctx, cfg)
		if e.json {
			_ = e.out(rows, "")
		} else {
			bench.Print(e.stdout, rows)
		}
		return err
	}
}

package main

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/fieldsync/fieldsync/cmd/fieldctl/simulate"
)

// cmdSimulate runs many virtual phones against a server and checks nothing was lost.
func cmdSimulate(e *env, fs *flag.FlagSet) func([]string) error {
	devices := fs.Int("devices", 20, "virtual phones (each its own home, client id and token)")
	duration := fs.Duration("duration", 30*time.Second, "how long the phones work")
	seed := fs.Uint64("seed", 0, "random seed (0: random; printed)")
	think := fs.Duration("think", 2*time.Second, "mean pause between two visits of one phone")
	offline := fs.Float64("offline", 0.3, "chance a phone does not sync after a visit (an offline gap)")
	setup := fs.Int("setup-concurrency", 16, "phones logging in and bootstrapping at once")
	return func([]string) error {
		if e.server == "" {
			return errors.New("give --server URL (or FIELDCTL_SERVER)")
		}
		cfg := simulate.Config{Server: e.server, Devices: *devices, Duration: *duration, Seed: *seed,
			Think: *think, Offline: *offline, Setup: *setup}
		if !e.quiet {
			cfg.Log = func(format string, args ...any) { fmt.Fprintf(e.stderr, format+"\n", args...) }
		}
		res, err := simulate.Run(e.ctx, cfg)
		if res != nil {
			if e.json {
				_ = e.out(res, "")
			} else {
				res.Print(e.stdout)
			}
		}
		if err != nil {
			return err
		}
		if res.Failed() {
			return errors.New("simulation failed: see the verification above")
		}
		return nil
	}
}

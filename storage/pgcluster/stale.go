package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// leftoverStopTimeout bounds the fast shutdown of a postgres left running by an earlier process.
const leftoverStopTimeout = 60 * time.Second

// clearStale makes sure no earlier postgres holds dataDir. It must be called with the directory
// lock held, which proves that the process that started any postgres still running there has
// died (e.g. the server was SIGKILLed on a system without parent-death signals). Such a postgres
// is stopped with a fast shutdown so this start gets a fresh server it owns. A postmaster.pid
// naming a dead process, or a process that is not that postgres (its pid reused), is removed.
func clearStale(ctx context.Context, dataDir string, log *slog.Logger) error {
	pidFile := filepath.Join(dataDir, "postmaster.pid")
	b, err := os.ReadFile(pidFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("pgcluster: read postmaster.pid: %w", err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err == nil && pid > 0 && alive(pid) {
		ours, err := isPostmasterOf(pid, dataDir)
		if err != nil {
			return err
		}
		if ours {
			log.Warn("pgcluster: stopping postgres left running on the cluster by an earlier process", "pid", pid)
			if err := stopLeftover(ctx, pid); err != nil {
				return err
			}
		}
	}
	if err := os.Remove(pidFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("pgcluster: remove stale postmaster.pid: %w", err)
	}
	return nil
}

// isPostmasterOf reports whether the live process pid is a postmaster running on dataDir. On Linux
// the postmaster's working directory is its data directory; elsewhere its command line (from ps)
// must name dataDir. A postgres whose data directory cannot be told is an error, never assumed.
func isPostmasterOf(pid int, dataDir string) (bool, error) {
	var args []string
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil {
		args = strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	} else {
		out, err := exec.Command("ps", "-o", "command=", "-p", strconv.Itoa(pid)).Output()
		if err != nil {
			return false, fmt.Errorf("pgcluster: postmaster.pid names running process %d; "+
				"cannot tell whether it is PostgreSQL (ps: %w)", pid, err)
		}
		args = strings.Fields(string(out))
	}
	if len(args) == 0 {
		return false, nil
	}
	if base := filepath.Base(args[0]); base != "postgres" && base != "postmaster" {
		return false, nil
	}
	if cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid)); err == nil {
		return sameDir(cwd, dataDir), nil
	}
	if slices.Contains(args, dataDir) {
		return true, nil
	}
	return false, fmt.Errorf("pgcluster: postgres process %d, named in %s/postmaster.pid, may be "+
		"running on the cluster; stop it (`pg_ctl stop -D %s`) and start again", pid, dataDir, dataDir)
}

// sameDir reports whether a and b name the same directory.
func sameDir(a, b string) bool {
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}

// stopLeftover stops postgres process pid, which is not our child: SIGINT (fast shutdown), then
// SIGQUIT and SIGKILL if it has not exited within leftoverStopTimeout (or when ctx ends).
func stopLeftover(ctx context.Context, pid int) error {
	ctx, cancel := context.WithTimeout(ctx, leftoverStopTimeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGQUIT, syscall.SIGKILL} {
		if err := signalPID(pid, sig); err != nil {
			if errors.Is(err, syscall.ESRCH) {
				return nil
			}
			return fmt.Errorf("pgcluster: stop leftover postgres %d: %w", pid, err)
		}
		// The fast shutdown gets the whole timeout, each escalation a grace time.
		stepCtx, stepCancel := ctx, context.CancelFunc(func() {})
		if sig != syscall.SIGINT {
			stepCtx, stepCancel = context.WithTimeout(context.WithoutCancel(ctx), killGraceTime)
		}
	wait:
		for alive(pid) {
			select {
			case <-stepCtx.Done():
				break wait
			case <-tick.C:
			}
		}
		stepCancel()
		if !alive(pid) {
			return nil
		}
	}
	return fmt.Errorf("pgcluster: leftover postgres %d on the cluster did not exit", pid)
}

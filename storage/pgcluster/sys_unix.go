//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package pgcluster

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// fileOwner returns the owner and group of path.
func fileOwner(path string) (uid, gid int, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, 0, fmt.Errorf("pgcluster: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, fmt.Errorf("pgcluster: %s: no owner information", path)
	}
	return int(st.Uid), int(st.Gid), nil
}

// sysProcAttr returns the process attributes for initdb (server false) and postgres (server true):
// the credentials of acct when switching users, and for the server its own process group (so a
// terminal's Ctrl-C does not reach it) plus, where supported, a parent-death signal.
func sysProcAttr(acct account, server bool) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: server}
	if acct.switchUser {
		attr.Credential = &syscall.Credential{Uid: uint32(acct.uid), Gid: uint32(acct.gid), Groups: []uint32{}}
	}
	if server {
		setPdeathsig(attr)
	}
	return attr
}

// lockDir takes the exclusive lock dir/fieldsync.lock, held (and released by the kernel if the
// process dies) until the returned file is closed. The descriptor is close-on-exec, so postgres
// does not inherit it.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "fieldsync.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: lock cluster directory: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: cluster directory %s is in use by another running process", ErrInUse, dir)
		}
		return nil, fmt.Errorf("pgcluster: lock cluster directory: %w", err)
	}
	return f, nil
}

// Locked reports whether a live process holds the lock of cluster directory dir, that is whether
// a Cluster is (or is being) started there. A directory without a lock file is not locked.
func Locked(dir string) (bool, error) {
	f, err := os.Open(filepath.Join(dir, "fieldsync.lock"))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("pgcluster: %w", err)
	}
	defer func() { _ = f.Close() }()
	switch err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); {
	case err == nil:
		return false, nil
	case errors.Is(err, syscall.EWOULDBLOCK):
		return true, nil
	default:
		return false, fmt.Errorf("pgcluster: check lock of %s: %w", dir, err)
	}
}

// alive reports whether process pid exists and is not a zombie.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	// A zombie still answers kill(pid, 0); on Linux, /proc tells.
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) && b[i+2] == 'Z' {
			return false
		}
	}
	return true
}

// signalPID sends sig to process pid.
func signalPID(pid int, sig syscall.Signal) error { return syscall.Kill(pid, sig) }

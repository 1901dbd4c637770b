package miniotest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockDir takes an exclusive lock on dir/miniotest.lock, held until the file is closed or the
// process dies. The descriptor is close-on-exec: minio does not inherit it.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "miniotest.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("miniotest: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("miniotest: lock %s: %w", dir, err)
	}
	return f, nil
}

// locked reports whether a live process holds dir's lock (a directory without one is not locked).
func locked(dir string) bool {
	f, err := os.Open(filepath.Join(dir, "miniotest.lock"))
	if err != nil {
		return false
	}
	defer func() { _ = f.Close() }()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
	return errors.Is(err, syscall.EWOULDBLOCK)
}

// tempBase returns where server directories go: /dev/shm (memory-backed, fast) when TMPDIR is
// unset and /dev/shm is the usual world-writable sticky directory with 1 GiB free, else
// os.TempDir().
func tempBase() string {
	if os.Getenv("TMPDIR") != "" {
		return os.TempDir()
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs("/dev/shm", &st); err != nil || st.Bavail*uint64(st.Bsize) < 1<<30 {
		return os.TempDir()
	}
	if fi, err := os.Stat("/dev/shm"); err != nil || fi.Mode().Perm()&0o002 == 0 || fi.Mode()&os.ModeSticky == 0 {
		return os.TempDir()
	}
	return "/dev/shm"
}

package pgtest

import (
	"os"
	"syscall"
)

// minShmFree is the free space /dev/shm needs to hold test clusters.
const minShmFree = 1 << 30

// tempBase returns the directory test clusters are created in: /dev/shm, which is memory-backed
// (cloning a database there takes a fraction of the time it takes on a slow disk), when TMPDIR is
// unset and /dev/shm has at least 1 GiB free; else os.TempDir(). Set TMPDIR to choose yourself.
func tempBase() string {
	if os.Getenv("TMPDIR") != "" {
		return os.TempDir()
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs("/dev/shm", &st); err != nil || st.Bavail*uint64(st.Bsize) < minShmFree {
		return os.TempDir()
	}
	if fi, err := os.Stat("/dev/shm"); err != nil || fi.Mode().Perm()&0o002 == 0 || fi.Mode()&os.ModeSticky == 0 {
		return os.TempDir() // not the usual world-writable sticky directory
	}
	return "/dev/shm"
}

//go:build !linux

package miniotest

import "os"

// lockDir does nothing here.
func lockDir(string) (*os.File, error) { return nil, nil }

// locked says yes: without locks, stale directories are never removed automatically.
func locked(string) bool { return true }

// tempBase returns os.TempDir().
func tempBase() string { return os.TempDir() }

//go:build !linux

package miniotest

import (
	"os"
	"syscall"
)

// procAttr: no parent-death signal here, so a killed test binary leaves minio running.
func procAttr() *syscall.SysProcAttr { return nil }

// killGroup kills the process.
func killGroup(p *os.Process) { _ = p.Kill() }

// lockDir does nothing here.
func lockDir(string) (*os.File, error) { return nil, nil }

// locked says yes: without locks, stale directories are never removed automatically.
func locked(string) bool { return true }

// tempBase returns os.TempDir().
func tempBase() string { return os.TempDir() }

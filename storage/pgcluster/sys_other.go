//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package pgcluster

import (
	"errors"
	"os"
	"syscall"
)

// errUnsupported is returned on systems where the cluster cannot be run.
var errUnsupported = errors.New("pgcluster: a private PostgreSQL cluster is not supported on this " +
	"system; set FIELDSYNC_DATABASE_URL to use an existing server")

func fileOwner(string) (int, int, error)             { return 0, 0, errUnsupported }
func sysProcAttr(account, bool) *syscall.SysProcAttr { return nil }
func lockDir(string) (*os.File, error)               { return nil, errUnsupported }
func alive(int) bool                                 { return false }
func signalPID(int, syscall.Signal) error            { return errUnsupported }

// Locked reports whether a live process holds the lock of cluster directory dir; unsupported here.
func Locked(string) (bool, error) { return false, errUnsupported }

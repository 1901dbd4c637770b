//go:build darwin || freebsd || netbsd || openbsd || dragonfly

package pgcluster

import "syscall"

// setPdeathsig does nothing: there is no parent-death signal here, so a killed server leaves
// postgres running until the next Start on the directory stops it.
func setPdeathsig(*syscall.SysProcAttr) {}

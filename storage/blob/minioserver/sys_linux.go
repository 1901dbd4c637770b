package minioserver

import (
	"os"
	"syscall"
)

// procAttr puts minio in its own process group (a terminal's Ctrl-C goes to the parent, which
// then stops it) and has the kernel kill it when the parent dies.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup sends SIGKILL to the process group p leads.
func killGroup(p *os.Process) {
	if err := syscall.Kill(-p.Pid, syscall.SIGKILL); err != nil {
		_ = p.Kill()
	}
}

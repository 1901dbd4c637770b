package pgcluster

import "syscall"

// setPdeathsig makes the kernel send postgres SIGINT (fast shutdown) when its parent dies, so the
// cluster does not outlive a killed server or test binary.
func setPdeathsig(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGINT }

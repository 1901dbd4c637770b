// Package child starts the server processes the tests and the embedded default run (PostgreSQL,
// MinIO) so that they die with the program that started them.
package child

import (
	"os/exec"
	"runtime"
)

// Proc is a child process started by Launch.
type Proc struct {
	Cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited and been reaped
	err  error         // the result of Wait; read only after done is closed
}

// Launch starts cmd from a goroutine locked to its OS thread for the child's whole life: Linux
// sends the parent-death signal (cmd.SysProcAttr.Pdeathsig) when the thread that forked the
// child exits, not the process (go.dev/issue/27505), and Go may end threads.
func Launch(cmd *exec.Cmd) (*Proc, error) {
	p := &Proc{Cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return p, nil
}

// Done is closed once the process has exited and been reaped.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Err is the process's exit as Wait reported it; read it only after Done is closed.
func (p *Proc) Err() error { return p.err }

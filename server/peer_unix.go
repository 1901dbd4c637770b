//go:build linux || darwin || freebsd || netbsd || openbsd

package server

import (
	"errors"
	"net"
	"syscall"
	"time"
)

// watchPeer calls gone once when the client at the other end of conn closes its side of the
// connection or resets it, until stop is called; stop returns once watching has ended.
//
// fasthttp reads nothing from a connection while a handler runs, so nothing notices a client that
// leaves. The watcher peeks at the socket (recv with MSG_PEEK, through the runtime's poller, so it
// holds no thread while it waits): a read of 0 bytes is the client's FIN, an error its reset. Bytes
// are left where they are for fasthttp; when some arrive (a pipelined request) watching stops,
// since a close can no longer be told from them. stop wakes the peek with a read deadline in the
// past, then clears the deadline (fasthttp sets its own before it reads the next request).
func watchPeer(conn net.Conn, gone func()) (stop func()) {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return func() {} // not a socket (app.Test's pipe): nothing to watch
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var buf [1]byte
		closed := false
		err := raw.Read(func(fd uintptr) bool {
			n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK)
			switch {
			case errors.Is(err, syscall.EAGAIN), errors.Is(err, syscall.EINTR):
				return false // nothing yet: wait until the socket is readable
			case err != nil, n == 0:
				closed = true // reset, or the client's FIN
			}
			return true
		})
		if closed && err == nil {
			gone()
		}
	}()
	return func() {
		_ = conn.SetReadDeadline(time.Unix(1, 0))
		<-done
		_ = conn.SetReadDeadline(time.Time{})
	}
}

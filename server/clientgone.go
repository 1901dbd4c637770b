package server

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
)

// errClientGone is the cause of a request context cancelled because its client went away.
var errClientGone = errors.New("server: the client closed the connection")

// statusClientGone is the status a request whose client went away is logged and counted with (no
// answer is sent: there is no one to read it). It is nginx's "client closed request".
const statusClientGone = 499

// watchAfter is how long a request runs before its connection is watched: most requests end
// sooner and so never pay for a watcher (a goroutine and a few system calls).
const watchAfter = 100 * time.Millisecond

// watchClient cancels the request's context (with errClientGone) when its client closes the
// connection, so a report the client no longer waits for stops at once (a query whose context
// ends is cancelled in PostgreSQL: pgx sends the backend a cancel request as it drops the
// connection). Watching starts once the request has run for watchAfter; it needs the request body
// read, so the push and the tus PATCH, which read theirs in the handler, are not watched.
func (s *Server) watchClient(c *fiber.Ctx) error {
	if c.Path() == pushPath || (c.Method() == fiber.MethodPatch && strings.HasPrefix(c.Path(), uploadsPath+"/")) {
		return c.Next()
	}
	ctx, cancel := context.WithCancelCause(c.UserContext())
	defer cancel(nil)
	conn := c.Context().Conn()
	var mu sync.Mutex
	var stop func()
	ended := false
	timer := time.AfterFunc(watchAfter, func() {
		mu.Lock()
		defer mu.Unlock()
		if !ended {
			stop = watchPeer(conn, func() { cancel(errClientGone) })
		}
	})
	defer func() {
		timer.Stop()
		mu.Lock()
		ended = true
		mu.Unlock()
		if stop != nil {
			stop()
		}
	}()
	c.SetUserContext(ctx)
	return c.Next()
}

// clientGone reports whether the request was cancelled because its client went away.
func clientGone(c *fiber.Ctx) bool {
	return errors.Is(context.Cause(c.UserContext()), errClientGone)
}

// exportContext is the context of a streamed export: it outlives the handler (the body is written
// after it returns) for at most exportTimeout, and ends at once when the client goes away, while
// the handler runs (its query is opened then) or later while the body streams (streamExport).
func exportContext(c *fiber.Ctx) (context.Context, context.CancelCauseFunc) {
	base, cancel := context.WithCancelCause(context.Background())
	ctx, stopTimer := context.WithTimeout(base, exportTimeout)
	req := c.UserContext()
	context.AfterFunc(req, func() {
		if errors.Is(context.Cause(req), errClientGone) {
			cancel(errClientGone)
		}
	})
	return ctx, func(cause error) {
		cancel(cause)
		stopTimer()
	}
}

// exportTimeout bounds one streamed export (the request deadline ends when the handler returns,
// before the body is written).
const exportTimeout = 30 * time.Minute

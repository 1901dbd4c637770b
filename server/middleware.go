package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// Keys of c.Locals used across middleware and handlers.
const (
	localRequestID = "fieldsync.request_id"
	localPrincipal = "fieldsync.principal"
	localUnmatched = "fieldsync.unmatched"
	localClientIP  = "fieldsync.client_ip"
)

// HeaderRequestID carries the request id on every response.
const HeaderRequestID = "X-Request-Id"

var requestIDRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// requestID keeps a well-formed incoming X-Request-Id (so a trace crosses a proxy) or makes one,
// and works out the client's address once (clientIP).
func (s *Server) requestID(c *fiber.Ctx) error {
	id := c.Get(HeaderRequestID)
	if !requestIDRE.MatchString(id) {
		id = uuid.NewString()
	}
	c.Locals(localRequestID, id)
	if ip := s.peerIP(c); ip.IsValid() {
		c.Locals(localClientIP, ip.String())
	} else {
		c.Locals(localClientIP, "unknown")
	}
	c.Set(HeaderRequestID, id)
	return c.Next()
}

// access handles the chain's error itself (so the final status is known), then logs one line and
// records the request's metrics.
func (s *Server) access(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	if err != nil {
		if herr := c.App().ErrorHandler(c, err); herr != nil {
			s.log.Error("error handler failed", "error", herr)
			c.Status(fiber.StatusInternalServerError)
		}
	}
	status := c.Response().StatusCode()
	route := routeLabel(c)
	elapsed := time.Since(start)
	s.metrics.observe(methodLabel(c.Method()), route, status, elapsed)
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	attrs := append(logAttrsFor(c), slog.String("method", c.Method()), slog.String("path", c.Path()),
		slog.String("route", route), slog.Int("status", status), slog.Duration("duration", elapsed),
		slog.String("ip", clientIP(c)))
	s.log.LogAttrs(c.UserContext(), level, "request", attrs...)
	return nil
}

// Limits of a request's head: the request target (path and query) and the request line with
// every header. fasthttp reads the head into a buffer of maxRequestHead bytes and refuses a longer
// one with 431 before anything is parsed; uriLimit refuses a longer request target with 414.
const (
	maxURILength   = 4 << 10
	maxRequestHead = 8 << 10
)

// uriLimit refuses a request target (path and query string) over maxURILength bytes with 414.
func uriLimit(c *fiber.Ctx) error {
	if len(c.Request().RequestURI()) > maxURILength {
		p := problem(fiber.StatusRequestURITooLong, "uri-too-long", "URI too long",
			"The request target (path and query string) exceeds the size limit.")
		p.Extra = map[string]any{"limit_bytes": maxURILength}
		return p
	}
	return c.Next()
}

// recover turns a panic into an error (a logged 500) instead of a dead connection.
func (s *Server) recover(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("panic", "request_id", c.Locals(localRequestID), "panic", fmt.Sprint(r),
				"stack", string(debug.Stack()))
			err = fmt.Errorf("server: panic: %v", r)
		}
	}()
	return c.Next()
}

// timeout puts the request deadline into c.UserContext(); storage calls made with it stop there.
func (s *Server) timeout(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), s.cfg.RequestTimeout)
	defer cancel()
	c.SetUserContext(ctx)
	return c.Next()
}

func retryAfterSeconds(d time.Duration) int {
	secs := int(d.Seconds())
	if time.Duration(secs)*time.Second < d {
		secs++
	}
	return max(secs, 1)
}

// jsonBodyLimit enforces the JSON body limit on every route but those that set their own (the
// sync push) or read their body as a stream (tus PATCH). The server streams request bodies, so
// each limit is enforced here while reading: a body over the limit is refused after at most
// limit+1 bytes, whatever its Content-Length or transfer encoding says.
func (s *Server) jsonBodyLimit(c *fiber.Ctx) error {
	if c.Path() == pushPath || (c.Method() == fiber.MethodPatch && strings.HasPrefix(c.Path(), uploadsPath+"/")) {
		return c.Next()
	}
	if err := readBody(c, s.cfg.BodyLimit); err != nil {
		return err
	}
	return c.Next()
}

// bodyLimit sets a route's own body limit.
func (s *Server) bodyLimit(limit int) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := readBody(c, limit); err != nil {
			return err
		}
		return c.Next()
	}
}

// readBody reads a streamed request body of at most limit bytes into the request, so handlers
// use c.Body() as usual.
func readBody(c *fiber.Ctx, limit int) error {
	req := c.Request()
	if req.Header.ContentLength() > limit {
		return bodyTooLarge(limit)
	}
	stream := c.Context().RequestBodyStream()
	if stream == nil {
		if len(req.Body()) > limit {
			return bodyTooLarge(limit)
		}
		return nil
	}
	b, err := io.ReadAll(io.LimitReader(stream, int64(limit)+1))
	if err != nil {
		return errBadRequest("The request body could not be read completely.")
	}
	if len(b) > limit {
		return bodyTooLarge(limit)
	}
	req.SetBody(b)
	return nil
}

func bodyTooLarge(limit int) *Problem {
	p := problem(fiber.StatusRequestEntityTooLarge, "body-too-large", "Request body too large",
		"The request body exceeds the size limit.")
	p.Extra = map[string]any{"limit_bytes": limit}
	return p
}

package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/fieldsync/fieldsync/storage/blob"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
	"github.com/google/uuid"
)

// ProblemBase prefixes every problem type; the slug after it is stable and documented in openapi.yaml.
const ProblemBase = "https://fieldsync.dev/problems/"

// Problem is an RFC 9457 problem detail. Handlers return it as an error; the one ErrorHandler
// writes it. Extra members (e.g. "limit") are merged into the top-level object.
type Problem struct {
	Type       string
	Title      string
	Status     int
	Detail     string
	Errors     []models.FieldError
	Extra      map[string]any
	RetryAfter int // seconds; sets the Retry-After header when > 0
}

// Error makes Problem an error.
func (p *Problem) Error() string { return fmt.Sprintf("%d %s: %s", p.Status, p.Title, p.Detail) }

func problem(status int, slug, title, detail string) *Problem {
	return &Problem{Type: ProblemBase + slug, Title: title, Status: status, Detail: detail}
}

func errBadRequest(detail string) *Problem {
	return problem(fiber.StatusBadRequest, "bad-request", "Bad request", detail)
}

func errNotFound(detail string) *Problem {
	return problem(fiber.StatusNotFound, "not-found", "Not found", detail)
}

func errForbidden(detail string) *Problem {
	return problem(fiber.StatusForbidden, "forbidden", "Forbidden", detail)
}

func errValidation(ve *models.ValidationError) *Problem {
	p := problem(fiber.StatusUnprocessableEntity, "validation", "Invalid input",
		"One or more fields are invalid; see errors.")
	p.Errors = ve.Errors
	return p
}

// MarshalJSON writes the problem as one flat JSON object.
func (p *Problem) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(p.Extra)+6)
	for k, v := range p.Extra {
		m[k] = v
	}
	m["type"], m["title"], m["status"] = p.Type, p.Title, p.Status
	if p.Detail != "" {
		m["detail"] = p.Detail
	}
	if len(p.Errors) > 0 {
		m["errors"] = p.Errors
	}
	return json.Marshal(m)
}

// errorHandler turns every error into problem+json. 5xx answers say "internal error" and the
// cause goes to the log with the request id; nothing internal leaks to the client.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	if _, ok := c.Locals(localRequestID).(string); !ok {
		// fasthttp refused the request before any middleware ran (e.g. an oversized body).
		id := uuid.NewString()
		c.Locals(localRequestID, id)
		c.Set(HeaderRequestID, id)
	}
	if clientGone(c) {
		// Nobody reads an answer: log the request as cancelled and close the connection
		// without writing one.
		s.log.InfoContext(c.UserContext(), "request cancelled: the client went away", "request_id", c.Locals(localRequestID),
			"method", c.Method(), "path", c.Path(), "error", err.Error())
		c.Status(statusClientGone)
		c.Context().HijackSetNoResponse(true)
		c.Context().Hijack(func(net.Conn) {})
		return nil
	}
	p := s.toProblem(c, err)
	p.Extra = withInstance(p.Extra, c)
	if p.RetryAfter > 0 {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(p.RetryAfter))
	}
	if p.Status == fiber.StatusUnauthorized {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="fieldsync"`)
	}
	if c.Request().Header.ContentLength() != 0 {
		// The body may be unread (bodies are streamed): close the connection rather than parse
		// the rest of it as the next request.
		c.Context().SetConnectionClose()
	}
	body, _ := json.Marshal(p)
	c.Status(p.Status)
	c.Set(fiber.HeaderContentType, "application/problem+json")
	return c.Send(body)
}

func withInstance(extra map[string]any, c *fiber.Ctx) map[string]any {
	if extra == nil {
		extra = map[string]any{}
	}
	extra["instance"] = string(c.Request().URI().Path())
	if id, ok := c.Locals(localRequestID).(string); ok {
		extra["request_id"] = id
	}
	return extra
}

func (s *Server) toProblem(c *fiber.Ctx, err error) *Problem {
	var p *Problem
	var ve *models.ValidationError
	var fe *fiber.Error
	switch {
	case errors.As(err, &p):
		cp := *p
		return &cp
	case errors.As(err, &ve):
		return errValidation(ve)
	case errors.Is(err, storage.ErrNotFound):
		return errNotFound("The requested resource does not exist.")
	case errors.Is(err, storage.ErrInvalid):
		s.log.WarnContext(c.UserContext(), "database refused a value", "request_id", c.Locals(localRequestID), "error", err.Error())
		return problem(fiber.StatusUnprocessableEntity, "constraint", "Invalid value",
			"A value breaks a rule of the data model.")
	case errors.Is(err, storage.ErrLastAdmin):
		return problem(fiber.StatusConflict, "last-admin", "Last admin",
			"This change would leave no active admin; make another user admin first.")
	case errors.Is(err, storage.ErrConflict):
		return problem(fiber.StatusConflict, "conflict", "Conflict", "A resource with the same unique key already exists.")
	case errors.Is(err, storage.ErrUnavailable), errors.Is(err, blob.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		s.log.WarnContext(c.UserContext(), "transient failure", "request_id", c.Locals(localRequestID), "error", err.Error())
		p := problem(fiber.StatusServiceUnavailable, "unavailable", "Service unavailable",
			"The service is temporarily unavailable; retry after the given delay.")
		p.RetryAfter = 5
		return p
	case errors.As(err, &fe):
		if fe.Code == fiber.StatusRequestEntityTooLarge { // refused by fasthttp: beyond every route's limit
			return bodyTooLarge(max(s.cfg.BodyLimit, s.cfg.PushBodyLimit))
		}
		return fiberProblem(fe)
	}
	s.log.ErrorContext(c.UserContext(), "internal error", "request_id", c.Locals(localRequestID),
		"method", c.Method(), "path", c.Path(), "error", err.Error())
	return problem(fiber.StatusInternalServerError, "internal", "Internal error",
		"An internal error occurred; it has been logged with the request id.")
}

func fiberProblem(fe *fiber.Error) *Problem {
	switch fe.Code {
	case fiber.StatusNotFound:
		return errNotFound("No such resource.")
	case fiber.StatusMethodNotAllowed:
		return problem(fe.Code, "method-not-allowed", "Method not allowed", "This resource does not support that method.")
	case fiber.StatusRequestTimeout:
		return problem(fe.Code, "timeout", "Request timeout", "The request took too long to arrive.")
	case fiber.StatusUnsupportedMediaType:
		return problem(fe.Code, "unsupported-media-type", "Unsupported media type", fe.Message)
	case fiber.StatusRequestHeaderFieldsTooLarge: // refused by fasthttp: the head overflows its buffer
		p := problem(fe.Code, "headers-too-large", "Request header fields too large",
			"The request line and headers together exceed the size limit.")
		p.Extra = map[string]any{"limit_bytes": maxRequestHead}
		return p
	case fiber.StatusBadRequest: // refused by fasthttp: not an HTTP/1.1 request it could parse
		return problem(fe.Code, "bad-request", "Bad request", "The request is not valid HTTP/1.1: "+fe.Message)
	}
	if fe.Code >= 500 {
		return problem(fe.Code, "internal", "Internal error", "An internal error occurred.")
	}
	return problem(fe.Code, "bad-request", utils.StatusMessage(fe.Code), fe.Message)
}

// logAttrsFor is shared by the access log.
func logAttrsFor(c *fiber.Ctx) []slog.Attr {
	attrs := []slog.Attr{slog.Any("request_id", c.Locals(localRequestID))}
	if p, ok := c.Locals(localPrincipal).(*models.Principal); ok {
		attrs = append(attrs, slog.String("user_id", p.User.ID.String()), slog.String("device_id", p.DeviceID))
	}
	return attrs
}

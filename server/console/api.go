package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// api calls the /v1 API in-process: a console page is a client of the same routes the phones and
// the admin tools use, run through the same middleware (request id, access log, metrics, timeout,
// body limits), authentication, role checks, scope rules, validation and audit. Nothing goes over a
// socket; the console holds no SQL and no rule of its own.
type api struct {
	app  *fiber.App
	once sync.Once
	h    fasthttp.RequestHandler
}

// handler is the app's request handler, taken on first use: by then every route is registered.
func (a *api) handler() fasthttp.RequestHandler {
	a.once.Do(func() { a.h = a.app.Handler() })
	return a.h
}

// apiError is a /v1 answer other than 2xx: its status and problem+json members.
type apiError struct {
	Status int             `json:"status"`
	Type   string          `json:"type"`
	Title  string          `json:"title"`
	Detail string          `json:"detail"`
	Errors []apiFieldError `json:"errors"`
	Param  string          `json:"param"`
}

type apiFieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *apiError) Error() string {
	return fmt.Sprintf("console: api %d %s: %s", e.Status, e.Title, e.Detail)
}

// slug is the problem type without its base URI ("validation", "not-found").
func (e *apiError) slug() string {
	if i := strings.LastIndexByte(e.Type, '/'); i >= 0 {
		return e.Type[i+1:]
	}
	return e.Type
}

// statusOf is the HTTP status an error maps to on a console page.
func statusOf(err error) int {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return fiber.StatusInternalServerError
}

// call sends one request to the API as the console's caller (token "" for none) and returns the
// answer's status, headers and body. c is the browser's request: its client address and request
// id travel along, so audit entries, login throttling and logs name the real client.
func (a *api) call(c *fiber.Ctx, token, method, target string, body []byte) (*fasthttp.Response, error) {
	var req fasthttp.Request
	req.Header.SetMethod(method)
	req.SetRequestURI(target)
	req.Header.SetHost(string(c.Request().Host()))
	if token != "" {
		req.Header.Set(fiber.HeaderAuthorization, "Bearer "+token)
	}
	if id := c.GetRespHeader("X-Request-Id"); id != "" {
		req.Header.Set("X-Request-Id", id)
	}
	if body != nil {
		req.Header.SetContentType(fiber.MIMEApplicationJSON)
		req.SetBody(body)
	}
	rc := new(fasthttp.RequestCtx)
	rc.Init(&req, &net.TCPAddr{IP: net.ParseIP(c.IP())}, nil)
	a.handler()(rc)
	resp := &rc.Response
	resp.Body() // reads a streamed body in
	if resp.StatusCode() >= 300 {
		return resp, decodeProblem(resp)
	}
	return resp, nil
}

func decodeProblem(resp *fasthttp.Response) error {
	e := &apiError{Status: resp.StatusCode()}
	if err := json.Unmarshal(resp.Body(), e); err != nil || e.Status == 0 {
		e.Status, e.Title = resp.StatusCode(), fasthttp.StatusMessage(resp.StatusCode())
	}
	return e
}

// getJSON reads path?query into out.
func (a *api) getJSON(c *fiber.Ctx, token, path string, query url.Values, out any) error {
	target := path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	return a.getRaw(c, token, target, out)
}

// getRaw reads target (a path with its query string as the browser sent it) into out.
func (a *api) getRaw(c *fiber.Ctx, token, target string, out any) error {
	resp, err := a.call(c, token, fiber.MethodGet, target, nil)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(resp.Body(), out); err != nil {
		return fmt.Errorf("console: decode %s: %w", target, err)
	}
	return nil
}

// send posts or patches in as JSON to path and reads the answer into out (nil: ignore it).
func (a *api) send(c *fiber.Ctx, token, method, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("console: encode %s: %w", path, err)
	}
	if in == nil {
		body = nil
	}
	resp, err := a.call(c, token, method, path, body)
	if err != nil {
		return err
	}
	if out == nil || len(resp.Body()) == 0 {
		return nil
	}
	if err := json.Unmarshal(resp.Body(), out); err != nil {
		return fmt.Errorf("console: decode %s: %w", path, err)
	}
	return nil
}

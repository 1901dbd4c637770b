package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Cookies of the console. The session cookie holds the session's bearer token (the server keeps
// only its SHA-256, like every token), HttpOnly and SameSite=Strict, Secure over TLS.
const (
	// SessionCookie carries a console session's token; the /v1 GET routes accept it too.
	SessionCookie = "fs_session"
	browserCookie = "fs_browser"    // a random id naming this browser as a device (not a secret)
	loginCSRF     = "fs_login_csrf" // double-submit token of the login form (there is no session yet)
	langCookie    = "fs_lang"
	flashCookie   = "fs_flash"
)

// csrfField is the form field (and csrfHeader the htmx header) that carries the CSRF token.
const (
	csrfField  = "_csrf"
	csrfHeader = "X-CSRF-Token"
)

// session is the signed-in user of a request, as GET /v1/auth/session describes them.
type session struct {
	Token string `json:"-"`
	CSRF  string `json:"-"`
	User  struct {
		ID       string `json:"id"`
		Username string `json:"username"`
		Name     string `json:"name"`
		Role     string `json:"role"`
		Scope    struct {
			Region *regionRef `json:"region"`
			Kinds  []string   `json:"kinds"`
		} `json:"scope"`
	} `json:"user"`
	Device struct {
		ID string `json:"id"`
	} `json:"device"`
}

type regionRef struct {
	ID    string `json:"id"`
	Code  string `json:"code"`
	Name  string `json:"name"`
	Level string `json:"level"`
}

// Supervises says whether the user reads reports (supervisors and admins).
func (s *session) Supervises() bool { return s.User.Role == "supervisor" || s.User.Role == "admin" }

// IsAdmin says whether the user administers.
func (s *session) IsAdmin() bool { return s.User.Role == "admin" }

// Rechecks says whether the user may record re-checks (supervisors: the API's rule, shown early).
func (s *session) Rechecks() bool { return s.User.Role == "supervisor" }

// csrfToken derives the session's CSRF token from its secret token: an HMAC only the holder of
// the cookie's value (this server, reading it) can compute, never stored, ending with the session.
func csrfToken(token string) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("fieldsync console csrf"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func sameToken(a, b string) bool {
	return a != "" && len(a) == len(b) && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("console: no randomness: " + err.Error())
	}
	return hex.EncodeToString(b)
}

func (k *Console) setCookie(c *fiber.Ctx, name, value, path string, maxAge time.Duration) {
	ck := &fiber.Cookie{Name: name, Value: value, Path: path, HTTPOnly: true, SameSite: fiber.CookieSameSiteStrictMode,
		Secure: c.Secure()}
	switch {
	case maxAge > 0:
		ck.MaxAge = int(maxAge.Seconds())
	case maxAge < 0:
		ck.Expires = time.Unix(1, 0)
		ck.MaxAge = -1
	}
	c.Cookie(ck)
}

// errNoSession marks a request without a live session (no cookie, or the API refused its token).
var errNoSession = errors.New("console: no session")

// resolve loads the request's session from its cookie through GET /v1/auth/session, so a logout,
// a revoked device or a disabled user ends a console session on its next request.
func (k *Console) resolve(c *fiber.Ctx) (*session, error) {
	tok := c.Cookies(SessionCookie)
	if tok == "" || len(tok) > 128 {
		return nil, errNoSession
	}
	s := &session{Token: tok, CSRF: csrfToken(tok)}
	if err := k.api.getRaw(c, tok, "/v1/auth/session", s); err != nil {
		if statusOf(err) == fiber.StatusUnauthorized {
			k.setCookie(c, SessionCookie, "", "/", -1)
			return nil, errNoSession
		}
		return nil, err
	}
	return s, nil
}

// page wraps a GET page: ?lang= switches the language; a request without a session goes to the
// login page; errors become an error page.
func (k *Console) page(h func(*fiber.Ctx, *session) error) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if lang := c.Query("lang"); lang != "" {
			return k.switchLanguage(c, lang)
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		s, err := k.resolve(c)
		if errors.Is(err, errNoSession) {
			return k.toLogin(c)
		}
		if err != nil {
			return k.errorPage(c, nil, err)
		}
		if err := h(c, s); err != nil {
			return k.errorPage(c, s, err)
		}
		return nil
	}
}

// action wraps a form post: it needs a session and the session's CSRF token (form field or htmx
// header); without them it is a 403 that changes nothing.
func (k *Console) action(h func(*fiber.Ctx, *session) error) fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderCacheControl, "no-store")
		s, err := k.resolve(c)
		if errors.Is(err, errNoSession) {
			return k.forbidden(c, nil)
		}
		if err != nil {
			return k.errorPage(c, nil, err)
		}
		got := c.FormValue(csrfField)
		if got == "" {
			got = c.Get(csrfHeader)
		}
		if !sameToken(got, s.CSRF) {
			return k.forbidden(c, s)
		}
		if err := h(c, s); err != nil {
			return k.errorPage(c, s, err)
		}
		return nil
	}
}

func (k *Console) forbidden(c *fiber.Ctx, s *session) error {
	return k.errorPage(c, s, &apiError{Status: fiber.StatusForbidden, Title: "Forbidden",
		Detail: "The form was not sent from this console page (missing or wrong CSRF token, or no session). Reload the page and try again."})
}

// toLogin sends a request without a session to the login page, remembering where it was going.
func (k *Console) toLogin(c *fiber.Ctx) error {
	target := "/login?next=" + url.QueryEscape(string(c.Request().RequestURI()))
	if c.Get("HX-Request") != "" {
		c.Set("HX-Redirect", target)
		return c.SendStatus(fiber.StatusUnauthorized)
	}
	return c.Redirect(target, fiber.StatusSeeOther)
}

// redirect answers a form post: a 303 for a plain form, HX-Redirect for htmx.
func redirect(c *fiber.Ctx, target string) error {
	if c.Get("HX-Request") != "" {
		c.Set("HX-Redirect", target)
		return c.SendStatus(fiber.StatusNoContent)
	}
	return c.Redirect(target, fiber.StatusSeeOther)
}

// localPath accepts only a path on this site as a redirect target ("/visits?kind=…"), never
// another origin ("//evil", "https://…", "/\evil").
var localPath = regexp.MustCompile(`^/[^/\\]`)

func safeNext(next string) string {
	if next == "/" || (localPath.MatchString(next) && !strings.ContainsAny(next, "\r\n") && len(next) <= 2000) {
		return next
	}
	return "/"
}

// flash keeps a one-line message for the next page (after a redirect).
func (k *Console) flash(c *fiber.Ctx, msg string) {
	k.setCookie(c, flashCookie, url.QueryEscape(msg), "/", time.Minute)
}

// takeFlash reads and clears the message.
func (k *Console) takeFlash(c *fiber.Ctx) string {
	v := c.Cookies(flashCookie)
	if v == "" {
		return ""
	}
	k.setCookie(c, flashCookie, "", "/", -1)
	msg, err := url.QueryUnescape(v)
	if err != nil || len(msg) > 500 {
		return ""
	}
	return msg
}

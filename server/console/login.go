package console

import (
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// browserIDRE is the shape of the browser id cookie (made by newBrowserID).
var browserIDRE = regexp.MustCompile(`^[0-9a-f]{32}$`)

// browserDevice is the device id the browser logs in as: one per browser (its fs_browser cookie),
// so its sessions show up, and can be revoked, like a phone's.
func (k *Console) browserDevice(c *fiber.Ctx) string {
	id := c.Cookies(browserCookie)
	if !browserIDRE.MatchString(id) {
		id = randomHex(16)
	}
	k.setCookie(c, browserCookie, id, "/", 400*24*time.Hour)
	return "web:" + id
}

// browserName is a short description of the browser for the device list.
func browserName(ua string) string {
	name := "browser"
	for _, b := range []string{"Edg", "Firefox", "Chrome", "Safari"} {
		if strings.Contains(ua, b+"/") {
			name = b
			break
		}
	}
	if strings.Contains(ua, "Headless") {
		name = "Headless " + name
	}
	return "Web console (" + name + ")"
}

type loginView struct {
	Next     string
	Username string
	CSRF     string
	Error    string
}

// loginPage shows the login form, or goes on to the page asked for when the session is live.
func (k *Console) loginPage(c *fiber.Ctx) error {
	if lang := c.Query("lang"); lang != "" {
		return k.switchLanguage(c, lang)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	next := safeNext(c.Query("next", "/"))
	if s, err := k.resolve(c); err == nil && s != nil {
		return c.Redirect(next, fiber.StatusSeeOther)
	}
	return k.renderLogin(c, fiber.StatusOK, loginView{Next: next})
}

func (k *Console) renderLogin(c *fiber.Ctx, status int, v loginView) error {
	tok := c.Cookies(loginCSRF)
	if len(tok) != 32 {
		tok = randomHex(16)
		k.setCookie(c, loginCSRF, tok, "/login", time.Hour)
	}
	v.CSRF = tok
	c.Status(status)
	return k.render(c, nil, "login", "", v)
}

// loginPost checks the form's double-submit token, then logs in through POST /v1/auth/login
// (throttling, audit, revoked devices and disabled accounts are the API's) and keeps the token in
// the session cookie.
func (k *Console) loginPost(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	if !sameToken(c.FormValue(csrfField), c.Cookies(loginCSRF)) || len(c.Cookies(loginCSRF)) != 32 {
		return k.forbidden(c, nil)
	}
	v := loginView{Next: safeNext(c.FormValue("next", "/")), Username: strings.TrimSpace(c.FormValue("username"))}
	in := map[string]any{"username": v.Username, "password": c.FormValue("password"),
		"device": map[string]any{"id": k.browserDevice(c), "name": browserName(c.Get(fiber.HeaderUserAgent)),
			"platform": "web", "app_version": k.opts.Version}}
	var out struct {
		Token string `json:"token"`
	}
	if err := k.api.send(c, "", fiber.MethodPost, "/v1/auth/login", in, &out); err != nil {
		status := statusOf(err)
		if status >= 500 {
			return k.errorPage(c, nil, err)
		}
		v.Error = loginError(err)
		return k.renderLogin(c, status, v)
	}
	k.setCookie(c, SessionCookie, out.Token, "/", 0)
	k.setCookie(c, loginCSRF, "", "/login", -1)
	return c.Redirect(v.Next, fiber.StatusSeeOther)
}

// loginError is the message key of a refused login.
func loginError(err error) string {
	ae, _ := err.(*apiError)
	if ae == nil {
		return "login.failed"
	}
	switch ae.slug() {
	case "too-many-login-failures":
		return "login.throttled"
	case "account-disabled":
		return "login.disabled"
	case "device-revoked":
		return "login.revoked"
	case "validation":
		return "login.missing"
	}
	return "login.failed"
}

// logout ends the session through POST /v1/auth/logout (the token stops working at once) and
// forgets the cookie.
func (k *Console) logout(c *fiber.Ctx, s *session) error {
	if err := k.api.send(c, s.Token, fiber.MethodPost, "/v1/auth/logout", nil, nil); err != nil && statusOf(err) != fiber.StatusUnauthorized {
		return err
	}
	k.setCookie(c, SessionCookie, "", "/", -1)
	return redirect(c, "/login")
}

// switchLanguage keeps ?lang= in a cookie and reloads the page without it, so report query
// strings stay exactly the API's.
func (k *Console) switchLanguage(c *fiber.Ctx, lang string) error {
	if lang != langEN {
		lang = langZH
	}
	k.setCookie(c, langCookie, lang, "/", 400*24*time.Hour)
	q, _ := url.ParseQuery(string(c.Request().URI().QueryString()))
	q.Del("lang")
	target := c.Path()
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	return c.Redirect(safeNext(target), fiber.StatusSeeOther)
}

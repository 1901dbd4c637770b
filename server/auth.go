package server

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/server/console"
	"github.com/fieldsync/fieldsync/storage"
	fsync "github.com/fieldsync/fieldsync/sync"
	"github.com/gofiber/fiber/v2"
)

// tokenPrefix marks fieldsync tokens so secret scanners and people recognise them.
const tokenPrefix = "fs_"

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Device   struct {
		ID         string `json:"id"`
		Name       string `json:"name"`
		Platform   string `json:"platform"`
		AppVersion string `json:"app_version"`
	} `json:"device"`
}

type loginResponse struct {
	Token     string       `json:"token"`
	ExpiresAt time.Time    `json:"expires_at"`
	User      userSummary  `json:"user"`
	Device    deviceRefDTO `json:"device"`
}

type deviceRefDTO struct {
	ID string `json:"id"`
}

func hashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

var errBadCredentials = problem(fiber.StatusUnauthorized, "invalid-credentials", "Invalid credentials",
	"The username or password is wrong.")

// login checks a username and password and issues a bearer token bound to the phone's device,
// ending the device's earlier sessions of the user (one session per device). Whether a username
// exists is never revealed: unknown names cost the same queries and hash and get the same 401.
// Failures slow later attempts (LoginThrottle); an attempt that must still wait is a 429.
// Nothing it answers may be cached.
func (s *Server) login(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	var req loginRequest
	if err := decodeJSON(c, &req, false); err != nil {
		return err
	}
	username := models.NormalizeUsername(req.Username)
	dev := models.Device{ID: req.Device.ID, Name: req.Device.Name, Platform: req.Device.Platform, AppVersion: req.Device.AppVersion}
	var ve models.ValidationError
	ve.CheckText("username", username, true, 64)
	ve.CheckText("password", req.Password, true, models.MaxPasswordLen)
	models.ValidateDevice(&ve, "device", dev)
	if err := ve.Err(); err != nil {
		return err
	}
	ctx, ip := c.UserContext(), clientIP(c)
	user, err := s.store.GetUserByUsername(ctx, username)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	exists := err == nil
	known, err := s.store.KnownDevice(ctx, dev.ID, user.ID) // user.ID is nil for an unknown name
	if err != nil {
		return err
	}
	keys := newLoginKeys(username, ip, dev.ID, known)
	if wait, err := s.loginWait(c, keys); err != nil {
		return err
	} else if wait > 0 {
		return errThrottled(wait)
	}
	hash := s.dummyHash
	if exists {
		hash = user.PasswordHash
	}
	ok, herr := models.CheckPassword(req.Password, hash)
	if herr != nil {
		return herr
	}
	if !exists || !ok {
		return s.loginFailed(c, keys, username, dev.ID)
	}
	if !user.Active {
		return problem(fiber.StatusForbidden, "account-disabled", "Account disabled",
			"This account has been disabled; ask an administrator.")
	}
	tok, err := newToken()
	if err != nil {
		return err
	}
	expires := time.Now().Add(s.cfg.TokenTTL).UTC().Truncate(time.Second)
	scope, err := s.sync.Login(ctx, fsync.Actor{User: user, DeviceID: dev.ID, IP: ip}, dev, hashToken(tok), expires, known)
	if err != nil {
		return err // a revoked device is a 403 device-revoked
	}
	s.loginSucceeded(c, keys)
	sum, err := s.userSummary(c, user, scope)
	if err != nil {
		return err
	}
	return c.JSON(loginResponse{Token: tok, ExpiresAt: expires, User: sum, Device: deviceRefDTO{ID: dev.ID}})
}

// logout ends the caller's session: the token stops working at once.
func (s *Server) logout(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	if err := s.sync.Logout(c.UserContext(), actorOf(c), principal(c).TokenID); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

var errUnauthenticated = problem(fiber.StatusUnauthorized, "unauthenticated", "Authentication required",
	"Send a valid bearer token: Authorization: Bearer <token>. Tokens end at logout, expiry, device revocation or account disablement.")

// sessionResponse is GET /v1/auth/session.
type sessionResponse struct {
	User   userSummary  `json:"user"`
	Device deviceRefDTO `json:"device"`
}

// session describes the caller: who the token belongs to, their scope and its device. The web
// console asks it on every page, so a session ends there as soon as its token stops working.
func (s *Server) session(c *fiber.Ctx) error {
	p := principal(c)
	sum, err := s.userSummary(c, p.User, p.Scope)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(sessionResponse{User: sum, Device: deviceRefDTO{ID: p.DeviceID}})
}

// bearerToken reads the caller's token: the Authorization header, or on a GET the web console's
// session cookie. Only GET reads the cookie: a GET changes nothing and the cookie is SameSite=Strict,
// so no other site can make a browser use it; every write must carry the header (the console's
// forms post to the console, which checks their CSRF token before it calls the API).
func bearerToken(c *fiber.Ctx) (string, bool) {
	if h := c.Get(fiber.HeaderAuthorization); h != "" || c.Method() != fiber.MethodGet {
		scheme, tok, found := strings.Cut(h, " ")
		return tok, found && strings.EqualFold(scheme, "Bearer")
	}
	tok := c.Cookies(console.SessionCookie)
	return tok, tok != ""
}

// authenticate resolves the bearer token to a principal on every request, so revoking a device or
// disabling a user takes effect on the very next call.
func (s *Server) authenticate(c *fiber.Ctx) error {
	tok, ok := bearerToken(c)
	if !ok || !strings.HasPrefix(tok, tokenPrefix) || len(tok) > 128 {
		return errUnauthenticated
	}
	p, err := s.store.Authenticate(c.UserContext(), hashToken(tok))
	if errors.Is(err, storage.ErrNotFound) {
		return errUnauthenticated
	}
	if err != nil {
		return err
	}
	c.Locals(localPrincipal, &p)
	if err := s.store.TouchDevice(c.UserContext(), p.DeviceID, p.User.ID, clientIP(c)); err != nil {
		s.log.Warn("touch device failed", "device_id", p.DeviceID, "error", err)
	}
	return c.Next()
}

// requireRole admits only principals with one of roles; everyone else gets 403.
func requireRole(roles ...models.Role) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !slices.Contains(roles, principal(c).User.Role) {
			return errForbidden("Your role may not use this endpoint.")
		}
		return c.Next()
	}
}

// principal returns the authenticated caller; only valid behind authenticate.
func principal(c *fiber.Ctx) *models.Principal {
	return c.Locals(localPrincipal).(*models.Principal)
}

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

func errThrottled(wait time.Duration) *Problem {
	p := problem(fiber.StatusTooManyRequests, "too-many-login-failures", "Too many failed logins",
		"Too many failed logins for this username or address; try again later.")
	p.RetryAfter = retryAfterSeconds(wait)
	return p
}

// login checks a username and password and issues a bearer token bound to the phone's device.
// Whether a username exists is never revealed: unknown names cost the same hash and get the same
// 401. Failures are counted per username and per IP; past the limit the answer is 429.
func (s *Server) login(c *fiber.Ctx) error {
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
	ctx, ip := c.UserContext(), c.IP()
	userKey, ipKey := "user:"+username, "ip:"+ip
	if wait, err := s.store.ThrottleLocked(ctx, userKey, ipKey); err != nil {
		return err
	} else if wait > 0 {
		return errThrottled(wait)
	}
	user, err := s.store.GetUserByUsername(ctx, username)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	hash := s.dummyHash
	if err == nil {
		hash = user.PasswordHash
	}
	ok, herr := models.CheckPassword(req.Password, hash)
	if herr != nil {
		return herr
	}
	if err != nil || !ok {
		return s.loginFailed(c, userKey, ipKey, username)
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
	var scope models.Scope
	err = s.store.InTx(ctx, func(tx *storage.Store) error {
		_, revoked, err := tx.DeviceLogin(ctx, dev, user.ID, ip)
		if err != nil {
			return err
		}
		if revoked {
			return problem(fiber.StatusForbidden, "device-revoked", "Device revoked",
				"This device has been revoked by an administrator; use another device or ask to have it restored.")
		}
		if _, err := tx.CreateToken(ctx, hashToken(tok), user.ID, dev.ID, expires); err != nil {
			return err
		}
		if scope, err = tx.UserScope(ctx, user); err != nil {
			return err
		}
		details := map[string]any{"platform": dev.Platform, "app_version": dev.AppVersion}
		uid := user.ID
		return tx.Audit(ctx, models.AuditEntry{UserID: &uid, DeviceID: dev.ID, IP: ip, Action: "auth.login",
			TargetType: "user", TargetID: user.ID.String(), Details: details})
	})
	if err != nil {
		return err
	}
	if err := s.store.ThrottleReset(ctx, userKey); err != nil {
		s.log.Warn("throttle reset failed", "error", err)
	}
	sum, err := s.userSummary(c, user, scope)
	if err != nil {
		return err
	}
	return c.JSON(loginResponse{Token: tok, ExpiresAt: expires, User: sum, Device: deviceRefDTO{ID: dev.ID}})
}

func (s *Server) loginFailed(c *fiber.Ctx, userKey, ipKey, username string) error {
	ctx := c.UserContext()
	l := s.cfg.Login
	waitU, err := s.store.ThrottleFail(ctx, userKey, l.MaxUserFailures, l.Window, l.Lockout)
	if err != nil {
		return err
	}
	waitIP, err := s.store.ThrottleFail(ctx, ipKey, l.MaxIPFailures, l.Window, l.Lockout)
	if err != nil {
		return err
	}
	if err := s.store.Audit(ctx, models.AuditEntry{IP: c.IP(), Action: "auth.login_failed", TargetType: "username",
		TargetID: username}); err != nil {
		return err
	}
	if wait := max(waitU, waitIP); wait > 0 {
		return errThrottled(wait)
	}
	return errBadCredentials
}

// logout ends the caller's session: the token stops working at once.
func (s *Server) logout(c *fiber.Ctx) error {
	p := principal(c)
	ctx := c.UserContext()
	err := s.store.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.RevokeToken(ctx, p.TokenID); err != nil {
			return err
		}
		return tx.Audit(ctx, auditBy(c, "auth.logout", "device", p.DeviceID, nil))
	})
	if err != nil {
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
	if err := s.store.TouchDevice(c.UserContext(), p.DeviceID, p.User.ID, c.IP()); err != nil {
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

// auditBy builds an audit entry for an action by the authenticated caller.
func auditBy(c *fiber.Ctx, action, targetType, targetID string, details map[string]any) models.AuditEntry {
	p := principal(c)
	uid := p.User.ID
	return models.AuditEntry{UserID: &uid, DeviceID: p.DeviceID, IP: c.IP(), Action: action,
		TargetType: targetType, TargetID: targetID, Details: details}
}

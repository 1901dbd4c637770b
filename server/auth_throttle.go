package server

import (
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/gofiber/fiber/v2"
)

// LoginThrottle is the failed-login policy (README, Security). Nothing locks an account: failures
// make the next attempt of the same key wait, longer after each failure (storage.ThrottleRule),
// and an attempt is answered 429 without looking at the password while any of its keys waits.
// Which keys an attempt has depends on its device:
//
//   - a known device (one that has logged in as the user before and is not revoked) has only
//     Device, so someone guessing the user's password elsewhere, or from the same office, never
//     keeps the user's own phone out;
//   - any other device has Pair, User and Address.
type LoginThrottle struct {
	// Pair counts failures for one username from one client address.
	Pair storage.ThrottleRule
	// Device counts failures for one username on one of its known devices.
	Device storage.ThrottleRule
	// User counts, for one username, the client addresses from which failures began: a guess
	// spread over many addresses. One address alone never moves it past 1.
	User storage.ThrottleRule
	// Address counts failures from one client address for any username: the ceiling of a
	// network address, which a whole office behind one NAT shares.
	Address storage.ThrottleRule
}

// DefaultLoginThrottle returns the production policy:
//
//   - Pair and Device: 5 failures a day cost nothing (mistyping), then each failure doubles the
//     wait (2 s, 4 s … 512 s), at most 15 minutes.
//   - User: failures from 10 addresses a day cost nothing; from the 11th address on, devices not
//     known for the user wait as above.
//   - Address: 500 failures an hour cost nothing. Tokens last 30 days, so a phone logs in about
//     once a month, and known devices do not count here at all: 500 is 100 people of one office,
//     all on new phones in the same hour, each using all five free mistakes.
func DefaultLoginThrottle() LoginThrottle {
	const day, maxWait = 24 * time.Hour, 15 * time.Minute
	return LoginThrottle{
		Pair:    storage.ThrottleRule{Free: 5, Window: day, MaxDelay: maxWait},
		Device:  storage.ThrottleRule{Free: 5, Window: day, MaxDelay: maxWait},
		User:    storage.ThrottleRule{Free: 10, Window: day, MaxDelay: maxWait},
		Address: storage.ThrottleRule{Free: 500, Window: time.Hour, MaxDelay: maxWait},
	}
}

// loginKeys are the throttle keys of one login attempt.
type loginKeys struct {
	known                    bool
	device, pair, user, addr string
}

func newLoginKeys(username, ip, deviceID string, known bool) loginKeys {
	a := throttleAddr(ip)
	return loginKeys{known: known, device: "device:" + username + " " + deviceID, pair: "pair:" + username + " " + a,
		user: "user:" + username, addr: "addr:" + a}
}

// active are the keys whose wait holds this attempt back.
func (k loginKeys) active() []string {
	if k.known {
		return []string{k.device}
	}
	return []string{k.pair, k.user, k.addr}
}

func errThrottled(wait time.Duration) *Problem {
	p := problem(fiber.StatusTooManyRequests, "too-many-login-failures", "Too many failed logins",
		"Too many failed logins for this username or from this address; wait the Retry-After seconds and try again.")
	p.RetryAfter = retryAfterSeconds(wait)
	return p
}

// loginWait returns how long the attempt must still wait (0: go ahead).
func (s *Server) loginWait(c *fiber.Ctx, k loginKeys) (time.Duration, error) {
	return s.store.ThrottleWait(c.UserContext(), k.active()...)
}

// loginFailed counts a failed attempt against its keys and audits it. The answer is the 401 of a
// wrong password, or a 429 when the failure makes the next attempt wait.
func (s *Server) loginFailed(c *fiber.Ctx, k loginKeys, username, deviceID string) error {
	ctx, l := c.UserContext(), s.cfg.Login
	var wait time.Duration
	count := func(key string, rule storage.ThrottleRule) (int, error) {
		n, w, err := s.store.ThrottleFail(ctx, key, rule)
		wait = max(wait, w)
		return n, err
	}
	if k.known {
		if _, err := count(k.device, l.Device); err != nil {
			return err
		}
	} else {
		n, err := count(k.pair, l.Pair)
		if err != nil {
			return err
		}
		if n == 1 { // failures from this address began: one more address for the username
			if _, err := count(k.user, l.User); err != nil {
				return err
			}
		}
		if _, err := count(k.addr, l.Address); err != nil {
			return err
		}
	}
	if err := s.store.Audit(ctx, models.AuditEntry{IP: clientIP(c), DeviceID: deviceID, Action: "auth.login_failed",
		TargetType: "username", TargetID: username}); err != nil {
		return err
	}
	if wait > 0 {
		return errThrottled(wait)
	}
	return errBadCredentials
}

// loginSucceeded forgets the failures of the way the user came in: their known device, or the
// username from this address. The username's and the address's counts stay: one person's
// success says nothing about the others trying.
func (s *Server) loginSucceeded(c *fiber.Ctx, k loginKeys) {
	key := k.pair
	if k.known {
		key = k.device
	}
	if err := s.store.ThrottleReset(c.UserContext(), key); err != nil {
		s.log.Warn("throttle reset failed", "error", err)
	}
}

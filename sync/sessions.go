package sync

import (
	"context"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/google/uuid"
)

// errDeviceRevoked refuses a login from a phone an administrator revoked.
var errDeviceRevoked = models.Forbidden("device_revoked",
	"This device has been revoked by an administrator; use another device or ask to have it restored.")

// Login opens a session for a user whose password the caller has checked: it records the device
// (a revoked phone is refused), ends the user's earlier sessions on that device (one token per
// device; audited as auth.session_replaced when there were any), stores the new token's hash with
// its expiry, and audits the login, in one transaction. The actor is the user on the device, from
// the address the request came from; known says whether the device had logged in as the user
// before (for the audit line). It returns the user's scope.
func (e *Engine) Login(ctx context.Context, a Actor, dev models.Device, tokenHash []byte, expires time.Time, known bool) (models.Scope, error) {
	var scope models.Scope
	err := e.write(ctx, a, func(w *Work) error {
		_, revoked, err := w.tx.DeviceLogin(ctx, dev, a.User.ID, a.IP)
		if err != nil {
			return err
		}
		if revoked {
			return errDeviceRevoked
		}
		ended, err := w.tx.RevokeDeviceSessions(ctx, a.User.ID, dev.ID)
		if err != nil {
			return err
		}
		if ended > 0 {
			w.Audit("auth.session_replaced", "device", dev.ID, map[string]any{"sessions_ended": ended})
		}
		if _, err := w.tx.CreateToken(ctx, tokenHash, a.User.ID, dev.ID, expires); err != nil {
			return err
		}
		if scope, err = w.tx.UserScope(ctx, a.User); err != nil {
			return err
		}
		w.Audit("auth.login", "user", a.User.ID.String(), map[string]any{"platform": dev.Platform, "app_version": dev.AppVersion,
			"known_device": known})
		return nil
	})
	return scope, err
}

// LoginFailed audits a failed login for username by an anonymous actor (its address and the
// device it named).
func (e *Engine) LoginFailed(ctx context.Context, a Actor, username string) error {
	return e.write(ctx, a, func(w *Work) error {
		w.Audit("auth.login_failed", "username", username, nil)
		return nil
	})
}

// Logout ends the actor's session (token tokenID): the token stops working at once.
func (e *Engine) Logout(ctx context.Context, a Actor, tokenID uuid.UUID) error {
	return e.write(ctx, a, func(w *Work) error {
		if err := w.tx.RevokeToken(ctx, tokenID); err != nil {
			return err
		}
		w.Audit("auth.logout", "device", a.DeviceID, nil)
		return nil
	})
}

// RevokeDevice revokes a phone (a lost phone) for every user of it: its sessions end at once and
// it cannot log in again. Admins only; an unknown id is storage.ErrNotFound.
func (e *Engine) RevokeDevice(ctx context.Context, a Actor, id string) (models.Device, error) {
	if _, err := adminScope(a); err != nil {
		return models.Device{}, err
	}
	var dev models.Device
	err := e.write(ctx, a, func(w *Work) error {
		var err error
		if dev, err = w.tx.RevokeDevice(ctx, id); err != nil {
			return err
		}
		if err := w.tx.RevokeDeviceTokens(ctx, id); err != nil {
			return err
		}
		w.Audit("device.revoke", "device", id, map[string]any{"user_id": dev.UserID.String()})
		return nil
	})
	return dev, err
}

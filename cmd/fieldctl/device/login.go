package device

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/google/uuid"
)

// User is the logged-in user as the server described it at login.
type User struct {
	ID    string          `json:"id"`
	Name  string          `json:"name"`
	Role  string          `json:"role"`
	Scope json.RawMessage `json:"scope,omitempty"`
}

// Session is the answer to a login.
type Session struct {
	Server    string `json:"server"`
	Username  string `json:"username"`
	User      User   `json:"user"`
	DeviceID  string `json:"device_id"`
	ClientID  string `json:"client_id"`
	ExpiresAt string `json:"expires_at"`
}

// ErrOtherUsersWork refuses a login as another user while the previous user's work is unsynced.
var ErrOtherUsersWork = errors.New("another user's work is still unsynced on this phone")

// Login exchanges a username and password for a bearer token bound to this phone's device id,
// and remembers the server. Logging in as another user than before starts a new sync client
// (client id, cursor, pulled data) and is refused while the previous user's queue or photos are
// unsynced. Transient failures are retried per retry (zero value: defaults).
func (d *Device) Login(ctx context.Context, server, username, password string, retry RetryPolicy) (*Session, error) {
	server = strings.TrimRight(strings.TrimSpace(server), "/")
	if server == "" {
		return nil, errors.New("no server URL: pass --server")
	}
	prev, err := getMeta(ctx, d.db, metaUsername)
	if err != nil {
		return nil, err
	}
	switching := prev != "" && !strings.EqualFold(prev, strings.TrimSpace(username))
	if switching {
		st, err := d.Status(ctx)
		if err != nil {
			return nil, err
		}
		if st.Queue > 0 || st.PendingPhotos > 0 {
			return nil, fmt.Errorf("%w: %s has %d queued mutations and %d photos to upload; log in as %s and sync first",
				ErrOtherUsersWork, prev, st.Queue, st.PendingPhotos, prev)
		}
	}
	body := map[string]any{"username": username, "password": password, "device": map[string]any{
		"id": d.DeviceID(), "name": d.opts.DeviceName, "platform": d.opts.Platform, "app_version": d.opts.AppVersion}}
	req, err := jsonRequest(server+"/v1/auth/login", "", body)
	if err != nil {
		return nil, err
	}
	res, err := do(ctx, d.opts.HTTPClient, retry, req, nil)
	if err != nil {
		return nil, err
	}
	if res.Status != http.StatusOK {
		return nil, parseProblem(res.Status, res.Body)
	}
	var out struct {
		Token     string `json:"token"`
		ExpiresAt string `json:"expires_at"`
		User      User   `json:"user"`
	}
	if err := json.Unmarshal(res.Body, &out); err != nil || out.Token == "" {
		return nil, fmt.Errorf("login: unreadable answer: %v", err)
	}
	userJSON, _ := json.Marshal(out.User)
	err = d.inTx(ctx, func(tx *sql.Tx) error {
		if switching {
			if err := forgetUser(ctx, tx); err != nil {
				return err
			}
		}
		for k, v := range map[string]string{metaServer: server, metaUsername: strings.ToLower(strings.TrimSpace(username)),
			metaUser: string(userJSON), metaTokenExpiry: out.ExpiresAt} {
			if err := setMeta(ctx, tx, k, v); err != nil {
				return err
			}
		}
		return d.saveToken(out.Token)
	})
	if err != nil {
		return nil, err
	}
	return &Session{Server: server, Username: username, User: out.User, DeviceID: d.DeviceID(),
		ClientID: d.ClientID().String(), ExpiresAt: out.ExpiresAt}, nil
}

// forgetUser clears what belonged to the previous user's sync client and starts a new one.
func forgetUser(ctx context.Context, tx *sql.Tx) error {
	for _, q := range []string{`DELETE FROM records`, `DELETE FROM rejections`, `DELETE FROM conflicts`,
		`DELETE FROM track_chunks`, `DELETE FROM photos`, `DELETE FROM queue`,
		`DELETE FROM meta WHERE key IN ('cursor','next_mutation_id','last_mutation_id','last_sync','last_error','upgrade_required')`} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return setMeta(ctx, tx, metaClientID, uuid.NewString())
}

// Logout revokes the token on the server, then forgets it. The local data and queue stay: the
// next login of the same user carries on. A server that cannot be reached leaves the token in
// place (use ForgetToken to drop it anyway).
func (d *Device) Logout(ctx context.Context, retry RetryPolicy) error {
	tok, err := d.token()
	if err != nil {
		return err
	}
	u, err := d.serverURL("/v1/auth/logout")
	if err != nil {
		return err
	}
	res, err := do(ctx, d.opts.HTTPClient, retry, request{Method: http.MethodPost, URL: u,
		Header: http.Header{"Authorization": {"Bearer " + tok}}}, nil)
	if err != nil {
		return err
	}
	if res.Status != http.StatusNoContent && res.Status != http.StatusUnauthorized {
		return parseProblem(res.Status, res.Body)
	}
	return d.ForgetToken()
}

// ForgetToken deletes the local token without telling the server.
func (d *Device) ForgetToken() error {
	err := os.Remove(d.tokenPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// LoggedIn reports whether a token is stored.
func (d *Device) LoggedIn() bool {
	_, err := d.token()
	return err == nil
}

// CurrentUser is the user of the last login (nil before any).
func (d *Device) CurrentUser(ctx context.Context) (*User, error) {
	s, err := getMeta(ctx, d.db, metaUser)
	if err != nil || s == "" {
		return nil, err
	}
	var u User
	return &u, json.Unmarshal([]byte(s), &u)
}

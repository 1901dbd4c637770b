// Package device is fieldctl's phone: a local SQLite database under a home directory holding the
// login, the records pulled from the server, the queue of mutations made offline, the photos
// waiting to upload, and the rejections and conflicts the server reported. Every method works
// offline except Login, Logout and Sync.
//
// It is a library: fieldctl's commands, the simulator, the benchmarks and the fault tests drive
// the same *Device. Each Device owns its home directory; open one Device per home at a time.
package device

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"
)

// ProtocolVersion is the sync protocol version this client speaks.
const ProtocolVersion = 1

// Options tune a Device. The zero value is usable.
type Options struct {
	// DeviceName, Platform and AppVersion describe the phone at login (defaults: the host name,
	// "fieldctl", "fieldctl-dev").
	DeviceName, Platform, AppVersion string
	// ProtocolVersion is sent with every push (default ProtocolVersion); tests lower it.
	ProtocolVersion int
	// HTTPClient makes every call (default: a client with a 60 s timeout). SyncOptions may
	// override it for one sync.
	HTTPClient *http.Client
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Device is one phone: its local database and identity. Methods are safe for concurrent use;
// writes are serialised by SQLite.
type Device struct {
	home string
	db   *sql.DB
	opts Options
}

// ErrNotLoggedIn means the call needs a login (fieldctl login) first.
var ErrNotLoggedIn = errors.New("not logged in: run fieldctl login first")

// DefaultHome is $FIELDCTL_HOME, else ~/.fieldctl.
func DefaultHome() string {
	if h := os.Getenv("FIELDCTL_HOME"); h != "" {
		return h
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".fieldctl")
	}
	return ".fieldctl"
}

// Open opens the phone stored under home, creating it (directory 0700, a new device id and
// client id) the first time.
func Open(home string, opts Options) (*Device, error) {
	if home == "" {
		home = DefaultHome()
	}
	if err := os.MkdirAll(filepath.Join(home, "photos"), 0o700); err != nil {
		return nil, err
	}
	if err := os.Chmod(home, 0o700); err != nil {
		return nil, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 60 * time.Second}
	}
	if opts.Platform == "" {
		opts.Platform = "fieldctl"
	}
	if opts.AppVersion == "" {
		opts.AppVersion = "fieldctl-dev"
	}
	if opts.DeviceName == "" {
		opts.DeviceName, _ = os.Hostname()
	}
	if opts.ProtocolVersion == 0 {
		opts.ProtocolVersion = ProtocolVersion
	}
	db, err := openDB(home)
	if err != nil {
		return nil, err
	}
	d := &Device{home: home, db: db, opts: opts}
	ctx := context.Background()
	err = d.inTx(ctx, func(tx *sql.Tx) error {
		for _, key := range []string{metaDeviceID, metaClientID} {
			v, err := getMeta(ctx, tx, key)
			if err != nil {
				return err
			}
			if v == "" {
				if err := setMeta(ctx, tx, key, uuid.NewString()); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	return d, nil
}

// Close closes the local database.
func (d *Device) Close() error { return d.db.Close() }

// Home is the directory the phone lives in.
func (d *Device) Home() string { return d.home }

// DeviceID is this phone's id, sent at login (made once per home).
func (d *Device) DeviceID() string {
	v, _ := getMeta(context.Background(), d.db, metaDeviceID)
	return v
}

// ClientID is this app install's sync client id (a new one per user who logs in).
func (d *Device) ClientID() uuid.UUID {
	v, _ := getMeta(context.Background(), d.db, metaClientID)
	id, _ := uuid.Parse(v)
	return id
}

// Server is the server URL of the last login ("" before any).
func (d *Device) Server() string {
	v, _ := getMeta(context.Background(), d.db, metaServer)
	return v
}

func (d *Device) tokenPath() string { return filepath.Join(d.home, "token") }

// token reads the bearer token (kept in its own 0600 file, never in the database).
func (d *Device) token() (string, error) {
	b, err := os.ReadFile(d.tokenPath())
	if errors.Is(err, os.ErrNotExist) {
		return "", ErrNotLoggedIn
	}
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// saveToken writes the token atomically with mode 0600.
func (d *Device) saveToken(tok string) error {
	tmp := d.tokenPath() + ".tmp"
	if err := os.WriteFile(tmp, []byte(tok+"\n"), 0o600); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, d.tokenPath())
}

func (d *Device) now() time.Time { return d.opts.Now() }

func (d *Device) stamp() string { return d.now().UTC().Format(time.RFC3339Nano) }

// serverURL joins the stored server URL and path.
func (d *Device) serverURL(path string) (string, error) {
	s := d.Server()
	if s == "" {
		return "", ErrNotLoggedIn
	}
	return strings.TrimRight(s, "/") + path, nil
}

func wrapf(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}

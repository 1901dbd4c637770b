package device

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	_ "modernc.org/sqlite" // pure-Go SQLite driver ("sqlite")
)

// schema is the phone's local database. Every statement is idempotent so Open can run it on
// every start; a later version adds tables or columns the same way.
const schema = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
	type TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL, data TEXT NOT NULL,
	origin TEXT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (type, id));
CREATE TABLE IF NOT EXISTS queue (
	id INTEGER PRIMARY KEY, name TEXT NOT NULL, args TEXT NOT NULL, client_time TEXT NOT NULL,
	created_at TEXT NOT NULL, sent INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS photos (
	photo_id TEXT PRIMARY KEY, visit_id TEXT NOT NULL, path TEXT NOT NULL, filename TEXT NOT NULL,
	content_type TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL,
	upload_url TEXT NOT NULL DEFAULT '', upload_offset INTEGER NOT NULL DEFAULT 0,
	state TEXT NOT NULL DEFAULT 'pending', error TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rejections (
	mutation_id INTEGER PRIMARY KEY, name TEXT NOT NULL, code TEXT NOT NULL, field TEXT NOT NULL,
	message TEXT NOT NULL, received_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS conflicts (
	id TEXT PRIMARY KEY, version INTEGER NOT NULL, data TEXT NOT NULL, received_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS track_chunks (visit_id TEXT PRIMARY KEY, next_chunk INTEGER NOT NULL);
`

// Keys of the meta table.
const (
	metaServer      = "server"
	metaUsername    = "username"
	metaUser        = "user" // the login's user block (JSON)
	metaDeviceID    = "device_id"
	metaClientID    = "client_id"
	metaCursor      = "cursor"
	metaNextID      = "next_mutation_id"
	metaLastAcked   = "last_mutation_id"
	metaLastSync    = "last_sync"
	metaLastError   = "last_error"
	metaUpgrade     = "upgrade_required" // set by a 426; cleared by a successful push
	metaTokenExpiry = "token_expires_at"
)

// queryer is what *sql.DB and *sql.Tx share.
type queryer interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// openDB opens (creating when missing) the local database under home.
func openDB(home string) (*sql.DB, error) {
	path := filepath.Join(home, "fieldctl.db")
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			return nil, err
		}
		f.Close()
	}
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(4)
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("local database %s: %w", path, err)
	}
	return db, nil
}

// getMeta reads one meta value ("" when unset).
func getMeta(ctx context.Context, q queryer, key string) (string, error) {
	var v string
	err := q.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

// getMetaInt reads one integer meta value (0 when unset).
func getMetaInt(ctx context.Context, q queryer, key string) (int64, error) {
	s, err := getMeta(ctx, q, key)
	if err != nil || s == "" {
		return 0, err
	}
	return strconv.ParseInt(s, 10, 64)
}

// setMeta writes one meta value; an empty value deletes the key.
func setMeta(ctx context.Context, q queryer, key, value string) error {
	if value == "" {
		_, err := q.ExecContext(ctx, `DELETE FROM meta WHERE key = ?`, key)
		return err
	}
	_, err := q.ExecContext(ctx, `INSERT INTO meta(key, value) VALUES (?, ?)
		ON CONFLICT(key) DO UPDATE SET value = excluded.value`, key, value)
	return err
}

// inTx runs f in one write transaction (BEGIN IMMEDIATE), committed when f returns nil.
func (d *Device) inTx(ctx context.Context, f func(tx *sql.Tx) error) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

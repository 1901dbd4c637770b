// Package storage is fieldsync's persistence in PostgreSQL: GORM and raw SQL (where a query is hot
// or subtle), one file per aggregate, and the embedded, append-only schema migrations. Photo bytes
// live in storage/blob.
package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// ErrNotFound is returned when a looked-up row does not exist; check it with errors.Is.
var ErrNotFound = errors.New("storage: not found")

// ErrConflict is returned when a write would break a uniqueness rule (a username or code taken).
var ErrConflict = errors.New("storage: already exists")

// ErrInvalid is returned when the database refuses a value (a CHECK or foreign-key rule, a
// malformed value) that input validation should have caught first.
var ErrInvalid = errors.New("storage: invalid value")

// ErrUnavailable wraps failures that a retry may cure: the database is down, restarting or timed out.
var ErrUnavailable = errors.New("storage: database unavailable")

// Options tune the connection pool.
type Options struct {
	MaxOpenConns int
	MaxIdleConns int
}

// Store is the PostgreSQL-backed repository. Methods take ctx first; a Store handed to an InTx
// callback runs every query inside that transaction.
type Store struct {
	db *gorm.DB
}

// Open connects to dsn and checks the connection.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	sqlDB, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("storage: open: %w", err)
	}
	if opts.MaxOpenConns <= 0 {
		opts.MaxOpenConns = 20
	}
	if opts.MaxIdleConns <= 0 {
		opts.MaxIdleConns = opts.MaxOpenConns
	}
	sqlDB.SetMaxOpenConns(opts.MaxOpenConns)
	sqlDB.SetMaxIdleConns(opts.MaxIdleConns)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	gdb, err := gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	})
	if err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("storage: gorm: %w", err)
	}
	s := &Store{db: gdb}
	if err := s.Ping(ctx); err != nil {
		sqlDB.Close()
		return nil, err
	}
	return s, nil
}

// SQL returns the underlying database/sql pool (for migrations and pool metrics).
func (s *Store) SQL() *sql.DB {
	db, _ := s.db.DB()
	return db
}

// Close closes the pool.
func (s *Store) Close() error { return s.SQL().Close() }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.SQL().PingContext(ctx); err != nil {
		return fmt.Errorf("storage: ping: %w", classify(err))
	}
	return nil
}

// InTx runs fn in one transaction: committed when fn returns nil, rolled back otherwise.
func (s *Store) InTx(ctx context.Context, fn func(tx *Store) error) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(&Store{db: tx})
	})
	return classify(err)
}

// q returns the GORM handle bound to ctx.
func (s *Store) q(ctx context.Context) *gorm.DB { return s.db.WithContext(ctx) }

// classify maps driver errors onto the package's sentinels, keeping the cause wrapped.
func classify(err error) error {
	if err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) || errors.Is(err, ErrUnavailable) ||
		errors.Is(err, ErrInvalid) {
		return err
	}
	if errors.Is(err, gorm.ErrRecordNotFound) || errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "23505":
			return fmt.Errorf("%w: %s", ErrConflict, pgErr.ConstraintName)
		case pgErr.Code == "23514", pgErr.Code == "23503", pgErr.Code == "23502", pgErr.Code[:2] == "22":
			return fmt.Errorf("%w: %s %s", ErrInvalid, pgErr.ConstraintName, pgErr.Message)
		case pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03", // admin shutdown, crash, cannot connect now
			pgErr.Code == "53300", pgErr.Code == "40001", pgErr.Code == "40P01", // too many connections, serialization, deadlock
			len(pgErr.Code) == 2+3 && pgErr.Code[:2] == "08": // connection exceptions
			return fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		return err
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, driver.ErrBadConn) || pgconn.SafeToRetry(err) || pgconn.Timeout(err) {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

// InSnapshot runs fn in a read-only repeatable-read transaction: every query fn makes sees one
// snapshot of the database (a pull reads its page and the client's last mutation id together).
func (s *Store) InSnapshot(ctx context.Context, fn func(tx *Store) error) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(&Store{db: tx})
	}, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	return classify(err)
}

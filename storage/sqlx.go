package storage

import (
	"context"
	"database/sql"
	"fmt"

	"gorm.io/gorm"
)

// conn is the connection (or transaction) under the GORM handle, for hot statements written with
// $n placeholders and array parameters that GORM would otherwise rewrite.
type conn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) raw(ctx context.Context) conn {
	pool := s.db.WithContext(ctx).Statement.ConnPool
	if c, ok := pool.(conn); ok {
		return c
	}
	return s.SQL()
}

// exec runs a raw statement.
func (s *Store) exec(ctx context.Context, what, query string, args ...any) error {
	if _, err := s.raw(ctx).ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("storage: %s: %w", what, classify(err))
	}
	return nil
}

// inTx reports whether s is bound to a transaction.
func (s *Store) inTx() bool {
	_, ok := s.db.Statement.ConnPool.(gorm.TxCommitter)
	return ok
}

// LockXact takes the transaction-level advisory lock key, held until the transaction ends (it
// serialises writers that must not interleave, such as two imports of the same data). Call
// inside InTx.
func (s *Store) LockXact(ctx context.Context, key int64) error {
	return s.exec(ctx, "advisory lock", `SELECT pg_advisory_xact_lock($1)`, key)
}

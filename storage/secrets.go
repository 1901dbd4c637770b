package storage

import (
	"context"
	"crypto/rand"
	"fmt"
)

// ServerSecret returns the secret called name, made of size random bytes the first time anyone
// asks for it. Every server process on this database gets the same secret, and it survives
// restarts. When several ask at once, one insert wins and all read its row.
func (s *Store) ServerSecret(ctx context.Context, name string, size int) ([]byte, error) {
	fresh := make([]byte, size)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("storage: server secret %s: %w", name, err)
	}
	// Two statements, not one: a statement's snapshot would not see a row another process
	// committed while this insert waited on it.
	if err := s.exec(ctx, "server secret "+name, `INSERT INTO server_secrets (name, secret) VALUES ($1, $2)
		ON CONFLICT (name) DO NOTHING`, name, fresh); err != nil {
		return nil, err
	}
	var secret []byte
	if err := s.raw(ctx).QueryRowContext(ctx, `SELECT secret FROM server_secrets WHERE name = $1`, name).Scan(&secret); err != nil {
		return nil, fmt.Errorf("storage: server secret %s: %w", name, classify(err))
	}
	return secret, nil
}

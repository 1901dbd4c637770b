package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	fastjson "github.com/goccy/go-json"

	"github.com/fieldsync/fieldsync/models"
	"github.com/google/uuid"
)

// ErrClientMismatch is returned when an app install's client id is used by another user than the
// one it belongs to.
var ErrClientMismatch = errors.New("storage: client id belongs to another user")

// LockClient returns the last mutation id of an app install and locks its row until the
// transaction ends (pushes of one client run one at a time). A new client id is registered to the
// user. Must be called inside InTx.
func (s *Store) LockClient(ctx context.Context, clientID, userID uuid.UUID, deviceID, appVersion string) (int64, error) {
	if err := s.exec(ctx, "register client", `INSERT INTO sync_clients (client_id, user_id, device_id, app_version)
		VALUES ($1, $2, $3, $4) ON CONFLICT (client_id) DO NOTHING`, clientID, userID, deviceID, appVersion); err != nil {
		return 0, err
	}
	var owner uuid.UUID
	var last int64
	if err := s.raw(ctx).QueryRowContext(ctx, `SELECT user_id, last_mutation_id FROM sync_clients WHERE client_id = $1 FOR UPDATE`,
		clientID).Scan(&owner, &last); err != nil {
		return 0, fmt.Errorf("storage: lock client: %w", classify(err))
	}
	if owner != userID {
		return 0, ErrClientMismatch
	}
	return last, nil
}

// ClientLastMutation returns the last mutation id of a client (0 when unknown), for pull.
func (s *Store) ClientLastMutation(ctx context.Context, clientID, userID uuid.UUID) (int64, error) {
	var owner uuid.UUID
	var last int64
	err := s.raw(ctx).QueryRowContext(ctx, `SELECT user_id, last_mutation_id FROM sync_clients WHERE client_id = $1`, clientID).
		Scan(&owner, &last)
	if err != nil {
		if errors.Is(classify(err), ErrNotFound) {
			return 0, nil
		}
		return 0, fmt.Errorf("storage: client: %w", classify(err))
	}
	if owner != userID {
		return 0, ErrClientMismatch
	}
	return last, nil
}

// LastMutationThrough returns the highest mutation id of a client whose effects lie at or below
// change-log seq (0 when none).
func (s *Store) LastMutationThrough(ctx context.Context, clientID uuid.UUID, seq int64) (int64, error) {
	var last int64
	err := s.raw(ctx).QueryRowContext(ctx, `SELECT coalesce(max(last_mutation_id), 0) FROM sync_pushes
		WHERE client_id = $1 AND seq <= $2`, clientID, seq).Scan(&last)
	if err != nil {
		return 0, fmt.Errorf("storage: last mutation: %w", classify(err))
	}
	return last, nil
}

// StoredResults returns the stored results of mutations from..to (inclusive) of a client.
func (s *Store) StoredResults(ctx context.Context, clientID uuid.UUID, from, to int64) ([]models.MutationResult, error) {
	rows, err := s.raw(ctx).QueryContext(ctx, `SELECT result FROM sync_mutations WHERE client_id = $1 AND mutation_id BETWEEN $2 AND $3
		ORDER BY mutation_id`, clientID, from, to)
	if err != nil {
		return nil, fmt.Errorf("storage: stored results: %w", classify(err))
	}
	defer rows.Close()
	var out []models.MutationResult
	for rows.Next() {
		var b []byte
		var r models.MutationResult
		if err := rows.Scan(&b); err != nil {
			return nil, fmt.Errorf("storage: stored results: %w", classify(err))
		}
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("storage: stored result: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// StoredResult returns one stored mutation result (for a rejection record).
func (s *Store) StoredResult(ctx context.Context, clientID uuid.UUID, mutationID int64) (models.MutationResult, string, error) {
	var b []byte
	var name string
	err := s.raw(ctx).QueryRowContext(ctx, `SELECT name, result FROM sync_mutations WHERE client_id = $1 AND mutation_id = $2`,
		clientID, mutationID).Scan(&name, &b)
	if err != nil {
		return models.MutationResult{}, "", fmt.Errorf("storage: stored result: %w", classify(err))
	}
	var r models.MutationResult
	err = json.Unmarshal(b, &r)
	return r, name, err
}

// SaveResults stores the results of newly applied mutations. Call inside the push's transaction,
// before its change-log rows (it needs no lock).
func (s *Store) SaveResults(ctx context.Context, clientID uuid.UUID, names []string, results []models.MutationResult) error {
	if len(results) == 0 {
		return nil
	}
	ids, bodies := make([]int64, len(results)), make([]string, len(results))
	for i, r := range results {
		b, err := fastjson.Marshal(r)
		if err != nil {
			return fmt.Errorf("storage: result: %w", err)
		}
		ids[i], bodies[i] = r.ID, string(b)
	}
	return s.exec(ctx, "save results", `INSERT INTO sync_mutations (client_id, mutation_id, name, result)
		SELECT $1, i, n, r::jsonb FROM unnest($2::bigint[], $3::text[], $4::text[]) AS u(i, n, r)`,
		clientID, ids, names, bodies)
}

// AdvanceClient moves the client's last mutation id to last and records that the push's effects
// end at change-log seq. Call inside the push's transaction, after AppendChanges.
func (s *Store) AdvanceClient(ctx context.Context, clientID uuid.UUID, last, seq int64, appVersion string) error {
	if err := s.exec(ctx, "record push", `INSERT INTO sync_pushes (client_id, last_mutation_id, seq) VALUES ($1, $2, $3)`,
		clientID, last, seq); err != nil {
		return err
	}
	return s.exec(ctx, "advance client", `UPDATE sync_clients SET last_mutation_id = $2, app_version = $3, updated_at = now()
		WHERE client_id = $1`, clientID, last, appVersion)
}

// TouchClientPull records when a client last pulled.
func (s *Store) TouchClientPull(ctx context.Context, clientID uuid.UUID) error {
	return s.exec(ctx, "touch client", `UPDATE sync_clients SET last_pull_at = now() WHERE client_id = $1`, clientID)
}

// RejectedMutation is a stored rejection, for a bootstrap.
type RejectedMutation struct {
	MutationID int64
	Name       string
	Result     models.MutationResult
}

// ScanRejections returns one bootstrap page of a client's rejected mutations after mutation id after.
func (s *Store) ScanRejections(ctx context.Context, clientID uuid.UUID, after int64, limit int) ([]RejectedMutation, error) {
	rows, err := s.raw(ctx).QueryContext(ctx, `SELECT mutation_id, name, result FROM sync_mutations
		WHERE client_id = $1 AND mutation_id > $2 AND result->>'status' = 'rejected' ORDER BY mutation_id LIMIT $3`,
		clientID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("storage: scan rejections: %w", classify(err))
	}
	defer rows.Close()
	var out []RejectedMutation
	for rows.Next() {
		var r RejectedMutation
		var b []byte
		if err := rows.Scan(&r.MutationID, &r.Name, &b); err != nil {
			return nil, fmt.Errorf("storage: scan rejections: %w", classify(err))
		}
		if err := json.Unmarshal(b, &r.Result); err != nil {
			return nil, fmt.Errorf("storage: stored result: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

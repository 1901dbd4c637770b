package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/google/uuid"
)

// Audit appends one entry to the audit log. Call it in the same transaction as the change it
// records, so a change and its audit line commit together or not at all.
func (s *Store) Audit(ctx context.Context, e models.AuditEntry) error {
	details := e.Details
	if details == nil {
		details = map[string]any{}
	}
	b, err := json.Marshal(details)
	if err != nil {
		return fmt.Errorf("storage: audit details: %w", err)
	}
	err = s.q(ctx).Exec(`INSERT INTO audit_log (user_id, device_id, ip, action, target_type, target_id, details)
		VALUES (?, NULLIF(?, ''), ?, ?, ?, ?, ?::jsonb)`,
		e.UserID, e.DeviceID, e.IP, e.Action, e.TargetType, e.TargetID, string(b)).Error
	if err != nil {
		return fmt.Errorf("storage: audit: %w", classify(err))
	}
	return nil
}

type auditRow struct {
	ID         int64
	At         time.Time
	UserID     uuid.NullUUID
	DeviceID   *string
	IP         string
	Action     string
	TargetType string
	TargetID   string
	Details    []byte
}

// AuditFilter narrows ListAudit. Before is the smallest id of the previous page (newest first).
type AuditFilter struct {
	Action     string
	TargetType string
	TargetID   string
	UserID     *uuid.UUID
	Before     int64
	Limit      int
}

// ListAudit returns one page of audit entries, newest first.
func (s *Store) ListAudit(ctx context.Context, f AuditFilter) ([]models.AuditEntry, error) {
	conds, args := []string{"TRUE"}, []any{}
	for col, v := range map[string]string{"action": f.Action, "target_type": f.TargetType, "target_id": f.TargetID} {
		if v != "" {
			conds, args = append(conds, col+" = ?"), append(args, v)
		}
	}
	if f.UserID != nil {
		conds, args = append(conds, "user_id = ?"), append(args, *f.UserID)
	}
	if f.Before > 0 {
		conds, args = append(conds, "id < ?"), append(args, f.Before)
	}
	args = append(args, f.Limit)
	var rows []auditRow
	if err := s.q(ctx).Raw(`SELECT id, at, user_id, device_id, ip, action, target_type, target_id, details FROM audit_log
		WHERE `+strings.Join(conds, " AND ")+` ORDER BY id DESC LIMIT ?`, args...).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("storage: list audit: %w", classify(err))
	}
	out := make([]models.AuditEntry, len(rows))
	for i, r := range rows {
		e := models.AuditEntry{ID: r.ID, At: r.At.UTC().Format(time.RFC3339Nano), IP: r.IP, Action: r.Action,
			TargetType: r.TargetType, TargetID: r.TargetID}
		if r.UserID.Valid {
			id := r.UserID.UUID
			e.UserID = &id
		}
		if r.DeviceID != nil {
			e.DeviceID = *r.DeviceID
		}
		_ = json.Unmarshal(r.Details, &e.Details)
		out[i] = e
	}
	return out, nil
}

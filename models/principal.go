package models

import "github.com/google/uuid"

// Principal is who is calling: the user behind a valid token, the device it was issued to and the
// scope computed from the user's assignment.
type Principal struct {
	User     User
	DeviceID string
	TokenID  uuid.UUID
	Scope    Scope
}

// AuditEntry is one line of the append-only audit log.
type AuditEntry struct {
	ID         int64          `json:"id"`
	At         string         `json:"at"`
	UserID     *uuid.UUID     `json:"user_id"`
	DeviceID   string         `json:"device_id"`
	IP         string         `json:"ip"`
	Action     string         `json:"action"`
	TargetType string         `json:"target_type"`
	TargetID   string         `json:"target_id"`
	Details    map[string]any `json:"details"`
}

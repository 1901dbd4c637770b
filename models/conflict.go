package models

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"
)

// Conflict records that two people changed the same field of a record while offline: the value
// the server had (and who wrote it), the value the phone sent (and who sent it), and which one the
// merge rule kept. Nothing a person typed is lost: a supervisor can pick the other value later.
type Conflict struct {
	ID          uuid.UUID       `json:"id"`
	RecordType  string          `json:"record_type"`
	RecordID    uuid.UUID       `json:"record_id"`
	Field       string          `json:"field"`
	RegionPath  string          `json:"-"`
	Kind        Kind            `json:"kind"`
	BaseVersion int64           `json:"base_version"`
	Kept        string          `json:"kept"` // "client" (later arrival wins) or "server"
	ServerValue json.RawMessage `json:"server_value"`
	Server      ConflictSide    `json:"server"`
	ClientValue json.RawMessage `json:"client_value"`
	Client      ConflictSide    `json:"client"`
	CreatedAt   time.Time       `json:"created_at"`
	ResolvedAt  *time.Time      `json:"resolved_at"`
	ResolvedBy  *uuid.UUID      `json:"resolved_by"`
	Resolution  json.RawMessage `json:"resolution"`
	// Withheld lists the values left out (sent as null) because they break the answer limits
	// (stored before the limits were enforced): "server_value", "client_value". Not stored.
	Withheld []string `json:"withheld,omitempty"`
}

// ConflictSide says who wrote one side of a conflict, from which device, and when.
type ConflictSide struct {
	Version    int64      `json:"version,omitempty"`
	UserID     uuid.UUID  `json:"user_id"`
	DeviceID   string     `json:"device_id"`
	ClientID   *uuid.UUID `json:"client_id,omitempty"`
	MutationID int64      `json:"mutation_id,omitempty"`
	ClientTime *time.Time `json:"client_time,omitempty"`
	At         time.Time  `json:"at"`
}

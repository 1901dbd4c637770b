package models

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"
)

// Record types that travel through sync.
const (
	TypeRegion    = "region"
	TypeSite      = "site"
	TypeChecklist = "checklist"
	TypeUser      = "user"
	TypeVisit     = "visit"
	TypeFinding   = "finding"
	TypePhoto     = "photo"
	TypeTrack     = "track"
	TypeRejection = "rejection"
	TypeConflict  = "conflict"
)

// FieldMeta says who last changed one field of a record, and at which record version.
type FieldMeta struct {
	Version  int64      `json:"v"`
	UserID   uuid.UUID  `json:"u"`
	DeviceID string     `json:"d"`
	ClientID *uuid.UUID `json:"c,omitempty"` // the app install that wrote it (none for server-side writes)
	At       time.Time  `json:"t"`
}

// Record is the stored state of one synced record (a visit, a finding …). Data is the record's
// JSON as phones receive it; the other fields are what the engine needs to merge and to scope.
type Record struct {
	Type       string
	ID         uuid.UUID
	Kind       Kind
	RegionID   *uuid.UUID
	RegionPath string
	ParentID   *uuid.UUID
	Status     string
	Version    int64
	Data       json.RawMessage
	FieldMeta  map[string]FieldMeta
	CreatedBy  *uuid.UUID
	CreatedAt  time.Time
	UpdatedAt  time.Time
	DeletedAt  *time.Time
}

// Change is one row of the change log: record (type, id) was put or removed at version. Audience
// fields restrict a change to one user's phones (conflicts) or one app install (rejections).
type Change struct {
	Seq            int64
	RecordType     string
	RecordID       string
	Op             string // "put" or "remove"
	Version        int64
	Kind           Kind
	RegionPath     string
	OldRegionPath  *string
	AudienceUser   *uuid.UUID
	AudienceClient *uuid.UUID
}

// Change ops.
const (
	OpPut    = "put"
	OpRemove = "remove"
)

// MutationError is the permanent error of a rejected mutation.
type MutationError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// EntityRef names the record a mutation wrote and its version after the write.
type EntityRef struct {
	Type    string    `json:"type"`
	ID      uuid.UUID `json:"id"`
	Version int64     `json:"version"`
}

// MutationResult is what the server answers for one mutation, stored and replayed unchanged.
type MutationResult struct {
	ID        int64          `json:"id"`
	Status    string         `json:"status"` // applied | conflict | rejected | expired
	Entity    *EntityRef     `json:"entity,omitempty"`
	Error     *MutationError `json:"error,omitempty"`
	Conflicts []uuid.UUID    `json:"conflicts,omitempty"`
}

// Mutation statuses. A replayed mutation whose stored result was pruned (older than the result
// retention) is answered StatusExpired: it was applied or rejected long ago and is done; it is
// never applied again.
const (
	StatusApplied  = "applied"
	StatusConflict = "conflict"
	StatusRejected = "rejected"
	StatusExpired  = "expired"
)

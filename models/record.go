package models

import "time"

// Limits on what a phone may put in one record.
const (
	MaxNotesLen       = 4000
	MaxTextFieldLen   = 200
	MaxDescriptionLen = 4000
)

// ParseTime reads an RFC 3339 time; an error is recorded against field.
func ParseTime(ve *ValidationError, field, s string, required bool) *time.Time {
	if s == "" {
		if required {
			ve.Add(field, "required", "is required")
		}
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		ve.Add(field, "invalid", "must be an RFC 3339 time such as 2026-03-14T09:12:03+08:00")
		return nil
	}
	return &t
}

// ParseDate reads a calendar date (YYYY-MM-DD).
func ParseDate(ve *ValidationError, field, s string, required bool) *time.Time {
	if s == "" {
		if required {
			ve.Add(field, "required", "is required")
		}
		return nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		ve.Add(field, "invalid", "must be a date such as 2026-04-01")
		return nil
	}
	return &t
}

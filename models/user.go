package models

import (
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
)

// User is a person who logs in: an inspector, township officer, department officer, supervisor
// or admin. Their scope is their region subtree (nil = whole city) and optional kinds.
type User struct {
	ID           uuid.UUID
	Username     string
	Name         string
	PasswordHash string
	Role         Role
	RegionID     *uuid.UUID
	Kinds        []Kind
	Active       bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,63}$`)

// NormalizeUsername lowercases and trims a username; usernames compare case-insensitively.
func NormalizeUsername(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ValidateUsername checks a normalised username: 2–64 of a-z, 0-9, '.', '_' or '-', starting
// with a letter or digit.
func ValidateUsername(ve *ValidationError, field, u string) {
	if !usernameRE.MatchString(u) {
		ve.Add(field, "invalid", "must be 2–64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit")
	}
}

// ValidatePassword checks a new password's length.
func ValidatePassword(ve *ValidationError, field, p string) {
	n := len([]rune(p))
	switch {
	case n < MinPasswordLen:
		ve.Add(field, "too_short", "must be at least %d characters", MinPasswordLen)
	case n > MaxPasswordLen:
		ve.Add(field, "too_long", "must be at most %d characters", MaxPasswordLen)
	}
}

// ValidateRole checks a role name.
func ValidateRole(ve *ValidationError, field string, r Role) {
	if !r.Valid() {
		ve.Add(field, "unknown", "unknown role %q (want one of inspector, township_officer, department, supervisor, admin)", string(r))
	}
}

// Device is a phone (or a fieldctl home) that a user logged in from. Its id is made on the device.
type Device struct {
	ID         string
	UserID     uuid.UUID
	Name       string
	Platform   string
	AppVersion string
	FirstSeen  time.Time
	LastSeen   time.Time
	RevokedAt  *time.Time
}

var deviceIDRE = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// ValidateDevice checks the device block a phone sends at login.
func ValidateDevice(ve *ValidationError, field string, d Device) {
	if !deviceIDRE.MatchString(d.ID) {
		ve.Add(field+".id", "invalid", "must be 1–128 characters of letters, digits, '.', '_', ':' or '-'")
	}
	ve.CheckText(field+".name", d.Name, false, 100)
	ve.CheckText(field+".platform", d.Platform, false, 32)
	ve.CheckText(field+".app_version", d.AppVersion, false, 32)
}

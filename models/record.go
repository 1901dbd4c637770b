package models

import (
	"encoding/json"
	"regexp"
	"time"
)

// Limits on what a phone may put in one record.
const (
	MaxNotesLen       = 4000
	MaxAnswersBytes   = 64 << 10
	MaxAnswerKeys     = 500
	MaxTextFieldLen   = 200
	MaxDescriptionLen = 4000
)

var answerKeyRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// ValidateAnswers checks a checklist answers object: a JSON object of at most MaxAnswerKeys keys
// (lower_snake_case) and MaxAnswersBytes bytes. The kind's checklist rules come on top.
func ValidateAnswers(ve *ValidationError, field string, raw json.RawMessage) map[string]json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" {
		return map[string]json.RawMessage{}
	}
	if len(raw) > MaxAnswersBytes {
		ve.Add(field, "too_long", "answers must be at most %d bytes", MaxAnswersBytes)
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		ve.Add(field, "invalid", "answers must be a JSON object")
		return nil
	}
	ValidateAnswerMap(ve, field, m)
	return m
}

// ValidateAnswerMap checks the keys of an answers object already decoded (its size was bounded by
// the request's).
func ValidateAnswerMap(ve *ValidationError, field string, m map[string]json.RawMessage) {
	if len(m) > MaxAnswerKeys {
		ve.Add(field, "too_long", "at most %d answers", MaxAnswerKeys)
	}
	for k := range m {
		if !answerKeyRE.MatchString(k) {
			ve.Add(field+"."+k, "invalid", "answer keys are lower_snake_case, at most 64 characters")
		}
	}
}

// ValidAnswerKey reports whether k may name an answer.
func ValidAnswerKey(k string) bool { return answerKeyRE.MatchString(k) }

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

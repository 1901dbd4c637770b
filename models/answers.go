package models

import (
	"encoding/json"
	"slices"
	"strings"
)

// Limits on the answers of one visit. They hold whatever checklist version the visit names, or
// none: they bound what one record costs every phone that pulls it (a parser's stack, memory,
// numbers a float64 cannot hold). openapi.yaml documents each one (schema Answers).
const (
	MaxAnswersBytes = 64 << 10 // an answers object in all (keys and JSON values)
	MaxAnswerKeys   = 500      // answers of one visit
	MaxAnswerKeyLen = 64       // an answer key, and a key inside an answer (lower_snake_case)
	// MaxAnswerDepth is how many lists and objects may nest inside one answer: a repeating group
	// (a list) of rows (objects) holding a multi-choice answer (a list) is 3.
	MaxAnswerDepth      = 3
	MaxAnswerStringLen  = MaxItemTextLen    // characters of one string inside an answer
	MaxAnswerListLen    = MaxGroupRows      // items of one list inside an answer
	MaxAnswerObjectKeys = MaxChecklistItems // keys of one object inside an answer (a group row)
	MaxAnswerNumberLen  = 32                // characters of one number; it must also fit a float64
	// MaxVisitBytes bounds a visit: the arguments of a visit.create, and a visit's data after an
	// update is merged (answers, notes and the other fields).
	MaxVisitBytes = MaxAnswersBytes + 16<<10
)

// ValidAnswerKey reports whether k may name an answer: lower_snake_case, a letter first, at most
// MaxAnswerKeyLen characters (`^[a-z][a-z0-9_]{0,63}$`).
func ValidAnswerKey(k string) bool {
	if len(k) == 0 || len(k) > MaxAnswerKeyLen || k[0] < 'a' || k[0] > 'z' {
		return false
	}
	for i := 1; i < len(k); i++ {
		if c := k[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// ValidateAnswers checks a checklist answers object given as JSON: an object (or null) within the
// answer limits (see ValidateAnswerMap). The kind's rules and the checklist version's items come
// on top. It returns the decoded answers, nil when they are not an object.
func ValidateAnswers(ve *ValidationError, field string, raw json.RawMessage) map[string]json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" {
		return map[string]json.RawMessage{}
	}
	if len(raw) > MaxAnswersBytes {
		ve.Add(field, "too_long", "answers must be at most %d bytes", MaxAnswersBytes)
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		ve.Add(field, "invalid", "answers must be a JSON object")
		return nil
	}
	ValidateAnswerMap(ve, field, m)
	return m
}

// ValidateAnswerMap checks an answers object already decoded: at most MaxAnswerKeys keys, each
// lower_snake_case, MaxAnswersBytes in all, and every value within the answer limits (see
// CheckAnswerValue). Errors name field.<key> (and the place inside the answer), in key order.
func ValidateAnswerMap(ve *ValidationError, field string, m map[string]json.RawMessage) {
	if len(m) > MaxAnswerKeys {
		ve.Add(field, "too_long", "at most %d answers", MaxAnswerKeys)
		return
	}
	var faults []FieldError
	total := 2
	for k, v := range m {
		total += len(k) + len(v) + 4
		if !ValidAnswerKey(k) {
			faults = append(faults, FieldError{Field: field + "." + k, Code: "invalid",
				Message: "answer keys are lower_snake_case, at most 64 characters"})
			continue
		}
		if fe := CheckAnswerValue(v); fe != nil {
			fe.Field = field + "." + k + fe.Field
			faults = append(faults, *fe)
		}
	}
	if total > MaxAnswersBytes {
		ve.Add(field, "too_long", "answers must be at most %d bytes", MaxAnswersBytes)
	}
	slices.SortFunc(faults, func(a, b FieldError) int { return strings.Compare(a.Field, b.Field) })
	ve.Errors = append(ve.Errors, faults...)
}

// CheckAnswerValue checks one answer (a JSON value) against the answer limits: at most
// MaxAnswerDepth lists and objects nested, strings of at most MaxAnswerStringLen characters, lists
// of at most MaxAnswerListLen items, objects of at most MaxAnswerObjectKeys lower_snake_case keys,
// numbers of at most MaxAnswerNumberLen characters that fit a float64, and nothing but one JSON
// value. It returns nil when the answer is within them, else the first fault, whose Field is the
// place inside the answer ("", "[3]", "[3].brand"). Its work is linear in len(raw) and stops at the
// first fault; it recurses at most MaxAnswerDepth+1 deep.
func CheckAnswerValue(raw []byte) *FieldError {
	s := answerScan{b: raw}
	s.ws()
	f := s.value(0)
	if f == nil {
		if s.ws(); s.i != len(s.b) {
			f = &FieldError{Code: "invalid", Message: "must be one JSON value"}
		}
	}
	return f
}

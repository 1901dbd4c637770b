package models

import (
	"fmt"
	"strings"
)

// FieldError says which input field broke which rule. Code is stable and machine-readable
// ("required", "too_long", "invalid", "unknown", "out_of_range"); Message is for people.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ValidationError collects every field error of one input, so a client fixes them all at once.
type ValidationError struct {
	Errors []FieldError
}

// Error joins the field errors into one line.
func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		parts[i] = fe.Field + ": " + fe.Message
	}
	return "models: invalid input: " + strings.Join(parts, "; ")
}

// Add records a field error.
func (e *ValidationError) Add(field, code, format string, args ...any) {
	e.Errors = append(e.Errors, FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
}

// Err returns e when it holds at least one error, nil otherwise.
func (e *ValidationError) Err() error {
	if len(e.Errors) == 0 {
		return nil
	}
	return e
}

// CheckText records an error when s is empty (and required), longer than max runes, or holds a
// NUL character (PostgreSQL text cannot store one).
func (e *ValidationError) CheckText(field, s string, required bool, max int) {
	n := len([]rune(s))
	switch {
	case strings.ContainsRune(s, 0):
		e.Add(field, "invalid", "must not contain NUL characters")
	case required && strings.TrimSpace(s) == "":
		e.Add(field, "required", "is required")
	case n > max:
		e.Add(field, "too_long", "must be at most %d characters", max)
	}
}

// JSONHasNUL reports whether a JSON document holds a \u0000 escape inside a string: PostgreSQL's
// jsonb cannot store one, so such input is refused up front instead of failing a whole write.
func JSONHasNUL(raw []byte) bool {
	for i := 0; i < len(raw); i++ {
		if raw[i] == 0 {
			return true
		}
		if raw[i] != '\\' || i+1 >= len(raw) {
			continue
		}
		if raw[i+1] == 'u' && i+5 < len(raw) && string(raw[i+2:i+6]) == "0000" {
			return true
		}
		i++ // skip the escaped character
	}
	return false
}

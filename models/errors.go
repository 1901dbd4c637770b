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

// ErrorKind classifies a domain error. The HTTP layer maps each kind to one status in one place;
// a push result carries the error's Code.
type ErrorKind int

// The kinds of domain error.
const (
	KindNotFound          ErrorKind = iota + 1 // the named thing does not exist (or is not visible to the actor)
	KindOutOfScope                             // it exists, but lies outside the actor's scope
	KindForbidden                              // the actor's role may not do this
	KindConflict                               // the current state forbids it (taken key, last admin, archived)
	KindIllegalTransition                      // a status change the lifecycle does not allow
	KindInvalid                                // input breaks a rule (see ValidationError for field lists)
	KindLimitExceeded                          // input is larger than a documented limit
	KindUnavailable                            // a dependency is down; a retry may succeed
)

var kindNames = map[ErrorKind]string{KindNotFound: "not found", KindOutOfScope: "out of scope", KindForbidden: "forbidden",
	KindConflict: "conflict", KindIllegalTransition: "illegal transition", KindInvalid: "invalid",
	KindLimitExceeded: "limit exceeded", KindUnavailable: "unavailable"}

// String names the kind.
func (k ErrorKind) String() string { return kindNames[k] }

// Error is a domain error: what kind of failure, a stable machine code ("not_found",
// "out_of_scope", "already_exists", "last_admin", "illegal_transition", ...), the input field at
// fault (may be empty), a message the client can act on, extra members for the answer (such as
// "limit"), and the cause, which is for the log only.
type Error struct {
	Kind    ErrorKind
	Code    string
	Field   string
	Message string
	Extra   map[string]any
	Err     error
}

// Error describes the failure with its cause.
func (e *Error) Error() string {
	s := "models: " + e.Kind.String()
	if e.Code != "" {
		s += " (" + e.Code + ")"
	}
	if e.Field != "" {
		s += " at " + e.Field
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is matches the kind sentinels (ErrNotFound, ErrOutOfScope, ...): a sentinel without a code
// matches every error of its kind; one with a code matches that code only.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok || t.Kind != e.Kind {
		return false
	}
	return t.Code == "" || t.Code == e.Code
}

// Kind sentinels, for errors.Is.
var (
	ErrNotFound          = &Error{Kind: KindNotFound}
	ErrOutOfScope        = &Error{Kind: KindOutOfScope}
	ErrForbidden         = &Error{Kind: KindForbidden}
	ErrConflict          = &Error{Kind: KindConflict}
	ErrIllegalTransition = &Error{Kind: KindIllegalTransition}
	ErrInvalid           = &Error{Kind: KindInvalid}
	ErrLimitExceeded     = &Error{Kind: KindLimitExceeded}
	ErrUnavailable       = &Error{Kind: KindUnavailable}
)

// Is lets errors.Is(ve, ErrInvalid) hold for a validation error.
func (e *ValidationError) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Kind == KindInvalid && t.Code == ""
}

func newError(kind ErrorKind, code, field, format string, args []any) *Error {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return &Error{Kind: kind, Code: code, Field: field, Message: msg}
}

// NotFound says the thing a field names does not exist (code "not_found").
func NotFound(field, format string, args ...any) *Error {
	return newError(KindNotFound, "not_found", field, format, args)
}

// OutOfScope says the thing a field names lies outside the actor's scope (code "out_of_scope").
func OutOfScope(field, format string, args ...any) *Error {
	return newError(KindOutOfScope, "out_of_scope", field, format, args)
}

// Forbidden says the actor's role may not do this (code "forbidden" unless given).
func Forbidden(code, format string, args ...any) *Error {
	if code == "" {
		code = "forbidden"
	}
	return newError(KindForbidden, code, "", format, args)
}

// StateConflict says the current state forbids the change (code such as "already_exists").
func StateConflict(code, field, format string, args ...any) *Error {
	return newError(KindConflict, code, field, format, args)
}

// IllegalTransition says a lifecycle does not allow the change (code "illegal_transition").
func IllegalTransition(field, format string, args ...any) *Error {
	return newError(KindIllegalTransition, "illegal_transition", field, format, args)
}

// Invalid says one field breaks a rule (code such as "invalid", "required", "too_long").
func Invalid(code, field, format string, args ...any) *Error {
	return newError(KindInvalid, code, field, format, args)
}

// LimitExceeded says input is larger than limit (code "too_large"); the limit travels in Extra.
func LimitExceeded(field string, limit int64, format string, args ...any) *Error {
	e := newError(KindLimitExceeded, "too_large", field, format, args)
	e.Extra = map[string]any{"limit": limit}
	return e
}

// Unavailable wraps a transient failure of a dependency (code "unavailable").
func Unavailable(cause error) *Error {
	return &Error{Kind: KindUnavailable, Code: "unavailable", Message: "a service this request needs is unavailable; retry later", Err: cause}
}

// WithCause returns a copy of e with its cause set (for the log).
func (e *Error) WithCause(err error) *Error {
	cp := *e
	cp.Err = err
	return &cp
}

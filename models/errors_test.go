package models

import (
	"errors"
	"fmt"
	"testing"
)

func TestDomainErrorsMatchTheirKindSentinels(t *testing.T) {
	cause := errors.New("connection refused")
	cases := []struct {
		name  string
		err   error
		is    error
		isNot []error
	}{
		{"not found", NotFound("site_id", "no such site"), ErrNotFound, []error{ErrOutOfScope, ErrInvalid}},
		{"out of scope", OutOfScope("site_id", "outside your scope"), ErrOutOfScope, []error{ErrNotFound, ErrForbidden}},
		{"forbidden", Forbidden("", "admins do not record field work"), ErrForbidden, []error{ErrConflict}},
		{"conflict", StateConflict("last_admin", "", "no admin would be left"), ErrConflict, []error{ErrIllegalTransition}},
		{"conflict by code", StateConflict("last_admin", "", "x"), &Error{Kind: KindConflict, Code: "last_admin"},
			[]error{&Error{Kind: KindConflict, Code: "already_exists"}}},
		{"illegal transition", IllegalTransition("status", "closed findings stay closed"), ErrIllegalTransition, []error{ErrConflict}},
		{"invalid", Invalid("required", "name", "is required"), ErrInvalid, []error{ErrLimitExceeded}},
		{"validation error", &ValidationError{Errors: []FieldError{{Field: "a", Code: "invalid"}}}, ErrInvalid, []error{ErrNotFound}},
		{"limit", LimitExceeded("mutations", 1000, "at most %d", 1000), ErrLimitExceeded, []error{ErrInvalid}},
		{"unavailable wraps its cause", fmt.Errorf("storage: ping: %w", Unavailable(cause)), ErrUnavailable, []error{ErrNotFound}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !errors.Is(tc.err, tc.is) {
				t.Errorf("errors.Is(%v, %v) = false", tc.err, tc.is)
			}
			for _, other := range tc.isNot {
				if errors.Is(tc.err, other) {
					t.Errorf("errors.Is(%v, kind %v) = true", tc.err, other.(*Error).Kind)
				}
			}
		})
	}
	if !errors.Is(Unavailable(cause), cause) {
		t.Error("Unavailable does not unwrap to its cause")
	}
	e := NotFound("id", "no such visit").WithCause(cause)
	if got := e.Error(); got != "models: not found (not_found) at id: no such visit: connection refused" {
		t.Errorf("Error() = %q", got)
	}
}

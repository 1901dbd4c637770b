package server

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/fieldsync/fieldsync/server/cursor"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// maxQueryValue bounds every query parameter's value but a cursor's (cursor.MaxLen).
const maxQueryValue = 200

// query is a request's query string, read and checked once by readQuery; every route that takes
// query parameters (the lists and the reports) reads them through it. Every parameter must be one
// the route knows and appear once, so a typo (has_finding=true) is a 400 rather than a silently
// unfiltered answer; a value must be valid UTF-8 without NUL or other control characters, and at
// most maxQueryValue bytes. Every refusal is a 400 whose "param" member names the parameter.
type query struct {
	c    *fiber.Ctx
	vals map[string]string
}

// errParam is a 400 naming the query parameter that is wrong (also as the "param" member).
func errParam(name, detail string) *Problem {
	p := errBadRequest(name + ": " + detail)
	p.Extra = map[string]any{"param": name}
	return p
}

// readQuery reads the query string of c, which may hold the parameters known.
func readQuery(c *fiber.Ctx, known ...string) (*query, error) {
	q := &query{c: c, vals: map[string]string{}}
	var bad error
	var unknown []string
	c.Context().QueryArgs().VisitAll(func(k, v []byte) {
		key := string(k)
		if bad != nil {
			return
		}
		if why := badText(k, maxQueryValue); why != "" {
			bad = errParam(strconv.QuoteToASCII(key), "is not a parameter name: it "+why+".")
			return
		}
		if !slices.Contains(known, key) {
			unknown = append(unknown, key)
			return
		}
		if _, dup := q.vals[key]; dup {
			bad = errParam(key, "is given more than once.")
			return
		}
		limit := maxQueryValue
		if key == "cursor" {
			limit = cursor.MaxLen
		}
		if why := badText(v, limit); why != "" {
			bad = errParam(key, "the value "+why+".")
			return
		}
		q.vals[key] = string(v)
	})
	if bad != nil {
		return nil, bad
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		takes := "takes no query parameters"
		if len(known) > 0 {
			known = slices.Clone(known)
			sort.Strings(known)
			takes = "takes " + strings.Join(known, ", ")
		}
		return nil, errParam(unknown[0], "unknown parameter (this route "+takes+").")
	}
	return q, nil
}

// badText says what is wrong with a parameter's name or value, or "" when nothing is.
func badText(b []byte, limit int) string {
	switch {
	case len(b) > limit:
		return fmt.Sprintf("is longer than %d bytes", limit)
	case !utf8.Valid(b):
		return "is not valid UTF-8"
	case bytes.IndexByte(b, 0) >= 0:
		return "holds a NUL character"
	case bytes.ContainsFunc(b, unicode.IsControl):
		return "holds a control character"
	}
	return ""
}

// get returns a parameter's value ("" when absent).
func (q *query) get(name string) string { return q.vals[name] }

// filter is the request's filters in one canonical string: every parameter but limit and cursor,
// sorted. A list's cursor is bound to it, so a cursor only continues the list that issued it.
func (q *query) filter() string {
	keys := make([]string, 0, len(q.vals))
	for k := range q.vals {
		if k != "limit" && k != "cursor" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(strconv.Quote(k))
		b.WriteByte('=')
		b.WriteString(strconv.Quote(q.vals[k]))
		b.WriteByte('&')
	}
	return b.String()
}

func (q *query) enum(name string, allowed ...string) (string, error) {
	v := q.get(name)
	if v == "" || slices.Contains(allowed, v) {
		return v, nil
	}
	return "", errParam(name, fmt.Sprintf("must be one of %s (got %q).", strings.Join(allowed, ", "), v))
}

func (q *query) boolean(name string) (*bool, error) {
	v := q.get(name)
	if v == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return nil, errParam(name, fmt.Sprintf("must be true or false (got %q).", v))
	}
	return &b, nil
}

func (q *query) uuid(name string) (*uuid.UUID, error) {
	v := q.get(name)
	if v == "" {
		return nil, nil
	}
	id, err := uuid.Parse(v)
	if err != nil {
		return nil, errParam(name, fmt.Sprintf("must be a UUID (got %q).", v))
	}
	return &id, nil
}

// limit reads limit (1–upTo, digits only; default def).
func (q *query) limit(def, upTo int) (int, error) {
	v := q.get("limit")
	if v == "" {
		return def, nil
	}
	n, ok := parseDigits(v)
	if !ok || n < 1 || n > int64(upTo) {
		return 0, errParam("limit", fmt.Sprintf("must be an integer from 1 to %d.", upTo))
	}
	return int(n), nil
}

// parseDigits reads a non-negative decimal number written with digits only (RFC 9110's
// 1*DIGIT: no sign, space or other notation), as HTTP numbers are.
func parseDigits(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int64(s[i]-'0')
	}
	return n, true
}

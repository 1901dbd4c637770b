package server

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// decodeJSON reads the request body into v. Unknown fields are refused when strict (admin API);
// phones' bodies are read leniently so newer apps can send more than this server knows.
func decodeJSON(c *fiber.Ctx, v any, strict bool) error {
	if ct := c.Get(fiber.HeaderContentType); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != fiber.MIMEApplicationJSON && mt != "application/merge-patch+json") {
			return fiber.NewError(fiber.StatusUnsupportedMediaType, "The request body must be application/json.")
		}
	}
	body := c.Body()
	if len(bytes.TrimSpace(body)) == 0 {
		return errBadRequest("The request body is empty; a JSON object is required.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return errBadRequest(fmt.Sprintf("The body is not valid JSON (at byte %d).", syn.Offset))
		case errors.As(err, &typ):
			return errBadRequest(fmt.Sprintf("Field %q must be of type %s.", typ.Field, typ.Type))
		default:
			return errBadRequest("The body could not be read: " + err.Error() + ".")
		}
	}
	if _, err := dec.Token(); err != io.EOF {
		return errBadRequest("The body must hold exactly one JSON object.")
	}
	return nil
}

// Page limits.
const (
	defaultPageLimit = 100
	maxPageLimit     = 1000
)

// pageParams reads ?limit= and ?cursor=; the cursor is opaque to clients (base64url of a key).
func pageParams(c *fiber.Ctx) (limit int, after string, err error) {
	limit = defaultPageLimit
	if v := c.Query("limit"); v != "" {
		n, perr := strconv.Atoi(v)
		if perr != nil || n < 1 || n > maxPageLimit {
			return 0, "", errBadRequest(fmt.Sprintf("limit must be an integer from 1 to %d.", maxPageLimit))
		}
		limit = n
	}
	if v := c.Query("cursor"); v != "" {
		b, derr := base64.RawURLEncoding.DecodeString(v)
		if derr != nil || len(b) > 512 {
			return 0, "", errBadRequest("cursor is not one this server issued.")
		}
		after = string(b)
	}
	return limit, after, nil
}

// trimPage cuts rows fetched with limit+1 down to one page and returns the cursor of the next page
// (nil on the last page), made from key of the page's last row.
func trimPage[T any](rows []T, limit int, key func(T) string) ([]T, *string) {
	if len(rows) <= limit {
		return rows, nil
	}
	rows = rows[:limit]
	return rows, encodeCursor(key(rows[limit-1]))
}

func encodeCursor(key string) *string {
	s := base64.RawURLEncoding.EncodeToString([]byte(key))
	return &s
}

func boolQuery(c *fiber.Ctx, name string) (*bool, error) {
	v := c.Query(name)
	if v == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return nil, errBadRequest(name + " must be true or false.")
	}
	return &b, nil
}

func uuidParam(c *fiber.Ctx, name string) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Params(name))
	if err != nil {
		return uuid.Nil, errNotFound("No " + name + " " + strconv.Quote(c.Params(name)) + ": not a UUID.")
	}
	return id, nil
}

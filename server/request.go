package server

import (
	"bytes"
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

// optional tells a field that was left out from one set to null in a PATCH body.
type optional[T any] struct {
	Set   bool
	Null  bool
	Value T
}

// UnmarshalJSON records that the field was present.
func (o *optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Null = true
		return nil
	}
	return json.Unmarshal(b, &o.Value)
}

func uuidParam(c *fiber.Ctx, name string) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Params(name))
	if err != nil {
		return uuid.Nil, errNotFound("No " + name + " " + strconv.Quote(c.Params(name)) + ": not a UUID.")
	}
	return id, nil
}

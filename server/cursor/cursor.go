// Package cursor makes and checks the opaque page cursors of fieldsync's lists. A cursor carries
// the key of the last row of a page and an HMAC-SHA256 over that key, the list it belongs to and
// the filters of the request that got it, made with a server key. So a cursor is accepted only by
// the server (or a sibling sharing its key) that issued it, for the same list and filters, and
// unchanged: a forged, truncated, edited or foreign cursor is refused before anything reads it.
package cursor

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
)

// MaxLen is the length of the longest cursor Open accepts (the base64url of 512 bytes).
const MaxLen = 683

// KeySize is the size of a server key in bytes.
const KeySize = 32

const (
	version = 1
	macSize = sha256.Size
)

// MaxPayload is the longest payload whose cursor fits in MaxLen.
const MaxPayload = MaxLen*6/8 - 1 - macSize

// ErrInvalid is returned for any cursor Open refuses; it never says why (a client learns nothing
// about the key by trying).
var ErrInvalid = errors.New("cursor: not a cursor this server issued for this list")

var encoding = base64.RawURLEncoding.Strict()

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// Codec seals and opens cursors with one server key.
type Codec struct {
	key []byte
}

// New returns a codec for key (at least KeySize bytes).
func New(key []byte) (*Codec, error) {
	if len(key) < KeySize {
		return nil, errors.New("cursor: key shorter than 32 bytes")
	}
	return &Codec{key: append([]byte(nil), key...)}, nil
}

// mac authenticates payload for list and filter. The three parts are length-prefixed so that no
// two different (list, filter, payload) triples feed the same bytes to the HMAC.
func (c *Codec) mac(list, filter string, payload []byte) []byte {
	h := hmac.New(sha256.New, c.key)
	h.Write([]byte("fieldsync cursor v1"))
	for _, part := range [][]byte{[]byte(list), []byte(filter), payload} {
		n := len(part)
		h.Write([]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
		h.Write(part)
	}
	return h.Sum(nil)
}

// Seal makes the cursor of a page that ends at the row whose key is payload, in the list named
// list (e.g. its route) requested with filter (its filters in a canonical form). A payload longer
// than MaxPayload makes a cursor Open refuses; list keys are far shorter (a device id and a user
// id, at most 165 bytes, are the longest).
func (c *Codec) Seal(list, filter, payload string) string {
	b := make([]byte, 0, 1+len(payload)+macSize)
	b = append(b, version)
	b = append(b, payload...)
	b = append(b, c.mac(list, filter, []byte(payload))...)
	return encoding.EncodeToString(b)
}

// Open checks a cursor made by Seal for the same list and filter and returns its payload.
func (c *Codec) Open(list, filter, cursor string) (string, error) {
	if len(cursor) > MaxLen || strings.Trim(cursor, alphabet) != "" {
		return "", ErrInvalid // the decoder would skip CR and LF: only the cursor as sealed opens
	}
	b, err := encoding.DecodeString(cursor)
	if err != nil || len(b) < 1+macSize || b[0] != version {
		return "", ErrInvalid
	}
	payload, sum := b[1:len(b)-macSize], b[len(b)-macSize:]
	if !hmac.Equal(sum, c.mac(list, filter, payload)) {
		return "", ErrInvalid
	}
	return string(payload), nil
}

package blob

import (
	"errors"
	"fmt"
	"strings"
)

// Limits every Store enforces.
const (
	// MaxKeyLen is the longest key, in bytes.
	MaxKeyLen = 512
	// MaxContentTypeLen is the longest content type a Put accepts, in bytes.
	MaxContentTypeLen = 255
	// DefaultContentType is stored when Put is given an empty content type.
	DefaultContentType = "application/octet-stream"
	// MaxListLimit is the most objects one List returns; a larger limit is lowered to it.
	MaxListLimit = 1000
)

// ErrInvalid is wrapped by the error of a call with a bad key, size, range or content type.
// Such a call reaches no storage.
var ErrInvalid = errors.New("blob: invalid argument")

// ValidKey reports whether key is a valid object key: 1 to MaxKeyLen bytes of [a-z0-9/._-],
// made of non-empty slash-separated segments none of which is "." or "..". Keys never start or
// end with a slash.
func ValidKey(key string) bool { return checkKey(key) == nil }

// checkKey returns why key is not a valid key, wrapping ErrInvalid, or nil.
func checkKey(key string) error {
	if key == "" || len(key) > MaxKeyLen {
		return fmt.Errorf("%w: key must be 1 to %d bytes", ErrInvalid, MaxKeyLen)
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '/' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("%w: key %q has a character outside [a-z0-9/._-]", ErrInvalid, key)
		}
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("%w: key %q has an empty, \".\" or \"..\" segment", ErrInvalid, key)
		}
	}
	return nil
}

// checkPrefix returns why prefix cannot start a key (List's prefix may be empty and end in a
// slash), wrapping ErrInvalid, or nil.
func checkPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if err := checkKey(strings.TrimSuffix(prefix, "/") + "/x"); err != nil || strings.HasPrefix(prefix, "/") {
		return fmt.Errorf("%w: bad list prefix %q", ErrInvalid, prefix)
	}
	return nil
}

// checkPut validates the arguments of Put and returns the content type to store.
func checkPut(key string, size int64, contentType string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	if size < 0 {
		return "", fmt.Errorf("%w: size %d: the size must be known", ErrInvalid, size)
	}
	if contentType == "" {
		return DefaultContentType, nil
	}
	if len(contentType) > MaxContentTypeLen {
		return "", fmt.Errorf("%w: content type longer than %d bytes", ErrInvalid, MaxContentTypeLen)
	}
	for i := 0; i < len(contentType); i++ {
		if c := contentType[i]; c < 0x20 || c > 0x7e {
			return "", fmt.Errorf("%w: content type %q has a non-printable or non-ASCII byte", ErrInvalid, contentType)
		}
	}
	return contentType, nil
}

// checkRange validates the arguments of GetRange.
func checkRange(key string, offset int64) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if offset < 0 {
		return fmt.Errorf("%w: negative offset %d", ErrInvalid, offset)
	}
	return nil
}

// checkList validates the arguments of List.
func checkList(prefix, after string, limit int) error {
	if err := checkPrefix(prefix); err != nil {
		return err
	}
	if after != "" && len(after) > MaxKeyLen {
		return fmt.Errorf("%w: list start key too long", ErrInvalid)
	}
	if limit <= 0 {
		return fmt.Errorf("%w: list limit %d must be positive", ErrInvalid, limit)
	}
	return nil
}

// shortRead is the error of a Put whose reader ended before size bytes.
func shortRead(key string, got, size int64) error {
	return fmt.Errorf("blob: put %s: reader ended after %d of %d bytes", key, got, size)
}

// checkDisposition refuses a Content-Disposition value that could not be sent as one header
// line: control characters (CR, LF …) or over 1 KiB.
func checkDisposition(d string) error {
	if len(d) > 1024 || strings.ContainsFunc(d, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fmt.Errorf("%w: content disposition %q", ErrInvalid, d)
	}
	return nil
}

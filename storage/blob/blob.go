// Package blob stores photo bytes: in MinIO (or any S3) through minio-go, or in a local directory
// for the embedded default. Both implement Store and pass the same contract test suite.
package blob

import (
	"context"
	"errors"
	"io"
	"time"
)

// Errors every Store maps its failures to.
var (
	// ErrNotFound means no object has that key.
	ErrNotFound = errors.New("blob: not found")
	// ErrUnavailable means the store cannot be reached or failed transiently (MinIO down, a
	// network error, a 5xx): the caller answers 503 with Retry-After and may retry.
	ErrUnavailable = errors.New("blob: store unavailable")
)

// Info describes one stored object.
type Info struct {
	Key         string
	Size        int64
	ContentType string
	Modified    time.Time
}

// Store is an object store keyed by slash-separated keys of [a-z0-9/._-] (at most 512 bytes, see
// ValidKey). A key must not also be a directory of other keys ("a" beside "a/b"): MinIO refuses
// that. Calls with invalid arguments fail with an error wrapping ErrInvalid and touch nothing.
// The stores pass the contract suite in storage/blob/blobtest.
type Store interface {
	// Put stores size bytes read from r under key, replacing any object there. The object
	// appears whole or not at all: a reader that fails midway (or ends before size bytes) leaves
	// nothing under key, and the error is the reader's, not ErrUnavailable. Bytes past size are
	// not read. The size must be known (>= 0); "" stores DefaultContentType.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	// Get opens an object; ErrNotFound when there is none. The caller closes the reader.
	Get(ctx context.Context, key string) (io.ReadCloser, Info, error)
	// GetRange opens length bytes of an object from offset (length < 0: to the end). A range
	// reaching past the end is cut there (an offset at or past the end reads nothing).
	GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error)
	// Stat describes an object; ErrNotFound when there is none.
	Stat(ctx context.Context, key string) (Info, error)
	// Delete removes an object; deleting a missing object is not an error.
	Delete(ctx context.Context, key string) error
	// List returns the objects whose keys start with prefix, in key order, at most limit of them
	// (and at most MaxListLimit) after the key after ("" = from the start). Listings of MinIO
	// carry no ContentType.
	List(ctx context.Context, prefix, after string, limit int) ([]Info, error)
	// PresignGet returns a URL that serves the object for ttl, answered with the given
	// Content-Disposition and Content-Type header values (each only when not ""); ok is false when
	// the store cannot presign (the local directory), and the caller streams the object itself. A
	// disposition holding control characters or longer than 1 KiB is ErrInvalid.
	PresignGet(ctx context.Context, key string, ttl time.Duration, disposition, contentType string) (url string, ok bool, err error)
	// Ping checks that the store answers (readiness).
	Ping(ctx context.Context) error
	// Name says what the store is, for logs ("minio 127.0.0.1:9000/fieldsync", "local ./data/photos").
	Name() string
}

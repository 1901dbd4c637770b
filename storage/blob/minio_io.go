package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/minio/minio-go/v7"
)

// watchReader remembers how a Put's source ended, to tell its failures from the store's.
type watchReader struct {
	r   io.Reader
	n   int64
	eof bool
	err error
}

func (w *watchReader) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	w.n += int64(n)
	switch {
	case errors.Is(err, io.EOF):
		w.eof = true
	case err != nil:
		w.err = err
	}
	return n, err
}

// mappedBody maps the errors of an object body being read (MinIO going away mid-stream).
type mappedBody struct {
	rc  io.ReadCloser
	m   *MinIO
	ctx context.Context
	key string
}

func (b *mappedBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = b.m.mapErr(b.ctx, "read", b.key, err)
	}
	return n, err
}

func (b *mappedBody) Close() error { return b.rc.Close() }

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// Codes MinIO and S3 answer when they cannot serve right now.
var unavailableCodes = map[string]bool{
	"XMinioServerNotInitialized": true, "SlowDown": true, "SlowDownRead": true, "SlowDownWrite": true,
	"ServiceUnavailable": true, "InternalError": true, "RequestTimeout": true, "XMinioReadQuorum": true,
	"XMinioWriteQuorum": true, "RequestTimeTooSkewed": false,
}

// mapErr turns a minio-go error into the package's errors: NoSuchKey into ErrNotFound, network
// failures and 5xx into ErrUnavailable; the caller's own cancellation stays as it is.
func (m *MinIO) mapErr(ctx context.Context, op, key string, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("blob: %s %s: %w", op, key, ctx.Err())
	}
	resp := minio.ToErrorResponse(err)
	switch {
	case resp.Code == minio.NoSuchKey:
		return fmt.Errorf("%w: %s", ErrNotFound, key)
	case resp.Code == minio.NoSuchBucket:
		m.ready.Store(false) // removed behind our back: the next call makes it again
		return fmt.Errorf("%w: %s %s: bucket %s is missing", ErrUnavailable, op, key, m.bucket)
	case resp.StatusCode >= 500 || unavailableCodes[resp.Code]:
		return fmt.Errorf("%w: %s %s: %s (%d %s)", ErrUnavailable, op, key, resp.Message, resp.StatusCode, resp.Code)
	case resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusUnauthorized:
		return fmt.Errorf("blob: %s %s: access denied by %s (%s): check the credentials", op, key, m.name, resp.Code)
	case resp.Code != "" || resp.StatusCode != 0:
		return fmt.Errorf("blob: %s %s: %s (%d %s)", op, key, resp.Message, resp.StatusCode, resp.Code)
	}
	// Not an S3 answer: the request did not get through (refused, reset, timed out, cut).
	return fmt.Errorf("%w: %s %s: %v", ErrUnavailable, op, key, err)
}

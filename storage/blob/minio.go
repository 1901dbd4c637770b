package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Client settings of the MinIO store.
const (
	// partSize is minio-go's part size: a Put of at most this many bytes is one streamed PUT
	// request (no buffering: the body is signed in 64 KiB chunks as it is read); a larger one is
	// a multipart upload holding one part in memory at a time.
	partSize = 16 << 20
	// maxRetries counts the attempts of one request: a second try after ~200 ms, so "MinIO is
	// down" comes back as ErrUnavailable in well under a second instead of after minio-go's
	// default ten attempts. Callers (tus clients) retry themselves.
	maxRetries = 2
	// dialTimeout bounds a TCP connect to an unresponsive host.
	dialTimeout = 2 * time.Second
	// responseTimeout bounds the wait for response headers after a request has been sent.
	responseTimeout = 30 * time.Second
	// maxPresignTTL is the longest presigned URL life S3 accepts.
	maxPresignTTL = 7 * 24 * time.Hour
)

// MinIOConfig says how to reach a MinIO (or other S3) bucket.
type MinIOConfig struct {
	Endpoint  string // host:port, no scheme
	AccessKey string
	SecretKey string
	Bucket    string
	UseSSL    bool
	Region    string // "" = us-east-1 (MinIO's default); set for other S3 services
}

// MinIO stores objects in a MinIO or S3 bucket through minio-go.
type MinIO struct {
	client *minio.Client
	core   minio.Core
	bucket string
	name   string
	ready  atomic.Bool // the bucket is known to exist
}

var _ Store = (*MinIO)(nil)

// NewMinIO connects to the bucket, creating it when missing (two instances doing so at once both
// succeed). When the server cannot be reached it returns the store together with an error
// wrapping ErrUnavailable: the store works (and creates the bucket) once the server answers.
// Any other error (rejected credentials, a bad configuration) comes with a nil store.
func NewMinIO(ctx context.Context, cfg MinIOConfig) (*MinIO, error) {
	if cfg.Endpoint == "" || cfg.Bucket == "" {
		return nil, errors.New("blob: minio: endpoint and bucket are required")
	}
	region := cfg.Region
	if region == "" {
		region = "us-east-1" // also spares minio-go a bucket location lookup per bucket
	}
	tr, err := minio.DefaultTransport(cfg.UseSSL)
	if err != nil {
		return nil, fmt.Errorf("blob: minio: %w", err)
	}
	tr.DialContext = (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext
	tr.ResponseHeaderTimeout = responseTimeout
	tr.MaxIdleConnsPerHost = 64
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:      credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:     cfg.UseSSL,
		Region:     region,
		Transport:  tr,
		MaxRetries: maxRetries,
	})
	if err != nil {
		return nil, fmt.Errorf("blob: minio: %w", err)
	}
	m := &MinIO{client: client, core: minio.Core{Client: client}, bucket: cfg.Bucket,
		name: "minio " + cfg.Endpoint + "/" + cfg.Bucket}
	if err := m.ensureBucket(ctx); err != nil {
		if errors.Is(err, ErrUnavailable) {
			return m, err
		}
		return nil, err
	}
	return m, nil
}

// Name says "minio <endpoint>/<bucket>".
func (m *MinIO) Name() string { return m.name }

// Bucket returns the bucket's name.
func (m *MinIO) Bucket() string { return m.bucket }

// Client returns the minio-go client, for tests and benchmarks that compare against it.
func (m *MinIO) Client() *minio.Client { return m.client }

// ensureBucket creates the bucket unless it is known to exist.
func (m *MinIO) ensureBucket(ctx context.Context) error {
	if m.ready.Load() {
		return nil
	}
	ok, err := m.client.BucketExists(ctx, m.bucket)
	if err != nil {
		return m.mapErr(ctx, "check bucket", m.bucket, err)
	}
	if !ok {
		err := m.client.MakeBucket(ctx, m.bucket, minio.MakeBucketOptions{})
		if code := minio.ToErrorResponse(err).Code; err != nil && code != minio.BucketAlreadyOwnedByYou && code != minio.BucketAlreadyExists {
			return m.mapErr(ctx, "create bucket", m.bucket, err)
		}
	}
	m.ready.Store(true)
	return nil
}

// Put streams size bytes from r in one PUT (multipart beyond partSize).
func (m *MinIO) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	contentType, err := checkPut(key, size, contentType)
	if err != nil {
		return err
	}
	if err := m.ensureBucket(ctx); err != nil {
		return err
	}
	src := &watchReader{r: io.LimitReader(r, size)}
	_, err = m.client.PutObject(ctx, m.bucket, key, src, size, minio.PutObjectOptions{
		ContentType: contentType,
		PartSize:    partSize,
		NumThreads:  1,
	})
	switch {
	case src.err != nil: // the caller's reader failed: not the store's fault
		return fmt.Errorf("blob: put %s: %w", key, src.err)
	case err != nil && src.n < size && src.eof:
		return shortRead(key, src.n, size)
	}
	return m.mapErr(ctx, "put", key, err)
}

// Get opens the object with one GET request.
func (m *MinIO) Get(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	if err := checkKey(key); err != nil {
		return nil, Info{}, err
	}
	if err := m.ensureBucket(ctx); err != nil {
		return nil, Info{}, err
	}
	rc, oi, _, err := m.core.GetObject(ctx, m.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, Info{}, m.mapErr(ctx, "get", key, err)
	}
	return &mappedBody{rc: rc, m: m, ctx: ctx, key: key}, infoOf(oi), nil
}

// GetRange opens a byte range with one GET request; a range past the end is cut at the end.
func (m *MinIO) GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := checkRange(key, offset); err != nil {
		return nil, err
	}
	if length == 0 {
		if _, err := m.Stat(ctx, key); err != nil {
			return nil, err
		}
		return io.NopCloser(eofReader{}), nil
	}
	if err := m.ensureBucket(ctx); err != nil {
		return nil, err
	}
	var opts minio.GetObjectOptions
	switch {
	case length > 0:
		opts.Set("Range", fmt.Sprintf("bytes=%d-%d", offset, offset+length-1))
	case offset > 0:
		opts.Set("Range", fmt.Sprintf("bytes=%d-", offset))
	}
	rc, _, _, err := m.core.GetObject(ctx, m.bucket, key, opts)
	if minio.ToErrorResponse(err).Code == minio.InvalidRange {
		// The offset is at or past the end: an empty read, if the object exists.
		if _, err := m.Stat(ctx, key); err != nil {
			return nil, err
		}
		return io.NopCloser(eofReader{}), nil
	}
	if err != nil {
		return nil, m.mapErr(ctx, "get", key, err)
	}
	return &mappedBody{rc: rc, m: m, ctx: ctx, key: key}, nil
}

// Stat describes the object with a HEAD request.
func (m *MinIO) Stat(ctx context.Context, key string) (Info, error) {
	if err := checkKey(key); err != nil {
		return Info{}, err
	}
	if err := m.ensureBucket(ctx); err != nil {
		return Info{}, err
	}
	oi, err := m.client.StatObject(ctx, m.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return Info{}, m.mapErr(ctx, "stat", key, err)
	}
	return infoOf(oi), nil
}

// Delete removes the object; S3 answers a missing one with success.
func (m *MinIO) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := m.ensureBucket(ctx); err != nil {
		return err
	}
	return m.mapErr(ctx, "delete", key, m.client.RemoveObject(ctx, m.bucket, key, minio.RemoveObjectOptions{}))
}

// List pages through ListObjectsV2; Info.ContentType is empty (S3 listings do not carry it).
func (m *MinIO) List(ctx context.Context, prefix, after string, limit int) ([]Info, error) {
	if err := checkList(prefix, after, limit); err != nil {
		return nil, err
	}
	if err := m.ensureBucket(ctx); err != nil {
		return nil, err
	}
	limit = min(limit, MaxListLimit)
	lctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops minio-go's listing goroutine when we stop early
	var out []Info
	for oi := range m.client.ListObjects(lctx, m.bucket, minio.ListObjectsOptions{
		Prefix: prefix, StartAfter: after, Recursive: true, MaxKeys: limit,
	}) {
		if oi.Err != nil {
			return nil, m.mapErr(ctx, "list", prefix, oi.Err)
		}
		out = append(out, Info{Key: oi.Key, Size: oi.Size, ContentType: oi.ContentType, Modified: oi.LastModified.UTC()})
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

// PresignGet signs a GET URL that answers with the Content-Disposition disposition and the
// Content-Type contentType (each when given). The URL is signed for the endpoint this store
// talks to.
func (m *MinIO) PresignGet(ctx context.Context, key string, ttl time.Duration, disposition, contentType string) (string, bool, error) {
	if err := checkKey(key); err != nil {
		return "", false, err
	}
	if ttl < time.Second || ttl > maxPresignTTL {
		return "", false, fmt.Errorf("%w: presign ttl %s outside 1s..7d", ErrInvalid, ttl)
	}
	params := url.Values{}
	if err := checkDisposition(disposition); err != nil {
		return "", false, err
	}
	if disposition != "" {
		params.Set("response-content-disposition", disposition)
	}
	if contentType != "" {
		if _, err := checkPut(key, 0, contentType); err != nil {
			return "", false, err
		}
		params.Set("response-content-type", contentType)
	}
	u, err := m.client.PresignedGetObject(ctx, m.bucket, key, ttl, params)
	if err != nil {
		return "", false, m.mapErr(ctx, "presign", key, err)
	}
	return u.String(), true, nil
}

// Ping checks that the bucket answers (creating it when missing).
func (m *MinIO) Ping(ctx context.Context) error {
	ok, err := m.client.BucketExists(ctx, m.bucket)
	if err != nil {
		return m.mapErr(ctx, "ping", m.bucket, err)
	}
	if !ok {
		m.ready.Store(false)
		return m.ensureBucket(ctx)
	}
	return nil
}

// infoOf converts minio-go's object info.
func infoOf(oi minio.ObjectInfo) Info {
	return Info{Key: oi.Key, Size: oi.Size, ContentType: oi.ContentType, Modified: oi.LastModified.UTC()}
}

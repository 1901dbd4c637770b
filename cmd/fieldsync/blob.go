package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/fieldsync/fieldsync/storage/blob"
)

// minioStartTimeout bounds the first contact with MinIO at start.
const minioStartTimeout = 10 * time.Second

// openBlobStore opens the photo store: MinIO/S3 when FIELDSYNC_S3_ENDPOINT is set, else the
// local directory <data dir>/photos. An unreachable MinIO is a warning, not an error (the server
// starts, uploads answer 503 and /readyz says not ready until MinIO answers); rejected
// credentials or a bad configuration are errors.
func openBlobStore(ctx context.Context, cfg *config, log *slog.Logger) (blob.Store, error) {
	if cfg.S3Endpoint == "" {
		st, err := blob.NewLocal(filepath.Join(cfg.DataDir, "photos"))
		if err != nil {
			return nil, fmt.Errorf("photo directory: %w", err)
		}
		log.Info("photos go to a local directory", "dir", st.Dir())
		return st, nil
	}
	ctx, cancel := context.WithTimeout(ctx, minioStartTimeout)
	defer cancel()
	st, err := blob.NewMinIO(ctx, blob.MinIOConfig{
		Endpoint:  cfg.S3Endpoint,
		AccessKey: cfg.S3AccessKey,
		SecretKey: cfg.S3SecretKey,
		Bucket:    cfg.S3Bucket,
		UseSSL:    cfg.S3UseSSL,
	})
	switch {
	case errors.Is(err, blob.ErrUnavailable) && st != nil:
		log.Warn("photo store not reachable yet: photo uploads answer 503 until it is", "store", st.Name(), "error", err)
		return st, nil
	case err != nil:
		return nil, fmt.Errorf("photo store (FIELDSYNC_S3_*): %w", err)
	}
	log.Info("photos go to MinIO/S3", "store", st.Name(), "tls", cfg.S3UseSSL)
	return st, nil
}

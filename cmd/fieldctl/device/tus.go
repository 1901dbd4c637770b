package device

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// The client side of tus 1.0 (core, creation, checksum): no Go tus client library is available
// from the module proxy, and the part a phone needs is small. See README ("fieldctl").

const (
	tusVersion       = "1.0.0"
	statusChecksum   = 460 // tus checksum extension: the chunk's checksum did not match
	maxUploadRetries = 12  // transient failures in a row before a sync gives up on uploads
	maxRecreates     = 3   // new uploads for one photo in one sync (whole-file hash refused, expired)
)

// errPhotoRefused is a permanent refusal of one photo; the others still upload.
type errPhotoRefused struct{ msg string }

func (e *errPhotoRefused) Error() string { return e.msg }

// uploadAll uploads every pending photo, resuming each from the offset the server holds.
func (s *session) uploadAll(ctx context.Context) error {
	photos, err := loadPhotos(ctx, s.d.db, `state = 'pending'`)
	if err != nil {
		return err
	}
	var total, done int64
	for _, p := range photos {
		total += p.Size
	}
	for i := range photos {
		p := &photos[i]
		err := s.upload(ctx, p, func(n int64) {
			s.progress(Progress{Phase: PhaseUpload, Item: p.Filename, Done: done + n, Total: total})
		})
		var refused *errPhotoRefused
		switch {
		case errors.As(err, &refused):
			p.State, p.Error = PhotoFailed, refused.msg
			s.report.PhotosFailed++
			s.notice("upload %s: refused: %s", p.Filename, refused.msg)
			if err := s.d.savePhotoState(ctx, p); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			s.report.PhotosUploaded++
		}
		done += p.Size
	}
	return nil
}

// tusHeader is the headers of every tus request.
func (s *session) tusHeader() http.Header {
	return http.Header{"Tus-Resumable": {tusVersion}, "Authorization": {"Bearer " + s.token}}
}

// upload sends one photo's remaining bytes. Its URL and offset are stored after every step, so a
// process killed midway resumes (HEAD, then PATCH from the server's offset).
func (s *session) upload(ctx context.Context, p *PendingPhoto, progress func(int64)) error {
	f, err := os.Open(p.Path)
	if err != nil {
		return &errPhotoRefused{fmt.Sprintf("the photo's file is gone: %v", err)}
	}
	defer f.Close()
	buf := make([]byte, s.opts.ChunkSize)
	failures, recreates, chunkRetries := 0, 0, 0
	synced := false // the offset was confirmed by the server in this sync
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var res *response
		var step string
		switch {
		case p.UploadURL == "":
			step = "upload.create"
			res, err = s.tusCreate(ctx, p)
		case !synced:
			step = "upload.head"
			res, err = s.tusOnce(ctx, step, request{Method: http.MethodHead, URL: p.UploadURL, Header: s.tusHeader()})
		case p.Offset >= p.Size:
			p.State = PhotoUploaded
			return s.d.savePhotoState(ctx, p)
		default:
			step = "upload.patch"
			res, err = s.tusPatch(ctx, p, f, buf)
		}
		if err != nil || transientStatus(res.Status) {
			if errors.Is(err, ErrTokenRejected) || ctx.Err() != nil {
				return err
			}
			failures++
			if failures >= maxUploadRetries {
				return fmt.Errorf("%w: upload of %s: %v", ErrUnavailable, p.Filename, errOrStatus(err, res))
			}
			var ra time.Duration
			if res != nil {
				ra, _ = ParseRetryAfter(res.Header.Get("Retry-After"), time.Now())
			}
			wait := s.opts.Retry.Delay(failures-1, ra)
			s.report.Retries++
			s.notice("%s %s: %v; retrying in %s", step, p.Filename, errOrStatus(err, res), wait.Round(time.Millisecond))
			if err := s.opts.Retry.withDefaults().Sleep(ctx, wait); err != nil {
				return err
			}
			synced = false // part of a chunk may have arrived: ask
			continue
		}
		switch {
		case res.Status == http.StatusCreated && step == "upload.create":
			loc := res.Header.Get("Location")
			if loc == "" {
				return fmt.Errorf("upload: the server created an upload without a Location")
			}
			if p.UploadURL, err = s.resolve(loc); err != nil {
				return err
			}
			p.Offset, synced = 0, true
			if off, ok := offsetHeader(res); ok {
				p.Offset = off
			}
		case (res.Status == http.StatusOK || res.Status == http.StatusNoContent) && step == "upload.head":
			off, ok := offsetHeader(res)
			if !ok {
				return fmt.Errorf("upload: HEAD answered without Upload-Offset")
			}
			p.Offset, synced = off, true
		case res.Status == http.StatusNoContent && step == "upload.patch":
			off, ok := offsetHeader(res)
			if !ok || off < p.Offset {
				return fmt.Errorf("upload: PATCH answered a bad Upload-Offset %q", res.Header.Get("Upload-Offset"))
			}
			s.report.BytesUploaded += off - p.Offset
			p.Offset, failures, chunkRetries = off, 0, 0
			progress(p.Offset)
		case res.Status == http.StatusConflict && step == "upload.patch":
			synced = false // the server holds another offset: ask it
		case res.Status == statusChecksum && step == "upload.patch":
			last := p.Offset+min(s.opts.ChunkSize, p.Size-p.Offset) >= p.Size
			chunkRetries++
			if !last && chunkRetries < 5 {
				continue // the chunk was damaged on the way: send it again
			}
			recreates++ // the whole file's hash was refused: that upload failed, start a new one
			if recreates > maxRecreates {
				return &errPhotoRefused{"the server refused the photo's checksum: " + parseProblem(res.Status, res.Body).Error()}
			}
			p.UploadURL, p.Offset, synced, chunkRetries = "", 0, false, 0
		case res.Status == http.StatusNotFound || res.Status == http.StatusGone:
			if step == "upload.create" {
				return parseProblem(res.Status, res.Body) // no upload endpoint on this server
			}
			recreates++ // expired or terminated: start again
			if recreates > maxRecreates {
				return fmt.Errorf("upload of %s: the server keeps losing the upload", p.Filename)
			}
			p.UploadURL, p.Offset, synced = "", 0, false
		case res.Status == http.StatusUnsupportedMediaType || res.Status == http.StatusRequestEntityTooLarge ||
			res.Status == http.StatusUnprocessableEntity || res.Status == http.StatusForbidden:
			return &errPhotoRefused{parseProblem(res.Status, res.Body).Error()}
		default:
			return parseProblem(res.Status, res.Body)
		}
		if err := s.d.savePhotoState(ctx, p); err != nil {
			return err
		}
	}
}

// tusOnce sends one tus request without retrying (the upload loop decides what follows).
func (s *session) tusOnce(ctx context.Context, name string, req request) (*response, error) {
	start := time.Now()
	res, err := once(ctx, s.hc, req)
	if s.opts.OnCall != nil {
		ci := CallInfo{Call: name, Duration: time.Since(start), Err: err}
		if res != nil {
			ci.Status = res.Status
		}
		s.opts.OnCall(ci)
	}
	if err == nil && res.Status == http.StatusUnauthorized {
		return res, ErrTokenRejected
	}
	return res, err
}

func (s *session) tusCreate(ctx context.Context, p *PendingPhoto) (*response, error) {
	u, err := s.d.serverURL("/v1/uploads")
	if err != nil {
		return nil, err
	}
	h := s.tusHeader()
	h.Set("Upload-Length", strconv.FormatInt(p.Size, 10))
	h.Set("Upload-Metadata", tusMetadata([][2]string{{"photo_id", p.PhotoID}, {"sha256", p.SHA256},
		{"filename", p.Filename}, {"content_type", p.ContentType}}))
	return s.tusOnce(ctx, "upload.create", request{Method: http.MethodPost, URL: u, Header: h, Body: []byte{}})
}

func (s *session) tusPatch(ctx context.Context, p *PendingPhoto, f io.ReaderAt, buf []byte) (*response, error) {
	n := min(int64(len(buf)), p.Size-p.Offset)
	chunk := buf[:n]
	if _, err := f.ReadAt(chunk, p.Offset); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	sum := sha256.Sum256(chunk)
	h := s.tusHeader()
	h.Set("Content-Type", "application/offset+octet-stream")
	h.Set("Upload-Offset", strconv.FormatInt(p.Offset, 10))
	h.Set("Upload-Checksum", "sha256 "+base64.StdEncoding.EncodeToString(sum[:]))
	return s.tusOnce(ctx, "upload.patch", request{Method: http.MethodPatch, URL: p.UploadURL, Header: h, Body: chunk})
}

// tusMetadata encodes Upload-Metadata: comma-separated "key base64(value)".
func tusMetadata(kv [][2]string) string {
	parts := make([]string, 0, len(kv))
	for _, p := range kv {
		parts = append(parts, p[0]+" "+base64.StdEncoding.EncodeToString([]byte(p[1])))
	}
	return strings.Join(parts, ",")
}

func offsetHeader(res *response) (int64, bool) {
	v := res.Header.Get("Upload-Offset")
	if v == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil && n >= 0
}

// resolve makes an absolute upload URL from a Location header (absolute or relative to the server).
func (s *session) resolve(loc string) (string, error) {
	base, err := url.Parse(s.d.Server() + "/")
	if err != nil {
		return "", err
	}
	ref, err := url.Parse(loc)
	if err != nil {
		return "", fmt.Errorf("upload: bad Location %q: %w", loc, err)
	}
	return base.ResolveReference(ref).String(), nil
}

func errOrStatus(err error, res *response) error {
	if err != nil {
		return err
	}
	return parseProblem(res.Status, res.Body)
}

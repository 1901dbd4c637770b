package server

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/storage"
	fsync "github.com/fieldsync/fieldsync/sync"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// The tus 1.0 resumable upload protocol at /v1/uploads: core, creation, checksum (sha256),
// termination and expiration. Standard tus clients work unchanged.
const (
	tusVersion     = "1.0.0"
	tusExtensions  = "creation,checksum,termination,expiration"
	uploadsPath    = "/v1/uploads"
	offsetStream   = "application/offset+octet-stream"
	statusChecksum = 460 // tus: Checksum Mismatch
)

func (s *Server) uploadRoutes(app *fiber.App, authed fiber.Handler) {
	app.Options(uploadsPath, s.tusOptions)
	app.Post(uploadsPath, tusHeader, authed, s.tusResumable, s.tusCreate)
	app.Head(uploadsPath+"/:id", tusHeader, authed, s.tusResumable, s.tusHead)
	app.Patch(uploadsPath+"/:id", tusHeader, authed, s.tusResumable, s.tusPatch)
	app.Delete(uploadsPath+"/:id", tusHeader, authed, s.tusResumable, s.tusDelete)
}

// tusOptions answers tus discovery; it needs no token (it tells nothing about anyone).
func (s *Server) tusOptions(c *fiber.Ctx) error {
	c.Set("Tus-Resumable", tusVersion)
	c.Set("Tus-Version", tusVersion)
	c.Set("Tus-Extension", tusExtensions)
	c.Set("Tus-Max-Size", strconv.FormatInt(s.uploads.Config().MaxSize, 10))
	c.Set("Tus-Checksum-Algorithm", "sha256")
	return c.SendStatus(fiber.StatusNoContent)
}

// tusHeader marks every answer of the upload routes, errors included, as tus.
func tusHeader(c *fiber.Ctx) error {
	c.Set("Tus-Resumable", tusVersion)
	return c.Next()
}

// tusResumable refuses requests of another tus version (412).
func (s *Server) tusResumable(c *fiber.Ctx) error {
	if v := c.Get("Tus-Resumable"); v != tusVersion {
		c.Set("Tus-Version", tusVersion)
		return problem(fiber.StatusPreconditionFailed, "tus-version", "Unsupported tus version",
			"This server speaks tus "+tusVersion+"; send the header Tus-Resumable: "+tusVersion+".")
	}
	return c.Next()
}

// parseUploadMetadata reads tus Upload-Metadata: comma-separated "key base64value" pairs.
func parseUploadMetadata(h string) (map[string]string, error) {
	out := map[string]string{}
	if strings.TrimSpace(h) == "" {
		return out, nil
	}
	for _, pair := range strings.Split(h, ",") {
		key, val, _ := strings.Cut(strings.TrimSpace(pair), " ")
		if key == "" || strings.ContainsAny(key, " \t") {
			return nil, errors.New("a metadata key is empty or holds spaces")
		}
		if _, dup := out[key]; dup {
			return nil, errors.New("metadata key " + strconv.Quote(key) + " appears twice")
		}
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(val))
		if err != nil {
			return nil, errors.New("the value of metadata key " + strconv.Quote(key) + " is not base64")
		}
		out[key] = string(b)
	}
	return out, nil
}

func (s *Server) tusCreate(c *fiber.Ctx) error {
	if c.Get("Upload-Defer-Length") != "" {
		return errBadRequest("Upload-Defer-Length is not supported: announce the photo's size in Upload-Length.")
	}
	if len(c.Body()) > 0 {
		return errBadRequest("Creation takes no body here (creation-with-upload is not supported); send the bytes with PATCH.")
	}
	raw := c.Get("Upload-Metadata")
	if len(raw) > 4096 {
		return errBadRequest("Upload-Metadata must be at most 4096 bytes.")
	}
	meta, err := parseUploadMetadata(raw)
	if err != nil {
		return errBadRequest("Upload-Metadata is malformed: " + err.Error() + ".")
	}
	length, ok := parseDigits(c.Get("Upload-Length"))
	if !ok {
		return errBadRequest("Upload-Length must be the photo's size in bytes, in digits only.")
	}
	if length > s.uploads.Config().MaxSize {
		p := problem(fiber.StatusRequestEntityTooLarge, "photo-too-large", "Photo too large",
			"A photo may be at most "+strconv.FormatInt(s.uploads.Config().MaxSize, 10)+" bytes.")
		p.Extra = map[string]any{"limit_bytes": s.uploads.Config().MaxSize}
		return p
	}
	pid, _ := uuid.Parse(meta["photo_id"])
	n := fsync.NewUpload{Length: length, PhotoID: pid, SHA256: meta["sha256"], Filename: meta["filename"],
		ContentType: meta["content_type"], RawMetadata: raw}
	up, err := s.uploads.Create(c.UserContext(), actorOf(c), n)
	if err != nil {
		return uploadError(err)
	}
	c.Set(fiber.HeaderLocation, uploadsPath+"/"+up.ID.String())
	c.Set("Upload-Expires", up.ExpiresAt.Format(http.TimeFormat))
	c.Set("Upload-Offset", "0")
	c.Status(fiber.StatusCreated)
	return nil
}

func (s *Server) tusHead(c *fiber.Ctx) error {
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return errNotFound("No such upload.")
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	up, err := s.uploads.Get(c.UserContext(), actorOf(c), id)
	if err != nil {
		return uploadError(err)
	}
	if up.State == storage.UploadFailed || up.State == storage.UploadTerminated ||
		(up.State == storage.UploadReceiving && time.Now().After(up.ExpiresAt)) {
		return uploadError(fsync.ErrUploadGone)
	}
	c.Set("Upload-Offset", strconv.FormatInt(up.Offset, 10))
	c.Set("Upload-Length", strconv.FormatInt(up.Length, 10))
	if up.State == storage.UploadReceiving {
		c.Set("Upload-Expires", up.ExpiresAt.Format(http.TimeFormat))
	}
	return c.SendStatus(fiber.StatusOK)
}

func (s *Server) tusPatch(c *fiber.Ctx) error {
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return errNotFound("No such upload.")
	}
	if ct := c.Get(fiber.HeaderContentType); ct != offsetStream {
		return fiber.NewError(fiber.StatusUnsupportedMediaType, "A PATCH carries Content-Type: "+offsetStream+".")
	}
	offset, ok := parseDigits(c.Get("Upload-Offset"))
	if !ok {
		return errBadRequest("Upload-Offset must be the byte offset this body starts at, in digits only.")
	}
	var checksum []byte
	if h := c.Get("Upload-Checksum"); h != "" {
		algo, val, _ := strings.Cut(h, " ")
		if algo != "sha256" {
			return errBadRequest("Upload-Checksum supports sha256 only (see Tus-Checksum-Algorithm).")
		}
		if checksum, err = base64.StdEncoding.DecodeString(val); err != nil || len(checksum) != 32 {
			return errBadRequest("Upload-Checksum must be \"sha256 <base64 of the body's 32-byte sha256>\".")
		}
	}
	body := c.Context().RequestBodyStream()
	if body == nil {
		body = bytes.NewReader(c.Body())
	}
	cl := int64(c.Request().Header.ContentLength())
	if cl < 0 {
		cl = -1
	}
	newOffset, err := s.uploads.Patch(c.UserContext(), actorOf(c), id, offset, cl, body, checksum)
	if err != nil {
		var mm *fsync.ErrOffsetMismatch
		switch {
		case errors.As(err, &mm):
			c.Set("Upload-Offset", strconv.FormatInt(mm.Expected, 10))
		case errors.Is(err, fsync.ErrUploadComplete):
			c.Set("Upload-Offset", strconv.FormatInt(newOffset, 10))
		}
		return uploadError(err)
	}
	c.Set("Upload-Offset", strconv.FormatInt(newOffset, 10))
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) tusDelete(c *fiber.Ctx) error {
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return errNotFound("No such upload.")
	}
	if err := s.uploads.Terminate(c.UserContext(), actorOf(c), id); err != nil {
		return uploadError(err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// uploadError maps the upload service's errors to problems; others go to the error handler.
func uploadError(err error) error {
	var mm *fsync.ErrOffsetMismatch
	switch {
	case errors.As(err, &mm):
		p := problem(fiber.StatusConflict, "upload-offset", "Wrong offset",
			"The upload is at offset "+strconv.FormatInt(mm.Expected, 10)+"; resume from there (HEAD tells it).")
		p.Extra = map[string]any{"expected_offset": mm.Expected}
		return p
	case errors.Is(err, storage.ErrNotFound):
		return errNotFound("No such upload (uploads belong to the device that created them).")
	case errors.Is(err, fsync.ErrUploadComplete):
		// tus 1.0 answers 403 only to a PATCH of a concatenation's final upload (not offered here);
		// the IETF resumable-upload draft refuses any write to a completed upload. 409 (its state
		// forbids the write) makes tus clients ask HEAD, which shows it complete; on a 403
		// tus-js-client and fieldctl would give the photo up.
		return problem(fiber.StatusConflict, "upload-complete", "Upload complete",
			"This upload has all its bytes and takes no more; HEAD shows its final offset.")
	case errors.Is(err, fsync.ErrUploadGone):
		return problem(fiber.StatusGone, "upload-gone", "Upload gone",
			"The upload failed, expired or was terminated; create a new one.")
	case errors.Is(err, fsync.ErrChunkChecksum):
		return problem(statusChecksum, "checksum-mismatch", "Checksum mismatch",
			"The body does not match its Upload-Checksum; nothing of it was kept. Send it again.")
	case errors.Is(err, fsync.ErrFileChecksum):
		return problem(statusChecksum, "file-checksum-mismatch", "File checksum mismatch",
			"The whole file does not hash to the sha256 in its metadata; the upload failed and nothing was kept.")
	case errors.Is(err, fsync.ErrUnsupportedType):
		return problem(fiber.StatusUnsupportedMediaType, "not-a-photo", "Not a photo",
			"Only JPEG, PNG and HEIC images are accepted; the upload failed and nothing was kept.")
	case errors.Is(err, fsync.ErrUploadTooLarge):
		return problem(fiber.StatusRequestEntityTooLarge, "upload-overflow", "More bytes than announced",
			"The body goes beyond the upload's Upload-Length.")
	case errors.Is(err, fsync.ErrPhotoTaken):
		return problem(fiber.StatusConflict, "photo-taken", "Photo id taken",
			"This photo id belongs to another user; photo ids are UUIDs made on the phone.")
	case errors.Is(err, fsync.ErrPhotoBytes):
		return problem(fiber.StatusConflict, "photo-bytes-differ", "Photo has other bytes",
			"This photo id already holds a file with another sha256.")
	case errors.Is(err, fsync.ErrTooManyUploads):
		p := problem(fiber.StatusTooManyRequests, "too-many-uploads", "Too many unfinished uploads",
			"Finish or terminate some uploads before starting more.")
		p.RetryAfter = 60
		return p
	case errors.Is(err, fsync.ErrBodyIncomplete):
		return problem(fiber.StatusBadRequest, "body-incomplete", "Body incomplete",
			"The body ended before its Content-Length; the bytes received were kept unless a checksum was sent. HEAD tells the offset.")
	}
	return err
}

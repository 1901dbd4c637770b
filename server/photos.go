package server

import (
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// presignTTL is how long a redirect to the object store stays valid.
const presignTTL = 5 * time.Minute

func (s *Server) photoRoutes(app *fiber.App, authed fiber.Handler) {
	app.Get("/v1/photos/:id", authed, s.getPhoto)
	app.Get("/v1/photos/:id/content", authed, s.photoContent)
	app.Get("/v1/photos/:id/thumbnail", authed, s.photoThumbnail)
}

func (s *Server) photoOf(c *fiber.Ctx) (models.PhotoData, error) {
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return models.PhotoData{}, errNotFound("No such photo.")
	}
	pd, err := s.sync.Photo(c.UserContext(), actorOf(c), id)
	if errors.Is(err, storage.ErrNotFound) {
		return pd, errNotFound("No such photo in your scope.")
	}
	return pd, err
}

func (s *Server) getPhoto(c *fiber.Ctx) error {
	pd, err := s.photoOf(c)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "private, no-cache")
	return c.JSON(pd)
}

func (s *Server) photoContent(c *fiber.Ctx) error {
	pd, err := s.photoOf(c)
	if err != nil {
		return err
	}
	if pd.Blob == nil {
		return problem(fiber.StatusConflict, "photo-pending-upload", "Photo not uploaded yet",
			"The photo is attached but its bytes have not arrived; try again after the phone syncs.")
	}
	ct := servedType(pd.Blob.ContentType)
	return s.serveObject(c, storage.PhotoKey(pd.Blob.SHA256), ct, photoFilename(pd.ID, pd.Blob.Filename, ct))
}

func (s *Server) photoThumbnail(c *fiber.Ctx) error {
	pd, err := s.photoOf(c)
	if err != nil {
		return err
	}
	switch {
	case pd.Blob == nil:
		return problem(fiber.StatusConflict, "photo-pending-upload", "Photo not uploaded yet",
			"The photo is attached but its bytes have not arrived; try again after the phone syncs.")
	case pd.Blob.Thumbnail == models.ThumbPending:
		p := problem(fiber.StatusServiceUnavailable, "thumbnail-pending", "Thumbnail not ready",
			"The thumbnail is being made; retry shortly.")
		p.RetryAfter = 2
		return p
	case pd.Blob.Thumbnail == models.ThumbUnavailable:
		return problem(fiber.StatusNotFound, "thumbnail-unavailable", "No thumbnail",
			"No thumbnail can be made of this photo: "+pd.Blob.ThumbnailError+". The original is at /content.")
	}
	return s.serveObject(c, storage.ThumbnailKey(pd.Blob.SHA256), models.ContentJPEG, pd.ID.String()+"-thumb.jpg")
}

// serveObject answers with a short-lived presigned redirect when the store can make one (MinIO),
// else streams the object (the local directory). Either way the bytes come with contentType (the
// type sniffed from the bytes at upload, never what the phone said), X-Content-Type-Options:
// nosniff and the Content-Disposition of filename: the presigned URL makes the object store
// answer with the same two headers (response-content-type, response-content-disposition).
func (s *Server) serveObject(c *fiber.Ctx, key, contentType, filename string) error {
	ctx := c.UserContext()
	disposition := contentDisposition(filename)
	url, ok, err := s.blob.PresignGet(ctx, key, presignTTL, disposition, contentType)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "private, max-age=60")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	if ok {
		return c.Redirect(url, fiber.StatusFound)
	}
	r, info, err := s.blob.Get(ctx, key)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, contentType)
	c.Set(fiber.HeaderContentDisposition, disposition)
	c.Set(fiber.HeaderContentLength, strconv.FormatInt(info.Size, 10))
	c.Context().SetBodyStream(readCloser{r}, int(info.Size))
	return nil
}

// readCloser lets fasthttp close the object once it has sent it.
type readCloser struct{ io.ReadCloser }

// servedType is the Content-Type photo bytes are served with: the stored sniffed type when it is
// one of the photo types, else application/octet-stream.
func servedType(ct string) string {
	switch ct {
	case models.ContentJPEG, models.ContentPNG, models.ContentHEIC:
		return ct
	}
	return "application/octet-stream"
}

// photoExtensions are the file extensions that name each photo type; the first is the one added.
var photoExtensions = map[string][]string{
	models.ContentJPEG: {".jpg", ".jpeg"},
	models.ContentPNG:  {".png"},
	models.ContentHEIC: {".heic", ".heif"},
}

// photoFilename is the download name of a photo: its stored original name (sanitised again, for
// names stored before sanitising) or its id, always ending in an extension of the served type, so
// a saved "x.html" that is really a JPEG becomes "x.html.jpg".
func photoFilename(id uuid.UUID, stored, ct string) string {
	name := models.SanitizeFilename(stored)
	if name == "" {
		name = id.String()
	}
	exts := photoExtensions[ct]
	if len(exts) == 0 || slices.Contains(exts, strings.ToLower(path.Ext(name))) {
		return name
	}
	return name + exts[0]
}

// contentDisposition is the Content-Disposition of photo bytes: inline, with the name twice, as
// plain ASCII for old clients (filename=, every other character, quote, backslash and percent
// made "_") and exactly in UTF-8 (filename*=, RFC 8187 percent-encoding). The name is sanitised
// first, so no CR, LF, control or bidirectional character or path separator reaches the header.
func contentDisposition(name string) string {
	name = models.SanitizeFilename(name)
	var ascii, exact strings.Builder
	for _, r := range name {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' || r == '%' {
			ascii.WriteByte('_')
		} else {
			ascii.WriteRune(r)
		}
	}
	for _, b := range []byte(name) {
		if isAttrChar(b) {
			exact.WriteByte(b)
		} else {
			fmt.Fprintf(&exact, "%%%02X", b)
		}
	}
	return `inline; filename="` + ascii.String() + `"; filename*=UTF-8''` + exact.String()
}

// isAttrChar reports whether b may stand unencoded in an RFC 8187 ext-value (attr-char).
func isAttrChar(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	}
	return strings.IndexByte("!#$&+-.^_`|~", b) >= 0
}

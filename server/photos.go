package server

import (
	"errors"
	"io"
	"path"
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
	name := pd.Blob.Filename
	if name == "" {
		name = pd.ID.String() + extensionOf(pd.Blob.ContentType)
	}
	return s.serveObject(c, storage.PhotoKey(pd.Blob.SHA256), pd.Blob.ContentType, path.Base(name))
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
// else streams the object (the local directory).
func (s *Server) serveObject(c *fiber.Ctx, key, contentType, filename string) error {
	ctx := c.UserContext()
	url, ok, err := s.blob.PresignGet(ctx, key, presignTTL, filename, contentType)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "private, max-age=60")
	if ok {
		return c.Redirect(url, fiber.StatusFound)
	}
	r, info, err := s.blob.Get(ctx, key)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, contentType)
	c.Set(fiber.HeaderContentDisposition, `inline; filename="`+strings.ReplaceAll(filename, `"`, "")+`"`)
	c.Set(fiber.HeaderContentLength, strconv.FormatInt(info.Size, 10))
	c.Context().SetBodyStream(readCloser{r}, int(info.Size))
	return nil
}

// readCloser lets fasthttp close the object once it has sent it.
type readCloser struct{ io.ReadCloser }

func extensionOf(ct string) string {
	switch ct {
	case models.ContentPNG:
		return ".png"
	case models.ContentHEIC:
		return ".heic"
	}
	return ".jpg"
}

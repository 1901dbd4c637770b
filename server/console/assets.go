package console

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"path"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"
)

// assets holds the console's own CSS and scripts and the vendored libraries (assets/vendor, see
// vendor.sh): everything a page loads comes from the binary.
//
//go:embed assets
var assetFS embed.FS

const assetsPrefix = "/assets"

type asset struct {
	body        []byte
	etag        string
	contentType string
}

var (
	assetsOnce sync.Once
	assetIndex map[string]asset
)

// loadAssets reads every embedded asset once, with its ETag (a hash of its bytes).
func loadAssets() map[string]asset {
	assetsOnce.Do(func() {
		assetIndex = map[string]asset{}
		_ = fs.WalkDir(assetFS, "assets", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || strings.HasSuffix(p, "SHA256SUMS") || strings.HasSuffix(p, "LICENSE") {
				return err
			}
			b, err := assetFS.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			ct := mime.TypeByExtension(path.Ext(p))
			if ct == "" {
				ct = "application/octet-stream"
			}
			assetIndex[strings.TrimPrefix(p, "assets/")] = asset{body: b, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, contentType: ct}
			return nil
		})
	})
	return assetIndex
}

// assets serves /assets/<path>; browsers revalidate after an hour (an unchanged file is a 304).
func (k *Console) assets(c *fiber.Ctx) error {
	a, ok := loadAssets()[c.Params("*")]
	if !ok {
		return &fiber.Error{Code: fiber.StatusNotFound, Message: "no such asset"}
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
	c.Set(fiber.HeaderETag, a.etag)
	if c.Get(fiber.HeaderIfNoneMatch) == a.etag {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, a.contentType)
	return c.Send(a.body)
}

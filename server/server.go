// Package server is fieldsync's HTTP layer: the Fiber app, routes, middleware, authentication,
// request and response types and problem+json errors. Rules live in models, persistence in storage.
// Handlers read through storage but write only through the sync engine (the one owner of synced
// writes and the audit log): decode, call the engine with the caller as actor, respond.
package server

import (
	"log/slog"
	"net/netip"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/server/console"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/fieldsync/fieldsync/storage/blob"
	fsync "github.com/fieldsync/fieldsync/sync"
	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// Config holds the HTTP layer's settings; cmd/fieldsync fills it from FIELDSYNC_* and flags.
type Config struct {
	Version        string
	BodyLimit      int           // bytes of a JSON request body (default 1 MiB)
	RequestTimeout time.Duration // carried in c.UserContext() (default 30 s)
	TokenTTL       time.Duration // lifetime of a bearer token (default 30 days: phones stay offline long)
	Password       models.PasswordParams
	Login          LoginThrottle
	TrustedProxies []string // client IPs are read from X-Forwarded-For only behind these proxies
	PushBodyLimit  int      // bytes of a sync push body (default 32 MiB: 1,000 mutations with answers)
	Sync           fsync.Config
	Uploads        fsync.UploadConfig
	PDFFont        string // TrueType font with Chinese glyphs for PDF reports; "" = automatic (report_pdf.go)
	// MapTileURL is an optional tile server for the console's map ({z}/{x}/{y} URL template).
	MapTileURL string
	// ImageOrigins are origins besides this server that the console's pages load images from: the
	// photo store's presigned URLs (MinIO).
	ImageOrigins []string
}

// DefaultConfig returns the production defaults.
func DefaultConfig() Config {
	return Config{
		Version:        "dev",
		BodyLimit:      1 << 20,
		RequestTimeout: 30 * time.Second,
		TokenTTL:       30 * 24 * time.Hour,
		Password:       models.DefaultPasswordParams,
		Login:          DefaultLoginThrottle(),
		PushBodyLimit:  32 << 20,
		Sync:           fsync.DefaultConfig(),
		Uploads:        fsync.DefaultUploadConfig(),
		PDFFont:        "", // the machine's Droid Sans Fallback, else the built-in subset
	}
}

// Deps are what the server needs from the outside.
type Deps struct {
	Store *storage.Store
	Blob  blob.Store // photo bytes (MinIO or a local directory)
	// Uploads is the photo upload service, shared with the thumbnail worker so a finished upload
	// wakes it at once; nil = the server makes its own from Blob.
	Uploads  *fsync.Uploads
	Log      *slog.Logger
	Config   Config
	Registry *prometheus.Registry // nil = a fresh registry
}

// Server holds the handlers' dependencies. It has no package-level state: tests build as many as
// they like side by side.
type Server struct {
	store     *storage.Store
	blob      blob.Store
	log       *slog.Logger
	cfg       Config
	metrics   *metrics
	sync      *fsync.Engine
	uploads   *fsync.Uploads
	dummyHash string         // compared against when a username does not exist, so timing reveals nothing
	trusted   []netip.Prefix // TrustedProxies, parsed
	font      pdfFont
	cursors   cursorKeys // the list cursors' codec, once its key is read
}

// New builds the Fiber app with every route and middleware.
func New(d Deps) (*fiber.App, error) {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	dummy, err := models.HashPassword("fieldsync-dummy-password", d.Config.Password)
	if err != nil {
		return nil, err
	}
	syncCfg := d.Config.Sync
	syncCfg.Password = d.Config.Password // the engine hashes the passwords admins set
	s := &Server{store: d.Store, blob: d.Blob, log: d.Log, cfg: d.Config, dummyHash: dummy, sync: fsync.New(d.Store, syncCfg)}
	if s.trusted, err = parseTrustedProxies(d.Config.TrustedProxies); err != nil {
		return nil, err
	}
	// A nil Blob is only for tests that list routes without serving them.
	s.uploads = d.Uploads
	if s.uploads == nil {
		s.uploads = fsync.NewUploads(s.sync, d.Blob, d.Config.Uploads, d.Log)
	}
	s.metrics, err = newMetrics(d.Registry, d.Store)
	if err != nil {
		return nil, err
	}
	if err := CheckPDFFont(d.Config.PDFFont); err != nil {
		d.Log.Warn("PDF reports will answer 503 until the font is there", "error", err.Error())
	}
	app := fiber.New(fiber.Config{
		AppName: "fieldsync",
		// Bodies are streamed: JSON routes read theirs through jsonBodyLimit/bodyLimit (bounded);
		// tus PATCH reads its own in segments (server/uploads.go).
		StreamRequestBody:       true,
		BodyLimit:               max(d.Config.BodyLimit, d.Config.PushBodyLimit),
		ErrorHandler:            s.errorHandler,
		DisableStartupMessage:   true,
		ReadBufferSize:          maxRequestHead, // a longer request line and headers: 431 (fiberProblem)
		ReadTimeout:             time.Minute,
		WriteTimeout:            time.Minute,
		IdleTimeout:             2 * time.Minute,
		ProxyHeader:             proxyHeader(d.Config.TrustedProxies),
		EnableTrustedProxyCheck: len(d.Config.TrustedProxies) > 0,
		TrustedProxies:          d.Config.TrustedProxies,
	})
	app.Use(s.requestID, s.access, s.recover, uriLimit, s.timeout, s.jsonBodyLimit, s.watchClient)
	s.routes(app)
	web, err := console.New(console.Options{App: app, Log: d.Log, MapTileURL: d.Config.MapTileURL,
		ImageOrigins: d.Config.ImageOrigins, Version: d.Config.Version})
	if err != nil {
		return nil, err
	}
	web.Register(app)
	app.Use(func(c *fiber.Ctx) error {
		c.Locals(localUnmatched, true)
		return errNotFound("No route matches " + c.Method() + " " + c.Path() + ".")
	})
	return app, nil
}

// pushPath is the one route with a body limit of its own (PushBodyLimit).
const pushPath = "/v1/sync/push"

func proxyHeader(trusted []string) string {
	if len(trusted) == 0 {
		return ""
	}
	return fiber.HeaderXForwardedFor
}

func (s *Server) routes(app *fiber.App) {
	app.Get("/healthz", s.healthz)
	app.Get("/readyz", s.readyz)

	// Authentication is attached per route, not to a prefix, so an unknown path is a 404 for
	// everyone rather than a 401 that hides it.
	authed := s.authenticate
	admin := []fiber.Handler{s.authenticate, requireRole(models.RoleAdmin)}
	with := func(h fiber.Handler) []fiber.Handler { return append(append([]fiber.Handler{}, admin...), h) }

	app.Post("/v1/auth/login", s.login)
	app.Post("/v1/auth/logout", authed, s.logout)
	app.Get("/v1/auth/session", authed, s.session)
	app.Get("/v1/regions", authed, s.listRegions)
	app.Post(pushPath, authed, s.bodyLimit(s.cfg.PushBodyLimit), s.push)
	app.Post("/v1/sync/pull", authed, s.pull)
	// Admins may read conflicts; deciding them is supervision work (DOMAIN.md).
	app.Get("/v1/conflicts", authed, requireRole(models.RoleSupervisor, models.RoleAdmin), s.listConflicts)
	app.Post("/v1/conflicts/:id/resolve", authed, requireRole(models.RoleSupervisor), s.resolveConflict)

	app.Get("/v1/admin/users", with(s.adminListUsers)...)
	app.Post("/v1/admin/users", with(s.adminCreateUser)...)
	app.Get("/v1/admin/users/:id", with(s.adminGetUser)...)
	app.Patch("/v1/admin/users/:id", with(s.adminUpdateUser)...)
	app.Post("/v1/admin/users/:id/disable", with(s.adminDisableUser)...)
	app.Get("/v1/admin/devices", with(s.adminListDevices)...)
	app.Post("/v1/admin/devices/:id/revoke", with(s.adminRevokeDevice)...)
	app.Get("/v1/admin/regions", with(s.adminListRegions)...)
	app.Post("/v1/admin/regions", with(s.adminCreateRegion)...)
	app.Patch("/v1/admin/regions/:id", with(s.adminUpdateRegion)...)
	app.Get("/v1/admin/audit", with(s.adminListAudit)...)
	s.siteRoutes(app, with)
	s.checklistRoutes(app, authed, with)
	s.reportRoutes(app, authed)
	s.uploadRoutes(app, authed)
	s.photoRoutes(app, authed)
}

// Package console is the supervisor web console that `fieldsync serve` serves at "/": server-rendered
// pages (html/template) with a little script (htmx for partial updates, Leaflet with
// Leaflet.markercluster for the map), every asset embedded in the binary.
//
// The console is a client of the /v1 API, called in-process (api.go): each page asks the same
// routes a phone or an admin tool asks, with the session's token, so roles, scopes, validation,
// audit and every write path are the API's own code. A browser session is an ordinary token bound to
// a "device" that is the browser; the /v1 GET routes also accept its cookie, so the map, photos,
// PDFs and exports are fetched straight from the report endpoints.
package console

import (
	"errors"
	"html/template"
	"log/slog"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// Options configure the console.
type Options struct {
	// App is the Fiber app whose /v1 routes the console calls in-process.
	App *fiber.App
	Log *slog.Logger
	// MapTileURL is an optional tile server (e.g. an intranet one), {z}/{x}/{y} URL template; the
	// default map draws only our own data.
	MapTileURL string
	// ImageOrigins are origins besides this server that images come from (the photo store's
	// presigned URLs, the tile server), allowed by the pages' Content-Security-Policy.
	ImageOrigins []string
	Version      string
}

// Console serves the pages.
type Console struct {
	opts  Options
	log   *slog.Logger
	api   *api
	pages map[string]map[string]*template.Template // language → page → template
	csp   string
}

// New parses the templates and prepares the console; Register mounts it.
func New(o Options) (*Console, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.MapTileURL != "" {
		if err := CheckTileURL(o.MapTileURL); err != nil {
			return nil, err
		}
		if origin := originOf(o.MapTileURL); origin != "" {
			o.ImageOrigins = append(o.ImageOrigins, origin)
		}
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	k := &Console{opts: o, log: o.Log, api: &api{app: o.App}, pages: pages}
	k.csp = contentSecurityPolicy(o.ImageOrigins)
	return k, nil
}

// CheckTileURL accepts an http(s) URL template with {z}, {x} and {y}.
func CheckTileURL(raw string) error {
	u, err := url.Parse(strings.NewReplacer("{", "", "}", "").Replace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("console: map tile URL must be an http(s) URL such as https://tiles.example/{z}/{x}/{y}.png")
	}
	for _, p := range []string{"{z}", "{x}", "{y}"} {
		if !strings.Contains(raw, p) {
			return errors.New("console: map tile URL must contain {z}, {x} and {y}")
		}
	}
	return nil
}

// originOf is scheme://host of a URL (placeholders in the host are kept as written).
func originOf(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return ""
	}
	host, _, _ := strings.Cut(rest, "/")
	if strings.ContainsAny(host, "{}") {
		return scheme + ":" // a {s} subdomain template: allow the scheme
	}
	return scheme + "://" + host
}

// contentSecurityPolicy allows scripts and styles from this server only (no inline script: the
// pages pass data in data- attributes), images from here, data: URLs and the given origins.
func contentSecurityPolicy(imageOrigins []string) string {
	img := append([]string{"'self'", "data:", "blob:"}, imageOrigins...)
	return "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src " + strings.Join(img, " ") +
		"; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

// route is one console route.
type route struct {
	method, path string
	handler      fiber.Handler
}

func (k *Console) routes() []route {
	return []route{
		{fiber.MethodGet, "/", k.page(k.overview)},
		{fiber.MethodGet, "/login", k.loginPage},
		{fiber.MethodPost, "/login", k.loginPost},
		{fiber.MethodPost, "/logout", k.action(k.logout)},
		{fiber.MethodGet, "/visits", k.page(k.visits)},
		{fiber.MethodGet, "/map", k.page(k.mapPage)},
		{fiber.MethodGet, "/visits/:id", k.page(k.visit)},
		{fiber.MethodGet, "/photos/:id", k.page(k.photo)},
		{fiber.MethodGet, "/findings", k.page(k.findings)},
		{fiber.MethodPost, "/findings/:id/recheck", k.action(k.recheck)},
		{fiber.MethodGet, "/admin", k.page(k.adminHome)},
		{fiber.MethodGet, "/admin/users", k.page(k.adminUsers)},
		{fiber.MethodPost, "/admin/users", k.action(k.adminCreateUser)},
		{fiber.MethodPost, "/admin/users/:id", k.action(k.adminUpdateUser)},
		{fiber.MethodPost, "/admin/users/:id/disable", k.action(k.adminDisableUser)},
		{fiber.MethodGet, "/admin/devices", k.page(k.adminDevices)},
		{fiber.MethodPost, "/admin/devices/:id/revoke", k.action(k.adminRevokeDevice)},
		{fiber.MethodGet, "/admin/regions", k.page(k.adminRegions)},
		{fiber.MethodPost, "/admin/regions", k.action(k.adminCreateRegion)},
		{fiber.MethodPost, "/admin/regions/:id", k.action(k.adminUpdateRegion)},
		{fiber.MethodGet, "/admin/sites", k.page(k.adminSites)},
		{fiber.MethodPost, "/admin/sites", k.action(k.adminCreateSite)},
		{fiber.MethodPost, "/admin/sites/:id/archive", k.action(k.adminArchiveSite)},
		{fiber.MethodGet, assetsPrefix + "/*", k.assets},
	}
}

// Paths lists the route paths the console registers (HTML pages, form posts and assets: not part
// of the /v1 API contract).
func Paths() []string {
	var k Console
	var out []string
	for _, r := range k.routes() {
		out = append(out, r.path)
	}
	return out
}

// Register mounts the console's routes on r.
func (k *Console) Register(r fiber.Router) {
	for _, rt := range k.routes() {
		r.Add(rt.method, rt.path, k.headers, rt.handler)
	}
}

// headers sets the security headers of every console response.
func (k *Console) headers(c *fiber.Ctx) error {
	c.Set("Content-Security-Policy", k.csp)
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Referrer-Policy", "same-origin")
	c.Set("X-Frame-Options", "DENY")
	return c.Next()
}

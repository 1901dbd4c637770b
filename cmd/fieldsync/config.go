package main

import (
	"errors"
	"flag"
	"fmt"
	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/server/console"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// config is every setting, read once from FIELDSYNC_* variables and then from flags (flags win).
type config struct {
	Addr           string
	MetricsAddr    string
	DataDir        string
	DatabaseURL    string
	S3Endpoint     string
	S3AccessKey    string
	S3SecretKey    string
	S3Bucket       string
	S3UseSSL       bool
	LogLevel       string
	BodyLimit      int
	RequestTimeout time.Duration
	TokenTTL       time.Duration
	TrustedProxies string
	Demo           bool
	PushMax        int
	PushBodyLimit  int
	Retention      time.Duration
	ResultWindow   time.Duration
	CoverageBuffer float64
	PDFFont        string
	MapTileURL     string
	MaxPhotoBytes  int
	UploadExpiry   time.Duration
	Verdict        models.VerdictThresholds
}

// setting describes one FIELDSYNC_* variable and its flag; the README's table lists the same.
type setting struct {
	env, flag, def, usage string
	bind                  func(fs *flag.FlagSet, name, def, usage string)
}

func settings(c *config) []setting {
	str := func(p *string) func(*flag.FlagSet, string, string, string) {
		return func(fs *flag.FlagSet, n, d, u string) { fs.StringVar(p, n, d, u) }
	}
	return append([]setting{
		{"FIELDSYNC_ADDR", "addr", ":8080", "address to listen on (host:port)", str(&c.Addr)},
		{"FIELDSYNC_METRICS_ADDR", "metrics-addr", "127.0.0.1:9464", "address of the Prometheus /metrics listener (host:port); empty = no metrics", str(&c.MetricsAddr)},
		{"FIELDSYNC_DATA_DIR", "data-dir", "./data", "directory for the embedded PostgreSQL cluster and local photos", str(&c.DataDir)},
		{"FIELDSYNC_DATABASE_URL", "database-url", "", "PostgreSQL URL; empty = embedded cluster under the data directory", str(&c.DatabaseURL)},
		{"FIELDSYNC_S3_ENDPOINT", "s3-endpoint", "", "S3/MinIO endpoint host:port; empty = local photo directory", str(&c.S3Endpoint)},
		{"FIELDSYNC_S3_ACCESS_KEY", "s3-access-key", "", "S3 access key", str(&c.S3AccessKey)},
		{"FIELDSYNC_S3_SECRET_KEY", "s3-secret-key", "", "S3 secret key", str(&c.S3SecretKey)},
		{"FIELDSYNC_S3_BUCKET", "s3-bucket", "fieldsync", "S3 bucket for photos (created if missing)", str(&c.S3Bucket)},
		{"FIELDSYNC_S3_USE_SSL", "s3-use-ssl", "false", "use TLS to reach S3 (true/false)", boolSetting(&c.S3UseSSL)},
		{"FIELDSYNC_LOG_LEVEL", "log-level", "info", "debug, info, warn or error", str(&c.LogLevel)},
		{"FIELDSYNC_BODY_LIMIT", "body-limit", "1048576", "largest JSON request body in bytes", intSetting(&c.BodyLimit)},
		{"FIELDSYNC_REQUEST_TIMEOUT", "request-timeout", "30s", "deadline of one request", durSetting(&c.RequestTimeout)},
		{"FIELDSYNC_TOKEN_TTL", "token-ttl", "720h", "lifetime of a login token", durSetting(&c.TokenTTL)},
		{"FIELDSYNC_TRUSTED_PROXIES", "trusted-proxies", "", "comma-separated proxy IPs whose X-Forwarded-For is believed", str(&c.TrustedProxies)},
		{"FIELDSYNC_DEMO", "demo", "false", "load the demo city when the database has no users", boolSetting(&c.Demo)},
		{"FIELDSYNC_PUSH_MAX_MUTATIONS", "push-max-mutations", "1000", "most mutations in one sync push (more: 413)", intSetting(&c.PushMax)},
		{"FIELDSYNC_PUSH_BODY_LIMIT", "push-body-limit", "33554432", "largest sync push body in bytes", intSetting(&c.PushBodyLimit)},
		{"FIELDSYNC_COVERAGE_BUFFER_M", "coverage-buffer-m", "100", "a patrol covers the part of its area within this many metres of its track", floatSetting(&c.CoverageBuffer)},
		{"FIELDSYNC_RETENTION", "retention", "2160h", "how long deletes (tombstones) and the change log are kept; older cursors reset", durSetting(&c.Retention)},
		{"FIELDSYNC_RESULT_RETENTION", "result-retention", "0s", "how long stored push results are kept for replay (0 = FIELDSYNC_RETENTION); older replays are answered expired", durSetting(&c.ResultWindow)},
		{"FIELDSYNC_PDF_FONT", "pdf-font", "", "TrueType font with Chinese glyphs for PDF reports (empty: Debian's fonts-droid-fallback when installed, else the built-in GB 2312 subset)", str(&c.PDFFont)},
		{"FIELDSYNC_MAP_TILE_URL", "map-tile-url", "", "web console: an intranet map tile server, e.g. https://tiles.example/{z}/{x}/{y}.png; empty = our own region data only", str(&c.MapTileURL)},
	}, photoSettings(c)...)
}

// settingError names the bad setting both ways, so the operator finds it whichever they used.
type settingError struct{ env, flag, msg string }

func (e *settingError) Error() string {
	return fmt.Sprintf("invalid setting %s (flag -%s): %s", e.env, e.flag, e.msg)
}

type boolValue struct{ p *bool }

func (b boolValue) String() string {
	if b.p == nil {
		return "false"
	}
	return strconv.FormatBool(*b.p)
}
func (b boolValue) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return errors.New("must be true or false")
	}
	*b.p = v
	return nil
}
func (b boolValue) IsBoolFlag() bool { return true }

type intValue struct{ p *int }

func (v intValue) String() string {
	if v.p == nil {
		return "0"
	}
	return strconv.Itoa(*v.p)
}
func (v intValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return errors.New("must be a whole number")
	}
	*v.p = n
	return nil
}

type durValue struct{ p *time.Duration }

func (v durValue) String() string {
	if v.p == nil {
		return "0s"
	}
	return v.p.String()
}
func (v durValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return errors.New("must be a duration such as 30s, 15m or 720h")
	}
	*v.p = d
	return nil
}

type floatValue struct{ p *float64 }

func (v floatValue) String() string {
	if v.p == nil {
		return "0"
	}
	return strconv.FormatFloat(*v.p, 'f', -1, 64)
}
func (v floatValue) Set(s string) error {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return errors.New("must be a number")
	}
	*v.p = f
	return nil
}

func floatSetting(p *float64) func(*flag.FlagSet, string, string, string) {
	return func(fs *flag.FlagSet, n, d, u string) { _ = floatValue{p}.Set(d); fs.Var(floatValue{p}, n, u) }
}

func boolSetting(p *bool) func(*flag.FlagSet, string, string, string) {
	return func(fs *flag.FlagSet, n, d, u string) { _ = boolValue{p}.Set(d); fs.Var(boolValue{p}, n, u) }
}
func intSetting(p *int) func(*flag.FlagSet, string, string, string) {
	return func(fs *flag.FlagSet, n, d, u string) { _ = intValue{p}.Set(d); fs.Var(intValue{p}, n, u) }
}
func durSetting(p *time.Duration) func(*flag.FlagSet, string, string, string) {
	return func(fs *flag.FlagSet, n, d, u string) { _ = durValue{p}.Set(d); fs.Var(durValue{p}, n, u) }
}

// bindConfig registers every setting on fs with its default, then applies FIELDSYNC_* variables
// (so flags parsed afterwards override them). A malformed variable is reported by name.
func bindConfig(fs *flag.FlagSet, c *config) error {
	for _, s := range settings(c) {
		s.bind(fs, s.flag, s.def, s.usage+" ["+s.env+"]")
	}
	for _, s := range settings(c) {
		if v, ok := os.LookupEnv(s.env); ok {
			if err := fs.Set(s.flag, v); err != nil {
				return &settingError{s.env, s.flag, rootMsg(err)}
			}
		}
	}
	return nil
}

func rootMsg(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		return msg[i+2:]
	}
	return msg
}

// validate checks the settings together and names the first bad one.
func (c *config) validate() error {
	bad := func(env, fl, format string, a ...any) error { return &settingError{env, fl, fmt.Sprintf(format, a...)} }
	if _, port, err := net.SplitHostPort(c.Addr); err != nil || port == "" {
		return bad("FIELDSYNC_ADDR", "addr", "%q is not host:port (e.g. :8080 or 127.0.0.1:8080)", c.Addr)
	}
	if c.MetricsAddr != "" {
		if _, port, err := net.SplitHostPort(c.MetricsAddr); err != nil || port == "" {
			return bad("FIELDSYNC_METRICS_ADDR", "metrics-addr", "%q is not host:port (e.g. 127.0.0.1:9464), or empty to turn metrics off", c.MetricsAddr)
		}
	}
	if strings.TrimSpace(c.DataDir) == "" {
		return bad("FIELDSYNC_DATA_DIR", "data-dir", "must not be empty")
	}
	if c.MapTileURL != "" {
		if err := console.CheckTileURL(c.MapTileURL); err != nil {
			return bad("FIELDSYNC_MAP_TILE_URL", "map-tile-url", "%s", strings.TrimPrefix(err.Error(), "console: "))
		}
	}
	if err := c.validatePhotos(); err != nil {
		return err
	}
	if c.DatabaseURL != "" {
		u, err := url.Parse(c.DatabaseURL)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			return bad("FIELDSYNC_DATABASE_URL", "database-url", "must be a postgres:// URL")
		}
	}
	if c.S3Endpoint != "" {
		if strings.Contains(c.S3Endpoint, "://") {
			return bad("FIELDSYNC_S3_ENDPOINT", "s3-endpoint", "give host:port without a scheme; use FIELDSYNC_S3_USE_SSL for TLS")
		}
		if c.S3AccessKey == "" {
			return bad("FIELDSYNC_S3_ACCESS_KEY", "s3-access-key", "required when FIELDSYNC_S3_ENDPOINT is set")
		}
		if c.S3SecretKey == "" {
			return bad("FIELDSYNC_S3_SECRET_KEY", "s3-secret-key", "required when FIELDSYNC_S3_ENDPOINT is set")
		}
		if len(c.S3Bucket) < 3 || len(c.S3Bucket) > 63 || strings.ToLower(c.S3Bucket) != c.S3Bucket {
			return bad("FIELDSYNC_S3_BUCKET", "s3-bucket", "must be 3–63 lowercase characters")
		}
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		return bad("FIELDSYNC_LOG_LEVEL", "log-level", "%v", err)
	}
	if c.BodyLimit < 1024 || c.BodyLimit > 1<<30 {
		return bad("FIELDSYNC_BODY_LIMIT", "body-limit", "must be between 1024 and 1073741824 bytes")
	}
	if c.RequestTimeout < time.Second {
		return bad("FIELDSYNC_REQUEST_TIMEOUT", "request-timeout", "must be at least 1s")
	}
	if c.TokenTTL < time.Minute {
		return bad("FIELDSYNC_TOKEN_TTL", "token-ttl", "must be at least 1m")
	}
	if c.PushMax < 1 || c.PushMax > 100000 {
		return bad("FIELDSYNC_PUSH_MAX_MUTATIONS", "push-max-mutations", "must be between 1 and 100000")
	}
	if c.PushBodyLimit < c.BodyLimit || c.PushBodyLimit > 1<<30 {
		return bad("FIELDSYNC_PUSH_BODY_LIMIT", "push-body-limit", "must be at least FIELDSYNC_BODY_LIMIT and at most 1073741824 bytes")
	}
	if c.CoverageBuffer < 1 || c.CoverageBuffer > 5000 {
		return bad("FIELDSYNC_COVERAGE_BUFFER_M", "coverage-buffer-m", "must be between 1 and 5000 metres")
	}
	if c.Retention < 24*time.Hour {
		return bad("FIELDSYNC_RETENTION", "retention", "must be at least 24h (phones stay offline for days)")
	}
	if c.ResultWindow == 0 {
		c.ResultWindow = c.Retention
	}
	if c.ResultWindow < 24*time.Hour {
		return bad("FIELDSYNC_RESULT_RETENTION", "result-retention", "must be 0 (the same as FIELDSYNC_RETENTION) or at least 24h (a phone replays a push whose answer it lost at its next sync)")
	}
	for _, p := range c.proxies() {
		if net.ParseIP(p) == nil {
			if _, _, err := net.ParseCIDR(p); err != nil {
				return bad("FIELDSYNC_TRUSTED_PROXIES", "trusted-proxies", "%q is not an IP address or CIDR", p)
			}
		}
	}
	return nil
}

// imageOrigins is where the console's pages load photos from besides this server: MinIO, whose
// presigned URLs the photo routes redirect to.
func (c *config) imageOrigins() []string {
	if c.S3Endpoint == "" {
		return nil
	}
	scheme := "http://"
	if c.S3UseSSL {
		scheme = "https://"
	}
	return []string{scheme + c.S3Endpoint}
}

func (c *config) proxies() []string {
	var out []string
	for _, p := range strings.Split(c.TrustedProxies, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, errors.New("must be debug, info, warn or error")
	}
	return l, nil
}

package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/storage"
	"github.com/fieldsync/fieldsync/storage/pgtest"
	"github.com/fieldsync/fieldsync/storage/storagetest"
	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
)

func TestUnknownRouteIsProblem(t *testing.T) {
	h := newHarness(t)
	for _, p := range []string{"/nope", "/v1/nope", "/v1/admin/nope"} {
		r := h.do("GET", p, "", nil)
		expectStatus(t, r, 404)
		if r.problemType(t) != "not-found" || r.Header.Get(HeaderRequestID) == "" {
			t.Fatalf("%s: %s", p, r.Body)
		}
	}
}

// TestBodyLimit needs a real listener: fasthttp refuses an oversized body while reading it,
// before any handler runs, and app.Test reports that as a transport error.
func TestBodyLimit(t *testing.T) {
	h := newHarness(t)
	// A 2 MiB JSON body to an ordinary route: 413 naming the limit. (Bodies beyond the largest
	// route limit, the push's, are refused by fasthttp before they are read.)
	body := append([]byte(`{"username":"`), bytes.Repeat([]byte("a"), 2<<20)...)
	body = append(body, '"', '}')
	r := h.overTheWire("/v1/auth/login", nil, len(body), body)
	expectStatus(t, r, 413)
	if r.problemType(t) != "body-too-large" || r.json(t)["limit_bytes"] != float64(1<<20) {
		t.Fatal(string(r.Body))
	}
	var n int
	h.store.SQL().QueryRow(`SELECT count(*) FROM audit_log WHERE action LIKE 'auth.%'`).Scan(&n)
	if n != 0 {
		t.Fatal("an oversized request changed something")
	}
}

func TestRequestID(t *testing.T) {
	h := newHarness(t)
	r := h.do("GET", "/healthz", "", nil, HeaderRequestID, "trace-123")
	if r.Header.Get(HeaderRequestID) != "trace-123" {
		t.Fatalf("incoming request id not kept: %q", r.Header.Get(HeaderRequestID))
	}
	r = h.do("GET", "/healthz", "", nil, HeaderRequestID, "bad id\nwith newline")
	if id := r.Header.Get(HeaderRequestID); id == "" || strings.ContainsAny(id, " \n") {
		t.Fatalf("unsafe request id kept: %q", id)
	}
}

func TestHealthReadyMetrics(t *testing.T) {
	h := newHarness(t)
	expectStatus(t, h.do("GET", "/healthz", "", nil), 200)
	expectStatus(t, h.do("GET", "/readyz", "", nil), 200)
	h.do("GET", "/nope", "", nil)
	// The metrics are not on the API port: that is a 404 like any unknown path.
	r := h.do("GET", "/metrics", "", nil)
	expectStatus(t, r, 404)
	if r.problemType(t) != "not-found" {
		t.Fatal(string(r.Body))
	}
	rec := httptest.NewRecorder()
	MetricsHandler(h.reg).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("metrics: %d %s", rec.Code, rec.Body)
	}
	for _, want := range []string{`fieldsync_http_requests_total{method="GET",route="/healthz",status="200"} 1`,
		`fieldsync_http_requests_total{method="GET",route="unmatched",status="404"} 2`,
		"fieldsync_http_request_duration_seconds_bucket", "go_sql_max_open_connections", "go_goroutines"} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// TestPanicAndTimeout builds the middleware chain around test-only handlers.
func TestPanicAndTimeout(t *testing.T) {
	var logs bytes.Buffer
	s := &Server{log: slog.New(slog.NewJSONHandler(&logs, nil)), cfg: testConfig()}
	s.cfg.RequestTimeout = 50 * time.Millisecond
	var err error
	if s.metrics, err = newMetrics(prometheus.NewRegistry(), nil); err != nil {
		t.Fatal(err)
	}
	app := fiber.New(fiber.Config{ErrorHandler: s.errorHandler})
	app.Use(s.requestID, s.access, s.recover, s.timeout)
	app.Get("/boom", func(c *fiber.Ctx) error { panic("kaboom") })
	app.Get("/slow", func(c *fiber.Ctx) error {
		<-c.UserContext().Done()
		return c.UserContext().Err()
	})
	app.Get("/secret", func(c *fiber.Ctx) error { return errors.New("password=hunter2 leaked in an error") })
	for path, want := range map[string]int{"/boom": 500, "/slow": 503, "/secret": 500} {
		res, err := app.Test(httptest.NewRequest("GET", path, nil), -1)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != want || res.Header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("%s: %d %s", path, res.StatusCode, body)
		}
		if strings.Contains(string(body), "hunter2") || strings.Contains(string(body), "kaboom") {
			t.Fatalf("%s: internal detail reached the client: %s", path, body)
		}
	}
	if !strings.Contains(logs.String(), "kaboom") || !strings.Contains(logs.String(), "hunter2") {
		t.Fatalf("causes not logged: %s", logs.String())
	}
}

// TestDatabaseDown: while PostgreSQL is down, readyz and logins answer 503 with Retry-After and
// nothing else breaks; after it comes back the same requests succeed.
func TestDatabaseDown(t *testing.T) {
	cl := pgtest.NewPrivateCluster(t)
	ctx := context.Background()
	if err := cl.CreateDatabase(ctx, "fieldsync"); err != nil {
		t.Fatal(err)
	}
	dsn := cl.DSN("fieldsync")
	if err := storagetest.MigrateWithDemo(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	st, err := storage.Open(ctx, dsn, storage.Options{MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h := newHarnessOn(t, st, dsn)
	tok := h.login("inspector", "phone-a")
	if err := cl.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	for _, r := range []resp{
		h.do("GET", "/readyz", "", nil),
		h.do("POST", "/v1/auth/login", "", loginBody("inspector", demoPassword("inspector"), "phone-b")),
		h.do("GET", "/v1/regions", tok, nil),
	} {
		expectStatus(t, r, 503)
		if r.Header.Get("Retry-After") == "" {
			t.Fatalf("503 without Retry-After: %s", r.Body)
		}
	}
	expectStatus(t, h.do("GET", "/healthz", "", nil), 200)
	pgtest.Restart(t, cl)
	expectStatus(t, h.do("GET", "/readyz", "", nil), 200)
	expectStatus(t, h.do("GET", "/v1/regions", tok, nil), 200)
	h.login("inspector", "phone-b")
}

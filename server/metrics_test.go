package server

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// metricsCase is one kind of request of the traffic TestMetricsAfterVariedTraffic sends, with
// the route label it must be counted under.
type metricsCase struct {
	method, path, route string
	token               bool
	body                string
}

// TestMetricsAfterVariedTraffic sends ordinary traffic (many routes, methods and statuses, over
// several keep-alive connections at once, so the HTTP server reuses its request buffers), then
// scrapes the metrics listener's handler and parses the exposition with the Prometheus text
// parser. Every series must name a real route and method, and the counts must be exactly what
// was sent.
func TestMetricsAfterVariedTraffic(t *testing.T) {
	h := newHarness(t)
	app, reg := h.app, h.reg
	base := h.serveLoopback()
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 8}}
	defer client.CloseIdleConnections()

	type series struct{ method, route, status string }
	var mu sync.Mutex
	want := map[series]int{}
	send := func(c metricsCase, token string) error {
		req, err := http.NewRequest(c.method, base+c.path, strings.NewReader(c.body))
		if err != nil {
			return err
		}
		if c.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if c.token {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		mu.Lock()
		want[series{c.method, c.route, strconv.Itoa(res.StatusCode)}]++
		mu.Unlock()
		return nil
	}
	token := loginToken(t, base, client)
	want[series{"POST", "/v1/auth/login", "200"}]++

	id := uuid.NewString()
	cases := []metricsCase{
		{method: "GET", path: "/healthz", route: "/healthz"},
		{method: "HEAD", path: "/healthz", route: "/healthz"},
		{method: "GET", path: "/readyz", route: "/readyz"},
		{method: "GET", path: "/v1/regions", route: "/v1/regions"},
		{method: "GET", path: "/v1/regions", route: "/v1/regions", token: true},
		{method: "POST", path: "/v1/auth/login", route: "/v1/auth/login", body: `{"username":`},
		{method: "POST", path: "/v1/auth/login", route: "/v1/auth/login", body: `{}`},
		{method: "PATCH", path: "/v1/admin/users/" + id, route: "/v1/admin/users/:id", body: `{}`},
		{method: "POST", path: "/v1/sync/pull", route: "/v1/sync/pull", body: `{}`},
		{method: "GET", path: "/v1/photos/" + id + "/thumbnail", route: "/v1/photos/:id/thumbnail", token: true},
		{method: "POST", path: "/v1/conflicts/" + id + "/resolve", route: "/v1/conflicts/:id/resolve", token: true, body: `{}`},
		{method: "DELETE", path: "/v1/regions", route: "unmatched"},
		{method: "GET", path: "/metrics", route: "unmatched"},
		{method: "PUT", path: "/a-long-unknown-path-that-fills-the-request-buffer/" + strings.Repeat("x", 300), route: "unmatched"},
	}
	const workers, rounds = 6, 20
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				for i := range cases {
					c := cases[(i+w+r)%len(cases)] // each connection in its own order
					if err := send(c, token); err != nil {
						errs <- fmt.Errorf("%s %s: %w", c.method, c.path, err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	rec := httptest.NewRecorder()
	MetricsHandler(reg).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("scrape: %d %s", rec.Code, rec.Body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatalf("exposition does not parse: %v", err)
	}
	routes := map[string]bool{"unmatched": true}
	for _, r := range app.GetRoutes(true) {
		routes[r.Path] = true
	}
	methods := map[string]bool{}
	for _, m := range fiber.DefaultMethods {
		methods[m] = true
	}
	labels := func(m *dto.Metric) map[string]string {
		out := map[string]string{}
		for _, l := range m.GetLabel() {
			out[l.GetName()] = l.GetValue()
		}
		return out
	}
	got := map[series]int{}
	reqs := fams["fieldsync_http_requests_total"]
	if reqs == nil {
		t.Fatal("no fieldsync_http_requests_total")
	}
	for _, m := range reqs.GetMetric() {
		l := labels(m)
		if !routes[l["route"]] || !methods[l["method"]] {
			t.Errorf("series with a label that is no real route or method: %v", l)
		}
		got[series{l["method"], l["route"], l["status"]}] += int(m.GetCounter().GetValue())
	}
	for s, n := range want {
		if got[s] != n {
			t.Errorf("%v counted %d times, sent %d", s, got[s], n)
		}
	}
	for s, n := range got {
		if _, ok := want[s]; !ok {
			t.Errorf("%v counted %d times, never sent", s, n)
		}
	}
	for _, m := range fams["fieldsync_http_request_duration_seconds"].GetMetric() {
		if l := labels(m); !routes[l["route"]] || !methods[l["method"]] {
			t.Errorf("latency series with a label that is no real route or method: %v", l)
		}
	}
	rec = httptest.NewRecorder()
	MetricsHandler(reg).ServeHTTP(rec, httptest.NewRequest("GET", "/other", nil))
	if rec.Code != 404 {
		t.Errorf("the metrics handler answers %d for another path", rec.Code)
	}
}

// loginToken logs the demo inspector in on the metrics test's phone and returns the token.
func loginToken(t *testing.T, base string, client *http.Client) string {
	t.Helper()
	body := `{"username":"inspector","password":"` + demoPassword("inspector") + `","device":{"id":"metrics-phone"}}`
	res, err := client.Post(base+"/v1/auth/login", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	r := resp{Status: res.StatusCode, Header: res.Header, Body: b}
	expectStatus(t, r, 200)
	return r.json(t)["token"].(string)
}

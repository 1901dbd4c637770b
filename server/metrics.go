package server

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/storage"
	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

type metrics struct {
	reg         *prometheus.Registry
	requests    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	pushes      *prometheus.CounterVec
	mutations   *prometheus.CounterVec
	pullPages   prometheus.Counter
	changesSent prometheus.Counter
}

func newMetrics(reg *prometheus.Registry, store *storage.Store) (*metrics, error) {
	m := &metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fieldsync_http_requests_total", Help: "HTTP requests by method, route and status.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "fieldsync_http_request_duration_seconds", Help: "HTTP request latency by method and route.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"method", "route"}),
	}
	m.pushes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "fieldsync_sync_pushes_total", Help: "Sync pushes by outcome (ok, gap, protocol_too_old, error).",
	}, []string{"outcome"})
	m.mutations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "fieldsync_sync_mutations_total", Help: "Pushed mutations by result (applied, conflict, rejected, replayed).",
	}, []string{"status"})
	m.pullPages = prometheus.NewCounter(prometheus.CounterOpts{Name: "fieldsync_sync_pull_pages_total", Help: "Pull pages served."})
	m.changesSent = prometheus.NewCounter(prometheus.CounterOpts{Name: "fieldsync_sync_changes_sent_total", Help: "Changes sent by pulls."})
	cs := []prometheus.Collector{m.requests, m.latency, m.pushes, m.mutations, m.pullPages, m.changesSent,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})}
	if store != nil {
		cs = append(cs, collectors.NewDBStatsCollector(store.SQL(), "fieldsync"))
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) observe(method, route string, status int, d time.Duration) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(method, route).Observe(d.Seconds())
}

// methodLabel returns the metric label of an HTTP method: one of the standard methods as a
// constant, or "OTHER". c.Method() points into the server's reused request buffer, so it must
// never become a label value itself (the metric keeps its label values for ever).
func methodLabel(m string) string {
	for _, std := range fiber.DefaultMethods {
		if m == std {
			return std
		}
	}
	return "OTHER"
}

// routeLabel returns the registered path pattern that answered the request (e.g.
// "/v1/photos/:id"), copied so it outlives the request. Requests answered before they reached a
// route (an unknown path or method, a body over the limit) are "unmatched", so the label never
// carries a client's path.
func routeLabel(c *fiber.Ctx) string {
	if unmatched, _ := c.Locals(localUnmatched).(bool); unmatched {
		return "unmatched"
	}
	r := c.Route()
	if r == nil || r.Path == "" || r.Path == "/" {
		return "unmatched"
	}
	return strings.Clone(r.Path)
}

// MetricsHandler serves the Prometheus exposition of reg at GET /metrics and 404 elsewhere. It is
// meant for a listener of its own (FIELDSYNC_METRICS_ADDR), never the public API port: the
// metrics are not authenticated.
func MetricsHandler(reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return mux
}

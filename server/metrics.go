package server

import (
	"strconv"
	"time"

	"github.com/fieldsync/fieldsync/storage"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
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

func (m *metrics) handler() fiber.Handler {
	return adaptor.HTTPHandler(promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
}

package console_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/sync/demo"

	"github.com/chromedp/chromedp"
	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/models/democity"
	"github.com/google/uuid"
)

// mapVisits is how many visits BenchmarkConsoleMap puts on the map (the console's MapMax).
const mapVisits = 20000

// BenchmarkConsoleMap measures, in headless Chromium, the map page of the demo city plus 20,000
// project visits pushed by the demo inspector: from the page asking for its data to the first
// frame drawn with every visit in its clusters. The baseline, measured in the same page, is
// fetching and parsing the same GeoJSON without drawing it; the ratio is what Leaflet and its
// clusters add. It also reports the overview's first contentful paint.
//
//	go test -run '^$' -bench ConsoleMap -benchtime 3x ./server/console/
func BenchmarkConsoleMap(b *testing.B) {
	s := newSite(b)
	pushVisits(b, s, mapVisits)
	tab := newTab(b)
	loginAs(b, tab, s.url, "supervisor")
	run(b, tab, "overview", chromedp.Navigate(s.url+"/"), chromedp.WaitVisible(`[data-figure="month.all"]`, chromedp.ByQuery))
	var paint float64
	waitFor(b, tab, `performance.getEntriesByName('first-contentful-paint').length > 0`, 10*time.Second)
	eval(b, tab, `performance.getEntriesByName('first-contentful-paint')[0].startTime`, &paint)
	var render, data, baseline float64
	var markers int
	b.ResetTimer()
	for range b.N {
		run(b, tab, "map", chromedp.Navigate(s.url+"/map"), chromedp.WaitVisible("#map", chromedp.ByID))
		waitMap(b, tab, 5*time.Minute)
		var r, d, base float64
		eval(b, tab, `performance.measure('m', 'map-fetch-start', 'map-rendered').duration`, &r)
		eval(b, tab, `performance.measure('d', 'map-fetch-start', 'map-data').duration`, &d)
		eval(b, tab, `(async () => { const t0 = performance.now();
			const r = await fetch(document.getElementById('map').dataset.geojson); await r.json();
			return performance.now() - t0; })()`, &base)
		eval(b, tab, `window.fieldsyncMap.markers.getLayers().length`, &markers)
		render, data, baseline = render+r, data+d, baseline+base
	}
	b.StopTimer()
	n := float64(b.N)
	if markers != mapVisits {
		b.Fatalf("the map shows %d visits, want %d (its cap)", markers, mapVisits)
	}
	b.ReportMetric(render/n, "ms/map-rendered")
	b.ReportMetric(data/n, "ms/map-data")
	b.ReportMetric(baseline/n, "ms/fetch+parse-baseline")
	b.ReportMetric(render/baseline, "rendered/baseline")
	b.ReportMetric(paint, "ms/overview-first-paint")
}

// pushVisits records n project visits as the demo inspector through POST /v1/sync/push, 1,000
// mutations a push, on the demo city's project sites over the last 20 days.
func pushVisits(b *testing.B, s *site, n int) {
	b.Helper()
	var projects []democity.Site
	for _, st := range democity.Sites() {
		if st.Kind == democity.SiteKindProject {
			projects = append(projects, st)
		}
	}
	insp := s.login("inspector")
	client := uuid.NewString()
	now := time.Now()
	for start := 0; start < n; start += 1000 {
		var muts []map[string]any
		for i := start; i < min(start+1000, n); i++ {
			st := projects[i%len(projects)]
			at := now.Add(-time.Duration(i%(20*24*60)) * time.Minute)
			muts = append(muts, map[string]any{"id": i + 1, "name": "visit.create", "client_time": at.Format(time.RFC3339),
				"args": map[string]any{"id": uuid.NewString(), "kind": "project_visit", "site_id": demo.SiteID(st.Key),
					"checklist":  map[string]any{"id": models.DefaultChecklistID(models.KindProjectVisit), "version": 1},
					"started_at": at.Format(time.RFC3339), "answers": map[string]any{"stage": "under_construction"},
					"position": map[string]any{"lat": st.Lat + float64(i%17-8)*0.0004, "lon": st.Lon + float64(i%13-6)*0.0005,
						"accuracy_m": 8, "crs": "wgs84"}}})
		}
		var out struct{ Results []struct{ Status string } }
		if st := insp.do("POST", "/v1/sync/push", map[string]any{"client_id": client, "protocol_version": 1, "mutations": muts}, &out); st != 200 {
			b.Fatalf("push: %d", st)
		}
		for _, r := range out.Results {
			if r.Status != "applied" {
				b.Fatal(fmt.Sprintf("push: %+v", out.Results[0]))
			}
		}
	}
}

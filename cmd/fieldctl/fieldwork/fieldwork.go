// Package fieldwork makes a phone do field work: visits of the four kinds at pulled sites, with
// checklist answers, findings, small real JPEG photos and patrol tracks, and keeps a ledger of
// everything it made so a test or the simulator can check the server holds exactly that. It is
// shared by `fieldctl simulate` and the fault tests.
package fieldwork

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fieldsync/fieldsync/cmd/fieldctl/device"
	"github.com/google/uuid"
)

// siteKinds maps a kind of work to the kind of site it visits.
var siteKinds = map[string]string{
	"project_visit": "project", "planting_check": "village_plot",
	"fire_patrol": "patrol_area", "agri_input_check": "dealer",
}

// Sites holds up to a few dozen pulled site ids per site kind.
type Sites map[string][]string

// PulledSites reads the sites a bootstrapped phone holds (at most 40 per kind; kinds outside the
// user's scope have none).
func PulledSites(ctx context.Context, d *device.Device) (Sites, error) {
	s := Sites{}
	for _, k := range siteKinds {
		recs, err := d.Sites(ctx, device.Filter{Kind: k, Limit: 40})
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			s[k] = append(s[k], r.ID)
		}
	}
	if len(s) == 0 {
		return nil, fmt.Errorf("the phone holds no site: sync first")
	}
	return s, nil
}

// Ledger is what phones made, by id. Safe for concurrent use.
type Ledger struct {
	mu       sync.Mutex
	Visits   []uuid.UUID
	Findings []uuid.UUID
	Photos   []uuid.UUID
	Tracks   []uuid.UUID // visit ids whose patrol track was recorded
	Points   map[uuid.UUID]int
}

func (l *Ledger) add(list *[]uuid.UUID, id uuid.UUID) {
	l.mu.Lock()
	*list = append(*list, id)
	l.mu.Unlock()
}

// Counts returns the number of visits, findings, photos and tracks made.
func (l *Ledger) Counts() (visits, findings, photos, tracks int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.Visits), len(l.Findings), len(l.Photos), len(l.Tracks)
}

// Worker makes one phone's work.
type Worker struct {
	D      *device.Device
	Rnd    *rand.Rand
	Sites  Sites
	Dir    string // where photos are written before AddPhoto copies them
	Ledger *Ledger
	Tag    string // put in every visit's notes, to find the run's visits on the server
	// MaxPhotos per visit (default 2); TrackPoints per patrol (default 60).
	MaxPhotos, TrackPoints int
	// Kinds of work the user may do (default all four); only kinds with a pulled site are used.
	Kinds []string
}

// Visit records one visit of a random kind: answers, 0..MaxPhotos photos, a finding on a
// project visit half the time, a track on a patrol, then submits it. It returns the visit id.
func (w *Worker) Visit(ctx context.Context) (uuid.UUID, error) {
	allowed := w.Kinds
	if len(allowed) == 0 {
		allowed = device.Kinds
	}
	var kinds []string
	for _, k := range allowed {
		if len(w.Sites[siteKinds[k]]) > 0 {
			kinds = append(kinds, k)
		}
	}
	if len(kinds) == 0 {
		return uuid.Nil, fmt.Errorf("no site for any of the kinds %v", w.Kinds)
	}
	kind := kinds[w.Rnd.IntN(len(kinds))]
	sites := w.Sites[siteKinds[kind]]
	site := sites[w.Rnd.IntN(len(sites))]
	lat, lon := 41.5+w.Rnd.Float64(), 121+w.Rnd.Float64()
	pos := &device.Position{Lat: lat, Lon: lon, CRS: "wgs84", AccuracyM: new(float64(3 + w.Rnd.IntN(20)))}
	in := device.VisitInput{Kind: kind, SiteID: site, Position: pos, Answers: w.answers(kind),
		Notes: fmt.Sprintf("%s %s", w.Tag, kind), StartedAt: time.Now().Add(-time.Duration(w.Rnd.IntN(3600)) * time.Second)}
	id, err := w.D.NewVisit(ctx, in)
	if err != nil {
		return uuid.Nil, err
	}
	w.Ledger.add(&w.Ledger.Visits, id)
	var finding *uuid.UUID
	if kind == "project_visit" && w.Rnd.IntN(2) == 0 {
		f, err := w.D.NewFinding(ctx, device.FindingInput{VisitID: id, Category: "safety", Severity: "ordinary",
			Description: "脚手架缺少防护网 " + w.Tag, ResponsibleUnit: "施工单位", Deadline: "2026-12-31", Position: pos})
		if err != nil {
			return id, err
		}
		w.Ledger.add(&w.Ledger.Findings, f)
		finding = &f
	}
	maxPhotos := w.MaxPhotos
	if maxPhotos <= 0 {
		maxPhotos = 2
	}
	for i := range w.Rnd.IntN(maxPhotos + 1) {
		path := filepath.Join(w.Dir, fmt.Sprintf("%s-%d.jpg", id, i))
		if err := os.WriteFile(path, JPEG(w.Rnd, 96+w.Rnd.IntN(64), 64+w.Rnd.IntN(48)), 0o600); err != nil {
			return id, err
		}
		in := device.PhotoInput{VisitID: id, Path: path, Position: pos, Caption: "photo " + w.Tag}
		if i == 0 && finding != nil {
			in.FindingID = finding
		}
		p, err := w.D.AddPhoto(ctx, in)
		if err != nil {
			return id, err
		}
		_ = os.Remove(path)
		w.Ledger.add(&w.Ledger.Photos, p)
	}
	if kind == "fire_patrol" {
		n := w.TrackPoints
		if n <= 0 {
			n = 60
		}
		pts := make([]device.TrackPoint, n)
		start := time.Now().Add(-2 * time.Hour)
		for i := range pts {
			pts[i] = device.TrackPoint{T: start.Add(time.Duration(i) * 5 * time.Second),
				Lat: lat + float64(i)*1e-5, Lon: lon + float64(i)*1e-5, CRS: "wgs84"}
		}
		if _, err := w.D.AppendTrack(ctx, id, pts); err != nil {
			return id, err
		}
		w.Ledger.mu.Lock()
		w.Ledger.Tracks = append(w.Ledger.Tracks, id)
		if w.Ledger.Points == nil {
			w.Ledger.Points = map[uuid.UUID]int{}
		}
		w.Ledger.Points[id] = n
		w.Ledger.mu.Unlock()
	}
	return id, w.D.SubmitVisit(ctx, id)
}

// answers are checklist answers a real inspector might give for a kind of work.
func (w *Worker) answers(kind string) map[string]any {
	switch kind {
	case "project_visit":
		stages := []string{"approved", "under_construction", "completed"}
		return map[string]any{"stage": stages[w.Rnd.IntN(len(stages))], "workers_on_site": w.Rnd.IntN(300),
			"progress_pct": float64(w.Rnd.IntN(1000)) / 10}
	case "planting_check":
		planned := 100 + w.Rnd.IntN(500)
		return map[string]any{"soil_moisture": "slightly_dry", "planned_area_mu": planned, "sown_area_mu": w.Rnd.IntN(planned + 1)}
	case "agri_input_check":
		return map[string]any{"products": []any{map[string]any{"category": "seed", "name": "玉米种子"}}}
	}
	return map[string]any{}
}

// JPEG encodes a small real photo (a random two-colour gradient with a few blocks) at quality 80.
func JPEG(rnd *rand.Rand, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	a := color.RGBA{uint8(rnd.IntN(256)), uint8(rnd.IntN(256)), uint8(rnd.IntN(256)), 255}
	b := color.RGBA{uint8(rnd.IntN(256)), uint8(rnd.IntN(256)), uint8(rnd.IntN(256)), 255}
	for y := range h {
		for x := range w {
			t := float64(x+y) / float64(w+h)
			img.Set(x, y, color.RGBA{mix(a.R, b.R, t), mix(a.G, b.G, t), mix(a.B, b.B, t), 255})
		}
	}
	for range 4 {
		x0, y0 := rnd.IntN(w), rnd.IntN(h)
		c := color.RGBA{uint8(rnd.IntN(256)), uint8(rnd.IntN(256)), uint8(rnd.IntN(256)), 255}
		for y := y0; y < min(h, y0+h/5); y++ {
			for x := x0; x < min(w, x0+w/5); x++ {
				img.Set(x, y, c)
			}
		}
	}
	var buf bytes.Buffer
	_ = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}) // writing to memory cannot fail
	return buf.Bytes()
}

func mix(a, b uint8, t float64) uint8 { return uint8(float64(a)*(1-t) + float64(b)*t) }

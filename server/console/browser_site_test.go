package console_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/models/phototest"
	"github.com/fieldsync/fieldsync/sync/demo"
	"github.com/google/uuid"
)

// The API side of the browser tests: what a phone or a script would ask the same server, to
// prepare a scene (a photo) or to check what a page shows against the API.

// sessionStatus asks GET /v1/auth/session with a token.
func (s *site) sessionStatus(token string) int {
	c := &apiClient{s: s, token: token}
	return c.do("GET", "/v1/auth/session", nil, nil)
}

// overviewFromAPI computes the overview's figures from the report endpoints, as a supervisor's
// script would.
func (s *site) overviewFromAPI(c *apiClient) map[string]string {
	type figures struct {
		Total struct {
			Kinds    map[string]struct{ Visits int } `json:"kinds"`
			AllKinds struct{ Visits int }            `json:"all_kinds"`
		} `json:"total"`
		Rows []struct {
			Region   struct{ Level string }
			AllKinds struct{ Visits int } `json:"all_kinds"`
		} `json:"rows"`
	}
	out := map[string]string{}
	today := time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
	for prefix, q := range map[string]string{"today": "?from=" + today + "&to=" + today, "month": "?by=township"} {
		var f figures
		if st := c.do("GET", "/v1/reports/summary"+q, nil, &f); st != 200 {
			s.t.Fatalf("summary: %d", st)
		}
		for k, v := range f.Total.Kinds {
			out[prefix+"."+k] = strconv.Itoa(v.Visits)
		}
		out[prefix+".all"] = strconv.Itoa(f.Total.AllKinds.Visits)
		if prefix == "month" {
			idle := 0
			for _, r := range f.Rows {
				if r.AllKinds.Visits == 0 && r.Region.Level == "township" {
					idle++
				}
			}
			out["idle.count"] = strconv.Itoa(idle)
		}
	}
	var units struct {
		Units []struct{ Findings, Overdue, Yellow, Green, Closed int }
	}
	c.do("GET", "/v1/reports/findings?group=unit", nil, &units)
	var red, yellow, green, closed, total int
	for _, u := range units.Units {
		red, yellow, green, closed, total = red+u.Overdue, yellow+u.Yellow, green+u.Green, closed+u.Closed, total+u.Findings
	}
	for k, v := range map[string]int{"red": red, "yellow": yellow, "green": green, "closed": closed, "total": total} {
		out["lights."+k] = strconv.Itoa(v)
	}
	return out
}

// findingAwaitingRecheck returns the id of the n-th finding awaiting a re-check.
func (s *site) findingAwaitingRecheck(c *apiClient, n int) string {
	var page struct{ Items []struct{ ID string } }
	c.do("GET", "/v1/reports/findings?status=awaiting_recheck", nil, &page)
	if len(page.Items) <= n {
		s.t.Fatalf("the demo city has %d findings awaiting re-check", len(page.Items))
	}
	return page.Items[n].ID
}

// findingStatus reads a finding's status from the findings report.
func (s *site) findingStatus(c *apiClient, id string) string {
	var page struct {
		Items []struct{ ID, Status string }
	}
	c.do("GET", "/v1/reports/findings?limit=1000", nil, &page)
	for _, f := range page.Items {
		if f.ID == id {
			return f.Status
		}
	}
	s.t.Fatalf("finding %s is not in the report", id)
	return ""
}

// visitOutside returns a visit outside the county with code county.
func (s *site) visitOutside(c *apiClient, county string) string {
	var page struct {
		Items []struct {
			ID     string
			County *string
		}
	}
	c.do("GET", "/v1/reports/visits?limit=50", nil, &page)
	var inside struct{ Items []struct{ ID string } }
	c.do("GET", "/v1/reports/visits?limit=1000&region="+county, nil, &inside)
	in := map[string]bool{}
	for _, v := range inside.Items {
		in[v.ID] = true
	}
	for _, v := range page.Items {
		if !in[v.ID] {
			return v.ID
		}
	}
	s.t.Fatal("no visit outside the county")
	return ""
}

// visitWithPhoto uploads a geotagged JPEG (tus) as the demo inspector, attaches it to one of the
// inspector's visits, waits for its thumbnail, and returns the visit and photo ids.
func (s *site) visitWithPhoto(sup *apiClient) (visit, photo string) {
	s.t.Helper()
	var page struct{ Items []struct{ ID string } }
	sup.do("GET", "/v1/reports/visits?kind=project_visit&inspector="+demo.UserID("inspector").String()+"&limit=1", nil, &page)
	if len(page.Items) == 0 {
		s.t.Fatal("the demo inspector has no project visit")
	}
	visit, photo = page.Items[0].ID, uuid.NewString()
	opts := phototest.Full()
	opts.GPS.Lat, opts.GPS.Lon = 41.91234, 121.61234
	jpg := phototest.JPEG(s.t, opts)
	sum := sha256.Sum256(jpg)
	insp := s.login("inspector")
	meta := "photo_id " + base64.StdEncoding.EncodeToString([]byte(photo)) + ",sha256 " +
		base64.StdEncoding.EncodeToString([]byte(hex.EncodeToString(sum[:]))) + ",filename " + base64.StdEncoding.EncodeToString([]byte("gate.jpg"))
	req, _ := http.NewRequest("POST", s.url+"/v1/uploads", nil)
	req.Header.Set("Authorization", "Bearer "+insp.token)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Length", strconv.Itoa(len(jpg)))
	req.Header.Set("Upload-Metadata", meta)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 201 {
		s.t.Fatalf("create upload: %v %v", err, res)
	}
	res.Body.Close()
	req, _ = http.NewRequest("PATCH", s.url+res.Header.Get("Location"), strings.NewReader(string(jpg)))
	req.Header.Set("Authorization", "Bearer "+insp.token)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Offset", "0")
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	if res, err = http.DefaultClient.Do(req); err != nil || res.StatusCode != 204 {
		s.t.Fatalf("upload: %v %v", err, res)
	}
	res.Body.Close()
	push := map[string]any{"client_id": uuid.NewString(), "protocol_version": 1, "mutations": []map[string]any{{
		"id": 1, "name": "photo.attach", "client_time": time.Now().Format(time.RFC3339),
		"args": map[string]any{"photo_id": photo, "visit_id": visit, "caption": "东门",
			"position":    map[string]any{"lat": 41.9, "lon": 121.6, "accuracy_m": 6, "crs": "wgs84"},
			"captured_at": time.Now().Format(time.RFC3339)}}}}
	var out struct{ Results []struct{ Status string } }
	if st := insp.do("POST", "/v1/sync/push", push, &out); st != 200 || len(out.Results) != 1 || out.Results[0].Status != "applied" {
		s.t.Fatalf("attach: %d %+v", st, out)
	}
	for range 50 {
		did, err := s.uploads.ThumbnailOnce(context.Background())
		if err != nil {
			s.t.Fatal(err)
		}
		if !did {
			break
		}
	}
	return visit, photo
}

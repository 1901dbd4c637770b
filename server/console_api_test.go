package server

import (
	"encoding/json"
	"testing"

	"github.com/fieldsync/fieldsync/server/console"
)

// TestSession: GET /v1/auth/session describes the caller until the token stops working.
func TestSession(t *testing.T) {
	h := newHarness(t)
	tok := h.login("supervisor.qinghe", "laptop-qinghe")
	r := h.do("GET", "/v1/auth/session", tok, nil)
	expectStatus(t, r, 200)
	var out struct {
		User struct {
			Username string
			Scope    struct{ Region struct{ Code string } }
		}
		Device struct{ ID string }
	}
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatal(err)
	}
	if out.User.Username != "supervisor.qinghe" || out.User.Scope.Region.Code != "211521" || out.Device.ID != "laptop-qinghe" {
		t.Fatalf("session %+v", out)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", r.Header.Get("Cache-Control"))
	}
	expectStatus(t, h.do("POST", "/v1/auth/logout", tok, nil), 204)
	expectStatus(t, h.do("GET", "/v1/auth/session", tok, nil), 401)
}

// TestSessionCookieOnlyReads: the console's session cookie authenticates GET requests only; a
// write with the cookie alone is a 401 that changes nothing, and a header wins over the cookie.
func TestSessionCookieOnlyReads(t *testing.T) {
	h := newHarness(t)
	tok := h.login("supervisor", "browser-1")
	cookie := console.SessionCookie + "=" + tok
	expectStatus(t, h.do("GET", "/v1/auth/session", "", nil, "Cookie", cookie), 200)
	expectStatus(t, h.do("GET", "/v1/reports/findings?group=unit", "", nil, "Cookie", cookie), 200)
	expectStatus(t, h.do("POST", "/v1/auth/logout", "", nil, "Cookie", cookie), 401)
	expectStatus(t, h.do("POST", "/v1/sync/push", "", map[string]any{"client_id": "6c1d0a8e-0f6b-4c55-9f0e-2b8c1a7e4d10",
		"protocol_version": 1}, "Cookie", cookie), 401)
	expectStatus(t, h.do("GET", "/v1/auth/session", "fs_not-a-token", nil, "Cookie", cookie), 401)
	expectStatus(t, h.do("GET", "/v1/auth/session", "", nil, "Cookie", console.SessionCookie+"=fs_forged"), 401)
	expectStatus(t, h.do("GET", "/v1/auth/session", tok, nil), 200) // the refused logout changed nothing
}

// TestVisitReportGeoJSON: a visit as one Feature, placed by its track, else its position or site;
// another county's visit is a 404 like the JSON report.
func TestVisitReportGeoJSON(t *testing.T) {
	f := newSummaryFixture(t)
	sup := f.h.login("supervisor", "laptop-sup")
	var feat struct {
		Type     string
		ID       string
		Geometry *struct {
			Type        string
			Coordinates json.RawMessage
		}
		Properties map[string]any
	}
	r := f.h.do("GET", "/v1/reports/visits/"+f.visits["V3"].String()+"?format=geojson", sup, nil)
	expectStatus(t, r, 200)
	if ct := r.Header.Get("Content-Type"); ct != mimeGeoJSON {
		t.Errorf("content type %q", ct)
	}
	if err := json.Unmarshal(r.Body, &feat); err != nil {
		t.Fatal(err)
	}
	var line [][2]float64
	if err := json.Unmarshal(feat.Geometry.Coordinates, &line); err != nil || feat.Geometry.Type != "LineString" || len(line) != 40 ||
		feat.Properties["geometry_source"] != "track" || feat.ID != f.visits["V3"].String() {
		t.Fatalf("patrol feature %s %+v %v (%v)", feat.Geometry.Type, feat.Properties, len(line), err)
	}
	r = f.h.do("GET", "/v1/reports/visits/"+f.visits["V2"].String()+"?format=geojson", sup, nil)
	expectStatus(t, r, 200)
	if err := json.Unmarshal(r.Body, &feat); err != nil || feat.Geometry.Type != "Point" || feat.Properties["kind"] != "project_visit" {
		t.Fatalf("project feature %s %+v", r.Body, err)
	}
	qinghe := f.h.login("supervisor.qinghe", "laptop-qinghe")
	expectStatus(t, f.h.do("GET", "/v1/reports/visits/"+f.visits["V2"].String()+"?format=geojson", qinghe, nil), 404)
	expectStatus(t, f.h.do("GET", "/v1/reports/visits/"+f.visits["V2"].String()+"?format=kml", sup, nil), 400)
}

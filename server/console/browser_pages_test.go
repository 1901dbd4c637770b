package console_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/fieldsync/fieldsync/models/phototest"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/google/uuid"
)

// TestConsole drives the console in headless Chromium against a real server, as supervisors and
// an admin would use it, one step after another on the same demo city. Screenshots of every page
// go to $FIELDSYNC_SCREENSHOTS (default: the test's temp directory); the figures are logged.
func TestConsole(t *testing.T) {
	s := newSite(t)
	shots := screenshots(t)
	sup := s.login("supervisor")
	photoVisit, photoID := s.visitWithPhoto(sup)
	tab := newTab(t)

	t.Run("login", func(t *testing.T) {
		run(t, tab, "open the console", chromedp.Navigate(s.url+"/"), chromedp.WaitVisible("#login-form", chromedp.ByID))
		shoot(t, tab, shots, "login", false)
		loginAs(t, tab, s.url, "supervisor")
		if who := text(t, tab, "#who"); !strings.Contains(who, "孙志刚") {
			t.Fatalf("signed in as %q, want the demo supervisor 孙志刚", who)
		}
	})

	t.Run("overview equals the API", func(t *testing.T) {
		run(t, tab, "overview", chromedp.Navigate(s.url+"/"), chromedp.WaitVisible(`[data-figure="month.all"]`, chromedp.ByQuery))
		figures := map[string]string{}
		eval(t, tab, `Object.fromEntries([...document.querySelectorAll('[data-figure]')].map(e => [e.dataset.figure, e.textContent.trim()]))`, &figures)
		want := s.overviewFromAPI(sup)
		if len(want) < 12 {
			t.Fatalf("the API gave only %d figures: %v", len(want), want)
		}
		for k, v := range want {
			if figures[k] != v {
				t.Errorf("overview %s = %q, the API says %s", k, figures[k], v)
			}
		}
		if figures["month.all"] == "0" || figures["lights.total"] == "0" {
			t.Errorf("the demo city shows no visits or findings this month: %v", figures)
		}
		var paint float64
		waitFor(t, tab, `performance.getEntriesByName('first-contentful-paint').length > 0`, 10*time.Second)
		eval(t, tab, `performance.getEntriesByName('first-contentful-paint')[0].startTime`, &paint)
		t.Logf("figure: overview first contentful paint %.0f ms (demo city, supervisor of the whole city)", paint)
		shoot(t, tab, shots, "overview", true)
	})

	t.Run("map shows the table's rows", func(t *testing.T) {
		run(t, tab, "filter the visits",
			chromedp.Navigate(s.url+"/visits"),
			chromedp.WaitVisible("#filters", chromedp.ByID),
			chromedp.SetValue(`select[name="kind"]`, "fire_patrol", chromedp.ByQuery),
			chromedp.SetValue(`select[name="has_findings"]`, "false", chromedp.ByQuery),
			chromedp.Click("#apply", chromedp.ByID),
			chromedp.WaitVisible(`#row-count`, chromedp.ByID),
		)
		var loc string
		eval(t, tab, `location.search`, &loc)
		if loc != "?kind=fire_patrol&has_findings=false" {
			t.Fatalf("the filter form sent %q, want only the chosen filters", loc)
		}
		var rows int
		eval(t, tab, `document.querySelectorAll('#visits tbody tr[data-visit]').length`, &rows)
		var page struct{ Items []any }
		sup.do("GET", "/v1/reports/visits"+loc, nil, &page)
		if rows == 0 || rows != len(page.Items) {
			t.Fatalf("the table has %d rows, the report %d", rows, len(page.Items))
		}
		shoot(t, tab, shots, "visits", true)
		run(t, tab, "open the map", chromedp.Click("#to-map", chromedp.ByID), chromedp.WaitVisible("#map", chromedp.ByID))
		waitMap(t, tab, 30*time.Second)
		var markers int
		eval(t, tab, `window.fieldsyncMap.markers.getLayers().length`, &markers)
		eval(t, tab, `location.search`, &loc)
		if markers != rows || loc != "?has_findings=false&kind=fire_patrol" {
			t.Fatalf("the map (%s) shows %d markers, the table had %d rows", loc, markers, rows)
		}
		var tracks int
		eval(t, tab, `window.fieldsyncMap.tracks.getLayers().length`, &tracks)
		if tracks != rows {
			t.Errorf("the map draws %d patrol tracks for %d fire patrols", tracks, rows)
		}
		run(t, tab, "back to the table", chromedp.Click("#to-table", chromedp.ByID), chromedp.WaitVisible("#row-count", chromedp.ByID))
		eval(t, tab, `document.querySelectorAll('#visits tbody tr[data-visit]').length`, &markers)
		if markers != rows {
			t.Fatalf("back from the map the table has %d rows, before %d", markers, rows)
		}
		run(t, tab, "the whole demo city on the map", chromedp.Navigate(s.url+"/map"), chromedp.WaitVisible("#map", chromedp.ByID))
		waitMap(t, tab, 30*time.Second)
		var rendered float64
		eval(t, tab, `performance.measure('map', 'map-fetch-start', 'map-rendered').duration`, &rendered)
		eval(t, tab, `window.fieldsyncMap.markers.getLayers().length`, &markers)
		t.Logf("figure: map of the demo city, %d visits, rendered %.0f ms after its data was asked for", markers, rendered)
		var weight map[string]float64
		eval(t, tab, `(() => { const r = {}; for (const e of performance.getEntriesByType('resource')) {
			if (!e.name.includes('/assets/')) continue; const k = e.name.split('/assets/')[1];
			r[k] = e.decodedBodySize; } return r; })()`, &weight)
		total := 0.0
		for _, b := range weight {
			total += b
		}
		t.Logf("figure: the map page loads %d console assets, %.0f KB (uncompressed): %v", len(weight), total/1024, weight)
		shoot(t, tab, shots, "map", false)
	})

	t.Run("visit page and its photo", func(t *testing.T) {
		run(t, tab, "open the visit", chromedp.Navigate(s.url+"/visits/"+photoVisit), chromedp.WaitVisible("#gallery img.thumb", chromedp.ByQuery))
		waitFor(t, tab, `[...document.querySelectorAll('#gallery img.thumb')].every(i => i.complete && i.naturalWidth > 0)`, 20*time.Second)
		if got := text(t, tab, "#answers"); got == "" {
			t.Error("the visit page shows no answers")
		}
		var pdf string
		eval(t, tab, `fetch(document.getElementById('pdf').href).then(r => r.status + ' ' + r.headers.get('content-type'))`, &pdf)
		if pdf != "200 application/pdf" {
			t.Errorf("the PDF button gives %q", pdf)
		}
		shoot(t, tab, shots, "visit", true)
		run(t, tab, "open the photo", chromedp.Click(`a.thumb-link`, chromedp.ByQuery), chromedp.WaitVisible("#exif", chromedp.ByID))
		waitFor(t, tab, `document.getElementById('full-photo').complete && document.getElementById('full-photo').naturalWidth > 0`, 20*time.Second)
		var path string
		eval(t, tab, `location.pathname`, &path)
		if path != "/photos/"+photoID {
			t.Fatalf("the thumbnail opened %s", path)
		}
		if exif := text(t, tab, "#exif"); !strings.Contains(exif, "41.9") {
			t.Errorf("the photo's EXIF is not shown: %q", exif)
		}
		if reasons := text(t, tab, "#reasons"); reasons == "" {
			t.Error("no verdict reasons table")
		}
		shoot(t, tab, shots, "photo", false)
	})

	var rechecked string
	t.Run("record a re-check", func(t *testing.T) {
		finding := s.findingAwaitingRecheck(sup, 0)
		rechecked = finding
		run(t, tab, "findings awaiting re-check",
			chromedp.Navigate(s.url+"/findings?status=awaiting_recheck"),
			chromedp.WaitVisible(`tr[data-finding="`+finding+`"] form.recheck`, chromedp.ByQuery))
		shoot(t, tab, shots, "findings", true)
		row := `tr[data-finding="` + finding + `"] `
		run(t, tab, "re-check passed",
			chromedp.Click(row+`input[name="passed"][value="true"]`, chromedp.ByQuery),
			chromedp.SendKeys(row+`input[name="notes"]`, "现场复查合格", chromedp.ByQuery),
			chromedp.Click(row+`button[type="submit"]`, chromedp.ByQuery),
			chromedp.WaitVisible("#flash", chromedp.ByID))
		if msg := text(t, tab, "#flash"); !strings.Contains(msg, "复查已记录") {
			t.Fatalf("after the re-check the page says %q", msg)
		}
		if st := s.findingStatus(sup, finding); st != "closed" {
			t.Fatalf("the re-checked finding is %q, want closed", st)
		}
		var n int
		eval(t, tab, `document.querySelectorAll('tr[data-finding="`+finding+`"]').length`, &n)
		if n != 0 {
			t.Error("the closed finding is still listed as awaiting re-check")
		}
	})

	t.Run("CSRF-less form posts are refused", func(t *testing.T) {
		finding := s.findingAwaitingRecheck(sup, 0)
		if finding == rechecked {
			t.Fatal("the re-checked finding is still awaiting re-check")
		}
		var statuses []int
		eval(t, tab, fmt.Sprintf(`Promise.all([
			fetch('/findings/%[1]s/recheck', {method: 'POST', body: new URLSearchParams({passed: 'true', op: '%[2]s'})}),
			fetch('/findings/%[1]s/recheck', {method: 'POST', body: new URLSearchParams({passed: 'true', op: '%[2]s', _csrf: 'forged'})}),
			fetch('/findings/%[1]s/recheck', {method: 'POST', headers: {'X-CSRF-Token': 'forged'}, body: new URLSearchParams({passed: 'true', op: '%[2]s'})}),
			fetch('/logout', {method: 'POST'}),
			fetch('/v1/auth/logout', {method: 'POST'}),
		]).then(rs => rs.map(r => r.status))`, finding, uuid.NewString()), &statuses)
		want := []int{403, 403, 403, 403, 401}
		if fmt.Sprint(statuses) != fmt.Sprint(want) {
			t.Errorf("posts without the CSRF token (or to the API with only the cookie) answered %v, want %v", statuses, want)
		}
		// The same from another program that holds the session cookie but not the page.
		cookie := sessionCookie(t, tab)
		form := url.Values{"passed": {"true"}, "op": {uuid.NewString()}}
		req, _ := http.NewRequest("POST", s.url+"/findings/"+finding+"/recheck", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: "fs_session", Value: cookie})
		res, err := s.browserClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 403 {
			t.Errorf("a cookie-only post answered %d, want 403", res.StatusCode)
		}
		if st := s.findingStatus(sup, finding); st != "awaiting_recheck" {
			t.Fatalf("a refused post changed the finding to %q", st)
		}
		if who := s.sessionStatus(cookie); who != 200 {
			t.Fatalf("the refused logout ended the session (%d)", who)
		}
		// The login form carries its own double-submit token.
		res, err = s.browserClient().PostForm(s.url+"/login", url.Values{"username": {"supervisor"}, "password": {demoPassword("supervisor")}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 403 || len(res.Cookies()) != 0 {
			t.Errorf("a login post without the form's token answered %d with cookies %v", res.StatusCode, res.Cookies())
		}
	})

	t.Run("a county supervisor cannot reach another county's visit", func(t *testing.T) {
		county := newTab(t)
		loginAs(t, county, s.url, "supervisor.qinghe")
		other := s.visitOutside(sup, "211521")
		run(t, county, "another county's visit by URL", chromedp.Navigate(s.url+"/visits/"+other), chromedp.WaitVisible("#problem", chromedp.ByID))
		var status string
		eval(t, county, `document.getElementById('problem').dataset.status`, &status)
		if status != "404" {
			t.Fatalf("the visit page answered %s, want 404", status)
		}
		var apiStatus []int
		eval(t, county, `Promise.all(['/v1/reports/visits/`+other+`', '/v1/reports/visits/`+other+`?format=pdf', '/v1/reports/visits?region=211522'].map(u => fetch(u).then(r => r.status)))`, &apiStatus)
		if fmt.Sprint(apiStatus) != "[404 404 403]" {
			t.Errorf("with the session cookie the API answered %v, want [404 404 403]", apiStatus)
		}
		shoot(t, county, shots, "out-of-scope", false)
		run(t, county, "own county's overview", chromedp.Navigate(s.url+"/"), chromedp.WaitVisible(`[data-figure="month.all"]`, chromedp.ByQuery))
		if h := text(t, county, "h1 small"); h != "青河县" {
			t.Errorf("the county supervisor's overview is of %q", h)
		}
	})

	t.Run("admin pages and a device revocation", func(t *testing.T) {
		county := newTab(t)
		loginAs(t, county, s.url, "supervisor.qinghe")
		admin := newTab(t)
		loginAs(t, admin, s.url, "admin")
		for _, page := range []string{"users", "regions", "sites"} {
			run(t, admin, "admin "+page, chromedp.Navigate(s.url+"/admin/"+page), chromedp.WaitVisible("#"+page, chromedp.ByID))
			shoot(t, admin, shots, "admin-"+page, false)
		}
		run(t, admin, "devices", chromedp.Navigate(s.url+"/admin/devices"), chromedp.WaitVisible("#devices", chromedp.ByID))
		shoot(t, admin, shots, "admin-devices", false)
		device := s.browserDeviceOf(t, sup, "supervisor.qinghe")
		run(t, admin, "revoke the county supervisor's browser",
			chromedp.Evaluate(`window.confirm = () => true`, nil),
			chromedp.Click(`tr[data-device="`+device+`"] button.danger`, chromedp.ByQuery),
			chromedp.WaitVisible("#flash", chromedp.ByID))
		run(t, county, "the revoked browser's next page", chromedp.Navigate(s.url+"/"), chromedp.WaitVisible("#login-form", chromedp.ByID))
	})

	t.Run("english", func(t *testing.T) {
		run(t, tab, "switch to English", chromedp.Navigate(s.url+"/findings?light=red&lang=en"), chromedp.WaitVisible("#findings", chromedp.ByID))
		var loc string
		eval(t, tab, `location.pathname + location.search`, &loc)
		if loc != "/findings?light=red" {
			t.Errorf("after the language switch the page is %s", loc)
		}
		if nav := text(t, tab, "header nav"); !strings.Contains(nav, "Overview") {
			t.Errorf("the English page's menu says %q", nav)
		}
		shoot(t, tab, shots, "findings-en", false)
	})

	t.Run("logout ends the session", func(t *testing.T) {
		cookie := sessionCookie(t, tab)
		run(t, tab, "log out", chromedp.Click("#logout", chromedp.ByID), chromedp.WaitVisible("#login-form", chromedp.ByID))
		if st := s.sessionStatus(cookie); st != 401 {
			t.Fatalf("after logout the session's token answers %d, want 401", st)
		}
		run(t, tab, "back to a page", chromedp.Navigate(s.url+"/findings"), chromedp.WaitVisible("#login-form", chromedp.ByID))
	})
	t.Logf("screenshots in %s", shots)
}

// sessionCookie reads the page's session cookie (HttpOnly: only the browser's own API can).
func sessionCookie(t testing.TB, ctx context.Context) string {
	t.Helper()
	var value string
	run(t, ctx, "read the session cookie", chromedp.ActionFunc(func(ctx context.Context) error {
		cookies, err := network.GetCookies().Do(ctx)
		if err != nil {
			return err
		}
		for _, c := range cookies {
			if c.Name == "fs_session" {
				if !c.HTTPOnly || c.SameSite != network.CookieSameSiteStrict {
					return fmt.Errorf("session cookie is not HttpOnly and SameSite=Strict: %+v", c)
				}
				value = c.Value
			}
		}
		return nil
	}))
	if value == "" {
		t.Fatal("no session cookie")
	}
	return value
}

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

// browserDeviceOf finds the device a user's browser logged in as.
func (s *site) browserDeviceOf(t testing.TB, admin *apiClient, username string) string {
	var users struct {
		Users []struct{ ID, Username string }
	}
	a := s.login("admin")
	a.do("GET", "/v1/admin/users?limit=1000", nil, &users)
	for _, u := range users.Users {
		if u.Username != username {
			continue
		}
		var devs struct {
			Devices []struct {
				ID, Platform string
				Revoked      bool
			}
		}
		a.do("GET", "/v1/admin/devices?user_id="+u.ID, nil, &devs)
		for _, d := range devs.Devices {
			if d.Platform == "web" && !d.Revoked {
				return d.ID
			}
		}
	}
	t.Fatalf("%s has no browser device", username)
	return ""
}

// visitWithPhoto uploads a geotagged JPEG (tus) as the demo inspector, attaches it to one of the
// inspector's visits, waits for its thumbnail, and returns the visit and photo ids.
func (s *site) visitWithPhoto(sup *apiClient) (visit, photo string) {
	s.t.Helper()
	var page struct{ Items []struct{ ID string } }
	sup.do("GET", "/v1/reports/visits?kind=project_visit&inspector="+storage.DemoUserID("inspector").String()+"&limit=1", nil, &page)
	if len(page.Items) == 0 {
		s.t.Fatal("the demo inspector has no project visit")
	}
	visit, photo = page.Items[0].ID, uuid.NewString()
	opts := phototest.Full()
	opts.GPS.Lat, opts.GPS.Lon = 41.9, 121.6
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

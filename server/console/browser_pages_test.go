package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
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
		)
		// The form updates the results in place (htmx) and the address with the chosen filters only.
		waitFor(t, tab, `location.search === '?kind=fire_patrol&has_findings=false'`, 10*time.Second)
		var loc string
		eval(t, tab, `location.search`, &loc)
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

	t.Run("a refused filter says why", func(t *testing.T) {
		for _, page := range []string{"/visits", "/map"} {
			run(t, tab, page+" with a bad filter", chromedp.Navigate(s.url+page+"?has_findings=maybe"),
				chromedp.WaitVisible("#filter-error", chromedp.ByID))
			if msg := text(t, tab, "#filter-error"); !strings.Contains(msg, "has_findings") {
				t.Errorf("%s: the refusal says %q", page, msg)
			}
		}
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
		if exif := text(t, tab, "#exif-gps"); !strings.Contains(exif, "41.912") || !strings.Contains(exif, "121.612") {
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
		device := "web:" + browserCookie(t, county, "fs_browser")
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

// sessionCookie reads the page's session cookie (HttpOnly: only the browser's own API can),
// checking its flags.
func sessionCookie(t testing.TB, ctx context.Context) string {
	t.Helper()
	return browserCookie(t, ctx, "fs_session")
}

// browserCookie reads one of the console's cookies; they are all HttpOnly and SameSite=Strict.
func browserCookie(t testing.TB, ctx context.Context, name string) string {
	t.Helper()
	var value string
	run(t, ctx, "read the cookie "+name, chromedp.ActionFunc(func(ctx context.Context) error {
		cookies, err := network.GetCookies().Do(ctx)
		if err != nil {
			return err
		}
		for _, c := range cookies {
			if c.Name == name {
				if !c.HTTPOnly || c.SameSite != network.CookieSameSiteStrict {
					return fmt.Errorf("cookie %s is not HttpOnly and SameSite=Strict: %+v", name, c)
				}
				value = c.Value
			}
		}
		return nil
	}))
	if value == "" {
		t.Fatalf("no cookie %s", name)
	}
	return value
}

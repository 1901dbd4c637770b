package server

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/server/render"
	"github.com/xuri/excelize/v2"
)

type findingPage struct {
	Items      []render.FindingItem `json:"items"`
	NextCursor *string              `json:"next_cursor"`
}

func (e *reportEnv) findings(t *testing.T, user, query string) findingPage {
	t.Helper()
	r := e.h.do("GET", "/v1/reports/findings?"+query, e.token(user), nil)
	expectStatus(t, r, 200)
	var p findingPage
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// expectFindings returns the ids of the findings keep accepts inside scope, in report order:
// not closed before closed, then by deadline, then by id.
func (o *reportOracle) expectFindings(scope models.Scope, keep func(*oracleFinding) bool) []string {
	var fs []*oracleFinding
	for i := range o.findings {
		of := &o.findings[i]
		if scope.Covers(of.rec.RegionPath, of.rec.Kind) && keep(of) {
			fs = append(fs, of)
		}
	}
	slices.SortFunc(fs, func(a, b *oracleFinding) int {
		ac, bc := a.rec.Status == models.FindingClosed, b.rec.Status == models.FindingClosed
		if ac != bc {
			if ac {
				return 1
			}
			return -1
		}
		if c := strings.Compare(a.f.Deadline, b.f.Deadline); c != 0 {
			return c
		}
		return strings.Compare(a.rec.ID.String(), b.rec.ID.String())
	})
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.rec.ID.String()
	}
	return out
}

func findingIDs(items []render.FindingItem) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.ID.String()
	}
	return out
}

// lightOf is the oracle's light: models.DeadlineLight now, and the days overdue counted here by
// walking calendar days in China Standard Time.
func lightOf(of *oracleFinding, now time.Time) (string, bool, int) {
	light, overdue := models.DeadlineLight(of.f.Deadline, of.rec.Status, now)
	days := 0
	if overdue {
		today := now.In(models.ChinaStandardTime).Format(time.DateOnly)
		d, _ := time.Parse(time.DateOnly, of.f.Deadline)
		for d.Format(time.DateOnly) < today {
			d = d.AddDate(0, 0, 1)
			days++
		}
	}
	return light, overdue, days
}

func TestReportFindingsFilters(t *testing.T) {
	e := newReportEnv(t)
	o := e.oracle
	now := time.Now()
	qinghe, _ := e.h.store.GetRegionByCode(e.ctx, "211521")
	unit := o.findings[0].f.ResponsibleUnit
	light := func(want string) func(*oracleFinding) bool {
		return func(of *oracleFinding) bool { l, _, _ := lightOf(of, now); return l == want }
	}
	cases := []struct {
		name, query string
		keep        func(*oracleFinding) bool
		min         int
	}{
		{"everything", "", func(*oracleFinding) bool { return true }, 75},
		{"kind", "kind=agri_input_check", func(of *oracleFinding) bool { return of.rec.Kind == models.KindAgriInputCheck }, 1},
		{"region", "region=211521", func(of *oracleFinding) bool { return strings.HasPrefix(of.rec.RegionPath, qinghe.Path) }, 1},
		{"severity", "severity=serious", func(of *oracleFinding) bool { return of.f.Severity == "serious" }, 1},
		{"status", "status=rectifying", func(of *oracleFinding) bool { return of.rec.Status == models.FindingRectifying }, 1},
		{"red", "light=red", light(models.LightRed), 1},
		{"yellow", "light=yellow", light(models.LightYellow), 0},
		{"green", "light=green", light(models.LightGreen), 1},
		{"none", "light=none", light(models.LightNone), 1},
		{"unit", "unit=" + url.QueryEscape(unit), func(of *oracleFinding) bool { return of.f.ResponsibleUnit == unit }, 1},
		{"overdue", "overdue=true", func(of *oracleFinding) bool { _, od, _ := lightOf(of, now); return od }, 1},
		{"not overdue", "overdue=false", func(of *oracleFinding) bool { _, od, _ := lightOf(of, now); return !od }, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := o.expectFindings(models.Scope{}, c.keep)
			if len(want) < c.min {
				t.Fatalf("fixture: %d findings, want at least %d", len(want), c.min)
			}
			p := e.findings(t, "supervisor", c.query+"&limit=1000")
			if got := findingIDs(p.Items); !slices.Equal(got, want) {
				t.Fatalf("got %d findings, want %d (or another order)", len(got), len(want))
			}
			for _, it := range p.Items {
				of := o.findingByID(it.ID.String())
				l, od, days := lightOf(of, now)
				visit := o.byID[*of.rec.ParentID]
				got := []any{it.Light, it.Overdue, it.DaysOverdue, it.Status, it.Severity, it.ResponsibleUnit, it.Deadline,
					*it.SiteName, *it.County, *it.VisitID}
				want := []any{l, od, days, of.rec.Status, of.f.Severity, of.f.ResponsibleUnit, of.f.Deadline,
					o.sites[*visit.v.SiteID].Name, o.countyOf(of.rec.RegionPath), visit.rec.ID}
				if !slices.EqualFunc(got, want, func(a, b any) bool { return a == b }) {
					t.Fatalf("finding %s:\n got %v\nwant %v", it.ID, got, want)
				}
			}
		})
	}
	// overdue first: every red before every other light
	p := e.findings(t, "supervisor", "limit=1000")
	seenOther := false
	for _, it := range p.Items {
		if it.Light != models.LightRed {
			seenOther = true
		} else if seenOther {
			t.Fatalf("an overdue finding after one that is not: %s", it.ID)
		}
	}
}

func (o *reportOracle) findingByID(id string) *oracleFinding {
	for i := range o.findings {
		if o.findings[i].rec.ID.String() == id {
			return &o.findings[i]
		}
	}
	return nil
}

func TestReportFindingsPagesUnitsAndScope(t *testing.T) {
	e := newReportEnv(t)
	o := e.oracle
	now := time.Now()
	whole := e.findings(t, "supervisor", "limit=1000")
	var joined []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 50 {
			t.Fatal("pagination does not end")
		}
		p := e.findings(t, "supervisor", "limit=4"+cursor)
		joined = append(joined, findingIDs(p.Items)...)
		if p.NextCursor == nil {
			break
		}
		cursor = "&cursor=" + *p.NextCursor
	}
	if !slices.Equal(joined, findingIDs(whole.Items)) {
		t.Fatalf("pages joined give %d findings, one page %d", len(joined), len(whole.Items))
	}

	qinghe, _ := e.h.store.GetRegionByCode(e.ctx, "211521")
	for _, c := range []struct {
		user  string
		scope models.Scope
	}{{"supervisor", models.Scope{}}, {"supervisor.qinghe", models.Scope{RegionPath: qinghe.Path}}} {
		want := map[string]render.FindingUnit{}
		for i := range o.findings {
			of := &o.findings[i]
			if !c.scope.CoversRegion(of.rec.RegionPath) {
				continue
			}
			u := want[of.f.ResponsibleUnit]
			u.ResponsibleUnit = of.f.ResponsibleUnit
			u.Findings++
			light, _, days := lightOf(of, now)
			switch light {
			case models.LightRed:
				u.Overdue++
				u.MaxDaysOverdue = max(u.MaxDaysOverdue, days)
			case models.LightYellow:
				u.Yellow++
			case models.LightGreen:
				u.Green++
			}
			if of.rec.Status == models.FindingClosed {
				u.Closed++
			} else {
				u.Open++
			}
			want[u.ResponsibleUnit] = u
		}
		r := e.h.do("GET", "/v1/reports/findings?group=unit", e.token(c.user), nil)
		expectStatus(t, r, 200)
		var got struct{ Units []render.FindingUnit }
		if err := json.Unmarshal(r.Body, &got); err != nil {
			t.Fatal(err)
		}
		if len(got.Units) != len(want) || len(want) < 2 {
			t.Fatalf("%s: %d units, want %d", c.user, len(got.Units), len(want))
		}
		for i, u := range got.Units {
			if want[u.ResponsibleUnit] != u {
				t.Fatalf("%s: unit %+v, want %+v", c.user, u, want[u.ResponsibleUnit])
			}
			if i > 0 && (got.Units[i-1].Overdue < u.Overdue || (got.Units[i-1].Overdue == u.Overdue && got.Units[i-1].Open < u.Open)) {
				t.Fatalf("%s: units not ordered by overdue, then open", c.user)
			}
		}
		// the county supervisor's findings are their county's only
		p := e.findings(t, c.user, "limit=1000")
		if wantIDs := o.expectFindings(c.scope, func(*oracleFinding) bool { return true }); !slices.Equal(findingIDs(p.Items), wantIDs) {
			t.Fatalf("%s: %d findings, want %d", c.user, len(p.Items), len(wantIDs))
		}
	}
	if r := e.h.do("GET", "/v1/reports/findings?region=211522", e.token("supervisor.qinghe"), nil); r.Status != 403 {
		t.Fatalf("other county: %d", r.Status)
	}
	kangbei := e.findings(t, "supervisor.kangbei", "limit=1000")
	for _, it := range kangbei.Items {
		if slices.Contains(findingIDs(e.findings(t, "supervisor.qinghe", "limit=1000").Items), it.ID.String()) {
			t.Fatalf("finding %s seen by both county supervisors", it.ID)
		}
	}
}

func TestReportFindingsExports(t *testing.T) {
	e := newReportEnv(t)
	page := e.findings(t, "supervisor", "limit=1000")
	r := e.h.do("GET", "/v1/reports/findings?format=csv", e.token("supervisor"), nil)
	expectStatus(t, r, 200)
	rows := readCSV(t, r.Body)
	if len(rows)-1 != len(page.Items) || rows[0][13] != "期限灯 Deadline light" {
		t.Fatalf("%d rows, header %q", len(rows)-1, rows[0])
	}
	for i, it := range page.Items {
		row := rows[i+1]
		if row[0] != it.ID.String() || row[11] != it.Deadline || row[13] != it.Light || row[14] != strconv.Itoa(it.DaysOverdue) ||
			row[9] != it.ResponsibleUnit {
			t.Fatalf("row %d %q, want %+v", i, row, it)
		}
	}
	r = e.h.do("GET", "/v1/reports/findings?format=xlsx&overdue=true", e.token("supervisor"), nil)
	expectStatus(t, r, 200)
	f, err := excelize.OpenReader(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	overdue := e.findings(t, "supervisor", "limit=1000&overdue=true")
	xrows, _ := f.GetRows("Findings")
	if len(xrows)-1 != len(overdue.Items) || len(overdue.Items) == 0 {
		t.Fatalf("%d XLSX rows, want %d", len(xrows)-1, len(overdue.Items))
	}
	for i, it := range overdue.Items {
		deadline, _ := excelize.CoordinatesToCellName(12, i+2)
		days, _ := excelize.CoordinatesToCellName(15, i+2)
		raw, _ := f.GetCellValue("Findings", deadline, excelize.Options{RawCellValue: true})
		serial, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			t.Fatalf("deadline %q is not a date serial", raw)
		}
		d, _ := excelize.ExcelDateToTime(serial, false)
		if d.Format(time.DateOnly) != it.Deadline {
			t.Fatalf("deadline %v, want %s", d, it.Deadline)
		}
		if typ, _ := f.GetCellType("Findings", days); typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
			t.Fatalf("days overdue cell type %v", typ)
		}
		if v, _ := f.GetCellValue("Findings", days); v != strconv.Itoa(it.DaysOverdue) || it.DaysOverdue < 1 {
			t.Fatalf("days overdue %q, want %d", v, it.DaysOverdue)
		}
	}
	r = e.h.do("GET", "/v1/reports/findings?group=unit&format=csv", e.token("supervisor"), nil)
	expectStatus(t, r, 200)
	if rows := readCSV(t, r.Body); rows[0][0] != "责任单位 Responsible unit" || len(rows) < 3 {
		t.Fatalf("per-unit CSV %q", rows)
	}
}

func TestReportFindingsBadParams(t *testing.T) {
	e := newReportEnv(t)
	cases := []struct{ query, param string }{
		{"kind=x", "kind"},
		{"severity=huge", "severity"},
		{"status=done", "status"},
		{"light=blue", "light"},
		{"overdue=maybe", "overdue"},
		{"group=county", "group"},
		{"format=geojson", "format"},
		{"limit=5000", "limit"},
		{"group=unit&limit=5", "limit"},
		{"group=unit&cursor=abc", "cursor"},
		{"cursor=" + base64.RawURLEncoding.EncodeToString([]byte("maybe|2026-01-01|x")), "cursor"},
		{"region=nowhere", "region"},
		{"deadline=2026-01-01", "deadline"},
		{"unit=" + strings.Repeat("单", 100), "unit"},
	}
	for _, c := range cases {
		r := e.h.do("GET", "/v1/reports/findings?"+c.query, e.token("supervisor"), nil)
		expectStatus(t, r, 400)
		if m := r.json(t); m["param"] != c.param || !strings.HasPrefix(m["detail"].(string), c.param+":") {
			t.Fatalf("%s: want param %q named: %s", c.query, c.param, r.Body)
		}
	}
}

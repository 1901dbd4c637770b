package console

import (
	"net/url"
	"sort"
	"time"

	"github.com/gofiber/fiber/v2"
)

// kinds is the standard order of the four kinds of field work.
var kinds = []string{"project_visit", "planting_check", "fire_patrol", "agri_input_check"}

// summary is the part of GET /v1/reports/summary the console shows.
type summary struct {
	Region regionRef    `json:"region"`
	From   string       `json:"from"`
	To     string       `json:"to"`
	AsOf   string       `json:"as_of"`
	Kinds  []string     `json:"kinds"`
	Rows   []summaryRow `json:"rows"`
	Total  summaryRow   `json:"total"`
}

type summaryRow struct {
	Region   regionRef               `json:"region"`
	Kinds    map[string]kindFigures  `json:"kinds"`
	AllKinds kindFigures             `json:"all_kinds"`
	Patrols  *patrolFigures          `json:"patrols"`
	Projects *struct{ Projects int } `json:"projects"`
}

type kindFigures struct {
	Visits   int `json:"visits"`
	Findings struct {
		Total int `json:"total"`
	} `json:"findings"`
	Overdue int `json:"overdue"`
}

type patrolFigures struct {
	Patrols         int      `json:"patrols"`
	PatrolDays      int      `json:"patrol_days"`
	DistanceKm      float64  `json:"distance_km"`
	MeanCoveragePct *float64 `json:"mean_coverage_pct"`
	Areas           int      `json:"areas"`
	AreasPatrolled  int      `json:"areas_patrolled"`
}

// findingUnits is GET /v1/reports/findings?group=unit.
type findingUnits struct {
	Units []struct {
		Findings int `json:"findings"`
		Open     int `json:"open"`
		Overdue  int `json:"overdue"`
		Yellow   int `json:"yellow"`
		Green    int `json:"green"`
		Closed   int `json:"closed"`
	} `json:"units"`
}

type overviewData struct {
	Today, Month summary
	Kinds        []string
	Lights       struct{ Red, Yellow, Green, Closed, Total int }
	Coverage     []summaryRow // townships with patrol areas, least covered first
	Idle         []regionRef  // townships with no visit this month
}

// overview is the supervisor's first page: today's and this month's visits by kind, open findings
// by deadline light, patrol coverage by township and the townships with no visit this month, all
// read from the report endpoints with the caller's scope.
func (k *Console) overview(c *fiber.Ctx, s *session) error {
	var d overviewData
	today := time.Now().In(cst).Format(time.DateOnly)
	if err := k.api.getJSON(c, s.Token, "/v1/reports/summary", url.Values{"from": {today}, "to": {today}}, &d.Today); err != nil {
		return err
	}
	if err := k.api.getJSON(c, s.Token, "/v1/reports/summary", url.Values{"by": {"township"}}, &d.Month); err != nil {
		return err
	}
	var units findingUnits
	if err := k.api.getJSON(c, s.Token, "/v1/reports/findings", url.Values{"group": {"unit"}}, &units); err != nil {
		return err
	}
	for _, u := range units.Units {
		d.Lights.Red += u.Overdue
		d.Lights.Yellow += u.Yellow
		d.Lights.Green += u.Green
		d.Lights.Closed += u.Closed
		d.Lights.Total += u.Findings
	}
	d.Kinds = d.Month.Kinds
	for _, r := range d.Month.Rows {
		if r.AllKinds.Visits == 0 && r.Region.Level == "township" {
			d.Idle = append(d.Idle, r.Region)
		}
		if r.Patrols != nil && r.Patrols.Areas > 0 {
			d.Coverage = append(d.Coverage, r)
		}
	}
	sort.SliceStable(d.Coverage, func(i, j int) bool {
		a, b := d.Coverage[i].Patrols, d.Coverage[j].Patrols
		return coverageOf(a) < coverageOf(b)
	})
	return k.render(c, s, "overview", "overview", d)
}

// coverageOf orders townships: never patrolled (no coverage) first, then by mean coverage.
func coverageOf(p *patrolFigures) float64 {
	if p.MeanCoveragePct == nil {
		return -1
	}
	return *p.MeanCoveragePct
}

package console

import (
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"
)

// visitRow is one row of GET /v1/reports/visits.
type visitRow struct {
	ID              string  `json:"id"`
	Kind            string  `json:"kind"`
	Status          string  `json:"status"`
	SiteName        *string `json:"site_name"`
	County          *string `json:"county"`
	Township        *string `json:"township"`
	InspectorName   *string `json:"inspector_name"`
	StartedAt       *string `json:"started_at"`
	Findings        int     `json:"findings"`
	OverdueFindings int     `json:"overdue_findings"`
	Location        *string `json:"location"`
	PhotoCount      int     `json:"photo_count"`
}

type visitPage struct {
	Items      []visitRow `json:"items"`
	NextCursor *string    `json:"next_cursor"`
}

// region is one entry of GET /v1/regions.
type region struct {
	ID       string  `json:"id"`
	Code     string  `json:"code"`
	Name     string  `json:"name"`
	Level    string  `json:"level"`
	ParentID *string `json:"parent_id"`
}

// filterData feeds the filter form shared by the visits table and the map: the same parameters
// as GET /v1/reports/visits, so both pages' query strings are the report's own.
type filterData struct {
	Action  string
	Q       url.Values
	Kinds   []string
	Regions []region
	Error   *apiError
}

// MapMax is how many visits the map loads at most (the newest first).
const MapMax = 20000

// filterFor reads the request's query string and the regions the filter offers.
func (k *Console) filterFor(c *fiber.Ctx, s *session, action string) (filterData, error) {
	q, err := url.ParseQuery(string(c.Request().URI().QueryString()))
	if err != nil {
		q = url.Values{}
	}
	f := filterData{Action: action, Q: q, Kinds: kinds}
	if len(s.User.Scope.Kinds) > 0 {
		f.Kinds = s.User.Scope.Kinds
	}
	var regions struct {
		Regions []region `json:"regions"`
	}
	if err := k.api.getJSON(c, s.Token, "/v1/regions", url.Values{"max_level": {"township"}}, &regions); err != nil {
		return f, err
	}
	f.Regions = regions.Regions
	return f, nil
}

// userError keeps a refused filter (400, 403) on the page with its message instead of an error page.
func userError(err error) (*apiError, bool) {
	ae, ok := err.(*apiError)
	if ok && (ae.Status == fiber.StatusBadRequest || ae.Status == fiber.StatusForbidden || ae.Status == fiber.StatusUnprocessableEntity) {
		return ae, true
	}
	return nil, false
}

type visitsData struct {
	Filter   filterData
	Page     visitPage
	Next     string // query string of the next page
	First    string // query string of the first page (when not on it)
	Exports  map[string]string
	MapQuery string
}

// visits is the visit table: the report's filters, sort and pages, with export links to the
// report's own CSV, XLSX and GeoJSON.
func (k *Console) visits(c *fiber.Ctx, s *session) error {
	f, err := k.filterFor(c, s, "/visits")
	if err != nil {
		return err
	}
	d := visitsData{Filter: f, Exports: map[string]string{}}
	raw := string(c.Request().URI().QueryString())
	target := "/v1/reports/visits"
	if raw != "" {
		target += "?" + raw
	}
	if err := k.api.getRaw(c, s.Token, target, &d.Page); err != nil {
		ae, ok := userError(err)
		if !ok {
			return err
		}
		d.Filter.Error = ae
		c.Status(ae.Status)
		return k.render(c, s, "visits", "visits", d)
	}
	if d.Page.NextCursor != nil {
		d.Next = withParam(raw, "cursor", *d.Page.NextCursor)
	}
	if f.Q.Get("cursor") != "" {
		d.First = withParam(raw, "cursor", "")
		if d.First == "" {
			d.First = "?"
		}
	}
	base := withoutPaging(f.Q)
	for _, format := range []string{"csv", "xlsx", "geojson"} {
		e := cloneValues(base)
		e.Set("format", format)
		d.Exports[format] = "/v1/reports/visits?" + e.Encode()
	}
	d.MapQuery = encodeQuery(base)
	return k.render(c, s, "visits", "visits", d)
}

// withoutPaging drops the parameters that page the table (the map and exports take every row).
func withoutPaging(q url.Values) url.Values {
	out := cloneValues(q)
	out.Del("cursor")
	out.Del("limit")
	out.Del("format")
	return out
}

func cloneValues(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	return out
}

func encodeQuery(q url.Values) string {
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

type mapData struct {
	Filter     filterData
	GeoJSON    string
	Regions    string
	Tiles      string
	TableQuery string
	Max        int
}

// mapPage is the map of the visits the filter selects: the same query string as the table, checked
// by the report first, then fetched by the page as the report's GeoJSON (the newest MapMax).
func (k *Console) mapPage(c *fiber.Ctx, s *session) error {
	f, err := k.filterFor(c, s, "/map")
	if err != nil {
		return err
	}
	base := withoutPaging(f.Q)
	d := mapData{Filter: f, TableQuery: encodeQuery(base), Tiles: k.opts.MapTileURL, Max: MapMax,
		Regions: "/v1/regions?boundary=true&max_level=township"}
	check := cloneValues(base)
	check.Set("limit", "1")
	var probe visitPage
	if err := k.api.getJSON(c, s.Token, "/v1/reports/visits", check, &probe); err != nil {
		ae, ok := userError(err)
		if !ok {
			return err
		}
		d.Filter.Error = ae
		c.Status(ae.Status)
		return k.render(c, s, "map", "map", d)
	}
	g := cloneValues(base)
	g.Set("format", "geojson")
	g.Set("limit", strconv.Itoa(MapMax))
	d.GeoJSON = "/v1/reports/visits?" + g.Encode()
	return k.render(c, s, "map", "map", d)
}

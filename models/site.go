package models

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"

	"github.com/google/uuid"
)

// SiteKind is what a site is: a key project, a village plot, a fire-patrol area or an
// agricultural-input dealer. Each site kind serves exactly one kind of field work (WorkKind).
type SiteKind string

// The four site kinds.
const (
	SiteProject     SiteKind = "project"
	SiteVillagePlot SiteKind = "village_plot"
	SitePatrolArea  SiteKind = "patrol_area"
	SiteDealer      SiteKind = "dealer"
)

// SiteKinds lists every site kind in a stable order.
var SiteKinds = []SiteKind{SiteProject, SiteVillagePlot, SitePatrolArea, SiteDealer}

// Valid reports whether k is one of the four site kinds.
func (k SiteKind) Valid() bool { return slices.Contains(SiteKinds, k) }

// WorkKind is the kind of field work done at a site of kind k ("" for an unknown site kind). A
// site's record carries it as its Kind, so a phone scoped to some kinds receives only the sites
// of those kinds.
func (k SiteKind) WorkKind() Kind {
	switch k {
	case SiteProject:
		return KindProjectVisit
	case SiteVillagePlot:
		return KindPlantingCheck
	case SitePatrolArea:
		return KindFirePatrol
	case SiteDealer:
		return KindAgriInputCheck
	}
	return ""
}

// RegionLevels are the levels of the region a site of kind k may be placed in: a project in its
// county or township (county-level projects, development zones), a village plot in its village,
// a patrol area and a dealer in their township.
func (k SiteKind) RegionLevels() []RegionLevel {
	switch k {
	case SiteProject:
		return []RegionLevel{LevelCounty, LevelTownship}
	case SiteVillagePlot:
		return []RegionLevel{LevelVillage}
	case SitePatrolArea, SiteDealer:
		return []RegionLevel{LevelTownship}
	}
	return nil
}

// ProjectStage is where a key project stands (DOMAIN.md: 储备 → 前期 → 已批 → 在建 → 竣工 → 投产).
type ProjectStage string

// ProjectStages lists the stages in order.
var ProjectStages = []ProjectStage{"reserve", "preliminary", "approved", "under_construction", "completed", "in_production"}

// Site statuses: an archived site is no longer inspected; phones receive a remove for it.
const (
	SiteActive   = "active"
	SiteArchived = "archived"
)

// Limits on site fields.
const (
	MaxSiteNameLen   = 200
	MaxPersonNameLen = 100
	MaxUnitNameLen   = 200
	MaxShortTextLen  = 100 // a crop, a development zone
	MaxInvestmentWan = 1e8 // 万元, i.e. one trillion yuan
	MaxPlannedAreaMu = 1e6 // 亩
)

var licenceRE = regexp.MustCompile(`^[0-9A-Za-z-]{6,32}$`)

// Site is one place that is inspected, as phones and admins see it (the data of a record of type
// "site"). It is one flat object: the fields every site has, then the fields of each site kind,
// which must be empty (left out) on sites of another kind. RegionID is the region the site belongs
// to (its level depends on the kind, see SiteKind.RegionLevels); WorkKind is derived from Kind.
type Site struct {
	ID       uuid.UUID       `json:"id"`
	Kind     SiteKind        `json:"kind"`
	WorkKind Kind            `json:"work_kind"`
	Name     string          `json:"name"`
	RegionID uuid.UUID       `json:"region_id"`
	Location *Point          `json:"location"`           // required but for patrol areas
	Boundary json.RawMessage `json:"boundary,omitempty"` // patrol areas only: GeoJSON Polygon or MultiPolygon
	Status   string          `json:"status"`

	// project (重点项目)
	InvestmentWan     *float64     `json:"investment_wan,omitempty"` // total investment, 万元
	Stage             ProjectStage `json:"stage,omitempty"`
	DevelopmentZone   string       `json:"development_zone,omitempty"`
	ResponsibleLeader string       `json:"responsible_leader,omitempty"` // 责任领导
	LeadUnit          string       `json:"lead_unit,omitempty"`          // 牵头单位
	PlannedStart      string       `json:"planned_start,omitempty"`      // YYYY-MM-DD
	PlannedFinish     string       `json:"planned_finish,omitempty"`     // YYYY-MM-DD

	// village_plot
	Crop          string   `json:"crop,omitempty"`
	PlannedAreaMu *float64 `json:"planned_area_mu,omitempty"` // 亩

	// patrol_area
	ResponsiblePerson string `json:"responsible_person,omitempty"` // 包保责任人

	// dealer (农资经营户)
	LicenceNumber string `json:"licence_number,omitempty"` // business licence (统一社会信用代码 or older)
	Owner         string `json:"owner,omitempty"`
}

// siteField is one per-kind field: its JSON name, the site kind it belongs to, and whether it is set.
type siteField struct {
	name string
	kind SiteKind
	set  bool
}

func (s *Site) kindFields() []siteField {
	hasBoundary := len(s.Boundary) > 0 && string(s.Boundary) != "null"
	return []siteField{
		{"investment_wan", SiteProject, s.InvestmentWan != nil},
		{"stage", SiteProject, s.Stage != ""},
		{"development_zone", SiteProject, s.DevelopmentZone != ""},
		{"responsible_leader", SiteProject, s.ResponsibleLeader != ""},
		{"lead_unit", SiteProject, s.LeadUnit != ""},
		{"planned_start", SiteProject, s.PlannedStart != ""},
		{"planned_finish", SiteProject, s.PlannedFinish != ""},
		{"crop", SiteVillagePlot, s.Crop != ""},
		{"planned_area_mu", SiteVillagePlot, s.PlannedAreaMu != nil},
		{"boundary", SitePatrolArea, hasBoundary},
		{"responsible_person", SitePatrolArea, s.ResponsiblePerson != ""},
		{"licence_number", SiteDealer, s.LicenceNumber != ""},
		{"owner", SiteDealer, s.Owner != ""},
	}
}

// Validate checks every field of a site against the rules of its kind: required fields, text
// lengths, coordinates in range, boundary polygons closed, money non-negative, dates in order, and
// no field of another kind. RegionID is not checked here: ValidateSiteRegion checks the region
// itself (models cannot look regions up).
func (s *Site) Validate(ve *ValidationError) {
	if s.ID == uuid.Nil {
		ve.Add("id", "required", "a site needs an id")
	}
	if !s.Kind.Valid() {
		ve.Add("kind", "unknown", "kind must be one of project, village_plot, patrol_area, dealer")
	}
	ve.CheckText("name", s.Name, true, MaxSiteNameLen)
	if s.Status != SiteActive && s.Status != SiteArchived {
		ve.Add("status", "invalid", "status must be active or archived")
	}
	ValidatePoint(ve, "location", s.Location)
	if s.Location == nil && s.Kind.Valid() && s.Kind != SitePatrolArea {
		ve.Add("location", "required", "a %s needs a location", s.Kind)
	}
	if s.Kind.Valid() {
		for _, f := range s.kindFields() {
			if f.set && f.kind != s.Kind {
				ve.Add(f.name, "invalid", "is a field of %s sites, not of %s sites", f.kind, s.Kind)
			}
		}
	}
	switch s.Kind {
	case SiteProject:
		s.validateProject(ve)
	case SiteVillagePlot:
		ve.CheckText("crop", s.Crop, true, MaxShortTextLen)
		switch {
		case s.PlannedAreaMu == nil:
			ve.Add("planned_area_mu", "required", "a village plot needs its planned area in mu")
		case *s.PlannedAreaMu <= 0 || *s.PlannedAreaMu > MaxPlannedAreaMu:
			ve.Add("planned_area_mu", "out_of_range", "must be more than 0 and at most %g mu", float64(MaxPlannedAreaMu))
		}
	case SitePatrolArea:
		if len(s.Boundary) == 0 || string(s.Boundary) == "null" {
			ve.Add("boundary", "required", "a patrol area needs its boundary")
		}
		ValidateBoundary(ve, "boundary", s.Boundary)
		if JSONHasNUL(s.Boundary) {
			ve.Add("boundary", "invalid", "must not contain NUL characters")
		}
		ve.CheckText("responsible_person", s.ResponsiblePerson, true, MaxPersonNameLen)
	case SiteDealer:
		if s.LicenceNumber == "" {
			ve.Add("licence_number", "required", "a dealer needs its business licence number")
		} else if !licenceRE.MatchString(s.LicenceNumber) {
			ve.Add("licence_number", "invalid", "must be 6–32 letters, digits or '-'")
		}
		ve.CheckText("owner", s.Owner, true, MaxPersonNameLen)
	}
}

func (s *Site) validateProject(ve *ValidationError) {
	switch {
	case s.InvestmentWan == nil:
		ve.Add("investment_wan", "required", "a project needs its planned investment in 万元")
	case *s.InvestmentWan < 0 || *s.InvestmentWan > MaxInvestmentWan:
		ve.Add("investment_wan", "out_of_range", "must be between 0 and %g 万元", float64(MaxInvestmentWan))
	}
	if s.Stage == "" {
		ve.Add("stage", "required", "a project needs its stage")
	} else if !slices.Contains(ProjectStages, s.Stage) {
		ve.Add("stage", "unknown", "stage must be one of reserve, preliminary, approved, under_construction, completed, in_production")
	}
	ve.CheckText("development_zone", s.DevelopmentZone, false, MaxShortTextLen)
	ve.CheckText("responsible_leader", s.ResponsibleLeader, true, MaxPersonNameLen)
	ve.CheckText("lead_unit", s.LeadUnit, true, MaxUnitNameLen)
	start := ParseDate(ve, "planned_start", s.PlannedStart, false)
	finish := ParseDate(ve, "planned_finish", s.PlannedFinish, false)
	if start != nil && finish != nil && finish.Before(*start) {
		ve.Add("planned_finish", "invalid", "the planned finish cannot be before the planned start")
	}
}

// ValidateSiteRegion checks the region of a site of kind k: given (nil = missing) and of a level
// the kind may sit in. The error goes to field (region_id or region_code, whichever the client used).
func ValidateSiteRegion(ve *ValidationError, field string, k SiteKind, r *Region) {
	if r == nil {
		ve.Add(field, "required", "a site belongs to a region")
		return
	}
	levels := k.RegionLevels()
	if len(levels) == 0 || slices.Contains(levels, r.Level) {
		return
	}
	want := string(levels[0])
	if len(levels) == 2 {
		want = fmt.Sprintf("%s or %s", levels[0], levels[1])
	}
	ve.Add(field, "invalid", "a %s belongs to a %s, not a %s", k, want, r.Level)
}

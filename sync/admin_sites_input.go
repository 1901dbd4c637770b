package sync

import (
	"encoding/json"

	"github.com/fieldsync/fieldsync/models"
	"github.com/google/uuid"
)

// NewSite is a site to create, as the admin API takes it: its region is named by id or by code,
// and the client may choose the id (so a retried create is refused rather than duplicated).
type NewSite struct {
	ID                *uuid.UUID      `json:"id"`
	Kind              string          `json:"kind"`
	Name              string          `json:"name"`
	RegionID          *uuid.UUID      `json:"region_id"`
	RegionCode        string          `json:"region_code"`
	Location          *models.Point   `json:"location"`
	Boundary          json.RawMessage `json:"boundary"`
	InvestmentWan     *float64        `json:"investment_wan"`
	Stage             string          `json:"stage"`
	DevelopmentZone   string          `json:"development_zone"`
	ResponsibleLeader string          `json:"responsible_leader"`
	LeadUnit          string          `json:"lead_unit"`
	PlannedStart      string          `json:"planned_start"`
	PlannedFinish     string          `json:"planned_finish"`
	Crop              string          `json:"crop"`
	PlannedAreaMu     *float64        `json:"planned_area_mu"`
	ResponsiblePerson string          `json:"responsible_person"`
	LicenceNumber     string          `json:"licence_number"`
	Owner             string          `json:"owner"`
}

// site is the active site ns describes, with a new id unless ns names one (region not set yet).
func (ns NewSite) site() models.Site {
	k := models.SiteKind(ns.Kind)
	s := models.Site{ID: uuid.New(), Kind: k, WorkKind: k.WorkKind(), Name: ns.Name, Location: ns.Location,
		Boundary: ns.Boundary, Status: models.SiteActive, InvestmentWan: ns.InvestmentWan,
		Stage: models.ProjectStage(ns.Stage), DevelopmentZone: ns.DevelopmentZone, ResponsibleLeader: ns.ResponsibleLeader,
		LeadUnit: ns.LeadUnit, PlannedStart: ns.PlannedStart, PlannedFinish: ns.PlannedFinish, Crop: ns.Crop,
		PlannedAreaMu: ns.PlannedAreaMu, ResponsiblePerson: ns.ResponsiblePerson, LicenceNumber: ns.LicenceNumber,
		Owner: ns.Owner}
	if string(s.Boundary) == "null" {
		s.Boundary = nil
	}
	if ns.ID != nil && *ns.ID != uuid.Nil {
		s.ID = *ns.ID
	}
	return s
}

// SitePatch is a change to a site: the fields present are set (null clears an optional one); the
// kind never changes. The region is named by id or by code.
type SitePatch struct {
	Name              models.Optional[string]          `json:"name"`
	RegionID          models.Optional[uuid.UUID]       `json:"region_id"`
	RegionCode        models.Optional[string]          `json:"region_code"`
	Location          models.Optional[models.Point]    `json:"location"`
	Boundary          models.Optional[json.RawMessage] `json:"boundary"`
	InvestmentWan     models.Optional[float64]         `json:"investment_wan"`
	Stage             models.Optional[string]          `json:"stage"`
	DevelopmentZone   models.Optional[string]          `json:"development_zone"`
	ResponsibleLeader models.Optional[string]          `json:"responsible_leader"`
	LeadUnit          models.Optional[string]          `json:"lead_unit"`
	PlannedStart      models.Optional[string]          `json:"planned_start"`
	PlannedFinish     models.Optional[string]          `json:"planned_finish"`
	Crop              models.Optional[string]          `json:"crop"`
	PlannedAreaMu     models.Optional[float64]         `json:"planned_area_mu"`
	ResponsiblePerson models.Optional[string]          `json:"responsible_person"`
	LicenceNumber     models.Optional[string]          `json:"licence_number"`
	Owner             models.Optional[string]          `json:"owner"`
}

// movesRegion reports whether the patch names a region.
func (p SitePatch) movesRegion() bool { return p.RegionID.Set || p.RegionCode.Set }

// apply copies the fields present onto site (null clears) and returns their names. The region is
// resolved by the caller.
func (p SitePatch) apply(site *models.Site) []string {
	var changed []string
	str := func(name string, o models.Optional[string], dst *string) {
		if o.Set {
			*dst, changed = o.Value, append(changed, name)
		}
	}
	num := func(name string, o models.Optional[float64], dst **float64) {
		if o.Set {
			*dst, changed = nil, append(changed, name)
			if !o.Null {
				v := o.Value
				*dst = &v
			}
		}
	}
	str("name", p.Name, &site.Name)
	if p.movesRegion() {
		changed = append(changed, "region")
	}
	if p.Location.Set {
		site.Location, changed = nil, append(changed, "location")
		if !p.Location.Null {
			pt := p.Location.Value
			site.Location = &pt
		}
	}
	if p.Boundary.Set {
		site.Boundary, changed = p.Boundary.Value, append(changed, "boundary")
	}
	num("investment_wan", p.InvestmentWan, &site.InvestmentWan)
	stage := string(site.Stage)
	str("stage", p.Stage, &stage)
	site.Stage = models.ProjectStage(stage)
	str("development_zone", p.DevelopmentZone, &site.DevelopmentZone)
	str("responsible_leader", p.ResponsibleLeader, &site.ResponsibleLeader)
	str("lead_unit", p.LeadUnit, &site.LeadUnit)
	str("planned_start", p.PlannedStart, &site.PlannedStart)
	str("planned_finish", p.PlannedFinish, &site.PlannedFinish)
	str("crop", p.Crop, &site.Crop)
	num("planned_area_mu", p.PlannedAreaMu, &site.PlannedAreaMu)
	str("responsible_person", p.ResponsiblePerson, &site.ResponsiblePerson)
	str("licence_number", p.LicenceNumber, &site.LicenceNumber)
	str("owner", p.Owner, &site.Owner)
	return changed
}

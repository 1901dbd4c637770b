package sync

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/fieldsync/fieldsync/models"
	"github.com/google/uuid"
)

// The rules of the four kinds of field work (DOMAIN.md). Each rejection names
// the field and the rule. Codes beyond the shared ones (required, invalid, out_of_range,
// not_found):
//
//   - wrong_site_kind (site_id): the site is of another site kind than the visit's kind needs.
//   - wrong_region_level (region_id): a planting check without a village plot names a region
//     that is not a village.
//   - track_required (track): a fire patrol is submitted without a track of at least
//     minPatrolTrackPoints points.
//
// When each rule applies, so drafts stay usable offline:
//
//   - from visit.create on (create, every update, submit): the site and its kind (or, for a
//     planting check, the village), answers.stage of a project visit, and the type and range of
//     every answer present (numbers, enums, each product line present);
//   - once the visit is submitted (visit.submit, and updates of a submitted visit): a fire
//     patrol's track, and an input check's at least one product line.

// minPatrolTrackPoints is how many fixes a submitted patrol's track needs at least.
const minPatrolTrackPoints = 2

// Answer enums of the kinds (DOMAIN.md).
var (
	soilMoistures = []string{"adequate", "slightly_dry", "dry", "severe_drought"}
	// productCategories are the categories of agricultural inputs a dealer check covers.
	productCategories = []string{"seed", "fertiliser", "pesticide", "veterinary_drug", "film", "machinery"}
)

// registerKinds registers the rules of the four kinds of field work.
func registerKinds(r *Registry) {
	r.Kind(models.KindProjectVisit, projectVisitRules{})
	r.Kind(models.KindPlantingCheck, plantingCheckRules{})
	r.Kind(models.KindFirePatrol, firePatrolRules{})
	r.Kind(models.KindAgriInputCheck, agriInputCheckRules{})
}

// Site returns a live site record (nil when it does not exist or was deleted).
func (w *Work) Site(id uuid.UUID) (*models.Record, error) {
	return w.liveOf(models.TypeSite, id)
}

// Track returns the live track of a patrol visit (nil when none was appended).
func (w *Work) Track(visitID uuid.UUID) (*models.Record, error) {
	return w.liveOf(models.TypeTrack, visitID)
}

// Submitting reports whether the mutation being applied is visit.submit.
func (w *Work) Submitting() bool { return w.mutation.Name == "visit.submit" }

func (w *Work) liveOf(typ string, id uuid.UUID) (*models.Record, error) {
	rec, err := w.Record(typ, id)
	if err != nil || rec == nil || rec.DeletedAt != nil {
		return nil, err
	}
	return rec, nil
}

var _ KindCtx = (*Work)(nil)

// finished reports whether completeness rules apply to v: it is being submitted or already is.
func finished(k KindCtx, v *models.Visit) bool {
	return k.Submitting() || v.Status == models.VisitSubmitted
}

// requireSite checks that v names a live site of site kind want. It reports whether the visit
// names one (right kind or not), so a rule may fall back to the region.
func requireSite(k KindCtx, v *models.Visit, ve *models.ValidationError, want models.SiteKind, required bool) (bool, error) {
	if v.SiteID == nil || *v.SiteID == uuid.Nil {
		if required {
			ve.Add("site_id", "required", "a %s visit needs the site_id of a %s site", v.Kind, want)
		}
		return false, nil
	}
	site, err := k.Site(*v.SiteID)
	if err != nil {
		return true, err
	}
	if site == nil {
		ve.Add("site_id", "not_found", "no such site (it may have been deleted)")
		return true, nil
	}
	var d struct {
		Kind models.SiteKind `json:"kind"`
	}
	_ = json.Unmarshal(site.Data, &d)
	if d.Kind != want {
		got := string(d.Kind)
		if got == "" {
			got = "site of unknown kind"
		}
		ve.Add("site_id", "wrong_site_kind", "a %s visit needs a %s site; this site is a %s", v.Kind, want, got)
	}
	return true, nil
}

// answer returns an answer, nil when it is absent or JSON null.
func answer(v *models.Visit, key string) json.RawMessage {
	raw := bytes.TrimSpace(v.Answers[key])
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return raw
}

// checkNumber checks an optional numeric answer: a number in [lo, hi] (hi = +Inf for no upper
// bound), whole when integer is set.
func checkNumber(ve *models.ValidationError, field string, raw json.RawMessage, lo, hi float64, integer bool) {
	if raw == nil {
		return
	}
	var x float64
	if err := json.Unmarshal(raw, &x); err != nil {
		ve.Add(field, "invalid", "must be a number")
		return
	}
	switch {
	case integer && x != math.Trunc(x):
		ve.Add(field, "invalid", "must be a whole number")
	case x < lo || x > hi:
		if math.IsInf(hi, 1) {
			ve.Add(field, "out_of_range", "must be at least %g", lo)
		} else {
			ve.Add(field, "out_of_range", "must be between %g and %g", lo, hi)
		}
	}
}

// checkEnum checks an answer that must be one of values; required says whether it may be absent.
func checkEnum(ve *models.ValidationError, field string, raw json.RawMessage, values []string, required bool) {
	if raw == nil {
		if required {
			ve.Add(field, "required", "is required: one of %s", strings.Join(values, ", "))
		}
		return
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil || !slices.Contains(values, s) {
		ve.Add(field, "invalid", "must be one of %s", strings.Join(values, ", "))
	}
}

// projectVisitRules: a key-project inspection (重点项目现场督查) is at a project site and records
// the stage seen; counts and amounts are non-negative, progress a percentage.
type projectVisitRules struct{}

func (projectVisitRules) ValidateVisit(k KindCtx, v *models.Visit, ve *models.ValidationError) error {
	if _, err := requireSite(k, v, ve, models.SiteProject, true); err != nil {
		return err
	}
	stages := make([]string, len(models.ProjectStages))
	for i, s := range models.ProjectStages {
		stages[i] = string(s)
	}
	checkEnum(ve, "answers.stage", answer(v, "stage"), stages, true)
	checkNumber(ve, "answers.workers_on_site", answer(v, "workers_on_site"), 0, math.Inf(1), true)
	checkNumber(ve, "answers.progress_pct", answer(v, "progress_pct"), 0, 100, false)
	checkNumber(ve, "answers.investment_completed_wan", answer(v, "investment_completed_wan"), 0, models.MaxInvestmentWan, false)
	return nil
}

func (projectVisitRules) ValidateFinding(*models.Finding, *models.ValidationError) {}

// plantingCheckRules: a spring-planting / drought check (春耕备耕, 抗旱春播) is at a village plot
// or, without one, names a village; soil moisture (墒情) is one of four grades; areas are
// non-negative mu.
type plantingCheckRules struct{}

func (plantingCheckRules) ValidateVisit(k KindCtx, v *models.Visit, ve *models.ValidationError) error {
	hasSite, err := requireSite(k, v, ve, models.SiteVillagePlot, false)
	if err != nil {
		return err
	}
	switch {
	case hasSite:
	case v.RegionID == uuid.Nil:
		ve.Add("site_id", "required", "a planting check needs the site_id of a village_plot site or the region_id of a village")
	default:
		r, err := k.Region(v.RegionID)
		if err != nil {
			return err
		}
		if r != nil && r.Level != models.LevelVillage { // a missing region is not_found on region_id later
			ve.Add("region_id", "wrong_region_level",
				"a planting check without a village_plot site needs a village as its region, not a %s", r.Level)
		}
	}
	checkEnum(ve, "answers.soil_moisture", answer(v, "soil_moisture"), soilMoistures, false)
	checkNumber(ve, "answers.planned_area_mu", answer(v, "planned_area_mu"), 0, models.MaxPlannedAreaMu, false)
	checkNumber(ve, "answers.sown_area_mu", answer(v, "sown_area_mu"), 0, models.MaxPlannedAreaMu, false)
	return nil
}

func (plantingCheckRules) ValidateFinding(*models.Finding, *models.ValidationError) {}

// firePatrolRules: a forest and grassland fire patrol (森林草原防火巡护) walks a patrol area; once
// submitted it has a GPS track of at least minPatrolTrackPoints fixes.
type firePatrolRules struct{}

func (firePatrolRules) ValidateVisit(k KindCtx, v *models.Visit, ve *models.ValidationError) error {
	if _, err := requireSite(k, v, ve, models.SitePatrolArea, true); err != nil {
		return err
	}
	if !finished(k, v) {
		return nil
	}
	rec, err := k.Track(v.ID)
	if err != nil {
		return err
	}
	n := 0
	if rec != nil {
		var t struct {
			Points []json.RawMessage `json:"points"`
		}
		_ = json.Unmarshal(rec.Data, &t)
		n = len(t.Points)
	}
	if n < minPatrolTrackPoints {
		ve.Add("track", "track_required",
			"a fire patrol is submitted with its GPS track: append at least %d points with track.append first (it has %d)",
			minPatrolTrackPoints, n)
	}
	return nil
}

func (firePatrolRules) ValidateFinding(*models.Finding, *models.ValidationError) {}

// agriInputCheckRules: an agricultural-input check (农资打假) is at a dealer and, once submitted,
// lists at least one product checked; every product line names its category.
type agriInputCheckRules struct{}

func (agriInputCheckRules) ValidateVisit(k KindCtx, v *models.Visit, ve *models.ValidationError) error {
	if _, err := requireSite(k, v, ve, models.SiteDealer, true); err != nil {
		return err
	}
	raw := answer(v, "products")
	if raw == nil {
		if finished(k, v) {
			ve.Add("answers.products", "required", "an input check is submitted with at least one product line checked")
		}
		return nil
	}
	var lines []json.RawMessage
	if err := json.Unmarshal(raw, &lines); err != nil {
		ve.Add("answers.products", "invalid", "must be a list of product lines")
		return nil
	}
	if len(lines) == 0 && finished(k, v) {
		ve.Add("answers.products", "required", "an input check is submitted with at least one product line checked")
	}
	for i, line := range lines {
		f := "answers.products[" + strconv.Itoa(i) + "]"
		var p map[string]json.RawMessage
		if err := json.Unmarshal(line, &p); err != nil || p == nil {
			ve.Add(f, "invalid", "a product line is an object")
			continue
		}
		c := bytes.TrimSpace(p["category"])
		if len(c) == 0 || string(c) == "null" {
			c = nil
		}
		checkEnum(ve, f+".category", c, productCategories, true)
	}
	return nil
}

func (agriInputCheckRules) ValidateFinding(*models.Finding, *models.ValidationError) {}

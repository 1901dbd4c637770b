package sync

import (
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/google/uuid"
)

// kindVisit is visitArgs for kind with changes applied (a nil value removes the argument or
// answer; answer keys are written "answers.<key>").
func kindVisit(kind models.Kind, region models.Region, changes map[string]any) map[string]any {
	args := visitArgs(uuid.New(), kind, region)
	answers := args["answers"].(map[string]any)
	for k, v := range changes {
		m, key := args, k
		if len(k) > 8 && k[:8] == "answers." {
			m, key = answers, k[8:]
		}
		if v == nil {
			delete(m, key)
		} else {
			m[key] = v
		}
	}
	return args
}

func (e *env) village() models.Region {
	e.t.Helper()
	for _, c := range []string{"211522105201", "211522105001"} {
		if r, err := e.store.GetRegionByCode(e.ctx, c); err == nil {
			return r
		}
	}
	e.t.Fatal("no village in township 211522105")
	return models.Region{}
}

func TestKindRulesOnCreate(t *testing.T) {
	e := newEnv(t)
	sup := e.phone("supervisor")
	town := e.region("211522105")
	village := e.village()
	dealer, patrol := e.site(models.KindAgriInputCheck), e.site(models.KindFirePatrol)
	for _, tc := range []struct {
		name    string
		kind    models.Kind
		region  models.Region
		changes map[string]any
		code    string // "" = applied
		field   string
	}{
		{"project valid", models.KindProjectVisit, town, map[string]any{"answers.progress_pct": 45.5,
			"answers.investment_completed_wan": 1200}, "", ""},
		{"project without site", models.KindProjectVisit, town, map[string]any{"site_id": nil}, "required", "site_id"},
		{"project at a dealer", models.KindProjectVisit, town, map[string]any{"site_id": dealer}, "wrong_site_kind", "site_id"},
		{"project at no such site", models.KindProjectVisit, town, map[string]any{"site_id": uuid.New()}, "not_found", "site_id"},
		{"project without stage", models.KindProjectVisit, town, map[string]any{"answers.stage": nil}, "required", "answers.stage"},
		{"project stage unknown", models.KindProjectVisit, town, map[string]any{"answers.stage": "stalled"}, "invalid", "answers.stage"},
		{"project stage not text", models.KindProjectVisit, town, map[string]any{"answers.stage": 3}, "invalid", "answers.stage"},
		{"project negative workers", models.KindProjectVisit, town, map[string]any{"answers.workers_on_site": -1}, "out_of_range", "answers.workers_on_site"},
		{"project fractional workers", models.KindProjectVisit, town, map[string]any{"answers.workers_on_site": 2.5}, "invalid", "answers.workers_on_site"},
		{"project workers as text", models.KindProjectVisit, town, map[string]any{"answers.workers_on_site": "many"}, "invalid", "answers.workers_on_site"},
		{"project progress over 100", models.KindProjectVisit, town, map[string]any{"answers.progress_pct": 101}, "out_of_range", "answers.progress_pct"},
		{"project negative investment", models.KindProjectVisit, town, map[string]any{"answers.investment_completed_wan": -5}, "out_of_range", "answers.investment_completed_wan"},

		{"planting valid", models.KindPlantingCheck, town, map[string]any{"answers.planned_area_mu": 320, "answers.sown_area_mu": 80}, "", ""},
		{"planting in a village without site", models.KindPlantingCheck, village, map[string]any{"site_id": nil}, "", ""},
		{"planting in a township without site", models.KindPlantingCheck, town, map[string]any{"site_id": nil}, "wrong_region_level", "region_id"},
		{"planting in a patrol area", models.KindPlantingCheck, town, map[string]any{"site_id": patrol}, "wrong_site_kind", "site_id"},
		{"planting soil moisture unknown", models.KindPlantingCheck, town, map[string]any{"answers.soil_moisture": "wet"}, "invalid", "answers.soil_moisture"},
		{"planting negative sown area", models.KindPlantingCheck, town, map[string]any{"answers.sown_area_mu": -1}, "out_of_range", "answers.sown_area_mu"},
		{"planting negative planned area", models.KindPlantingCheck, town, map[string]any{"answers.planned_area_mu": -0.5}, "out_of_range", "answers.planned_area_mu"},

		{"patrol valid draft without track", models.KindFirePatrol, town, nil, "", ""},
		{"patrol without site", models.KindFirePatrol, town, map[string]any{"site_id": nil}, "required", "site_id"},
		{"patrol at a dealer", models.KindFirePatrol, town, map[string]any{"site_id": dealer}, "wrong_site_kind", "site_id"},

		{"input check valid", models.KindAgriInputCheck, town, nil, "", ""},
		{"input check draft without products", models.KindAgriInputCheck, town, map[string]any{"answers.products": nil}, "", ""},
		{"input check without site", models.KindAgriInputCheck, town, map[string]any{"site_id": nil}, "required", "site_id"},
		{"input check at a patrol area", models.KindAgriInputCheck, town, map[string]any{"site_id": patrol}, "wrong_site_kind", "site_id"},
		{"input check products not a list", models.KindAgriInputCheck, town, map[string]any{"answers.products": "fertiliser"}, "invalid", "answers.products"},
		{"input check product not an object", models.KindAgriInputCheck, town, map[string]any{"answers.products": []any{"seed"}}, "invalid", "answers.products[0]"},
		{"input check product without category", models.KindAgriInputCheck, town, map[string]any{"answers.products": []any{
			map[string]any{"category": "seed"}, map[string]any{"brand": "x"}}}, "required", "answers.products[1].category"},
		{"input check product category unknown", models.KindAgriInputCheck, town, map[string]any{"answers.products": []any{
			map[string]any{"category": "toy"}}}, "invalid", "answers.products[0].category"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := sup.push(mut("visit.create", kindVisit(tc.kind, tc.region, tc.changes))).Results[0]
			if tc.code == "" {
				expectStatus(t, r, models.StatusApplied)
				return
			}
			expectStatus(t, r, models.StatusRejected)
			if r.Error.Code != tc.code || r.Error.Field != tc.field {
				t.Fatalf("error %+v, want %s on %q", r.Error, tc.code, tc.field)
			}
		})
	}
}

func TestKindRulesOnUpdate(t *testing.T) {
	e := newEnv(t)
	sup := e.phone("supervisor")
	town := e.region("211522105")
	args := kindVisit(models.KindProjectVisit, town, nil)
	v := args["id"].(uuid.UUID)
	expectStatus(t, sup.push(mut("visit.create", args)).Results[0], models.StatusApplied)
	for _, tc := range []struct {
		set   map[string]any
		code  string
		field string
	}{
		{map[string]any{"site_id": e.site(models.KindAgriInputCheck)}, "wrong_site_kind", "site_id"},
		{map[string]any{"site_id": nil}, "required", "site_id"},
		{map[string]any{"answers.stage": "stalled"}, "invalid", "answers.stage"},
		{map[string]any{"answers.stage": nil}, "required", "answers.stage"},
		{map[string]any{"answers.progress_pct": -1}, "out_of_range", "answers.progress_pct"},
	} {
		r := sup.push(mut("visit.update", set(v, 1, tc.set))).Results[0]
		expectStatus(t, r, models.StatusRejected)
		if r.Error.Code != tc.code || r.Error.Field != tc.field {
			t.Fatalf("set %v: error %+v, want %s on %q", tc.set, r.Error, tc.code, tc.field)
		}
	}
	expectStatus(t, sup.push(mut("visit.update", set(v, 1, map[string]any{"answers.stage": "completed",
		"answers.progress_pct": 100}))).Results[0], models.StatusApplied)
}

func TestKindRulesOnSubmit(t *testing.T) {
	e := newEnv(t)
	sup := e.phone("supervisor")
	town := e.region("211522105")

	// a fire patrol is submitted with a track of at least two points
	args := kindVisit(models.KindFirePatrol, town, nil)
	patrol := args["id"].(uuid.UUID)
	expectStatus(t, sup.push(mut("visit.create", args)).Results[0], models.StatusApplied)
	submit := mut("visit.submit", map[string]any{"id": patrol})
	start := time.Date(2026, 3, 14, 1, 0, 0, 0, time.UTC)
	pts := walk(0, 0, 40, 0, start) // three fixes
	for _, step := range []struct {
		points []fix
		code   string
	}{{nil, "track_required"}, {pts[:1], "track_required"}, {pts[1:], ""}} {
		if step.points != nil {
			expectStatus(t, sup.push(mut("track.append", appendArgs(patrol, len(step.points), step.points))).Results[0], models.StatusApplied)
		}
		r := sup.push(submit).Results[0]
		if step.code == "" {
			expectStatus(t, r, models.StatusApplied)
			continue
		}
		expectStatus(t, r, models.StatusRejected)
		if r.Error.Code != step.code || r.Error.Field != "track" {
			t.Fatalf("error %+v, want %s on track", r.Error, step.code)
		}
	}

	// an input check is submitted with at least one product line
	for _, products := range []any{nil, []any{}} {
		args = kindVisit(models.KindAgriInputCheck, town, map[string]any{"answers.products": products})
		check := args["id"].(uuid.UUID)
		expectStatus(t, sup.push(mut("visit.create", args)).Results[0], models.StatusApplied)
		r := sup.push(mut("visit.submit", map[string]any{"id": check})).Results[0]
		expectStatus(t, r, models.StatusRejected)
		if r.Error.Code != "required" || r.Error.Field != "answers.products" {
			t.Fatalf("error %+v, want required on answers.products", r.Error)
		}
		expectStatus(t, sup.push(mut("visit.update", set(check, 1, map[string]any{"answers.products": []any{
			map[string]any{"category": "pesticide", "brand": "绿野", "batch": "A1"}}}))).Results[0], models.StatusApplied)
		expectStatus(t, sup.push(mut("visit.submit", map[string]any{"id": check})).Results[0], models.StatusApplied)
		// once submitted, the products cannot be emptied
		r = sup.push(mut("visit.update", set(check, 3, map[string]any{"answers.products": []any{}}))).Results[0]
		expectStatus(t, r, models.StatusRejected)
		if r.Error.Code != "required" || r.Error.Field != "answers.products" {
			t.Fatalf("error %+v, want required on answers.products", r.Error)
		}
	}
}

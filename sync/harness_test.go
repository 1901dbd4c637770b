package sync

import (
	"context"
	"encoding/json"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/fieldsync/fieldsync/storage/pgtest"
	"github.com/fieldsync/fieldsync/storage/storagetest"
	"github.com/google/uuid"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// env is an engine on a fresh database holding the demo city.
type env struct {
	t      testing.TB
	ctx    context.Context
	store  *storage.Store
	dsn    string
	engine *Engine

	sitesOnce gosync.Once // harnessSites stored (by the first phone)
}

func newEnv(t testing.TB) *env {
	st, dsn := storagetest.NewDemoStore(t)
	return &env{t: t, ctx: context.Background(), store: st, dsn: dsn, engine: New(st, DefaultConfig())}
}

// actor returns a demo user as an actor on device.
func (e *env) actor(username, device string) Actor {
	e.t.Helper()
	u, err := e.store.GetUserByUsername(e.ctx, username)
	if err != nil {
		e.t.Fatal(err)
	}
	sc, err := e.store.UserScope(e.ctx, u)
	if err != nil {
		e.t.Fatal(err)
	}
	return Actor{User: u, Scope: sc, DeviceID: device}
}

func (e *env) region(code string) models.Region {
	e.t.Helper()
	r, err := e.store.GetRegionByCode(e.ctx, code)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// phone is a client: an app install with its own mutation counter and cursor.
type phone struct {
	e      *env
	a      Actor
	id     uuid.UUID
	next   int64
	cursor *string
	// local is the phone's replica: type/id → change (put data or absent after remove)
	local map[string]ChangeOut
}

func (e *env) phone(username string) *phone {
	e.harnessSites()
	return &phone{e: e, a: e.actor(username, "dev-"+username), id: uuid.New(), next: 1, local: map[string]ChangeOut{}}
}

func mut(name string, args any) Mutation {
	b, err := json.Marshal(args)
	if err != nil {
		panic(err)
	}
	return Mutation{Name: name, Args: b, ClientTime: time.Now().Format(time.RFC3339)}
}

// push sends mutations with the phone's next ids.
func (p *phone) push(ms ...Mutation) *PushResponse {
	p.e.t.Helper()
	resp, err := p.pushErr(ms...)
	if err != nil {
		p.e.t.Fatalf("push: %v", err)
	}
	return resp
}

func (p *phone) pushErr(ms ...Mutation) (*PushResponse, error) {
	for i := range ms {
		ms[i].ID = p.next + int64(i)
	}
	resp, _, err := p.e.engine.Push(p.e.ctx, p.a, &PushRequest{ClientID: p.id, ProtocolVersion: 1, AppVersion: "2.3.0", Mutations: ms})
	if err == nil {
		p.next = resp.LastMutationID + 1
	}
	return resp, err
}

// pullAll pulls until has_more is false, applying every page to the local replica.
func (p *phone) pullAll(limit int) (pages int, reset bool) {
	p.e.t.Helper()
	for pages = 1; pages < 10000; pages++ {
		resp, err := p.e.engine.Pull(p.e.ctx, p.a, &PullRequest{ClientID: p.id, Cursor: p.cursor, Limit: limit})
		if err != nil {
			p.e.t.Fatalf("pull: %v", err)
		}
		if resp.Reset {
			reset = true
			p.local = map[string]ChangeOut{}
		}
		p.apply(resp.Changes)
		c := resp.Cursor
		p.cursor = &c
		if !resp.HasMore {
			return pages, reset
		}
	}
	p.e.t.Fatal("pull never ended")
	return
}

func (p *phone) apply(changes []ChangeOut) {
	for _, c := range changes {
		k := c.Type + "/" + c.ID
		if c.Op == models.OpRemove {
			delete(p.local, k)
		} else {
			p.local[k] = c
		}
	}
}

func (p *phone) has(typ string, id uuid.UUID) (ChangeOut, bool) {
	c, ok := p.local[typ+"/"+id.String()]
	return c, ok
}

func (p *phone) count(typ string) int {
	n := 0
	for _, c := range p.local {
		if c.Type == typ {
			n++
		}
	}
	return n
}

// harnessSiteIDs are the sites visitArgs visits, one per kind of field work.
var harnessSiteIDs = storagetest.SiteIDs

// site returns the harness site of a kind, storing the harness sites first.
func (e *env) site(kind models.Kind) uuid.UUID {
	e.harnessSites()
	return harnessSiteIDs[kind]
}

// harnessSites stores the test sites (storagetest.StoreSites and StoreRegionSites), once per env.
func (e *env) harnessSites() {
	e.sitesOnce.Do(func() {
		storagetest.StoreSites(e.t, e.store)
		regions, err := e.store.ListRegions(e.ctx, storage.RegionFilter{MaxLevel: models.LevelTownship})
		if err != nil {
			e.t.Fatal(err)
		}
		storagetest.StoreRegionSites(e.t, e.store, regions...) // the city, every county and township
	})
}

// harnessSiteRegions are the codes of the regions of the harness sites (harnessSiteIDs).
var harnessSiteRegions = map[models.Kind]string{models.KindProjectVisit: "211522105", models.KindPlantingCheck: "211522105201",
	models.KindFirePatrol: "211522105", models.KindAgriInputCheck: "211522105"}

// siteFor is the harness site a visit of kind placed in region names: the harness site of that
// kind when it lies in region (region codes nest: a child's code starts with its parent's), else
// the test site of region (storagetest.SiteIn), since a visit's site must lie in its region.
func siteFor(kind models.Kind, region models.Region) uuid.UUID {
	if strings.HasPrefix(harnessSiteRegions[kind], region.Code) {
		return harnessSiteIDs[kind]
	}
	return storagetest.SiteIn(kind, region.ID)
}

// visitArgs is a valid visit.create in region of kind, at a harness site of that kind in region
// (siteFor; the env must have a phone or have called e.site before the push). An
// agri_input_check carries one product line, a planting check its soil moisture.
func visitArgs(id uuid.UUID, kind models.Kind, region models.Region) map[string]any {
	answers := map[string]any{"stage": "under_construction", "workers_on_site": 120}
	switch kind {
	case models.KindPlantingCheck:
		answers["soil_moisture"] = "slightly_dry"
	case models.KindAgriInputCheck:
		answers["products"] = []any{map[string]any{"category": "fertiliser", "brand": "金正大", "batch": "20260301"}}
	}
	args := map[string]any{"id": id, "kind": kind, "region_id": region.ID, "started_at": "2026-03-14T09:12:03+08:00",
		"position": map[string]any{"lat": 41.9, "lon": 121.6, "accuracy_m": 8, "crs": "wgs84"},
		"answers":  answers, "notes": "first visit"}
	if kind.Valid() {
		args["site_id"] = siteFor(kind, region)
	}
	return args
}

func findingArgs(id, visit uuid.UUID) map[string]any {
	return map[string]any{"id": id, "visit_id": visit, "category": "safety", "severity": "serious",
		"description": "no fire extinguishers on site", "responsible_unit": "建安县住建局", "deadline": "2026-04-01"}
}

func set(id uuid.UUID, base int64, fields map[string]any) map[string]any {
	return map[string]any{"id": id, "base_version": base, "set": fields}
}

func expectStatus(t testing.TB, r models.MutationResult, status string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("mutation %d: status %s, want %s (error %+v)", r.ID, r.Status, status, r.Error)
	}
}

func dataOf(t testing.TB, c ChangeOut) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(c.Data, &m); err != nil {
		t.Fatalf("change data: %v", err)
	}
	return m
}

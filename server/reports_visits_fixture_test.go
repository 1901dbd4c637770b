package server

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/fieldsync/fieldsync/storage/pgtest"
	"github.com/fieldsync/fieldsync/storage/storagetest"
	"github.com/fieldsync/fieldsync/sync/demo"
	"github.com/fieldsync/fieldsync/sync/synctest"
	"github.com/google/uuid"
)

// migrateReportCity builds the report tests' template: the demo city with its demo activity
// (300 visits, 75 findings, 60 patrol tracks) pushed through the sync engine.
func migrateReportCity(ctx context.Context, dsn string) error {
	if err := synctest.MigrateWithDemo(ctx, dsn); err != nil {
		return err
	}
	st, err := storage.Open(ctx, dsn, storage.Options{MaxOpenConns: 2})
	if err != nil {
		return err
	}
	defer st.Close()
	e := synctest.Engine(st)
	if _, err := demo.LoadSites(ctx, e); err != nil {
		return err
	}
	_, err = demo.LoadActivity(ctx, e, time.Now())
	return err
}

// reportEnv is a server on the report city, with a second county supervisor (康北县) besides the
// demo's 青河县 one, photos on a few visits, and one visit back in draft.
type reportEnv struct {
	h      *harness
	ctx    context.Context
	tokens map[string]string
	oracle *reportOracle
}

const kangbeiPassword = "kangbei-password-2026"

func newReportEnv(t *testing.T) *reportEnv {
	t.Helper()
	dsn := pgtest.NewDatabase(t, migrateReportCity)
	st := storagetest.Open(t, dsn)
	e := &reportEnv{h: newHarnessOn(t, st, dsn), ctx: context.Background(), tokens: map[string]string{}}
	kangbei, err := st.GetRegionByCode(e.ctx, "211522")
	if err != nil {
		t.Fatal(err)
	}
	hash, err := models.HashPassword(kangbeiPassword, storagetest.CheapPasswords)
	if err != nil {
		t.Fatal(err)
	}
	u := models.User{Username: "supervisor.kangbei", Name: "康北督查", PasswordHash: hash, Role: models.RoleSupervisor,
		RegionID: &kangbei.ID, Active: true}
	if err := st.CreateUser(e.ctx, &u); err != nil {
		t.Fatal(err)
	}
	e.addPhotosAndDraft(t)
	e.oracle = loadReportOracle(t, st)
	return e
}

// token logs a user in once (demo users, or supervisor.kangbei).
func (e *reportEnv) token(username string) string {
	if tok, ok := e.tokens[username]; ok {
		return tok
	}
	pw := demoPassword(username)
	if username == "supervisor.kangbei" {
		pw = kangbeiPassword
	}
	r := e.h.do("POST", "/v1/auth/login", "", loginBody(username, pw, "report-"+username))
	if r.Status != 200 {
		e.h.t.Fatalf("login %s: %d %s", username, r.Status, r.Body)
	}
	e.tokens[username] = r.json(e.h.t)["token"].(string)
	return e.tokens[username]
}

// addPhotosAndDraft gives every 7th visit (by id) one to three photos and a location verdict,
// and puts one visit back in draft.
func (e *reportEnv) addPhotosAndDraft(t *testing.T) {
	t.Helper()
	st := e.h.store
	visits, err := st.ScanRecords(e.ctx, models.TypeVisit, models.Scope{}, uuid.Nil, 10000)
	if err != nil {
		t.Fatal(err)
	}
	levels := []string{"ok", "warn", "fail", "pending"}
	var photos []models.Record
	for i, v := range visits {
		if i%7 != 0 {
			continue
		}
		n := 1 + i%3
		for j := range n {
			id := uuid.NewSHA1(v.ID, []byte(fmt.Sprintf("photo-%d", j)))
			data, _ := json.Marshal(models.PhotoData{ID: id, Status: models.PhotoReady,
				Attach:  &models.PhotoAttach{VisitID: v.ID, CapturedAt: "2026-03-01T09:00:00+08:00"},
				Verdict: models.Verdict{Level: models.VerdictLevel(levels[(i/7)%4]), Reasons: []models.VerdictReason{}}})
			photos = append(photos, models.Record{Type: models.TypePhoto, ID: id, Kind: v.Kind, RegionID: v.RegionID,
				RegionPath: v.RegionPath, ParentID: &v.ID, Status: models.PhotoReady, Version: 1, Data: data,
				FieldMeta: map[string]models.FieldMeta{}})
		}
		if _, err := st.SQL().ExecContext(e.ctx, `INSERT INTO visit_location (visit_id, level, photos) VALUES ($1, $2, $3)`,
			v.ID, levels[(i/7)%4], n); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.SaveRecords(e.ctx, photos, true); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SQL().ExecContext(e.ctx, `UPDATE records SET status = 'draft', data = jsonb_set(data, '{status}', '"draft"')
		WHERE type = 'visit' AND id = $1`, visits[3].ID); err != nil {
		t.Fatal(err)
	}
}

// reportOracle is what the reports should say, computed in Go from the records themselves
// (models.DeadlineLight for overdue), independently of the report queries.
type reportOracle struct {
	visits   []oracleVisit
	byID     map[uuid.UUID]*oracleVisit
	regions  map[uuid.UUID]models.Region
	sites    map[uuid.UUID]models.Site
	users    map[uuid.UUID]string
	findings []oracleFinding
}

type oracleVisit struct {
	rec      models.Record
	v        models.Visit
	started  time.Time
	findings int
	overdue  int
	photos   []uuid.UUID
	location string
}

type oracleFinding struct {
	rec models.Record
	f   models.Finding
}

func loadReportOracle(t *testing.T, st *storage.Store) *reportOracle {
	t.Helper()
	ctx := context.Background()
	o := &reportOracle{byID: map[uuid.UUID]*oracleVisit{}, regions: map[uuid.UUID]models.Region{},
		sites: map[uuid.UUID]models.Site{}, users: map[uuid.UUID]string{}}
	scan := func(typ string) []models.Record {
		recs, err := st.ScanRecords(ctx, typ, models.Scope{}, uuid.Nil, 100000)
		if err != nil {
			t.Fatal(err)
		}
		return recs
	}
	regions, err := st.ListRegions(ctx, storage.RegionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range regions {
		o.regions[r.ID] = r
	}
	for _, r := range scan(models.TypeSite) {
		var s models.Site
		if err := json.Unmarshal(r.Data, &s); err != nil {
			t.Fatal(err)
		}
		o.sites[r.ID] = s
	}
	users, err := st.ListUsers(ctx, storage.UserFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		o.users[u.ID] = u.Name
	}
	for _, r := range scan(models.TypeVisit) {
		ov := oracleVisit{rec: r}
		if err := json.Unmarshal(r.Data, &ov.v); err != nil {
			t.Fatal(err)
		}
		ov.started, err = time.Parse(time.RFC3339, ov.v.StartedAt)
		if err != nil {
			t.Fatal(err)
		}
		o.visits = append(o.visits, ov)
	}
	for i := range o.visits {
		o.byID[o.visits[i].rec.ID] = &o.visits[i]
	}
	now := time.Now()
	for _, r := range scan(models.TypeFinding) {
		of := oracleFinding{rec: r}
		if err := json.Unmarshal(r.Data, &of.f); err != nil {
			t.Fatal(err)
		}
		o.findings = append(o.findings, of)
		ov := o.byID[*r.ParentID]
		ov.findings++
		if _, overdue := models.DeadlineLight(of.f.Deadline, r.Status, now); overdue {
			ov.overdue++
		}
	}
	for _, r := range scan(models.TypePhoto) {
		ov := o.byID[*r.ParentID]
		ov.photos = append(ov.photos, r.ID)
	}
	rows, err := st.SQL().QueryContext(ctx, `SELECT visit_id, level FROM visit_location`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id uuid.UUID
		var level string
		if err := rows.Scan(&id, &level); err != nil {
			t.Fatal(err)
		}
		o.byID[id].location = level
	}
	return o
}

// countyOf returns the name of the county a region path lies in.
func (o *reportOracle) countyOf(path string) string {
	parts := strings.Split(path, "/")
	if len(parts) > 2 {
		if id, err := uuid.Parse(parts[2]); err == nil {
			return o.regions[id].Name
		}
	}
	return ""
}

// expectVisits returns the ids of the visits keep accepts that scope covers, in report order
// (newest first, ties by id descending; oldest first when asc).
func (o *reportOracle) expectVisits(scope models.Scope, asc bool, keep func(*oracleVisit) bool) []string {
	var vs []*oracleVisit
	for i := range o.visits {
		ov := &o.visits[i]
		if scope.Covers(ov.rec.RegionPath, ov.rec.Kind) && keep(ov) {
			vs = append(vs, ov)
		}
	}
	slices.SortFunc(vs, func(a, b *oracleVisit) int {
		c := a.started.Compare(b.started)
		if c == 0 {
			c = strings.Compare(a.rec.ID.String(), b.rec.ID.String())
		}
		if !asc {
			c = -c
		}
		return c
	})
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.rec.ID.String()
	}
	return out
}

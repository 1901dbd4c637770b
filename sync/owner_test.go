package sync

import (
	"errors"
	"testing"

	"github.com/fieldsync/fieldsync/models"
	"github.com/google/uuid"
)

// logCounts are the change-log rows and audit lines written so far.
func (e *env) logCounts() (changes, audits int) {
	return e.count(`SELECT count(*) FROM change_log`), e.count(`SELECT count(*) FROM audit_log`)
}

// TestAdminOperationsNeedAdmin: the engine itself refuses every administrative write to other
// roles (the HTTP role check is only a first line), and a refused call writes nothing.
func TestAdminOperationsNeedAdmin(t *testing.T) {
	e := newEnv(t)
	insp := e.actor("inspector", "phone-1")
	town := e.region("211522105")
	changes, audits := e.logCounts()
	id := uuid.New()
	code := "211522105"
	ops := map[string]func() error{
		"CreateRegion": func() error {
			_, err := e.engine.CreateRegion(e.ctx, insp, NewRegion{Code: "x1", Name: "x", Level: "village", ParentCode: code})
			return err
		},
		"UpdateRegion": func() error {
			_, err := e.engine.UpdateRegion(e.ctx, insp, town.ID, RegionPatch{Name: models.Some("x")})
			return err
		},
		"CreateSite": func() error {
			_, err := e.engine.CreateSite(e.ctx, insp, NewSite{Kind: "dealer", Name: "x", RegionCode: code})
			return err
		},
		"UpdateSite": func() error {
			_, err := e.engine.UpdateSite(e.ctx, insp, id, SitePatch{Name: models.Some("x")})
			return err
		},
		"ArchiveSite": func() error { _, err := e.engine.ArchiveSite(e.ctx, insp, id); return err },
		"CreateUser": func() error {
			_, err := e.engine.CreateUser(e.ctx, insp, NewUser{Username: "x.y", Name: "x", Password: "long-enough-pw", Role: "admin"})
			return err
		},
		"UpdateUser": func() error {
			_, err := e.engine.UpdateUser(e.ctx, insp, insp.User.ID, UserPatch{Role: models.Some("admin")})
			return err
		},
		"DisableUser":  func() error { _, err := e.engine.DisableUser(e.ctx, insp, insp.User.ID); return err },
		"RevokeDevice": func() error { _, err := e.engine.RevokeDevice(e.ctx, insp, "phone-2"); return err },
		"CreateChecklist": func() error {
			_, err := e.engine.CreateChecklist(e.ctx, insp, NewChecklist{Kind: "fire_patrol", Name: "x"})
			return err
		},
		"PublishChecklistVersion": func() error {
			_, err := e.engine.PublishChecklistVersion(e.ctx, insp, models.DefaultChecklistID(models.KindFirePatrol), nil)
			return err
		},
		"EnsureDefaultChecklists": func() error { _, err := e.engine.EnsureDefaultChecklists(e.ctx, insp); return err },
		"Import": func() error {
			_, err := e.engine.Import(e.ctx, insp, Import{Action: "x", Regions: []NewRegion{{Code: "x2", Name: "x", Level: "city"}}})
			return err
		},
	}
	for name, op := range ops {
		if err := op(); !errors.Is(err, models.ErrForbidden) {
			t.Errorf("%s by an inspector: %v, want a forbidden error", name, err)
		}
	}
	if c, a := e.logCounts(); c != changes || a != audits {
		t.Fatalf("refused operations wrote %d change-log rows and %d audit lines", c-changes, a-audits)
	}
}

// TestAdminWritesCommitTogether: an administrative write commits its rows, its change-log row and
// its audit line together, or none of them; the command line acts as the system actor.
func TestAdminWritesCommitTogether(t *testing.T) {
	e := newEnv(t)
	changes, audits := e.logCounts()
	code := "211522105"
	u, err := e.engine.CreateUser(e.ctx, CLIActor(), NewUser{Username: "Ranger.Two", Name: "二号护林员",
		Password: "a-long-password", Role: "township_officer", RegionCode: &code, Kinds: []string{"fire_patrol"}})
	if err != nil {
		t.Fatal(err)
	}
	if u.Username != "ranger.two" || u.RegionID == nil || *u.RegionID != e.region(code).ID {
		t.Fatalf("user %+v", u)
	}
	if c, a := e.logCounts(); c != changes+1 || a != audits+1 {
		t.Fatalf("create user wrote %d change-log rows and %d audit lines, want 1 and 1", c-changes, a-audits)
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE action = 'user.create' AND target_id = $1 AND user_id IS NULL
		AND device_id = 'cli' AND ip = 'local'`, u.ID.String()); n != 1 {
		t.Fatalf("%d command-line audit lines for the new user", n)
	}
	if n := e.count(`SELECT count(*) FROM change_log WHERE record_type = 'user' AND record_id = $1 AND region_path = $2`,
		u.ID.String(), e.region(code).Path); n != 1 {
		t.Fatalf("%d change-log rows for the new user in its township", n)
	}
	// The same username again, and disabling the only admin: refused, nothing written.
	changes, audits = e.logCounts()
	if _, err := e.engine.CreateUser(e.ctx, CLIActor(), NewUser{Username: "ranger.two", Name: "x", Password: "a-long-password",
		Role: "inspector"}); !errors.Is(err, models.ErrConflict) {
		t.Fatalf("duplicate username: %v", err)
	}
	admin := e.actor("admin", "admin-pc")
	if _, err := e.engine.DisableUser(e.ctx, admin, admin.User.ID); !errors.Is(err, models.ErrConflict) {
		t.Fatalf("disabling the last admin: %v", err)
	}
	if c, a := e.logCounts(); c != changes || a != audits {
		t.Fatalf("refused writes left %d change-log rows and %d audit lines", c-changes, a-audits)
	}
	if got := e.actor("admin", "admin-pc"); !got.User.Active {
		t.Fatal("the last admin was disabled")
	}
	// A site in a region of the wrong level: the same rule as the admin API, whoever asks.
	if _, err := e.engine.CreateSite(e.ctx, CLIActor(), NewSite{Kind: "village_plot", Name: "x", RegionCode: code,
		Location: &models.Point{Lat: 41.9, Lon: 121.6}, Crop: "玉米", PlannedAreaMu: new(10.0)}); !errors.Is(err, models.ErrInvalid) {
		t.Fatalf("village plot in a township: %v", err)
	}
}

// TestImportIsAllOrNothing: an import that fails on one item writes none of the others.
func TestImportIsAllOrNothing(t *testing.T) {
	e := newEnv(t)
	changes, audits := e.logCounts()
	regions := e.count(`SELECT count(*) FROM regions`)
	_, err := e.engine.Import(e.ctx, SystemActor(), Import{Action: "test.import", TargetType: "test", Regions: []NewRegion{
		{Code: "211522105901", Name: "新村", Level: "village", ParentCode: "211522105"},
		{Code: "211522105902", Name: "坏村", Level: "county", ParentCode: "211522105"}, // a county under a township
	}})
	var ve *models.ValidationError
	if !errors.As(err, &ve) || ve.Errors[0].Field != "level" {
		t.Fatalf("import: %v", err)
	}
	if c, a := e.logCounts(); c != changes || a != audits || e.count(`SELECT count(*) FROM regions`) != regions {
		t.Fatal("a failed import wrote something")
	}
}

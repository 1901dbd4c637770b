package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/models/democity"
	"github.com/google/uuid"
)

// demoNamespace makes demo ids stable: the same code gives the same UUID on every machine.
var demoNamespace = uuid.MustParse("6f1c7d3e-2b9a-4f50-9c1e-5d2f4b8a7e10")

// DemoResult counts what LoadDemo created; zero counts mean the demo was already there.
type DemoResult struct {
	Regions    int
	Users      int
	Checklists int
}

// LoadDemo creates the deterministic demo city (regions and demo users) in one transaction.
// Rows that already exist (by region code or username) are left exactly as they are, so loading
// twice changes nothing. Passwords are hashed with params.
func (s *Store) LoadDemo(ctx context.Context, params models.PasswordParams) (DemoResult, error) {
	var res DemoResult
	err := s.InTx(ctx, func(tx *Store) error {
		if err := tx.q(ctx).Exec(`SELECT pg_advisory_xact_lock(7236101)`).Error; err != nil {
			return fmt.Errorf("storage: demo lock: %w", classify(err))
		}
		paths, err := tx.regionPathsByCode(ctx)
		if err != nil {
			return err
		}
		for _, dr := range democity.Regions() {
			if _, ok := paths[dr.Code]; ok {
				continue
			}
			r := models.Region{ID: uuid.NewSHA1(demoNamespace, []byte("region:"+dr.Code)), Code: dr.Code, Name: dr.Name,
				Level: models.RegionLevel(dr.Level), Centre: &models.Point{Lat: dr.Lat, Lon: dr.Lon}}
			parentPath := ""
			if dr.ParentCode != "" {
				parent, ok := paths[dr.ParentCode]
				if !ok {
					return fmt.Errorf("storage: demo region %s: parent %s missing", dr.Code, dr.ParentCode)
				}
				r.ParentID, parentPath = &parent.id, parent.path
			}
			r.Path = models.RegionPath(parentPath, r.ID)
			if err := tx.q(ctx).Exec(`INSERT INTO regions (id, code, name, level, parent_id, path, centre_lat, centre_lon)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, r.ID, r.Code, r.Name, string(r.Level), r.ParentID, r.Path,
				r.Centre.Lat, r.Centre.Lon).Error; err != nil {
				return fmt.Errorf("storage: demo region %s: %w", dr.Code, classify(err))
			}
			paths[dr.Code] = regionRef{id: r.ID, path: r.Path}
			res.Regions++
		}
		for _, du := range democity.Users() {
			if _, err := tx.GetUserByUsername(ctx, du.Username); err == nil {
				continue
			}
			u := models.User{ID: uuid.NewSHA1(demoNamespace, []byte("user:"+du.Username)), Username: du.Username,
				Name: du.Name, Role: models.Role(du.Role), Active: true}
			if !u.Role.Valid() {
				return fmt.Errorf("storage: demo user %s: unknown role %q", du.Username, du.Role)
			}
			for _, k := range du.Kinds {
				u.Kinds = append(u.Kinds, models.Kind(k))
			}
			if du.RegionCode != "" {
				ref, ok := paths[du.RegionCode]
				if !ok {
					return fmt.Errorf("storage: demo user %s: region %s missing", du.Username, du.RegionCode)
				}
				u.RegionID = &ref.id
			}
			hash, err := models.HashPassword(du.Password, params)
			if err != nil {
				return err
			}
			u.PasswordHash = hash
			if err := tx.CreateUser(ctx, &u); err != nil {
				return err
			}
			res.Users++
		}
		if res.Checklists, err = tx.EnsureDefaultChecklists(ctx, time.Now()); err != nil {
			return err
		}
		if res.Regions+res.Users+res.Checklists > 0 {
			return tx.Audit(ctx, models.AuditEntry{Action: "demo.load", TargetType: "demo",
				Details: map[string]any{"regions": res.Regions, "users": res.Users, "checklists": res.Checklists}})
		}
		return nil
	})
	return res, err
}

type regionRef struct {
	id   uuid.UUID
	path string
}

func (s *Store) regionPathsByCode(ctx context.Context) (map[string]regionRef, error) {
	var rows []struct {
		ID   uuid.UUID
		Code string
		Path string
	}
	if err := s.q(ctx).Raw(`SELECT id, code, path FROM regions`).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("storage: region paths: %w", classify(err))
	}
	out := make(map[string]regionRef, len(rows))
	for _, r := range rows {
		out[r.Code] = regionRef{id: r.ID, path: r.Path}
	}
	return out, nil
}

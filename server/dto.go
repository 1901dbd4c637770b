package server

import (
	"encoding/json"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

type regionRef struct {
	ID    uuid.UUID          `json:"id"`
	Code  string             `json:"code"`
	Name  string             `json:"name"`
	Level models.RegionLevel `json:"level"`
}

type scopeDTO struct {
	Region *regionRef    `json:"region"`
	Kinds  []models.Kind `json:"kinds"`
}

type userSummary struct {
	ID       uuid.UUID   `json:"id"`
	Username string      `json:"username"`
	Name     string      `json:"name"`
	Role     models.Role `json:"role"`
	Scope    scopeDTO    `json:"scope"`
}

// userSummary describes a user and their scope (with the scope's region spelled out).
func (s *Server) userSummary(c *fiber.Ctx, u models.User, sc models.Scope) (userSummary, error) {
	out := userSummary{ID: u.ID, Username: u.Username, Name: u.Name, Role: u.Role,
		Scope: scopeDTO{Kinds: kindsOrEmpty(sc.Kinds)}}
	if sc.RegionID != nil {
		r, err := s.store.GetRegion(c.UserContext(), *sc.RegionID)
		if err != nil {
			return userSummary{}, err
		}
		out.Scope.Region = &regionRef{ID: r.ID, Code: r.Code, Name: r.Name, Level: r.Level}
	}
	return out, nil
}

func kindsOrEmpty(k []models.Kind) []models.Kind {
	if k == nil {
		return []models.Kind{}
	}
	return k
}

type userDTO struct {
	ID        uuid.UUID     `json:"id"`
	Username  string        `json:"username"`
	Name      string        `json:"name"`
	Role      models.Role   `json:"role"`
	RegionID  *uuid.UUID    `json:"region_id"`
	Kinds     []models.Kind `json:"kinds"`
	Active    bool          `json:"active"`
	CreatedAt time.Time     `json:"created_at"`
	UpdatedAt time.Time     `json:"updated_at"`
}

func toUserDTO(u models.User) userDTO {
	return userDTO{ID: u.ID, Username: u.Username, Name: u.Name, Role: u.Role, RegionID: u.RegionID,
		Kinds: kindsOrEmpty(u.Kinds), Active: u.Active, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

type deviceDTO struct {
	ID         string     `json:"id"`
	UserID     uuid.UUID  `json:"user_id"`
	Name       string     `json:"name"`
	Platform   string     `json:"platform"`
	AppVersion string     `json:"app_version"`
	FirstSeen  time.Time  `json:"first_seen"`
	LastSeen   time.Time  `json:"last_seen"`
	Revoked    bool       `json:"revoked"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

func toDeviceDTO(d models.Device) deviceDTO {
	return deviceDTO{ID: d.ID, UserID: d.UserID, Name: d.Name, Platform: d.Platform, AppVersion: d.AppVersion,
		FirstSeen: d.FirstSeen, LastSeen: d.LastSeen, Revoked: d.RevokedAt != nil, RevokedAt: d.RevokedAt}
}

type regionDTO struct {
	ID        uuid.UUID          `json:"id"`
	Code      string             `json:"code"`
	Name      string             `json:"name"`
	Level     models.RegionLevel `json:"level"`
	ParentID  *uuid.UUID         `json:"parent_id"`
	Centre    *models.Point      `json:"centre"`
	Boundary  json.RawMessage    `json:"boundary,omitempty"`
	UpdatedAt time.Time          `json:"updated_at"`
}

func toRegionDTO(r models.Region) regionDTO {
	return regionDTO{ID: r.ID, Code: r.Code, Name: r.Name, Level: r.Level, ParentID: r.ParentID, Centre: r.Centre,
		Boundary: r.Boundary, UpdatedAt: r.UpdatedAt}
}

package server

import (
	"strconv"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

type deviceList struct {
	Devices    []deviceDTO `json:"devices"`
	NextCursor *string     `json:"next_cursor"`
}

// adminListDevices pages through devices by id; filters: user_id, revoked.
func (s *Server) adminListDevices(c *fiber.Ctx) error {
	q, pg, err := s.listQuery(c, "user_id", "revoked")
	if err != nil {
		return err
	}
	f := storage.DeviceFilter{After: pg.after, Limit: pg.limit + 1}
	if v := q.get("user_id"); v != "" {
		id, err := uuid.Parse(v)
		if err != nil {
			return errBadRequest("user_id must be a UUID.")
		}
		f.UserID = &id
	}
	if f.Revoked, err = q.boolean("revoked"); err != nil {
		return err
	}
	devices, err := s.store.ListDevices(c.UserContext(), f)
	if err != nil {
		return err
	}
	out := deviceList{Devices: []deviceDTO{}}
	devices, out.NextCursor = trimPage(pg, devices, storage.DeviceCursor)
	for _, d := range devices {
		out.Devices = append(out.Devices, toDeviceDTO(d))
	}
	return c.JSON(out)
}

// adminRevokeDevice revokes a device (a lost phone): its tokens stop working on the next request
// and it cannot log in again.
func (s *Server) adminRevokeDevice(c *fiber.Ctx) error {
	id := c.Params("id")
	ctx := c.UserContext()
	var d deviceDTO
	err := s.store.InTx(ctx, func(tx *storage.Store) error {
		dev, err := tx.RevokeDevice(ctx, id)
		if err != nil {
			return err
		}
		d = toDeviceDTO(dev)
		return tx.Audit(ctx, auditBy(c, "device.revoke", "device", id, map[string]any{"user_id": dev.UserID.String()}))
	})
	if err != nil {
		return err
	}
	return c.JSON(d)
}

type auditList struct {
	Entries    []models.AuditEntry `json:"entries"`
	NextCursor *string             `json:"next_cursor"`
}

// adminListAudit pages through the audit log, newest first; filters: action, target_type,
// target_id, user_id.
func (s *Server) adminListAudit(c *fiber.Ctx) error {
	q, pg, err := s.listQuery(c, "action", "target_type", "target_id", "user_id")
	if err != nil {
		return err
	}
	f := storage.AuditFilter{Action: q.get("action"), TargetType: q.get("target_type"),
		TargetID: q.get("target_id"), Limit: pg.limit + 1}
	if pg.after != "" {
		if f.Before, err = strconv.ParseInt(pg.after, 10, 64); err != nil {
			return errBadCursor()
		}
	}
	if v := q.get("user_id"); v != "" {
		id, err := uuid.Parse(v)
		if err != nil {
			return errBadRequest("user_id must be a UUID.")
		}
		f.UserID = &id
	}
	entries, err := s.store.ListAudit(c.UserContext(), f)
	if err != nil {
		return err
	}
	out := auditList{Entries: []models.AuditEntry{}}
	entries, out.NextCursor = trimPage(pg, entries, func(e models.AuditEntry) string { return strconv.FormatInt(e.ID, 10) })
	for _, e := range entries {
		if e.Details == nil {
			e.Details = map[string]any{}
		}
		out.Entries = append(out.Entries, e)
	}
	return c.JSON(out)
}

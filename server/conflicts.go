package server

import (
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	fsync "github.com/fieldsync/fieldsync/sync"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

type conflictList struct {
	Conflicts  []models.Conflict `json:"conflicts"`
	NextCursor *string           `json:"next_cursor"`
}

// listConflicts pages through conflicts on records in the supervisor's scope, newest first;
// ?status=open (default) or all, ?record_id= narrows to one record.
func (s *Server) listConflicts(c *fiber.Ctx) error {
	q, pg, err := s.listQuery(c, "status", "record_id")
	if err != nil {
		return err
	}
	f := storage.ConflictFilter{Limit: pg.limit + 1}
	switch q.get("status") {
	case "", "open":
	case "all":
		f.All = true
	default:
		return errBadRequest("status must be open or all.")
	}
	if v := q.get("record_id"); v != "" {
		id, err := uuid.Parse(v)
		if err != nil {
			return errBadRequest("record_id must be a UUID.")
		}
		f.RecordID = &id
	}
	if pg.after != "" {
		at, id, ok := strings.Cut(pg.after, "|")
		t, terr := time.Parse(time.RFC3339Nano, at)
		cid, ierr := uuid.Parse(id)
		if !ok || terr != nil || ierr != nil {
			return errBadCursor()
		}
		f.BeforeAt, f.BeforeID = t, cid
	}
	cs, err := s.sync.ListConflicts(c.UserContext(), actorOf(c), f)
	if err != nil {
		return err
	}
	out := conflictList{Conflicts: []models.Conflict{}}
	cs, out.NextCursor = trimPage(pg, cs, func(c models.Conflict) string {
		return c.CreatedAt.UTC().Format(time.RFC3339Nano) + "|" + c.ID.String()
	})
	out.Conflicts = append(out.Conflicts, cs...)
	return c.JSON(out)
}

// resolveConflict applies a supervisor's choice (keep client, server or a new value).
func (s *Server) resolveConflict(c *fiber.Ctx) error {
	id, err := uuidParam(c, "id")
	if err != nil {
		return err
	}
	var req fsync.Resolution
	if err := decodeJSON(c, &req, true); err != nil {
		return err
	}
	conflict, err := s.sync.ResolveConflict(c.UserContext(), actorOf(c), id, req)
	if err != nil {
		return syncProblem(err)
	}
	if err := s.store.Audit(c.UserContext(), auditBy(c, "conflict.resolve", "conflict", id.String(),
		map[string]any{"keep": req.Keep, "record_id": conflict.RecordID.String(), "field": conflict.Field})); err != nil {
		return err
	}
	return c.JSON(conflict)
}

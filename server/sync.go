package server

import (
	"errors"
	"time"

	"github.com/fieldsync/fieldsync/models"
	fsync "github.com/fieldsync/fieldsync/sync"
	"github.com/gofiber/fiber/v2"
)

func actorOf(c *fiber.Ctx) fsync.Actor {
	p := principal(c)
	return fsync.Actor{User: p.User, Scope: p.Scope, DeviceID: p.DeviceID, IP: c.IP()}
}

// push applies a phone's queued mutations exactly once (see SYNC_PROTOCOL.md).
func (s *Server) push(c *fiber.Ctx) error {
	var req fsync.PushRequest
	if err := decodeJSON(c, &req, false); err != nil {
		return err
	}
	start := time.Now()
	resp, stats, err := s.sync.Push(c.UserContext(), actorOf(c), &req)
	if err != nil {
		s.metrics.pushes.WithLabelValues(pushOutcome(err)).Inc()
		return syncProblem(err)
	}
	s.metrics.pushes.WithLabelValues("ok").Inc()
	s.metrics.mutations.WithLabelValues("replayed").Add(float64(stats.Replayed))
	s.metrics.mutations.WithLabelValues(models.StatusApplied).Add(float64(stats.Applied))
	s.metrics.mutations.WithLabelValues(models.StatusConflict).Add(float64(stats.Conflicts))
	s.metrics.mutations.WithLabelValues(models.StatusRejected).Add(float64(stats.Rejected))
	s.log.InfoContext(c.UserContext(), "push", "request_id", c.Locals(localRequestID), "client_id", req.ClientID,
		"device_id", principal(c).DeviceID, "mutations", len(req.Mutations), "replayed", stats.Replayed,
		"applied", stats.Applied, "conflicts", stats.Conflicts, "rejected", stats.Rejected,
		"last_mutation_id", resp.LastMutationID, "duration", time.Since(start))
	return c.JSON(resp)
}

func pushOutcome(err error) string {
	var gap *fsync.ErrMutationGap
	var old *fsync.ErrProtocolTooOld
	switch {
	case errors.As(err, &gap):
		return "gap"
	case errors.As(err, &old):
		return "protocol_too_old"
	}
	return "error"
}

// pull sends one page of changes in the caller's scope.
func (s *Server) pull(c *fiber.Ctx) error {
	var req fsync.PullRequest
	if err := decodeJSON(c, &req, false); err != nil {
		return err
	}
	start := time.Now()
	resp, err := s.sync.Pull(c.UserContext(), actorOf(c), &req)
	if err != nil {
		return syncProblem(err)
	}
	s.metrics.pullPages.Inc()
	s.metrics.changesSent.Add(float64(len(resp.Changes)))
	s.log.InfoContext(c.UserContext(), "pull", "request_id", c.Locals(localRequestID), "client_id", req.ClientID,
		"device_id", principal(c).DeviceID, "changes", len(resp.Changes), "has_more", resp.HasMore, "reset", resp.Reset,
		"duration", time.Since(start))
	return c.JSON(resp)
}

// syncProblem maps the engine's errors to problems; others go to the error handler as they are.
func syncProblem(err error) error {
	var gap *fsync.ErrMutationGap
	var old *fsync.ErrProtocolTooOld
	var many *fsync.ErrTooManyMutations
	switch {
	case errors.As(err, &gap):
		p := problem(fiber.StatusConflict, "mutation-gap", "Mutation gap",
			"The first new mutation id does not follow the last one this server applied; resend from expected_mutation_id.")
		p.Extra = map[string]any{"expected_mutation_id": gap.Expected}
		return p
	case errors.As(err, &old):
		p := problem(fiber.StatusUpgradeRequired, "protocol-too-old", "Protocol too old",
			"This app speaks a sync protocol the server no longer accepts; update the app. Nothing was applied; keep the queue.")
		p.Extra = map[string]any{"min_protocol_version": old.Min}
		return p
	case errors.As(err, &many):
		p := problem(fiber.StatusRequestEntityTooLarge, "too-many-mutations", "Too many mutations",
			"Split the queue into pushes of at most limit mutations.")
		p.Extra = map[string]any{"limit": many.Limit}
		return p
	case errors.Is(err, fsync.ErrClientMismatch):
		return problem(fiber.StatusForbidden, "client-mismatch", "Client belongs to another user",
			"This client_id was registered by another user; a new login on this install needs a new client_id.")
	case errors.Is(err, fsync.ErrBadCursor):
		return errBadRequest("cursor is not one this server issued; pull again with cursor null.")
	case errors.Is(err, fsync.ErrAlreadyResolved):
		return problem(fiber.StatusConflict, "already-resolved", "Already resolved", "This conflict has been resolved already.")
	}
	return err
}

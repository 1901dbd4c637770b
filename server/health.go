package server

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
)

// healthz says the process is alive; it touches nothing.
func (s *Server) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok", "version": s.cfg.Version})
}

// readyz says whether the server can do work: the database and the photo store answer within
// two seconds.
func (s *Server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.log.Warn("not ready", "error", err)
		p := problem(fiber.StatusServiceUnavailable, "not-ready", "Not ready", "The database is not reachable.")
		p.RetryAfter = 5
		return p
	}
	if s.blob != nil {
		if err := s.blob.Ping(ctx); err != nil {
			s.log.Warn("not ready", "store", s.blob.Name(), "error", err)
			p := problem(fiber.StatusServiceUnavailable, "not-ready", "Not ready", "The photo store is not reachable.")
			p.RetryAfter = 5
			return p
		}
	}
	return c.JSON(fiber.Map{"status": "ready"})
}

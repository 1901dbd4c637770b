package server

import "github.com/gofiber/fiber/v2"

// reportRoutes registers the supervisor reports (issue 7).
func (s *Server) reportRoutes(app *fiber.App, authed fiber.Handler) {}

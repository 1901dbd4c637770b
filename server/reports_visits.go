package server

import "github.com/gofiber/fiber/v2"

// visitReportRoutes registers GET /v1/reports/visits and /v1/reports/findings.
func (s *Server) visitReportRoutes(app *fiber.App, authed fiber.Handler) {}

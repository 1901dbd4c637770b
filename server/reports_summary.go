package server

import "github.com/gofiber/fiber/v2"

// summaryReportRoutes registers /v1/reports/summary, /v1/reports/dispatch and /v1/reports/visits/{id}.
func (s *Server) summaryReportRoutes(app *fiber.App, authed fiber.Handler) {}

package server

import "github.com/gofiber/fiber/v2"

// reportRoutes registers the supervisor reports: the visit and finding lists with their
// exports, and the summaries with the visit report and the monthly dispatch.
func (s *Server) reportRoutes(app *fiber.App, authed fiber.Handler) {
	s.visitReportRoutes(app, authed)
	s.summaryReportRoutes(app, authed)
}

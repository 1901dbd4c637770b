package console

import (
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// findingRow is one row of GET /v1/reports/findings.
type findingRow struct {
	ID                string  `json:"id"`
	VisitID           *string `json:"visit_id"`
	Kind              string  `json:"kind"`
	Status            string  `json:"status"`
	Severity          string  `json:"severity"`
	Category          string  `json:"category"`
	Description       string  `json:"description"`
	ResponsibleUnit   string  `json:"responsible_unit"`
	ResponsiblePerson string  `json:"responsible_person"`
	Deadline          string  `json:"deadline"`
	Light             string  `json:"light"`
	Overdue           bool    `json:"overdue"`
	DaysOverdue       int     `json:"days_overdue"`
	SiteName          *string `json:"site_name"`
	County            *string `json:"county"`
	Township          *string `json:"township"`
}

type findingsData struct {
	Q       url.Values
	Kinds   []string
	Regions []region
	Error   *apiError
	Items   []findingRow
	Next    string
	First   string
	Back    string // this page, where a re-check returns to
	Exports map[string]string
}

// findings is the findings board: the finding report in its order (open before closed, the most
// overdue first) with deadline lights; supervisors record re-checks from it.
func (k *Console) findings(c *fiber.Ctx, s *session) error {
	f, err := k.filterFor(c, s, "/findings")
	if err != nil {
		return err
	}
	raw := string(c.Request().URI().QueryString())
	d := findingsData{Q: f.Q, Kinds: f.Kinds, Regions: f.Regions, Back: "/findings" + encodeRaw(raw), Exports: map[string]string{}}
	var page struct {
		Items      []findingRow `json:"items"`
		NextCursor *string      `json:"next_cursor"`
	}
	if err := k.api.getRaw(c, s.Token, "/v1/reports/findings"+encodeRaw(raw), &page); err != nil {
		ae, ok := userError(err)
		if !ok {
			return err
		}
		d.Error = ae
		c.Status(ae.Status)
		return k.render(c, s, "findings", "findings", d)
	}
	d.Items = page.Items
	if page.NextCursor != nil {
		d.Next = withParam(raw, "cursor", *page.NextCursor)
	}
	if f.Q.Get("cursor") != "" {
		d.First = withParam(raw, "cursor", "")
		if d.First == "" {
			d.First = "?"
		}
	}
	base := withoutPaging(f.Q)
	for _, format := range []string{"csv", "xlsx"} {
		e := cloneValues(base)
		e.Set("format", format)
		d.Exports[format] = "/v1/reports/findings?" + e.Encode()
	}
	return k.render(c, s, "findings", "findings", d)
}

func encodeRaw(raw string) string {
	if raw == "" {
		return ""
	}
	return "?" + raw
}

// newOp is the id a re-check form carries: the push's client_id. A form sent twice (a reload after
// the post) replays the same mutation, which the sync engine answers from its stored result.
func newOp() string { return uuid.NewString() }

// pushResult is the part of a push answer the console reads.
type pushResult struct {
	Results []struct {
		Status string `json:"status"`
		Error  *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	} `json:"results"`
}

// recheck records a supervisor's re-check of a finding through the sync engine: a push of one
// finding.recheck mutation, exactly as a supervisor's phone sends it, so the role, scope and
// transition rules and the finding's history are the engine's.
func (k *Console) recheck(c *fiber.Ctx, s *session) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	back := safeNext(c.FormValue("back", "/findings"))
	op, err := uuid.Parse(c.FormValue("op"))
	if err != nil {
		return &apiError{Status: fiber.StatusBadRequest, Title: "Bad request", Detail: "The form has no operation id; reload the page."}
	}
	var passed *bool
	switch c.FormValue("passed") {
	case "true":
		passed = ptr(true)
	case "false":
		passed = ptr(false)
	}
	now := time.Now().In(cst).Format(time.RFC3339)
	args := map[string]any{"id": id, "passed": passed, "notes": strings.TrimSpace(c.FormValue("notes")), "checked_at": now}
	push := map[string]any{"client_id": op.String(), "protocol_version": 1, "app_version": "web-console",
		"mutations": []map[string]any{{"id": 1, "name": "finding.recheck", "args": args, "client_time": now}}}
	var out pushResult
	if err := k.api.send(c, s.Token, fiber.MethodPost, "/v1/sync/push", push, &out); err != nil {
		return err
	}
	lang := requestLang(c)
	switch {
	case len(out.Results) == 0:
		k.flash(c, message(lang, "recheck.nothing"))
	case out.Results[0].Status == "rejected" && out.Results[0].Error != nil:
		e := out.Results[0].Error
		k.flash(c, message(lang, "recheck.rejected")+": "+e.Code+" — "+e.Message)
	default:
		k.flash(c, message(lang, "recheck.recorded"))
	}
	return redirect(c, back)
}

func ptr[T any](v T) *T { return &v }

package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// visitReportJSON is GET /v1/reports/visits/{id}: a visit with everything a supervisor reads
// about it, answers labelled by the checklist version it was filled in with.
type visitReportJSON struct {
	ID        uuid.UUID             `json:"id"`
	Kind      models.Kind           `json:"kind"`
	KindLabel string                `json:"kind_label"`
	Status    string                `json:"status"`
	StartedAt string                `json:"started_at"`
	EndedAt   *string               `json:"ended_at"`
	Notes     string                `json:"notes"`
	Position  *models.Position      `json:"position"`
	Site      *visitReportSite      `json:"site"`
	RegionID  *uuid.UUID            `json:"region_id"`
	Place     storage.DispatchPlace `json:"place"`
	Inspector visitReportPerson     `json:"inspector"`
	Checklist *visitReportChecklist `json:"checklist"`
	Answers   []answerItem          `json:"answers"`
	Findings  []findingReport       `json:"findings"`
	Photos    []photoReport         `json:"photos"`
	Location  *models.Verdict       `json:"location"`
	Track     *models.TrackStats    `json:"track"`
}

type visitReportSite struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
	Kind string    `json:"kind"`
}

type visitReportPerson struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
}

type visitReportChecklist struct {
	ID      uuid.UUID `json:"id"`
	Name    string    `json:"name"`
	Version int       `json:"version"`
}

// answerItem is one answer with its checklist label and a display text; rows are a repeating
// group's rows, each a list of items.
type answerItem struct {
	Key   string          `json:"key"`
	Label string          `json:"label"`
	Type  string          `json:"type"`
	Unit  string          `json:"unit,omitempty"`
	Value json.RawMessage `json:"value"`
	Text  string          `json:"text"`
	Rows  [][]answerItem  `json:"rows,omitempty"`
}

type findingReport struct {
	models.Finding
	History []findingEventReport `json:"history"`
}

type findingEventReport struct {
	models.FindingEvent
	ByName string `json:"by_name"`
}

type photoReport struct {
	ID           uuid.UUID      `json:"id"`
	Status       string         `json:"status"`
	FindingID    *uuid.UUID     `json:"finding_id"`
	Caption      string         `json:"caption"`
	CapturedAt   string         `json:"captured_at"`
	Verdict      models.Verdict `json:"verdict"`
	ThumbnailURL string         `json:"thumbnail_url"`
	ContentURL   string         `json:"content_url"`

	blob *models.PhotoBlob
}

// visitReport is GET /v1/reports/visits/{id}[?format=pdf|geojson]. A visit outside the caller's
// scope is a 404, like one that does not exist.
func (s *Server) visitReport(c *fiber.Ctx) error {
	if err := summaryOnlyQuery(c, "format"); err != nil {
		return err
	}
	format := c.Query("format", formatJSON)
	if format != formatJSON && format != "pdf" && format != formatGeoJSON {
		return summaryParam("format", "must be json, pdf or geojson.")
	}
	id, err := uuidParam(c, "id")
	if err != nil {
		return err
	}
	d, err := s.store.VisitDetail(c.UserContext(), id)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && !principal(c).Scope.Covers(d.Visit.RegionPath, d.Visit.Kind)) {
		return errNotFound("No visit " + id.String() + " in your scope.")
	}
	if err != nil {
		return err
	}
	rep, err := buildVisitReport(d, time.Now())
	if err != nil {
		return err
	}
	if format == formatGeoJSON {
		return s.visitFeature(c, d, rep)
	}
	if format == "pdf" {
		doc, err := s.newPDF(false, "现场督查报告 "+rep.ID.String())
		if err != nil {
			return err
		}
		s.visitPDF(c, doc, rep)
		name := rep.KindLabel + "报告"
		if rep.Site != nil {
			name = rep.Site.Name + " " + name
		}
		return sendPDF(c, doc, name+" "+strings.SplitN(rep.StartedAt, "T", 2)[0]+".pdf")
	}
	return c.JSON(rep)
}

func buildVisitReport(d *storage.VisitDetail, now time.Time) (*visitReportJSON, error) {
	var v models.Visit
	if err := json.Unmarshal(d.Visit.Data, &v); err != nil {
		return nil, fmt.Errorf("visit %s: %w", d.Visit.ID, err)
	}
	rep := &visitReportJSON{ID: v.ID, Kind: v.Kind, KindLabel: label(kindLabels, v.Kind), Status: d.Visit.Status,
		StartedAt: v.StartedAt, EndedAt: v.EndedAt, Notes: v.Notes, Position: v.Position, RegionID: d.Visit.RegionID,
		Place: d.Place, Inspector: visitReportPerson{ID: v.InspectorID, Name: d.Inspector},
		Findings: []findingReport{}, Photos: []photoReport{}, Location: d.Location, Track: d.Track}
	if d.Site != nil {
		var sd struct {
			Name string `json:"name"`
			Kind string `json:"kind"`
		}
		_ = json.Unmarshal(d.Site.Data, &sd)
		rep.Site = &visitReportSite{ID: d.Site.ID, Name: sd.Name, Kind: sd.Kind}
	}
	var items []models.ChecklistItem
	if d.Checklist != nil && v.Checklist != nil {
		rep.Checklist = &visitReportChecklist{ID: d.Checklist.ID, Name: d.Checklist.Name, Version: v.Checklist.Version}
		if ver := d.Checklist.Version(v.Checklist.Version); ver != nil {
			items = ver.Items
		}
	}
	rep.Answers = labelAnswers(items, v.Answers)
	for _, fr := range d.Findings {
		var f models.Finding
		if err := json.Unmarshal(fr.Data, &f); err != nil {
			return nil, fmt.Errorf("finding %s: %w", fr.ID, err)
		}
		f.Status = fr.Status
		f.DeadlineLight, f.Overdue = models.DeadlineLight(f.Deadline, f.Status, now) // as of now, not of the last write
		out := findingReport{Finding: f, History: []findingEventReport{}}
		for _, e := range f.History {
			out.History = append(out.History, findingEventReport{FindingEvent: e, ByName: d.UserNames[e.By]})
		}
		rep.Findings = append(rep.Findings, out)
	}
	for _, pr := range d.Photos {
		var p models.PhotoData
		if err := json.Unmarshal(pr.Data, &p); err != nil {
			return nil, fmt.Errorf("photo %s: %w", pr.ID, err)
		}
		ph := photoReport{ID: pr.ID, Status: p.Status, Verdict: p.Verdict, ThumbnailURL: thumbnailURL(pr.ID),
			ContentURL: photoURL(pr.ID), blob: p.Blob}
		if ph.Verdict.Reasons == nil {
			ph.Verdict.Reasons = []models.VerdictReason{}
		}
		if p.Attach != nil {
			ph.FindingID, ph.Caption, ph.CapturedAt = p.Attach.FindingID, p.Attach.Caption, p.Attach.CapturedAt
		}
		rep.Photos = append(rep.Photos, ph)
	}
	return rep, nil
}

// labelAnswers lists the answers in the checklist's order with its labels, then any answer the
// version does not name (by key).
func labelAnswers(items []models.ChecklistItem, answers map[string]json.RawMessage) []answerItem {
	out := []answerItem{}
	seen := map[string]bool{}
	for _, it := range items {
		raw, ok := answers[it.Key]
		seen[it.Key] = true
		if !ok || string(bytes.TrimSpace(raw)) == "null" {
			continue
		}
		out = append(out, answerOf(it, raw))
	}
	var rest []string
	for k := range answers {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	for _, k := range rest {
		out = append(out, answerItem{Key: k, Label: k, Type: "unknown", Value: answers[k], Text: string(answers[k])})
	}
	return out
}

func answerOf(it models.ChecklistItem, raw json.RawMessage) answerItem {
	a := answerItem{Key: it.Key, Label: it.Label, Type: string(it.Type), Unit: it.Unit, Value: raw, Text: string(raw)}
	switch it.Type {
	case models.ItemBool:
		var b bool
		if json.Unmarshal(raw, &b) == nil {
			a.Text = map[bool]string{true: "是", false: "否"}[b]
		}
	case models.ItemNumber:
		var x float64
		if json.Unmarshal(raw, &x) == nil {
			a.Text = strings.TrimSpace(fmt.Sprintf("%g %s", x, it.Unit))
		}
	case models.ItemPhotoCount:
		var n int
		if json.Unmarshal(raw, &n) == nil {
			a.Text = fmt.Sprintf("%d 张", n)
		}
	case models.ItemText, models.ItemDate:
		var s string
		if json.Unmarshal(raw, &s) == nil {
			a.Text = s
		}
	case models.ItemChoice:
		var s string
		if json.Unmarshal(raw, &s) == nil {
			a.Text = label(it.OptionLabels, s)
		}
	case models.ItemMultiChoice:
		var ss []string
		if json.Unmarshal(raw, &ss) == nil {
			ls := make([]string, len(ss))
			for i, s := range ss {
				ls[i] = label(it.OptionLabels, s)
			}
			a.Text = strings.Join(ls, "、")
			if len(ss) == 0 {
				a.Text = "无"
			}
		}
	case models.ItemGroup:
		var rows []map[string]json.RawMessage
		if json.Unmarshal(raw, &rows) == nil {
			a.Text = fmt.Sprintf("%d 项", len(rows))
			for _, r := range rows {
				a.Rows = append(a.Rows, labelAnswers(it.Items, r))
			}
		}
	}
	return a
}

package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/google/uuid"
)

// VisitReport is the report of one visit (GET /v1/reports/visits/{id}): the visit with everything
// a supervisor reads about it, answers labelled by the checklist version it was filled in with.
type VisitReport struct {
	ID        uuid.UUID             `json:"id"`
	Kind      models.Kind           `json:"kind"`
	KindLabel string                `json:"kind_label"`
	Status    string                `json:"status"`
	StartedAt string                `json:"started_at"`
	EndedAt   *string               `json:"ended_at"`
	Notes     string                `json:"notes"`
	Position  *models.Position      `json:"position"`
	Site      *VisitReportSite      `json:"site"`
	RegionID  *uuid.UUID            `json:"region_id"`
	Place     storage.DispatchPlace `json:"place"`
	Inspector VisitReportPerson     `json:"inspector"`
	Checklist *VisitReportChecklist `json:"checklist"`
	Answers   []Answer              `json:"answers"`
	Findings  []FindingReport       `json:"findings"`
	Photos    []Photo               `json:"photos"`
	Location  *models.Verdict       `json:"location"`
	Track     *models.TrackStats    `json:"track"`
}

// VisitReportSite is the visit's site.
type VisitReportSite struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
	Kind string    `json:"kind"`
}

// VisitReportPerson is the inspector.
type VisitReportPerson struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
}

// VisitReportChecklist is the checklist version the visit was filled in with.
type VisitReportChecklist struct {
	ID      uuid.UUID `json:"id"`
	Name    string    `json:"name"`
	Version int       `json:"version"`
}

// Answer is one answer with its checklist label and a display text; rows are a repeating
// group's rows, each a list of items.
type Answer struct {
	Key   string          `json:"key"`
	Label string          `json:"label"`
	Type  string          `json:"type"`
	Unit  string          `json:"unit,omitempty"`
	Value json.RawMessage `json:"value"`
	Text  string          `json:"text"`
	Rows  [][]Answer      `json:"rows,omitempty"`
}

// FindingReport is a finding of the visit with its history.
type FindingReport struct {
	models.Finding
	History []FindingEventReport `json:"history"`
}

// FindingEventReport is a step of a finding's history with the name of who took it.
type FindingEventReport struct {
	models.FindingEvent
	ByName string `json:"by_name"`
}

// Photo is a photo of the visit with its verdict and the paths of its bytes.
type Photo struct {
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

// BuildVisitReport makes the report of a visit as of now.
func BuildVisitReport(d *storage.VisitDetail, now time.Time) (*VisitReport, error) {
	var v models.Visit
	if err := json.Unmarshal(d.Visit.Data, &v); err != nil {
		return nil, fmt.Errorf("render: visit %s: %w", d.Visit.ID, err)
	}
	rep := &VisitReport{ID: v.ID, Kind: v.Kind, KindLabel: label(kindLabels, v.Kind), Status: d.Visit.Status,
		StartedAt: v.StartedAt, EndedAt: v.EndedAt, Notes: v.Notes, Position: v.Position, RegionID: d.Visit.RegionID,
		Place: d.Place, Inspector: VisitReportPerson{ID: v.InspectorID, Name: d.Inspector},
		Findings: []FindingReport{}, Photos: []Photo{}, Location: d.Location, Track: d.Track}
	if d.Site != nil {
		var sd struct {
			Name string `json:"name"`
			Kind string `json:"kind"`
		}
		_ = json.Unmarshal(d.Site.Data, &sd)
		rep.Site = &VisitReportSite{ID: d.Site.ID, Name: sd.Name, Kind: sd.Kind}
	}
	var items []models.ChecklistItem
	if d.Checklist != nil && v.Checklist != nil {
		rep.Checklist = &VisitReportChecklist{ID: d.Checklist.ID, Name: d.Checklist.Name, Version: v.Checklist.Version}
		if ver := d.Checklist.Version(v.Checklist.Version); ver != nil {
			items = ver.Items
		}
	}
	rep.Answers = labelAnswers(items, v.Answers)
	for _, fr := range d.Findings {
		var f models.Finding
		if err := json.Unmarshal(fr.Data, &f); err != nil {
			return nil, fmt.Errorf("render: finding %s: %w", fr.ID, err)
		}
		f.Status = fr.Status
		f.DeadlineLight, f.Overdue = models.DeadlineLight(f.Deadline, f.Status, now) // as of now, not of the last write
		out := FindingReport{Finding: f, History: []FindingEventReport{}}
		for _, e := range f.History {
			out.History = append(out.History, FindingEventReport{FindingEvent: e, ByName: d.UserNames[e.By]})
		}
		rep.Findings = append(rep.Findings, out)
	}
	for _, pr := range d.Photos {
		var p models.PhotoData
		if err := json.Unmarshal(pr.Data, &p); err != nil {
			return nil, fmt.Errorf("render: photo %s: %w", pr.ID, err)
		}
		ph := Photo{ID: pr.ID, Status: p.Status, Verdict: p.Verdict, ThumbnailURL: ThumbnailURL(pr.ID),
			ContentURL: PhotoURL(pr.ID), blob: p.Blob}
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
func labelAnswers(items []models.ChecklistItem, answers map[string]json.RawMessage) []Answer {
	out := []Answer{}
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
		out = append(out, Answer{Key: k, Label: k, Type: "unknown", Value: answers[k], Text: string(answers[k])})
	}
	return out
}

func answerOf(it models.ChecklistItem, raw json.RawMessage) Answer {
	a := Answer{Key: it.Key, Label: it.Label, Type: string(it.Type), Unit: it.Unit, Value: raw, Text: string(raw)}
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

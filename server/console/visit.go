package console

import (
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// visitReport is GET /v1/reports/visits/{id}: the visit with labelled answers, findings with their
// history, photos with verdicts, its location verdict and track statistics.
type visitReport struct {
	ID        string  `json:"id"`
	Kind      string  `json:"kind"`
	Status    string  `json:"status"`
	StartedAt string  `json:"started_at"`
	EndedAt   *string `json:"ended_at"`
	Notes     string  `json:"notes"`
	Position  *struct {
		Lat       float64  `json:"lat"`
		Lon       float64  `json:"lon"`
		AccuracyM *float64 `json:"accuracy_m"`
	} `json:"position"`
	Site *struct {
		ID   string `json:"id"`
		Name string `json:"name"`
		Kind string `json:"kind"`
	} `json:"site"`
	Place struct {
		Region   string `json:"region"`
		County   string `json:"county"`
		Township string `json:"township"`
	} `json:"place"`
	Inspector struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"inspector"`
	Checklist *struct {
		Name    string `json:"name"`
		Version int    `json:"version"`
	} `json:"checklist"`
	Answers  []answer        `json:"answers"`
	Findings []findingDetail `json:"findings"`
	Photos   []photoItem     `json:"photos"`
	Location *verdict        `json:"location"`
	Track    *struct {
		Points      int      `json:"points"`
		DistanceM   float64  `json:"distance_m"`
		DurationS   float64  `json:"duration_s"`
		MovingS     float64  `json:"moving_s"`
		LargestGapS float64  `json:"largest_gap_s"`
		Coverage    *float64 `json:"coverage"`
	} `json:"track"`
}

type answer struct {
	Key   string     `json:"key"`
	Label string     `json:"label"`
	Type  string     `json:"type"`
	Text  string     `json:"text"`
	Rows  [][]answer `json:"rows"`
}

type findingDetail struct {
	ID                string         `json:"id"`
	Category          string         `json:"category"`
	Severity          string         `json:"severity"`
	Description       string         `json:"description"`
	ResponsibleUnit   string         `json:"responsible_unit"`
	ResponsiblePerson string         `json:"responsible_person"`
	Deadline          string         `json:"deadline"`
	Measures          string         `json:"measures"`
	Status            string         `json:"status"`
	DeadlineLight     string         `json:"deadline_light"`
	Overdue           bool           `json:"overdue"`
	History           []findingEvent `json:"history"`
}

type findingEvent struct {
	Step   string `json:"step"`
	From   string `json:"from"`
	To     string `json:"to"`
	ByName string `json:"by_name"`
	At     string `json:"at"`
	Notes  string `json:"notes"`
	Passed *bool  `json:"passed"`
}

type verdict struct {
	Level   string `json:"level"`
	Reasons []struct {
		Code      string   `json:"code"`
		Level     string   `json:"level"`
		Value     *float64 `json:"value"`
		Threshold *float64 `json:"threshold"`
		Message   string   `json:"message"`
	} `json:"reasons"`
}

type photoItem struct {
	ID           string  `json:"id"`
	Status       string  `json:"status"`
	FindingID    *string `json:"finding_id"`
	Caption      string  `json:"caption"`
	CapturedAt   string  `json:"captured_at"`
	Verdict      verdict `json:"verdict"`
	ThumbnailURL string  `json:"thumbnail_url"`
	ContentURL   string  `json:"content_url"`
}

type visitData struct {
	V         visitReport
	PDF, JSON string
	GeoJSON   string
}

// pathID reads a UUID path parameter; anything else is the API's 404.
func pathID(c *fiber.Ctx) (string, error) {
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return "", &apiError{Status: fiber.StatusNotFound, Title: "Not found", Detail: "No such record."}
	}
	return id.String(), nil
}

// visit is one visit's page; a visit outside the caller's scope is the report's 404.
func (k *Console) visit(c *fiber.Ctx, s *session) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	base := "/v1/reports/visits/" + id
	d := visitData{PDF: base + "?format=pdf", JSON: base, GeoJSON: base + "?format=geojson"}
	if err := k.api.getRaw(c, s.Token, base, &d.V); err != nil {
		return err
	}
	return k.render(c, s, "visit", "visits", d)
}

// photoDetail is GET /v1/photos/{id}.
type photoDetail struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Attach *struct {
		VisitID    string  `json:"visit_id"`
		FindingID  *string `json:"finding_id"`
		CapturedAt string  `json:"captured_at"`
		Caption    string  `json:"caption"`
		Position   *struct {
			Lat       float64  `json:"lat"`
			Lon       float64  `json:"lon"`
			AccuracyM *float64 `json:"accuracy_m"`
			Mock      bool     `json:"mock"`
			CRS       string   `json:"source_crs"`
		} `json:"position"`
	} `json:"attach"`
	Blob *struct {
		SHA256      string `json:"sha256"`
		Size        int64  `json:"size"`
		ContentType string `json:"content_type"`
		Filename    string `json:"filename"`
		Thumbnail   string `json:"thumbnail"`
		UploadedAt  string `json:"uploaded_at"`
		Exif        *struct {
			Lat          *float64 `json:"lat"`
			Lon          *float64 `json:"lon"`
			AltitudeM    *float64 `json:"altitude_m"`
			DirectionDeg *float64 `json:"direction_deg"`
			TakenAt      *string  `json:"taken_at"`
			Orientation  int      `json:"orientation"`
			Make         string   `json:"make"`
			Model        string   `json:"model"`
			Width        int      `json:"width"`
			Height       int      `json:"height"`
			Errors       []string `json:"errors"`
		} `json:"exif"`
	} `json:"blob"`
	ClockSkewS *float64 `json:"clock_skew_s"`
	Verdict    verdict  `json:"verdict"`
}

type photoData struct {
	P       photoDetail
	Content string
}

// photo is one photo at full size with its EXIF and the reasons of its location verdict.
func (k *Console) photo(c *fiber.Ctx, s *session) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	d := photoData{Content: "/v1/photos/" + id + "/content"}
	if err := k.api.getRaw(c, s.Token, "/v1/photos/"+id, &d.P); err != nil {
		return err
	}
	return k.render(c, s, "photo", "visits", d)
}

package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/cmd/fieldctl/device"
	"github.com/google/uuid"
)

// maxAnswersFile bounds --answers (the server takes at most 256 KiB of answers).
const maxAnswersFile = 1 << 20

// positionFlags are --lat --lon --crs --accuracy --mock.
type positionFlags struct {
	lat, lon, acc *float64
	crs           *string
	mock          *bool
	set           map[string]bool
}

func addPosition(fs *flag.FlagSet) *positionFlags {
	return &positionFlags{lat: fs.Float64("lat", 0, "latitude"), lon: fs.Float64("lon", 0, "longitude"),
		acc: fs.Float64("accuracy", -1, "accuracy in metres"), crs: fs.String("crs", "wgs84", "wgs84, gcj02 or bd09"),
		mock: fs.Bool("mock", false, "the position came from a mock-location app")}
}

// get returns the position given (nil when neither --lat nor --lon was).
func (p *positionFlags) get(fs *flag.FlagSet) *device.Position {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["lat"] && !set["lon"] {
		return nil
	}
	pos := &device.Position{Lat: *p.lat, Lon: *p.lon, CRS: *p.crs, Mock: *p.mock}
	if *p.acc >= 0 {
		pos.AccuracyM = p.acc
	}
	return pos
}

// answerValue reads key=value: JSON when it parses (numbers, true, lists), else a string.
func answerValue(s string) any {
	var v any
	if json.Unmarshal([]byte(s), &v) == nil {
		return v
	}
	return s
}

func cmdVisitNew(e *env, fs *flag.FlagSet) func([]string) error {
	kind := fs.String("kind", "", "project_visit, planting_check, fire_patrol or agri_input_check")
	site := fs.String("site", "", "the site's id")
	region := fs.String("region", "", "the region's id (a planting check in a village without a plot)")
	notes := fs.String("notes", "", "notes")
	checklist := fs.String("checklist", "", "checklist ID:VERSION the answers follow")
	file := fs.String("answers", "", "a JSON file of answers {key: value}")
	var answers multi
	fs.Var(&answers, "answer", "one answer key=value (repeatable; value as JSON when it parses)")
	pos := addPosition(fs)
	return func([]string) error {
		in := device.VisitInput{Kind: *kind, SiteID: *site, RegionID: *region, Notes: *notes,
			Position: pos.get(fs), Answers: map[string]any{}}
		if *file != "" {
			b, err := readLimited(*file, maxAnswersFile)
			if err != nil {
				return err
			}
			if err := json.Unmarshal(b, &in.Answers); err != nil {
				return fmt.Errorf("%s: answers must be a JSON object: %w", *file, err)
			}
		}
		for _, a := range answers {
			k, v, ok := strings.Cut(a, "=")
			if !ok || k == "" {
				return fmt.Errorf("--answer %q: want key=value", a)
			}
			in.Answers[k] = answerValue(v)
		}
		if *checklist != "" {
			id, ver, ok := strings.Cut(*checklist, ":")
			n, err := strconv.Atoi(ver)
			if !ok || err != nil {
				return fmt.Errorf("--checklist %q: want ID:VERSION", *checklist)
			}
			in.Checklist = &device.ChecklistRef{ID: id, Version: n}
		}
		d, err := e.open()
		if err != nil {
			return err
		}
		defer d.Close()
		id, err := d.NewVisit(e.ctx, in)
		if err != nil {
			return err
		}
		return e.out(map[string]string{"id": id.String()}, id.String()+"\n")
	}
}

func readLimited(path string, limit int64) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return os.ReadFile(path)
}

func parseID(args []string, what string) (uuid.UUID, error) {
	if err := need(args, 1, what); err != nil {
		return uuid.Nil, err
	}
	id, err := uuid.Parse(args[0])
	if err != nil {
		return uuid.Nil, fmt.Errorf("%s %q is not a UUID", what, args[0])
	}
	return id, nil
}

func cmdVisitSubmit(e *env, fs *flag.FlagSet) func([]string) error {
	return func(args []string) error {
		id, err := parseID(args, "VISIT")
		if err != nil {
			return err
		}
		d, err := e.open()
		if err != nil {
			return err
		}
		defer d.Close()
		if err := d.SubmitVisit(e.ctx, id); err != nil {
			return err
		}
		return e.out(map[string]string{"id": id.String(), "queued": "visit.submit"}, "queued visit.submit "+id.String()+"\n")
	}
}

func cmdFindingNew(e *env, fs *flag.FlagSet) func([]string) error {
	visit := fs.String("visit", "", "the visit's id")
	in := device.FindingInput{}
	fs.StringVar(&in.Category, "category", "", "category (e.g. safety)")
	fs.StringVar(&in.Severity, "severity", "ordinary", "ordinary, serious or major")
	fs.StringVar(&in.Description, "description", "", "what is wrong")
	fs.StringVar(&in.ResponsibleUnit, "unit", "", "the unit responsible for fixing it")
	fs.StringVar(&in.ResponsiblePerson, "person", "", "the person responsible")
	fs.StringVar(&in.Deadline, "deadline", "", "fix by YYYY-MM-DD")
	fs.StringVar(&in.Measures, "measures", "", "measures required")
	pos := addPosition(fs)
	return func([]string) error {
		vid, err := uuid.Parse(*visit)
		if err != nil {
			return errors.New("--visit must be the visit's UUID")
		}
		in.VisitID, in.Position = vid, pos.get(fs)
		d, err := e.open()
		if err != nil {
			return err
		}
		defer d.Close()
		id, err := d.NewFinding(e.ctx, in)
		if err != nil {
			return err
		}
		return e.out(map[string]string{"id": id.String()}, id.String()+"\n")
	}
}

func cmdFindingStep(step string) command {
	return func(e *env, fs *flag.FlagSet) func([]string) error {
		notes := fs.String("notes", "", "what was done / found")
		passed := fs.Bool("passed", false, "recheck: the rectification passed (closes the finding)")
		failed := fs.Bool("failed", false, "recheck: it did not pass (back to rectifying)")
		at := fs.String("at", "", "rectified_at / checked_at (RFC 3339)")
		var photos multi
		fs.Var(&photos, "photo", "a photo id showing it (repeatable)")
		return func(args []string) error {
			id, err := parseID(args, "FINDING")
			if err != nil {
				return err
			}
			s := device.FindingStep{Notes: *notes, Passed: *passed}
			if step == "recheck" && *passed == *failed {
				return errors.New("say --passed or --failed")
			}
			if *at != "" {
				if s.At, err = time.Parse(time.RFC3339, *at); err != nil {
					return fmt.Errorf("--at: %w", err)
				}
			}
			for _, p := range photos {
				pid, err := uuid.Parse(p)
				if err != nil {
					return fmt.Errorf("--photo %q is not a UUID", p)
				}
				s.PhotoIDs = append(s.PhotoIDs, pid)
			}
			d, err := e.open()
			if err != nil {
				return err
			}
			defer d.Close()
			f := map[string]func() error{"start": func() error { return d.StartFinding(e.ctx, id, s) },
				"rectify": func() error { return d.RectifyFinding(e.ctx, id, s) },
				"recheck": func() error { return d.RecheckFinding(e.ctx, id, s) }}[step]
			if err := f(); err != nil {
				return err
			}
			return e.out(map[string]string{"id": id.String(), "queued": "finding." + step}, "queued finding."+step+" "+id.String()+"\n")
		}
	}
}

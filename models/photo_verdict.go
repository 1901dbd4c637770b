package models

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"
)

// Reason codes of the location verdict. A reason carries its level (warn or fail), the measured
// value and the threshold it broke (metres, or seconds for times), and an English message.
const (
	// ReasonFarFromSite: the photo's position is more than SiteWarnM (warn) or SiteFailM (fail)
	// metres from the visit's site point. Used when the site has no patrol area.
	ReasonFarFromSite = "far_from_site"
	// ReasonOutsideArea: the position lies more than AreaToleranceM (warn) or AreaFailM (fail)
	// metres outside the patrol area polygon (0 inside).
	ReasonOutsideArea = "outside_area"
	// ReasonLowAccuracy: the app's GPS accuracy is worse than AccuracyWarnM / AccuracyFailM metres.
	ReasonLowAccuracy = "low_accuracy"
	// ReasonNoAccuracy (warn): the position used has no accuracy (the app gave none, or the
	// position came from EXIF).
	ReasonNoAccuracy = "no_accuracy"
	// ReasonNoPosition (warn): neither the app nor the EXIF gave a position: the place cannot be checked.
	ReasonNoPosition = "no_position"
	// ReasonExifAppMismatch: the EXIF GPS position and the app's position are more than
	// ExifAppWarnM / ExifAppFailM metres apart.
	ReasonExifAppMismatch = "exif_app_mismatch"
	// ReasonNoExifGPS (warn): the photo carries no (readable) EXIF GPS position.
	ReasonNoExifGPS = "no_exif_gps"
	// ReasonOutsideVisitWindow: the photo time (EXIF DateTimeOriginal, else the app's capture
	// time) lies more than WindowSlack (warn) or WindowFail (fail) outside the visit, from its
	// start to its end (start + 12 h while the visit is open).
	ReasonOutsideVisitWindow = "outside_visit_window"
	// ReasonMockLocation (fail): the phone reported a mock (simulated) location.
	ReasonMockLocation = "mock_location"
	// ReasonClockSkew: the device clock differed from the server's by more than ClockSkewWarn /
	// ClockSkewFail when the attach arrived.
	ReasonClockSkew = "clock_skew"
)

// VerdictReasonCodes lists every reason code, in the order reasons are reported.
var VerdictReasonCodes = []string{
	ReasonMockLocation, ReasonFarFromSite, ReasonOutsideArea, ReasonNoPosition, ReasonLowAccuracy,
	ReasonNoAccuracy, ReasonExifAppMismatch, ReasonNoExifGPS, ReasonOutsideVisitWindow, ReasonClockSkew,
}

// OpenVisitWindow is how long after its start an open visit's window reaches.
const OpenVisitWindow = 12 * time.Hour

// VerdictThresholds are the limits of the location verdict. A rule is broken when the measured
// value is strictly above a threshold: above the warn one gives warn, above the fail one fail.
type VerdictThresholds struct {
	SiteWarnM, SiteFailM         float64       // distance from the site point
	AreaToleranceM, AreaFailM    float64       // distance outside the patrol area
	AccuracyWarnM, AccuracyFailM float64       // the app's GPS accuracy
	ExifAppWarnM, ExifAppFailM   float64       // EXIF GPS vs app position
	WindowSlack, WindowFail      time.Duration // photo time outside the visit window
	ClockSkewWarn, ClockSkewFail time.Duration // |server − device clock|
}

// DefaultVerdictThresholds: site 200 m / 1 km, area tolerance 100 m / 1 km, accuracy 50 / 200 m,
// EXIF vs app 100 / 500 m, visit window 30 min / 24 h, clock skew 5 min / 1 h.
func DefaultVerdictThresholds() VerdictThresholds {
	return VerdictThresholds{
		SiteWarnM: 200, SiteFailM: 1000,
		AreaToleranceM: 100, AreaFailM: 1000,
		AccuracyWarnM: 50, AccuracyFailM: 200,
		ExifAppWarnM: 100, ExifAppFailM: 500,
		WindowSlack: 30 * time.Minute, WindowFail: 24 * time.Hour,
		ClockSkewWarn: 5 * time.Minute, ClockSkewFail: time.Hour,
	}
}

// Validate requires every threshold to be finite and not negative, and each warn threshold to
// be at most its fail threshold.
func (t VerdictThresholds) Validate() error {
	pairs := []struct {
		name       string
		warn, fail float64
	}{
		{"site", t.SiteWarnM, t.SiteFailM},
		{"area", t.AreaToleranceM, t.AreaFailM},
		{"accuracy", t.AccuracyWarnM, t.AccuracyFailM},
		{"exif vs app", t.ExifAppWarnM, t.ExifAppFailM},
		{"visit window", t.WindowSlack.Seconds(), t.WindowFail.Seconds()},
		{"clock skew", t.ClockSkewWarn.Seconds(), t.ClockSkewFail.Seconds()},
	}
	for _, p := range pairs {
		for _, v := range []float64{p.warn, p.fail} {
			if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("verdict thresholds: %s threshold %v must be a finite number ≥ 0", p.name, v)
			}
		}
		if p.warn > p.fail {
			return fmt.Errorf("verdict thresholds: %s warn threshold %v is above its fail threshold %v", p.name, p.warn, p.fail)
		}
	}
	return nil
}

// VerdictInput is what one photo's verdict is computed from.
type VerdictInput struct {
	Attach     *PhotoAttach    // nil until attached
	Exif       *PhotoExif      // nil until uploaded
	SitePoint  *Point          // the visit's site location (nil: no site / no point)
	SiteArea   json.RawMessage // patrol area boundary GeoJSON (Polygon/MultiPolygon), nil if none
	VisitStart time.Time
	VisitEnd   *time.Time
	ClockSkew  *time.Duration // server time − device time when the attach arrived
}

// EvaluatePhoto grades one photo: pending until it is both attached and uploaded, else the worst
// level of the reasons it gives (ok when none). The position checked against the site is the
// app's (WGS-84 after validation), or the EXIF one when the app gave none.
func EvaluatePhoto(in VerdictInput, t VerdictThresholds) Verdict {
	if in.Attach == nil || in.Exif == nil {
		return Verdict{Level: VerdictPending, Reasons: []VerdictReason{}}
	}
	var rs []VerdictReason
	app, x := in.Attach.Position, in.Exif
	var exifPt *Point
	if x.Lat != nil && x.Lon != nil {
		exifPt = &Point{Lat: *x.Lat, Lon: *x.Lon}
	}
	used, source := exifPt, "EXIF"
	if app != nil {
		used, source = &Point{Lat: app.Lat, Lon: app.Lon}, "app"
		if app.Mock {
			rs = append(rs, VerdictReason{Code: ReasonMockLocation, Level: VerdictFail, Message: "the phone reported a mock location"})
		}
	}

	// Place.
	switch {
	case used == nil:
		rs = append(rs, VerdictReason{Code: ReasonNoPosition, Level: VerdictWarn, Message: "neither the app nor the photo's EXIF gave a position"})
	case len(in.SiteArea) > 0 && string(in.SiteArea) != "null":
		if area, err := AreaFromGeoJSON(in.SiteArea); err == nil {
			d := DistanceOutsideArea(area, *used)
			rs = grade(rs, ReasonOutsideArea, d, t.AreaToleranceM, t.AreaFailM,
				"photo taken %.0f m outside the patrol area ("+source+" position)", d)
			break
		}
		fallthrough // an unreadable area: check the site point instead
	case in.SitePoint != nil:
		if in.SitePoint == nil {
			break
		}
		d := HaversineM(used.Lat, used.Lon, in.SitePoint.Lat, in.SitePoint.Lon)
		rs = grade(rs, ReasonFarFromSite, d, t.SiteWarnM, t.SiteFailM, "photo taken %.0f m from the site ("+source+" position)", d)
	}

	// Accuracy of the position used.
	switch {
	case used == nil:
	case app == nil:
		rs = append(rs, VerdictReason{Code: ReasonNoAccuracy, Level: VerdictWarn, Message: "the position comes from EXIF, its accuracy is unknown"})
	case app.AccuracyM == nil:
		rs = append(rs, VerdictReason{Code: ReasonNoAccuracy, Level: VerdictWarn, Message: "the app gave no GPS accuracy"})
	default:
		rs = grade(rs, ReasonLowAccuracy, *app.AccuracyM, t.AccuracyWarnM, t.AccuracyFailM, "GPS accuracy was %.0f m", *app.AccuracyM)
	}

	// EXIF position vs app position.
	switch {
	case exifPt == nil:
		rs = append(rs, VerdictReason{Code: ReasonNoExifGPS, Level: VerdictWarn, Message: "the photo carries no EXIF GPS position"})
	case app != nil:
		d := HaversineM(exifPt.Lat, exifPt.Lon, app.Lat, app.Lon)
		rs = grade(rs, ReasonExifAppMismatch, d, t.ExifAppWarnM, t.ExifAppFailM, "EXIF and app positions are %.0f m apart", d)
	}

	// Photo time vs the visit window.
	if at, src, ok := photoTime(in); ok && !in.VisitStart.IsZero() {
		end := in.VisitStart.Add(OpenVisitWindow)
		if in.VisitEnd != nil {
			end = *in.VisitEnd
		}
		var out time.Duration
		switch {
		case at.Before(in.VisitStart):
			out = in.VisitStart.Sub(at)
		case at.After(end):
			out = at.Sub(end)
		}
		rs = grade(rs, ReasonOutsideVisitWindow, out.Seconds(), t.WindowSlack.Seconds(), t.WindowFail.Seconds(),
			"photo taken %s outside the visit ("+src+")", out.Round(time.Second))
	}

	// Device clock.
	if in.ClockSkew != nil {
		s := in.ClockSkew.Abs()
		dir := "behind"
		if *in.ClockSkew < 0 {
			dir = "ahead of"
		}
		rs = grade(rs, ReasonClockSkew, s.Seconds(), t.ClockSkewWarn.Seconds(), t.ClockSkewFail.Seconds(),
			"device clock was %s "+dir+" the server's", s.Round(time.Second))
	}
	return finish(rs, VerdictOK)
}

// photoTime is the EXIF capture time, else the app's capture time (RFC 3339).
func photoTime(in VerdictInput) (time.Time, string, bool) {
	if in.Exif.TakenAt != nil {
		return *in.Exif.TakenAt, "EXIF time", true
	}
	if at, err := time.Parse(time.RFC3339Nano, in.Attach.CapturedAt); err == nil {
		return at, "app capture time", true
	}
	return time.Time{}, "", false
}

// grade adds a reason when v is above warn (warn) or above fail (fail).
func grade(rs []VerdictReason, code string, v, warn, fail float64, format string, args ...any) []VerdictReason {
	level, th := VerdictLevel(""), 0.0
	switch {
	case v > fail:
		level, th = VerdictFail, fail
	case v > warn:
		level, th = VerdictWarn, warn
	default:
		return rs
	}
	v = math.Round(v*10) / 10
	msg := fmt.Sprintf(format, args...)
	return append(rs, VerdictReason{Code: code, Level: level, Value: &v, Threshold: &th,
		Message: fmt.Sprintf("%s (%s above %g)", msg, level, th)})
}

// levelRank orders levels for roll-ups: ok, pending, warn, fail.
func levelRank(l VerdictLevel) int {
	switch l {
	case VerdictFail:
		return 3
	case VerdictWarn:
		return 2
	case VerdictPending:
		return 1
	}
	return 0
}

// finish sorts reasons by VerdictReasonCodes and sets the level to the worst of base and them.
func finish(rs []VerdictReason, base VerdictLevel) Verdict {
	if rs == nil {
		rs = []VerdictReason{}
	}
	slices.SortStableFunc(rs, func(a, b VerdictReason) int {
		return slices.Index(VerdictReasonCodes, a.Code) - slices.Index(VerdictReasonCodes, b.Code)
	})
	level := base
	for _, r := range rs {
		if levelRank(r.Level) > levelRank(level) {
			level = r.Level
		}
	}
	return Verdict{Level: level, Reasons: rs}
}

// RollUpVerdict rolls a visit's photo verdicts up: the worst level, where pending ranks above ok
// and below warn (a pending photo makes the visit pending only when nothing is worse), and every
// reason code once, keeping its worst instance (higher level, then larger value). A visit without
// photos is pending: there is nothing to grade yet.
func RollUpVerdict(vs []Verdict) Verdict {
	if len(vs) == 0 {
		return Verdict{Level: VerdictPending, Reasons: []VerdictReason{}}
	}
	level := VerdictOK
	byCode := map[string]VerdictReason{}
	for _, v := range vs {
		if levelRank(v.Level) > levelRank(level) {
			level = v.Level
		}
		for _, r := range v.Reasons {
			if old, ok := byCode[r.Code]; !ok || worseReason(r, old) {
				byCode[r.Code] = r
			}
		}
	}
	rs := make([]VerdictReason, 0, len(byCode))
	for _, r := range byCode {
		rs = append(rs, r)
	}
	return finish(rs, level)
}

func worseReason(a, b VerdictReason) bool {
	if ra, rb := levelRank(a.Level), levelRank(b.Level); ra != rb {
		return ra > rb
	}
	return a.Value != nil && (b.Value == nil || *a.Value > *b.Value)
}

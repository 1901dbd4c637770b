package main

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Photo settings: upload limits and the thresholds of the location verdict, each verdict rule
// given as "warn,fail".

func photoSettings(c *config) []setting {
	return []setting{
		{"FIELDSYNC_MAX_PHOTO_BYTES", "max-photo-bytes", "67108864", "largest photo an upload may announce, in bytes", intSetting(&c.MaxPhotoBytes)},
		{"FIELDSYNC_UPLOAD_EXPIRY", "upload-expiry", "24h", "an unfinished upload untouched this long expires and its bytes are deleted", durSetting(&c.UploadExpiry)},
		{"FIELDSYNC_VERDICT_SITE_M", "verdict-site-m", "200,1000", "photo distance from the site point, warn,fail metres", floatPair(&c.Verdict.SiteWarnM, &c.Verdict.SiteFailM)},
		{"FIELDSYNC_VERDICT_AREA_M", "verdict-area-m", "100,1000", "photo distance outside the patrol area, tolerance,fail metres", floatPair(&c.Verdict.AreaToleranceM, &c.Verdict.AreaFailM)},
		{"FIELDSYNC_VERDICT_ACCURACY_M", "verdict-accuracy-m", "50,200", "GPS accuracy the app reported, warn,fail metres", floatPair(&c.Verdict.AccuracyWarnM, &c.Verdict.AccuracyFailM)},
		{"FIELDSYNC_VERDICT_EXIF_APP_M", "verdict-exif-app-m", "100,500", "EXIF GPS vs app position, warn,fail metres", floatPair(&c.Verdict.ExifAppWarnM, &c.Verdict.ExifAppFailM)},
		{"FIELDSYNC_VERDICT_WINDOW", "verdict-window", "30m,24h", "photo time outside the visit window, warn,fail", durPair(&c.Verdict.WindowSlack, &c.Verdict.WindowFail)},
		{"FIELDSYNC_VERDICT_CLOCK_SKEW", "verdict-clock-skew", "5m,1h", "phone clock vs server clock at sync, warn,fail", durPair(&c.Verdict.ClockSkewWarn, &c.Verdict.ClockSkewFail)},
	}
}

type pairValue struct {
	get   func() string
	parse func(a, b string) error
}

func (v pairValue) String() string {
	if v.get == nil {
		return ""
	}
	return v.get()
}

func (v pairValue) Set(s string) error {
	a, b, ok := strings.Cut(s, ",")
	if !ok {
		return errors.New(`must be "warn,fail"`)
	}
	return v.parse(strings.TrimSpace(a), strings.TrimSpace(b))
}

func floatPair(warn, fail *float64) func(*flag.FlagSet, string, string, string) {
	v := pairValue{
		get: func() string { return fmt.Sprintf("%g,%g", *warn, *fail) },
		parse: func(a, b string) error {
			x, err1 := strconv.ParseFloat(a, 64)
			y, err2 := strconv.ParseFloat(b, 64)
			if err1 != nil || err2 != nil {
				return errors.New(`must be two numbers of metres, "warn,fail"`)
			}
			*warn, *fail = x, y
			return nil
		},
	}
	return func(fs *flag.FlagSet, n, d, u string) { _ = v.Set(d); fs.Var(v, n, u) }
}

func durPair(warn, fail *time.Duration) func(*flag.FlagSet, string, string, string) {
	v := pairValue{
		get: func() string { return warn.String() + "," + fail.String() },
		parse: func(a, b string) error {
			x, err1 := time.ParseDuration(a)
			y, err2 := time.ParseDuration(b)
			if err1 != nil || err2 != nil {
				return errors.New(`must be two durations, "warn,fail" (e.g. 5m,1h)`)
			}
			*warn, *fail = x, y
			return nil
		},
	}
	return func(fs *flag.FlagSet, n, d, u string) { _ = v.Set(d); fs.Var(v, n, u) }
}

// validatePhotos checks the photo settings.
func (c *config) validatePhotos() error {
	if c.MaxPhotoBytes < 1<<10 {
		return &settingError{"FIELDSYNC_MAX_PHOTO_BYTES", "max-photo-bytes", "must be at least 1024"}
	}
	if c.UploadExpiry < time.Minute {
		return &settingError{"FIELDSYNC_UPLOAD_EXPIRY", "upload-expiry", "must be at least 1m"}
	}
	if err := c.Verdict.Validate(); err != nil {
		return &settingError{"FIELDSYNC_VERDICT_*", "verdict-*", err.Error()}
	}
	return nil
}

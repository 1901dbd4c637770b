package models

import (
	"time"

	"github.com/google/uuid"
)

// Photo statuses, as the photo record carries them.
const (
	PhotoPendingUpload = "pending_upload" // attached, bytes not (completely) uploaded yet
	PhotoUploaded      = "uploaded"       // bytes here, not attached to a visit or finding yet
	PhotoReady         = "ready"          // attached and uploaded
)

// Thumbnail states.
const (
	ThumbPending     = "pending"     // the thumbnail worker has not made it yet
	ThumbReady       = "ready"       // stored next to the photo
	ThumbUnavailable = "unavailable" // the image could not be decoded (e.g. HEIC); see ThumbnailError
)

// Photo limits.
const (
	MaxPhotoBytes     = 64 << 20 // the largest photo an upload may announce
	ThumbnailMaxSide  = 320      // longest side of a thumbnail, in pixels
	MaxPhotoCaptionLn = 500
)

// Photo content types the server keeps; anything else is refused with 415.
const (
	ContentJPEG = "image/jpeg"
	ContentPNG  = "image/png"
	ContentHEIC = "image/heic"
)

// PhotoExif is what the server read from a photo's EXIF. Every field is optional: a photo
// without EXIF, or with malformed EXIF, is still kept; Errors says what could not be read.
type PhotoExif struct {
	Lat          *float64   `json:"lat,omitempty"` // WGS-84 (GPS receivers write WGS-84)
	Lon          *float64   `json:"lon,omitempty"`
	AltitudeM    *float64   `json:"altitude_m,omitempty"`
	DirectionDeg *float64   `json:"direction_deg,omitempty"` // GPSImgDirection, 0–360
	TakenAt      *time.Time `json:"taken_at,omitempty"`      // DateTimeOriginal with OffsetTimeOriginal; UTC+8 assumed when no offset
	TakenAtLocal string     `json:"taken_at_local,omitempty"`
	HasOffset    bool       `json:"has_offset,omitempty"`  // the offset came from the photo (else assumed)
	Orientation  int        `json:"orientation,omitempty"` // 1–8; 0 = not given
	Make         string     `json:"make,omitempty"`
	Model        string     `json:"model,omitempty"`
	Width        int        `json:"width,omitempty"` // pixel size from the image header
	Height       int        `json:"height,omitempty"`
	Errors       []string   `json:"errors,omitempty"` // what could not be read, e.g. "gps: latitude ref missing"
}

// VerdictLevel grades how far supervisors can trust a photo's place and time.
type VerdictLevel string

// Verdict levels, from best to worst; "pending" until the photo is both attached and uploaded.
const (
	VerdictOK      VerdictLevel = "ok"
	VerdictWarn    VerdictLevel = "warn"
	VerdictFail    VerdictLevel = "fail"
	VerdictPending VerdictLevel = "pending"
)

// VerdictReason is one rule a photo broke, with the measured value and the threshold it broke.
type VerdictReason struct {
	Code      string       `json:"code"` // e.g. far_from_site, low_accuracy, exif_app_mismatch, outside_visit_window, mock_location, clock_skew, no_exif_gps, outside_area
	Level     VerdictLevel `json:"level"`
	Value     *float64     `json:"value,omitempty"`
	Threshold *float64     `json:"threshold,omitempty"`
	Message   string       `json:"message"`
}

// Verdict is the location verdict of one photo, or of a visit rolled up over its photos (the
// worst level, every reason once).
type Verdict struct {
	Level   VerdictLevel    `json:"level"`
	Reasons []VerdictReason `json:"reasons"`
}

// PhotoAttach is what photo.attach binds: the photo to a visit (and optionally one of its
// findings), with the app's own view of where and when it was taken.
type PhotoAttach struct {
	VisitID    uuid.UUID  `json:"visit_id"`
	FindingID  *uuid.UUID `json:"finding_id"`
	Position   *Position  `json:"position"` // with crs, accuracy_m and mock (the mock-location flag)
	CapturedAt string     `json:"captured_at"`
	Caption    string     `json:"caption"`
}

// PhotoBlob is what the upload delivered: the bytes' hash, type, size and what was read from them.
type PhotoBlob struct {
	SHA256         string     `json:"sha256"`
	Size           int64      `json:"size"`
	ContentType    string     `json:"content_type"`
	Filename       string     `json:"filename,omitempty"`
	Exif           *PhotoExif `json:"exif"`
	Thumbnail      string     `json:"thumbnail"` // ThumbPending, ThumbReady, ThumbUnavailable
	ThumbnailError string     `json:"thumbnail_error,omitempty"`
	UploadedAt     time.Time  `json:"uploaded_at"`
	UploadedBy     uuid.UUID  `json:"uploaded_by"`
}

// PhotoData is the photo record as pull and GET /v1/photos/{id} deliver it. Attach and Blob are
// nil until their half has arrived; Status and Verdict are derived from both.
type PhotoData struct {
	ID           uuid.UUID    `json:"id"`
	Status       string       `json:"status"`
	Attach       *PhotoAttach `json:"attach"`
	Blob         *PhotoBlob   `json:"blob"`
	ClockSkewS   *float64     `json:"clock_skew_s"` // server time − device time when the attach arrived
	AttachedBy   *uuid.UUID   `json:"attached_by"`
	AttachDevice string       `json:"attach_device,omitempty"`
	Verdict      Verdict      `json:"verdict"`
}

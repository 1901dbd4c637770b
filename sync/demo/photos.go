package demo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	fsync "github.com/fieldsync/fieldsync/sync"
	"github.com/google/uuid"
)

// PhotoVisits is how many of the demo inspector's visits get a photo.
const PhotoVisits = 24

// LoadPhotos gives some of the demo inspector's visits (project visits and fire patrols) a photo
// each, the way a phone does: a generated JPEG with EXIF (GPS, time taken, camera) uploaded through
// the upload service, then a photo.attach pushed through the engine. Photo ids and the client's
// mutation ids are fixed, so loading again uploads nothing and replays the attaches. Call it after
// LoadActivity with the same now; thumbnails follow from the thumbnail worker.
func LoadPhotos(ctx context.Context, e *fsync.Engine, u *fsync.Uploads, st *storage.Store, now time.Time) (int, error) {
	plan, err := buildDemoPlan(now)
	if err != nil {
		return 0, err
	}
	const user = "inspector"
	a, err := e.ActorFor(ctx, user, "demo-"+user)
	if err != nil {
		return 0, fmt.Errorf("demo: user %s: %w", user, err)
	}
	req := &fsync.PushRequest{ClientID: ClientID(user + ":photos"), ProtocolVersion: e.Config().MaxProtocol, AppVersion: "demo"}
	for _, m := range plan.phases[0][user] {
		if m.Name != "visit.create" || len(req.Mutations) == PhotoVisits {
			continue
		}
		var v struct {
			ID        uuid.UUID        `json:"id"`
			Kind      models.Kind      `json:"kind"`
			StartedAt string           `json:"started_at"`
			Position  *models.Position `json:"position"`
		}
		if err := json.Unmarshal(m.Args, &v); err != nil || v.Position == nil {
			return 0, fmt.Errorf("sync: demo visit %s: %v", m.Args, err)
		}
		if v.Kind != models.KindProjectVisit && v.Kind != models.KindFirePatrol {
			continue
		}
		n := len(req.Mutations)
		started, _ := time.Parse(time.RFC3339, v.StartedAt)
		taken := started.Add(time.Duration(5+n%20) * time.Minute)
		// Most photos were taken on the spot; every fifth a few kilometres away, for the verdict.
		lat, lon := v.Position.Lat+0.0004*float64(n%3), v.Position.Lon-0.0003*float64(n%2)
		if n%5 == 4 {
			lat += 0.03
		}
		photo := uuid.NewSHA1(demoActivityNamespace, []byte("demo-photo-file:"+v.ID.String()))
		if err := uploadPhoto(ctx, u, st, a, photo, demoJPEG(n, v.Kind, lat, lon, taken)); err != nil {
			return n, err
		}
		acc := 4.0 + float64(n%6)
		args, _ := json.Marshal(map[string]any{"photo_id": photo, "visit_id": v.ID, "captured_at": taken.Format(time.RFC3339),
			"caption": demoCaptions[n%len(demoCaptions)], "position": models.Position{Lat: lat, Lon: lon, AccuracyM: &acc, CRS: models.CRSWGS84}})
		// Attached as the phone syncs now, with its clock right (the clock-skew rule reads client_time).
		req.Mutations = append(req.Mutations, fsync.Mutation{ID: int64(n + 1), Name: "photo.attach", Args: args,
			ClientTime: time.Now().Format(time.RFC3339)})
	}
	resp, _, err := e.Push(ctx, a, req)
	if err != nil {
		return 0, fmt.Errorf("demo: photos: %w", err)
	}
	for _, r := range resp.Results {
		if r.Status == models.StatusRejected {
			return 0, fmt.Errorf("demo: photo attach %d rejected: %+v", r.ID, r.Error)
		}
	}
	u.Wake()
	return len(req.Mutations), nil
}

var demoCaptions = []string{"现场全景", "施工作业面", "项目公示牌", "巡护路线", "防火宣传牌", "进场道路"}

// uploadPhoto uploads data as photo unless its bytes are there already.
func uploadPhoto(ctx context.Context, u *fsync.Uploads, st *storage.Store, a fsync.Actor, photo uuid.UUID, data []byte) error {
	if _, err := st.GetPhotoBlob(ctx, photo); err == nil {
		return nil
	} else if !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	sum := sha256.Sum256(data)
	up, err := u.Create(ctx, a, fsync.NewUpload{Length: int64(len(data)), PhotoID: photo, SHA256: hex.EncodeToString(sum[:]),
		Filename: "IMG_" + photo.String()[:8] + ".jpg", ContentType: models.ContentJPEG})
	if err != nil {
		return fmt.Errorf("demo: photo upload: %w", err)
	}
	if _, err := u.Patch(ctx, a, up.ID, 0, int64(len(data)), bytes.NewReader(data), nil); err != nil {
		return fmt.Errorf("demo: photo bytes: %w", err)
	}
	return nil
}

// demoJPEG draws a simple scene (sky, ground, a building or a tree line) of 640×480 and adds EXIF.
func demoJPEG(n int, kind models.Kind, lat, lon float64, taken time.Time) []byte {
	const w, h = 640, 480
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	horizon := 250 + (n*23)%80
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var c color.RGBA
			if y < horizon {
				c = color.RGBA{uint8(120 + y/5), uint8(170 + y/6), 235, 255}
			} else if kind == models.KindFirePatrol {
				c = color.RGBA{uint8(90 + (x*7+y*3)%30), uint8(110 + (x+y*5)%40), 60, 255}
			} else {
				c = color.RGBA{uint8(150 + (x+y)%20), uint8(130 + (x*3)%20), 100, 255}
			}
			img.Set(x, y, c)
		}
	}
	if kind == models.KindFirePatrol { // a tree line
		for x := 0; x < w; x++ {
			top := horizon - 40 - int(25*math.Abs(math.Sin(float64(x+n*13)/17)))
			for y := top; y < horizon; y++ {
				img.Set(x, y, color.RGBA{30, uint8(80 + (x*y)%30), 40, 255})
			}
		}
	} else { // a building under construction with a crane
		bx, bw, bh := 120+(n*37)%220, 180, 140+(n*17)%80
		for y := horizon - bh; y < horizon; y++ {
			for x := bx; x < bx+bw; x++ {
				c := color.RGBA{190, 190, 185, 255}
				if (x-bx)%30 < 8 && (y-horizon+bh)%28 < 12 {
					c = color.RGBA{70, 90, 120, 255}
				}
				img.Set(x, y, c)
			}
		}
		for y := horizon - bh - 90; y < horizon; y++ {
			img.Set(bx+bw+20, y, color.RGBA{230, 180, 0, 255})
			img.Set(bx+bw+21, y, color.RGBA{230, 180, 0, 255})
		}
		for x := bx + bw - 80; x < bx+bw+90; x++ {
			img.Set(x, horizon-bh-90, color.RGBA{230, 180, 0, 255})
		}
	}
	var buf bytes.Buffer
	_ = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80})
	jpg := buf.Bytes()
	app1 := demoExif(lat, lon, taken)
	out := make([]byte, 0, len(jpg)+len(app1)+4)
	out = append(out, jpg[:2]...) // SOI
	out = append(out, 0xFF, 0xE1, byte((len(app1)+2)>>8), byte(len(app1)+2))
	out = append(out, app1...)
	return append(out, jpg[2:]...)
}

// demoExif is the body of an APP1 segment: "Exif\0\0" and a little-endian TIFF with the camera
// (Make, Model), DateTimeOriginal with its offset, and the GPS position.
func demoExif(lat, lon float64, taken time.Time) []byte {
	type entry struct {
		tag, typ uint16
		count    uint32
		data     []byte // inline when ≤ 4 bytes, else stored after the IFD
	}
	ascii := func(s string) []byte { return append([]byte(s), 0) }
	le := binary.LittleEndian
	rationals := func(v float64) []byte { // degrees, minutes, seconds in thousandths (never 60)
		ms := uint32(math.Round(math.Abs(v) * 3600 * 1000))
		b := make([]byte, 24)
		le.PutUint32(b[0:], ms/3600000)
		le.PutUint32(b[4:], 1)
		le.PutUint32(b[8:], ms/60000%60)
		le.PutUint32(b[12:], 1)
		le.PutUint32(b[16:], ms%60000)
		le.PutUint32(b[20:], 1000)
		return b
	}
	local := taken.In(models.ChinaStandardTime)
	// writeIFD lays out an IFD at off (relative to the TIFF header) with its data after it.
	writeIFD := func(off uint32, es []entry) []byte {
		size := uint32(2 + 12*len(es) + 4)
		b := make([]byte, size)
		le.PutUint16(b, uint16(len(es)))
		var extra []byte
		for i, e := range es {
			p := b[2+12*i:]
			le.PutUint16(p, e.tag)
			le.PutUint16(p[2:], e.typ)
			le.PutUint32(p[4:], e.count)
			if len(e.data) <= 4 {
				copy(p[8:12], e.data)
			} else {
				le.PutUint32(p[8:], off+size+uint32(len(extra)))
				extra = append(extra, e.data...)
			}
		}
		return append(b, extra...)
	}
	u32 := func(v uint32) []byte { b := make([]byte, 4); le.PutUint32(b, v); return b }
	const asciiT, longT, ratT = 2, 4, 5
	mk, model := ascii("fieldsync"), ascii("Demo Phone")
	ifd0Len := uint32(2+12*4+4) + uint32(len(mk)+len(model))
	exifOff := 8 + ifd0Len
	taken19 := ascii(local.Format("2006:01:02 15:04:05"))
	offset := ascii(local.Format("-07:00"))
	exifIFD := writeIFD(exifOff, []entry{{0x9003, asciiT, uint32(len(taken19)), taken19}, {0x9011, asciiT, uint32(len(offset)), offset}})
	gpsOff := exifOff + uint32(len(exifIFD))
	latRef, lonRef := "N", "E"
	if lat < 0 {
		latRef = "S"
	}
	if lon < 0 {
		lonRef = "W"
	}
	gpsIFD := writeIFD(gpsOff, []entry{{1, asciiT, 2, ascii(latRef)}, {2, ratT, 3, rationals(lat)},
		{3, asciiT, 2, ascii(lonRef)}, {4, ratT, 3, rationals(lon)}})
	ifd0 := writeIFD(8, []entry{{0x010F, asciiT, uint32(len(mk)), mk}, {0x0110, asciiT, uint32(len(model)), model},
		{0x8769, longT, 1, u32(exifOff)}, {0x8825, longT, 1, u32(gpsOff)}})
	out := append([]byte("Exif\x00\x00II*\x00"), u32(8)...)
	out = append(out, ifd0...)
	out = append(out, exifIFD...)
	return append(out, gpsIFD...)
}

package render

import (
	"context"
	"fmt"
	"image"
	_ "image/jpeg" // decoders of the photos and thumbnails the PDF embeds
	_ "image/png"
	"io"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
)

// maxEmbeddedPhotoBytes bounds a photo read for a PDF when it has no thumbnail.
const maxEmbeddedPhotoBytes = 16 << 20

// OpenBlob opens the object stored under key in the photo store (blob.Store.Get without its size).
type OpenBlob func(ctx context.Context, key string) (io.ReadCloser, error)

// VisitPDF typesets a visit report: the visit, its answers, findings with their history, photos
// (the thumbnail, else the photo scaled down; a placeholder naming the photo when neither can be
// read) and the track summary.
func VisitPDF(ctx context.Context, d *PDF, rep *VisitReport, open OpenBlob) {
	title := rep.KindLabel + "报告"
	d.text(title, 18, 0)
	if rep.Site != nil {
		d.text(rep.Site.Name, 14, 0)
	}
	d.y += 4
	place := strings.TrimSpace(strings.Join(uniqueNonEmpty(rep.Place.County, rep.Place.Township, rep.Place.Region), " "))
	status := map[string]string{models.VisitDraft: "草稿", models.VisitSubmitted: "已提交"}[rep.Status]
	fields := [][2]string{{"地区", place}, {"督查人员", rep.Inspector.Name}, {"开始时间", cstText(rep.StartedAt)}}
	if rep.EndedAt != nil {
		fields = append(fields, [2]string{"结束时间", cstText(*rep.EndedAt)})
	}
	fields = append(fields, [2]string{"状态", status})
	if rep.Position != nil {
		fields = append(fields, [2]string{"位置", fmt.Sprintf("%.6f, %.6f（WGS-84）", rep.Position.Lat, rep.Position.Lon)})
	}
	if rep.Checklist != nil {
		fields = append(fields, [2]string{"检查表", fmt.Sprintf("%s（第 %d 版）", rep.Checklist.Name, rep.Checklist.Version)})
	}
	if rep.Location != nil {
		fields = append(fields, [2]string{"位置核验", label(verdictLabels, rep.Location.Level)})
	}
	if rep.Notes != "" {
		fields = append(fields, [2]string{"备注", rep.Notes})
	}
	fields = append(fields, [2]string{"记录编号", rep.ID.String()})
	d.fields(fields)

	d.heading("检查内容", 13)
	var rows [][]string
	for _, a := range rep.Answers {
		rows = append(rows, []string{a.Label, a.Text})
		for i, r := range a.Rows {
			parts := make([]string, 0, len(r))
			for _, x := range r {
				parts = append(parts, x.Label+"："+x.Text)
			}
			rows = append(rows, []string{fmt.Sprintf("    第 %d 项", i+1), strings.Join(parts, "；")})
		}
	}
	d.table([]string{"项目", "情况"}, []float64{1, 2.5}, rows, 9)

	d.heading(fmt.Sprintf("发现问题（%d 项）", len(rep.Findings)), 13)
	for i, f := range rep.Findings {
		d.text(fmt.Sprintf("%d. [%s] %s", i+1, label(severityLabels, f.Severity), f.Description), 11, 0)
		light := map[string]string{models.LightGreen: "绿灯", models.LightYellow: "黄灯", models.LightRed: "红灯（逾期）", models.LightNone: "—"}
		d.fields([][2]string{{"类别", f.Category}, {"责任单位", strings.TrimSpace(f.ResponsibleUnit + " " + f.ResponsiblePerson)},
			{"整改期限", f.Deadline + " " + label(light, f.DeadlineLight)}, {"整改要求", f.Measures},
			{"状态", label(findingStatusLabels, f.Status)}})
		var hist [][]string
		for _, e := range f.History {
			what := label(findingStepLabels, e.Step)
			if e.Passed != nil {
				what += map[bool]string{true: "（通过）", false: "（未通过）"}[*e.Passed]
			}
			hist = append(hist, []string{e.At.In(models.ChinaStandardTime).Format("2006-01-02 15:04"), what,
				label(findingStatusLabels, e.To), e.ByName, e.Notes})
		}
		d.table([]string{"时间", "环节", "状态", "办理人", "说明"}, []float64{1.3, 1, 0.8, 0.8, 2.5}, hist, 8)
		d.y += 6
	}

	d.heading(fmt.Sprintf("现场照片（%d 张）", len(rep.Photos)), 13)
	for i, p := range rep.Photos {
		caption := fmt.Sprintf("照片 %d：%s", i+1, p.Caption)
		if p.CapturedAt != "" {
			caption += "  拍摄于 " + cstText(p.CapturedAt)
		}
		d.text(caption, 10, 0)
		verdict := "位置核验：" + label(verdictLabels, p.Verdict.Level)
		for _, r := range p.Verdict.Reasons {
			verdict += "；" + r.Message
		}
		d.text(verdict, 9, 0)
		if img := photoImage(ctx, open, p); img == nil || !d.image(img, 240, 180) {
			d.text(fmt.Sprintf("［照片 %s 未能嵌入：%s］", p.ID, photoState(p)), 9, 0)
		}
		d.y += 4
	}

	if rep.Track != nil {
		d.heading("巡护轨迹", 13)
		cov := "—（片区无边界）"
		if rep.Track.Coverage != nil {
			cov = fmt.Sprintf("%.1f%%（轨迹两侧 %g 米）", *rep.Track.Coverage*100, rep.Track.CoverageBufferM)
		}
		d.fields([][2]string{{"定位点数", fmt.Sprint(rep.Track.Points)},
			{"巡护里程", fmt.Sprintf("%.2f 公里", rep.Track.DistanceM/1000)},
			{"巡护时长", (time.Duration(rep.Track.DurationS) * time.Second).String()},
			{"移动时长", (time.Duration(rep.Track.MovingS) * time.Second).String()},
			{"最长定位间隔", fmt.Sprintf("%.0f 秒", rep.Track.LargestGapS)}, {"片区覆盖率", cov}})
	}
}

func photoState(p Photo) string {
	switch {
	case p.blob == nil:
		return "尚未上传"
	case p.blob.ContentType == models.ContentHEIC && p.blob.Thumbnail != models.ThumbReady:
		return "HEIC 格式，缩略图未生成"
	}
	return "无法读取"
}

// photoImage reads a photo for the PDF: its thumbnail when there is one, else the photo itself
// (JPEG or PNG, scaled down); nil when neither can be read.
func photoImage(ctx context.Context, open OpenBlob, p Photo) image.Image {
	if p.blob == nil || open == nil || len(p.blob.SHA256) < 2 {
		return nil
	}
	read := func(key string, limit int64) image.Image {
		rc, err := open(ctx, key)
		if err != nil {
			return nil
		}
		defer rc.Close()
		img, _, err := image.Decode(io.LimitReader(rc, limit))
		if err != nil {
			return nil
		}
		return img
	}
	if p.blob.Thumbnail == models.ThumbReady {
		if img := read(storage.ThumbnailKey(p.blob.SHA256), 4<<20); img != nil {
			return img
		}
	}
	if (p.blob.ContentType == models.ContentJPEG || p.blob.ContentType == models.ContentPNG) && p.blob.Size <= maxEmbeddedPhotoBytes {
		if img := read(storage.PhotoKey(p.blob.SHA256), maxEmbeddedPhotoBytes); img != nil {
			return shrink(img, 800)
		}
	}
	return nil
}

// shrink scales img down (nearest pixel) so its longer side is at most side pixels.
func shrink(img image.Image, side int) image.Image {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= side && h <= side {
		return img
	}
	scale := float64(side) / float64(max(w, h))
	nw, nh := max(1, int(float64(w)*scale)), max(1, int(float64(h)*scale))
	out := image.NewRGBA(image.Rect(0, 0, nw, nh))
	for y := range nh {
		for x := range nw {
			out.Set(x, y, img.At(b.Min.X+int(float64(x)/scale), b.Min.Y+int(float64(y)/scale)))
		}
	}
	return out
}

// cstText shows an RFC 3339 time in China Standard Time.
func cstText(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return t.In(models.ChinaStandardTime).Format("2006-01-02 15:04")
}

func uniqueNonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" && (len(out) == 0 || out[len(out)-1] != s) {
			out = append(out, s)
		}
	}
	return out
}

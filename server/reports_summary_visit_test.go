package server

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/server/render"
	"github.com/google/uuid"
)

func TestVisitReport(t *testing.T) {
	f := newSummaryFixture(t)
	sup := f.h.login("supervisor", "laptop-sup")
	// A photo attached to V2 whose bytes never came: listed with its verdict, a placeholder in the PDF.
	photo := uuid.New()
	insp := f.h.syncPhone("inspector", "phone-photo")
	out, _ := insp.push(syncMut{"photo.attach", map[string]any{"photo_id": photo, "visit_id": f.visits["V2"],
		"position":    map[string]any{"lat": 41.9, "lon": 121.6, "crs": "wgs84", "accuracy_m": 5, "mock": false},
		"captured_at": f.day(10).Add(10 * time.Minute).Format(time.RFC3339), "caption": "施工现场全景"}})
	if out.Results[0].Status != "applied" {
		t.Fatalf("photo.attach: %+v", out.Results[0].Error)
	}

	r := f.h.do("GET", "/v1/reports/visits/"+f.visits["V2"].String(), sup, nil)
	expectStatus(t, r, 200)
	var rep render.VisitReport
	if err := json.Unmarshal(r.Body, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Site == nil || rep.Site.Name != "东升镇光伏产业园" || rep.KindLabel != "重点项目现场督查" || rep.Place.Township != "东升镇" ||
		rep.Inspector.Name != "李明" || rep.Checklist == nil || rep.Checklist.Version != 1 || rep.Track != nil {
		t.Fatalf("visit report header: %+v site %+v checklist %+v", rep, rep.Site, rep.Checklist)
	}
	texts := map[string]string{}
	for _, a := range rep.Answers {
		texts[a.Label] = a.Text
	}
	if texts["开复工情况"] != "已复工" || texts["要素保障问题"] != "用电" || texts["是否入统"] != "是" || texts["形象进度"] != "45.5 %" {
		t.Fatalf("answers %v", texts)
	}
	if len(rep.Findings) != 3 {
		t.Fatalf("%d findings", len(rep.Findings))
	}
	var closed, overdue int
	for _, fd := range rep.Findings {
		if fd.Status == "closed" {
			closed++
			if len(fd.History) != 3 || fd.History[2].Step != "recheck" || fd.History[2].ByName != "孙志刚" || fd.History[0].ByName != "李明" {
				t.Fatalf("history %+v", fd.History)
			}
		}
		if fd.Overdue && fd.DeadlineLight == "red" {
			overdue++
		}
	}
	if closed != 2 || overdue != 1 {
		t.Fatalf("closed %d overdue %d", closed, overdue)
	}
	if len(rep.Photos) != 1 || rep.Photos[0].ID != photo || rep.Photos[0].Caption != "施工现场全景" ||
		rep.Photos[0].ThumbnailURL != "/v1/photos/"+photo.String()+"/thumbnail" {
		t.Fatalf("photos %+v", rep.Photos)
	}

	// A patrol has its track summary.
	r = f.h.do("GET", "/v1/reports/visits/"+f.visits["V3"].String(), sup, nil)
	expectStatus(t, r, 200)
	var patrol render.VisitReport
	json.Unmarshal(r.Body, &patrol)
	if patrol.Track == nil || patrol.Track.Points != 40 || patrol.Track.Coverage == nil {
		t.Fatalf("track %+v", patrol.Track)
	}

	// The printable report, read back with an independent extractor.
	r = f.h.do("GET", "/v1/reports/visits/"+f.visits["V2"].String()+"?format=pdf", sup, nil)
	expectStatus(t, r, 200)
	if r.Header.Get("Content-Type") != "application/pdf" || !strings.Contains(r.Header.Get("Content-Disposition"), "filename*=UTF-8''") {
		t.Fatalf("headers %v", r.Header)
	}
	text := pdfText(t, r.Body)
	for _, want := range []string{"东升镇光伏产业园", "重点项目现场督查报告", "开复工情况", "已复工", "东升镇政府", "孙志刚", "施工现场全景", "尚未上传"} {
		if !strings.Contains(text, want) {
			t.Fatalf("PDF text lacks %q: %s", want, text)
		}
	}
	r = f.h.do("GET", "/v1/reports/visits/"+f.visits["V3"].String()+"?format=pdf", sup, nil)
	expectStatus(t, r, 200)
	if text := pdfText(t, r.Body); !strings.Contains(text, "巡护轨迹") || !strings.Contains(text, "包保片区") {
		t.Fatalf("patrol PDF: %s", text)
	}
}

func TestVisitReportScope(t *testing.T) {
	f := newSummaryFixture(t)
	v2, v3, v11 := f.visits["V2"].String(), f.visits["V3"].String(), f.visits["V11"].String()
	for _, c := range []struct {
		user, visit string
		status      int
	}{
		{"supervisor.qinghe", v2, 404}, // another county
		{"inspector.jianan", v2, 404},  // Jian'an only
		{"inspector.jianan", v11, 200}, // its own county and kind
		{"ranger.dongsheng", v2, 404},  // a project visit: not the ranger's kinds
		{"ranger.dongsheng", v3, 200},  // a patrol in its town
		{"supervisor", v11, 200},       // the city
		{"supervisor", uuid.NewString(), 404},
		{"supervisor", "not-a-uuid", 404},
	} {
		tok := f.h.login(c.user, "device-"+c.user)
		for _, format := range []string{"", "?format=pdf"} {
			r := f.h.do("GET", "/v1/reports/visits/"+c.visit+format, tok, nil)
			if r.Status != c.status {
				t.Fatalf("%s reads %s%s: %d %s", c.user, c.visit, format, r.Status, r.Body)
			}
		}
	}
	sup := f.h.login("supervisor", "laptop-sup")
	if r := f.h.do("GET", "/v1/reports/visits/"+v2+"?format=doc", sup, nil); r.Status != 400 || r.problemType(t) != "bad-request" {
		t.Fatalf("format=doc: %d %s", r.Status, r.Body)
	}
	// A draft is reported too (its status says so); a deleted one is gone.
	r := f.h.do("GET", "/v1/reports/visits/"+f.visits["V9"].String(), sup, nil)
	expectStatus(t, r, 200)
	if r.json(t)["status"] != "draft" {
		t.Fatalf("draft: %s", r.Body)
	}
}

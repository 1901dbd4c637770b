package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/models/democity"
	fsync "github.com/fieldsync/fieldsync/sync"
	"github.com/google/uuid"
)

// demoActivityNamespace makes the ids of demo visits, findings and clients stable.
var demoActivityNamespace = uuid.MustParse("0d6c2f0e-8a4b-4c1f-9e53-7b1a2d9c4e61")

// ClientID is the fixed client id (app install) a demo user pushes its demo activity with.
func ClientID(username string) uuid.UUID {
	return uuid.NewSHA1(demoActivityNamespace, []byte("demo-client:"+username))
}

// Sizes of the demo activity: visits per kind over the last demoDays days.
const (
	demoDays           = 28
	demoProjectVisits  = 100
	demoPlantingChecks = 70
	demoFirePatrols    = 60
	demoAgriChecks     = 70
	demoPushChunk      = 300 // mutations per push
	demoTrackChunk     = 80  // fixes per track.append (one every 15 s)
	demoTrackChunks    = 2
)

// Activity counts the demo field work: what the plan holds, whether or not this load applied it.
type Activity struct {
	Visits          map[models.Kind]int
	Findings        int
	OverdueFindings int // not closed, deadline before today (as of now)
	ClosedFindings  int
	Tracks          int
	Applied         int // mutations applied by this load (0 when the activity was already there)
	Replayed        int // mutations that were already applied
}

// TotalVisits is the number of visits of every kind.
func (d Activity) TotalVisits() int {
	n := 0
	for _, v := range d.Visits {
		n += v
	}
	return n
}

// demoPlan is the scripted activity: per phase, per username, the mutations in order (ids are
// numbered per user across phases when pushed).
type demoPlan struct {
	phases []map[string][]fsync.Mutation
	act    Activity
}

func (p *demoPlan) add(phase int, user string, name string, args any, at time.Time) {
	for len(p.phases) <= phase {
		p.phases = append(p.phases, map[string][]fsync.Mutation{})
	}
	b, err := json.Marshal(args)
	if err != nil {
		panic(err)
	}
	p.phases[phase][user] = append(p.phases[phase][user], fsync.Mutation{Name: name, Args: b, ClientTime: at.Format(time.RFC3339)})
}

// LoadActivity records a few weeks of field work in the demo city (the sites LoadSites creates):
// visits of every kind with the default checklists, patrol tracks, findings with deadlines around
// now, and their rectification and re-checks, each pushed through the engine by the demo user who
// would do it. Every user pushes from a fixed client id with mutation ids 1..N, so loading again
// replays the stored results and changes nothing. Visit times are relative to now truncated to
// the day (China time). Any rejection is an error.
func LoadActivity(ctx context.Context, e *fsync.Engine, now time.Time) (Activity, error) {
	plan, err := buildDemoPlan(now)
	if err != nil {
		return Activity{}, err
	}
	act := plan.act
	actors := map[string]fsync.Actor{}
	next := map[string]int64{}
	for _, phase := range plan.phases {
		users := make([]string, 0, len(phase))
		for u := range phase {
			users = append(users, u)
		}
		sort.Strings(users)
		for _, username := range users {
			a, ok := actors[username]
			if !ok {
				if a, err = e.ActorFor(ctx, username, "demo-"+username); err != nil {
					return act, fmt.Errorf("demo: user %s: %w", username, err)
				}
				actors[username] = a
			}
			muts := phase[username]
			for start := 0; start < len(muts); start += demoPushChunk {
				chunk := muts[start:min(start+demoPushChunk, len(muts))]
				req := &fsync.PushRequest{ClientID: ClientID(username), ProtocolVersion: e.Config().MaxProtocol,
					AppVersion: "demo", Mutations: make([]fsync.Mutation, len(chunk))}
				for i, m := range chunk {
					next[username]++
					m.ID = next[username]
					req.Mutations[i] = m
				}
				resp, stats, err := e.Push(ctx, a, req)
				if err != nil {
					return act, fmt.Errorf("demo: push of %s: %w", username, err)
				}
				act.Applied += stats.Applied
				act.Replayed += stats.Replayed
				for i, r := range resp.Results {
					if r.Status != models.StatusApplied {
						msg := string(r.Status)
						if r.Error != nil {
							msg += ": " + r.Error.Code + " " + r.Error.Field + " " + r.Error.Message
						}
						return act, fmt.Errorf("demo: mutation %d (%s) of %s: %s", r.ID, req.Mutations[i].Name, username, msg)
					}
				}
			}
		}
	}
	return act, nil
}

// demoSite is a demo site with its stable id.
type demoSite struct {
	democity.Site
	id uuid.UUID
}

func demoSites() map[string][]demoSite {
	out := map[string][]demoSite{}
	for _, s := range democity.Sites() {
		out[s.Kind] = append(out[s.Kind], demoSite{s, SiteID(s.Key)})
	}
	return out
}

// demoFindingOutcome is how far a finding's rectification got.
const (
	outcomeOpen = iota
	outcomeStarted
	outcomeRectified
	outcomeClosed
	outcomeFailedOnce     // rectified, failed the re-check: back to rectifying
	outcomeClosedSecondGo // rectified, failed, rectified again, closed
)

var demoOutcomes = []int{outcomeOpen, outcomeOpen, outcomeStarted, outcomeRectified, outcomeClosed, outcomeClosed,
	outcomeFailedOnce, outcomeClosedSecondGo}

func buildDemoPlan(now time.Time) (*demoPlan, error) {
	p := &demoPlan{act: Activity{Visits: map[models.Kind]int{}}}
	sites := demoSites()
	projects, plots := sites[democity.SiteKindProject], sites[democity.SiteKindVillagePlot]
	areas, dealers := sites[democity.SiteKindPatrolArea], sites[democity.SiteKindDealer]
	if len(projects) == 0 || len(plots) < 3 || len(areas) < 4 || len(dealers) == 0 {
		return nil, fmt.Errorf("demo: city has too few sites")
	}
	y, m, d := now.In(models.ChinaStandardTime).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, models.ChinaStandardTime)

	type visitPlan struct {
		kind  models.Kind
		user  string
		site  demoSite
		n     int // index within its kind
		start time.Time
	}
	var visits []visitPlan
	for n := 0; n < demoProjectVisits; n++ {
		s := projects[(n*7)%len(projects)]
		user := "inspector"
		switch {
		case strings.HasPrefix(s.RegionCode, "211523"):
			user = "inspector.jianan"
		case n%2 == 1:
			user = "dept.drc"
		}
		visits = append(visits, visitPlan{kind: models.KindProjectVisit, user: user, site: s, n: n})
	}
	for n := 0; n < demoPlantingChecks; n++ {
		var s demoSite
		user := "dept.agri"
		if n < 10 {
			s, user = plots[n%3], "ranger.dongsheng" // the ranger's villages come first
		} else {
			s = plots[3+(n*11)%(len(plots)-3)]
		}
		visits = append(visits, visitPlan{kind: models.KindPlantingCheck, user: user, site: s, n: n})
	}
	for n := 0; n < demoFirePatrols; n++ {
		var s demoSite
		user := "inspector"
		if n%5 < 2 {
			s, user = areas[n%3], "ranger.dongsheng" // the ranger's areas come first
		} else {
			s = areas[3+(n*7)%(len(areas)-3)]
		}
		if user == "ranger.dongsheng" && s.RegionCode != democity.RangerTownship {
			return nil, fmt.Errorf("demo: patrol area %s is not in the ranger's township", s.Key)
		}
		visits = append(visits, visitPlan{kind: models.KindFirePatrol, user: user, site: s, n: n})
	}
	for n := 0; n < demoAgriChecks; n++ {
		user := "dept.market"
		if n%3 == 2 {
			user = "dept.agri"
		}
		visits = append(visits, visitPlan{kind: models.KindAgriInputCheck, user: user, site: dealers[(n*13)%len(dealers)], n: n})
	}

	nf := 0
	for i := range visits {
		v := &visits[i]
		day := today.AddDate(0, 0, -(1 + (i*13)%demoDays))
		v.start = day.Add(time.Duration(8*60+(i*37)%540) * time.Minute)
		dur := time.Duration(40+(i*17)%50) * time.Minute
		end := v.start.Add(dur)
		id := uuid.NewSHA1(demoActivityNamespace, []byte(fmt.Sprintf("demo-visit:%s:%d", v.kind, v.n)))
		acc := 5.0 + float64(i%8)
		pos := &models.Position{Lat: v.site.Lat, Lon: v.site.Lon, AccuracyM: &acc}
		startS, endS := v.start.Format(time.RFC3339), end.Format(time.RFC3339)
		p.add(0, v.user, "visit.create", map[string]any{
			"id": id, "kind": v.kind, "site_id": v.site.id, "started_at": startS, "ended_at": endS, "position": pos,
			"checklist": models.ChecklistRef{ID: models.DefaultChecklistID(v.kind), Version: 1},
			"answers":   demoAnswers(v.kind, v.site, v.n, day), "notes": demoNote(v.kind, v.n),
		}, v.start)
		p.act.Visits[v.kind]++
		if v.kind == models.KindFirePatrol {
			pts := demoTrack(v.site, v.start, i)
			for c := 0; c < demoTrackChunks; c++ {
				p.add(0, v.user, "track.append", map[string]any{"visit_id": id, "chunk": c,
					"points": pts[c*demoTrackChunk : (c+1)*demoTrackChunk]}, v.start.Add(time.Duration(c+1)*20*time.Minute))
			}
			p.act.Tracks++
		}
		p.add(0, v.user, "visit.submit", map[string]any{"id": id}, end)
		if i%4 != 3 {
			continue
		}
		// a finding on every fourth visit
		fid := uuid.NewSHA1(demoActivityNamespace, []byte(fmt.Sprintf("demo-finding:%s:%d", v.kind, v.n)))
		deadline := day.AddDate(0, 0, 7+(nf*5)%18)
		cat, desc, unit, measures := demoFindingText(v.kind, v.site, nf)
		p.add(0, v.user, "finding.create", map[string]any{
			"id": fid, "visit_id": id, "category": cat, "severity": models.Severities[(nf*3)%7/3],
			"description": desc, "position": pos, "responsible_unit": unit, "responsible_person": demoPerson(nf),
			"deadline": deadline.Format(time.DateOnly), "measures": measures,
		}, end)
		p.act.Findings++
		rectifier := v.user
		switch v.user {
		case "inspector", "inspector.jianan":
			rectifier = "supervisor"
			if v.kind == models.KindProjectVisit {
				rectifier = "dept.drc"
			}
		}
		fixed := end.Add(time.Duration(24+(nf*7)%72) * time.Hour)
		if lim := now.Add(-time.Hour); fixed.After(lim) {
			fixed = lim
		}
		rectify := func(phase int, note string) {
			p.add(phase, rectifier, "finding.rectify", map[string]any{"id": fid, "notes": note,
				"rectified_at": fixed.Format(time.RFC3339),
				"photo_ids":    []string{uuid.NewSHA1(demoActivityNamespace, []byte(fmt.Sprintf("demo-photo:%s:%d", fid, phase))).String()},
			}, fixed)
		}
		recheck := func(phase int, passed bool, note string) {
			p.add(phase, "supervisor", "finding.recheck", map[string]any{"id": fid, "passed": passed, "notes": note,
				"checked_at": fixed.Format(time.RFC3339)}, fixed)
		}
		status := models.FindingOpen
		switch demoOutcomes[nf%len(demoOutcomes)] {
		case outcomeStarted:
			p.add(1, rectifier, "finding.start", map[string]any{"id": fid, "notes": "已安排整改"}, fixed)
			status = models.FindingRectifying
		case outcomeRectified:
			rectify(1, "已按要求整改，附整改后照片")
			status = models.FindingAwaitingRecheck
		case outcomeClosed:
			rectify(1, "已按要求整改完毕")
			recheck(2, true, "复查合格，予以销号")
			status = models.FindingClosed
		case outcomeFailedOnce:
			rectify(1, "已整改")
			recheck(2, false, "整改不到位，需继续整改")
			status = models.FindingRectifying
		case outcomeClosedSecondGo:
			rectify(1, "已整改")
			recheck(2, false, "整改不彻底，限期再次整改")
			rectify(3, "已再次整改，问题全部消除")
			recheck(4, true, "复查合格，予以销号")
			status = models.FindingClosed
		}
		if status == models.FindingClosed {
			p.act.ClosedFindings++
		}
		if _, overdue := models.DeadlineLight(deadline.Format(time.DateOnly), status, now); overdue {
			p.act.OverdueFindings++
		}
		nf++
	}
	return p, nil
}

func demoPerson(k int) string {
	s := []string{"王", "李", "张", "刘", "赵", "孙", "杨", "于"}
	g := []string{"国民", "建华", "淑芬", "志远", "长海", "玉琴", "德林", "春雨", "立军"}
	return s[k%len(s)] + g[(k*5)%len(g)]
}

func demoNote(k models.Kind, n int) string {
	notes := map[models.Kind][]string{
		models.KindProjectVisit:   {"现场施工有序推进", "复工人员陆续到岗", "要素保障问题已现场协调", ""},
		models.KindPlantingCheck:  {"春播进度正常", "墒情偏差，已指导坐水种", "农资储备到位", ""},
		models.KindFirePatrol:     {"巡护路线全覆盖", "对进山人员进行防火宣传", "检查防火隔离带", ""},
		models.KindAgriInputCheck: {"台账记录基本完整", "抽查种子标签", "对经营者进行普法宣传", ""},
	}[k]
	return notes[n%len(notes)]
}

func demoAnswers(k models.Kind, s demoSite, n int, day time.Time) map[string]any {
	switch k {
	case models.KindProjectVisit:
		works := "started"
		switch s.Stage {
		case "reserve", "preliminary", "approved":
			works = "not_started"
		case "under_construction":
			works = []string{"started", "resumed", "resumed", "suspended"}[n%4]
		}
		workers := 0
		if works == "started" || works == "resumed" {
			workers = 20 + (n*37)%400
		}
		a := map[string]any{"stage": s.Stage, "works_status": works, "workers_on_site": workers,
			"progress_pct": float64((n * 13) % 100), "investment_completed_wan": math.Round(s.InvestmentWan * float64((n*7)%60) / 100),
			"counted_in_statistics": n%3 != 0, "photos": 2 + n%5}
		blockers := [][]string{nil, {"land"}, {"funding"}, {"power", "permits"}, nil, {"labour"}}[n%6]
		if blockers != nil {
			a["blockers"] = blockers
			a["blockers_detail"] = map[string]string{"land": "用地指标待落实", "funding": "配套资金未到位",
				"power": "施工用电增容待批复", "labour": "技术工人短缺"}[blockers[0]]
		}
		return a
	case models.KindPlantingCheck:
		moist := []string{"adequate", "slightly_dry", "dry", "adequate", "severe_drought"}[n%5]
		a := map[string]any{"crop": s.Crop, "planned_area_mu": s.PlannedAreaMu,
			"sown_area_mu": math.Round(s.PlannedAreaMu*float64(10+(n*17)%90)) / 100, "soil_moisture": moist,
			"wells_working": n % 9, "reservoir_level": []string{"normal", "low", "very_low", "normal"}[n%4],
			"irrigation_ready": n%4 != 1, "seed_stock_adequate": n%6 != 2, "fertiliser_stock_adequate": n%5 != 3,
			"credit_needed": n%3 == 0, "check_date": day.Format(time.DateOnly)}
		if moist != "adequate" {
			a["drought_measures"] = []string{"坐水种", "抗旱保苗", "机电井提水灌溉"}[n%3]
		}
		return a
	case models.KindFirePatrol:
		hazards := [][]string{{"straw_burning"}, {"grave_burning"}, {"field_fire_use", "smoking"}, {"unattended_fire"}, {"smoking"}}[n%5]
		a := map[string]any{"hazards": hazards, "fire_or_smoke_sighted": n%11 == 5, "warnings_given": n % 6,
			"facilities_checked": []string{"signs", "fire_breaks", "tools"}[:1+n%3], "photos": 1 + n%4}
		if n%11 == 5 {
			a["reported_to"] = "乡镇防火办"
		}
		return a
	case models.KindAgriInputCheck:
		lines := []map[string]any{
			{"category": "seed", "brand": "先玉335", "registration_number": "国审玉2004017", "batch": "2026011" + fmt.Sprint(n%10), "expiry": "2027-03-31", "label_compliant": true},
			{"category": "fertiliser", "brand": "史丹利复合肥", "registration_number": "鲁农肥(2019)准字5587号", "label_compliant": n%4 != 1},
			{"category": "pesticide", "brand": "莠去津悬浮剂", "registration_number": "PD20101234", "batch": "B2511", "expiry": "2027-10-01", "label_compliant": n%5 != 2},
			{"category": "film", "brand": "天业地膜", "label_compliant": true},
		}
		products := lines[:1+n%3]
		if n%7 == 6 {
			products = append(products, lines[3])
		}
		return map[string]any{"licence_valid": n%9 != 4, "ledger_kept": n%4 != 2, "invoices_kept": n%3 != 1,
			"products": products, "banned_pesticide_found": false, "samples_taken": n % 3,
			"outcome": []string{"compliant", "compliant", "rectification_notice", "compliant", "evidence_held"}[n%5]}
	}
	return nil
}

func demoFindingText(k models.Kind, s demoSite, n int) (category, desc, unit, measures string) {
	switch k {
	case models.KindProjectVisit:
		return "要素保障", s.Name + "施工用电增容手续未办结，影响复工进度", s.LeadUnit, "限期协调供电部门完成增容审批"
	case models.KindPlantingCheck:
		return "抗旱春播", s.Name + "机电井配套不足，部分地块无法坐水种", "乡镇农业站", "调配抗旱设备，组织坐水种"
	case models.KindFirePatrol:
		return "森林防火", s.Name + []string{"发现焚烧秸秆痕迹", "防火隔离带杂草未清理", "防火警示标牌缺失"}[n%3],
			"乡镇政府", "清理可燃物，补设警示标牌，加强巡护"
	default:
		return "农资质量", s.Name + "部分农药标签不规范，进货台账不全", "市场监管所", "下架不合格产品，补建进销货台账"
	}
}

// demoTrack walks an ellipse about 550 m around the patrol area's centre, one fix every 15 s,
// with a little deterministic jitter.
func demoTrack(s demoSite, start time.Time, seed int) []models.TrackPointIn {
	n := demoTrackChunk * demoTrackChunks
	pts := make([]models.TrackPointIn, n)
	rLat := 0.005
	rLon := 0.006 / math.Cos(s.Lat*math.Pi/180)
	phase := float64(seed) * 0.7
	for i := range pts {
		th := phase + 2*math.Pi*float64(i)/float64(n)
		j := math.Sin(float64(i*7+seed)) * 0.00008
		lat := math.Round((s.Lat+rLat*math.Sin(th)+j)*1e6) / 1e6
		lon := math.Round((s.Lon+rLon*math.Cos(th)-j)*1e6) / 1e6
		acc := float64(4 + (i+seed)%9)
		pts[i] = models.TrackPointIn{T: start.Add(time.Duration(i*15) * time.Second).UTC().Format(time.RFC3339),
			Lat: &lat, Lon: &lon, AccuracyM: &acc, CRS: models.CRSWGS84}
	}
	return pts
}

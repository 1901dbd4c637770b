package democity

import (
	"fmt"
	"math"
	"strings"
)

// The site kinds of DOMAIN.md (models.SiteKind values), as the demo sites carry them.
const (
	SiteKindProject     = "project"
	SiteKindVillagePlot = "village_plot"
	SiteKindPatrolArea  = "patrol_area"
	SiteKindDealer      = "dealer"
)

// Sizes of the demo site set.
const (
	NumProjects    = 230
	NumPatrolAreas = 60
	NumDealers     = 100
	NumPlots       = 150
)

// RangerTownship is the township of the demo forest ranger (ranger.dongsheng): it always has
// patrol areas, village plots and a dealer, so the ranger has field work in scope.
const RangerTownship = "211522105"

// Site is one demo site (what is inspected). Kind is a site kind ("project", "village_plot",
// "patrol_area", "dealer"); RegionCode is the region it belongs to (a township, or a village for a
// village plot). Key is stable across versions of this package: storage derives the site's id
// from it. Only the fields of the site's own kind are set.
type Site struct {
	Key        string
	Kind       string
	Name       string
	RegionCode string
	Lat, Lon   float64 // location (patrol areas: the centre of the boundary)

	// project
	InvestmentWan     float64
	Stage             string
	DevelopmentZone   string
	ResponsibleLeader string
	LeadUnit          string
	PlannedStart      string
	PlannedFinish     string

	// village_plot
	Crop          string
	PlannedAreaMu float64

	// patrol_area: a closed GeoJSON Polygon
	Boundary          string
	ResponsiblePerson string

	// dealer
	LicenceNumber string
	Owner         string
}

// DevelopmentZone is one of the 7 provincial-level development zones (开发区) of the demo city and
// the county it lies in.
type DevelopmentZone struct {
	Name       string
	CountyCode string
}

// DevelopmentZones returns the 7 development zones.
func DevelopmentZones() []DevelopmentZone {
	return []DevelopmentZone{
		{"北山经济技术开发区", "211502"},
		{"北山高新技术产业开发区", "211503"},
		{"青河经济开发区", "211521"},
		{"康北经济开发区", "211522"},
		{"建安经济开发区", "211523"},
		{"新屯经济开发区", "211581"},
		{"双岭经济开发区", "211582"},
	}
}

// Sites returns every demo site: the projects, then the patrol areas, the dealers and the village
// plots. The order and content are the same on every call.
func Sites() []Site {
	regions := Regions()
	var townships, villages []Region
	for _, r := range regions {
		switch r.Level {
		case LevelTownship:
			townships = append(townships, r)
		case LevelVillage:
			villages = append(villages, r)
		}
	}
	out := projects(townships)
	out = append(out, patrolAreas(townships)...)
	out = append(out, dealers(townships)...)
	out = append(out, plots(villages)...)
	return out
}

var (
	surnames   = []string{"王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "韩", "冯", "于", "董", "萧", "包", "白", "佟", "关"}
	givenNames = []string{"建国", "志强", "海军", "春生", "秀兰", "玉梅", "立新", "德胜", "凤霞", "宝山", "庆丰", "振华", "丽娟", "永刚", "淑珍", "国栋", "文斌", "金龙", "雪梅", "长青", "红军", "桂芝", "树林", "明远"}
)

// personName builds the k-th person name.
func personName(k int) string {
	return surnames[(k*7+3)%len(surnames)] + givenNames[(k*5+k/len(surnames))%len(givenNames)]
}

// shortName drops the administrative suffix of a township or village name.
func shortName(name string) string {
	for _, suf := range []string{"蒙古族乡", "街道", "农场", "林场", "种畜场", "种羊场", "果树农场", "镇", "乡", "村", "社区"} {
		if strings.HasSuffix(name, suf) && len([]rune(name)) > len([]rune(suf))+1 {
			return strings.TrimSuffix(name, suf)
		}
	}
	return name
}

func isFarm(name string) bool { return strings.HasSuffix(name, "场") }

func round1(x float64) float64 { return math.Round(x*10) / 10 }

// ruralTownships are the townships that are not sub-districts, in table order.
func ruralTownships(townships []Region) []Region {
	var out []Region
	for _, t := range townships {
		if !isStreet(t.Name) {
			out = append(out, t)
		}
	}
	return out
}

func countyOf(code string) string { return code[:6] }

func projects(townships []Region) []Site {
	industries := []struct{ name, unit string }{
		{"年产30万吨玉米深加工", "北山市工信局"}, {"200兆瓦风电", "北山市发改委"}, {"100兆瓦光伏发电", "北山市发改委"},
		{"肉牛标准化养殖基地", "北山市农业农村局"}, {"冷链物流园", "北山市商务局"}, {"新型建材产业园", "北山市工信局"},
		{"农产品加工园区", "北山市农业农村局"}, {"污水处理厂提标改造", "北山市住建局"}, {"集中供热管网改造", "北山市住建局"},
		{"高标准农田建设", "北山市农业农村局"}, {"水库除险加固", "北山市水利局"}, {"乡村振兴示范", "北山市农业农村局"},
		{"装配式建筑产业基地", "北山市住建局"}, {"生物质热电联产", "北山市发改委"}, {"精细化工", "北山市工信局"},
		{"文旅康养小镇", "北山市文旅局"}, {"电子商务产业园", "北山市商务局"}, {"储能电站", "北山市发改委"},
		{"中药材种植加工", "北山市农业农村局"}, {"农村公路提质改造", "北山市交通局"}, {"职业教育实训基地", "北山市教育局"},
		{"县域医疗中心", "北山市卫健委"}, {"灌区节水改造", "北山市水利局"},
	}
	stages := []string{"reserve", "preliminary", "approved", "under_construction", "under_construction", "under_construction",
		"under_construction", "completed", "in_production", "approved"}
	phases := []string{"", "一期", "二期", "三期"}
	zones := DevelopmentZones()
	rural := ruralTownships(townships)
	byCounty := map[string][]Region{}
	for _, t := range townships {
		byCounty[countyOf(t.Code)] = append(byCounty[countyOf(t.Code)], t)
	}
	out := make([]Site, 0, NumProjects)
	for i := 0; i < NumProjects; i++ {
		var t Region
		zone := ""
		if i%3 == 0 { // every third project lies in a development zone
			z := zones[(i/3)%len(zones)]
			zone = z.Name
			ts := byCounty[z.CountyCode]
			t = ts[(i/21)%len(ts)]
		} else {
			t = rural[(i*37)%len(rural)]
		}
		ind := industries[(i*11)%len(industries)]
		place := shortName(t.Name)
		if zone != "" {
			place = strings.TrimSuffix(strings.TrimSuffix(zone, "经济技术开发区"), "开发区")
		}
		name := fmt.Sprintf("%s%s%s项目", place, ind.name, phases[(i/7)%len(phases)])
		stage := stages[(i*3)%len(stages)]
		startYear := 2024 + (i % 3)
		if stage == "reserve" || stage == "preliminary" {
			startYear = 2026 + i%2
		}
		startMonth := 3 + i%6
		inv := float64(3000 + (i*7919)%180000)
		if i%10 == 0 {
			inv *= 3
		}
		theta := float64(i) * goldenAngle
		r := 0.004 + 0.002*float64(i%4)
		out = append(out, Site{
			Key: fmt.Sprintf("project:%03d", i+1), Kind: SiteKindProject, Name: name, RegionCode: t.Code,
			Lat: round6(t.Lat + r*math.Sin(theta)), Lon: round6(t.Lon + 1.34*r*math.Cos(theta)),
			InvestmentWan: inv, Stage: stage, DevelopmentZone: zone,
			ResponsibleLeader: personName(i*3 + 1), LeadUnit: ind.unit,
			PlannedStart:  fmt.Sprintf("%d-%02d-01", startYear, startMonth),
			PlannedFinish: fmt.Sprintf("%d-%02d-30", startYear+1+i%3, 6+i%6),
		})
	}
	return out
}

// forestCounties are the counties whose townships have forest and grassland to patrol.
var forestCounties = []string{"211521", "211522", "211523", "211524"}

func patrolAreas(townships []Region) []Site {
	var picked []Region
	seen := map[string]int{}
	add := func(t Region) {
		if len(picked) < NumPatrolAreas {
			picked = append(picked, t)
			seen[t.Code]++
		}
	}
	var ranger Region
	for _, t := range townships {
		if t.Code == RangerTownship {
			ranger = t
		}
	}
	add(ranger)
	add(ranger)
	add(ranger)
	for _, t := range townships { // every farm and forest farm (场)
		if isFarm(t.Name) {
			add(t)
		}
	}
	for k := 0; len(picked) < NumPatrolAreas && k < 2; k++ {
		for i, t := range townships {
			inForest := false
			for _, c := range forestCounties {
				inForest = inForest || countyOf(t.Code) == c
			}
			if inForest && !isFarm(t.Name) && seen[t.Code] == 0 && i%2 == k {
				add(t)
			}
		}
	}
	directions := []string{"东", "西", "南", "北"}
	out := make([]Site, 0, len(picked))
	count := map[string]int{}
	for i, t := range picked {
		n := count[t.Code]
		count[t.Code]++
		// centre: the township centre, moved a few km out for the second and later areas
		lat, lon := t.Lat, t.Lon
		if n > 0 {
			lat += 0.03 * math.Sin(float64(n)*2.1)
			lon += 0.04 * math.Cos(float64(n)*2.1)
		}
		lat, lon = round6(lat), round6(lon)
		half := 0.011 + 0.001*float64(i%3) // about 2.4–2.9 km a side
		hl := half / math.Cos(lat*math.Pi/180)
		ring := [][2]float64{{lon - hl, lat - half}, {lon + hl, lat - half}, {lon + hl, lat + half}, {lon - hl, lat + half}, {lon - hl, lat - half}}
		var b strings.Builder
		b.WriteString(`{"type":"Polygon","coordinates":[[`)
		for j, p := range ring {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "[%.6f,%.6f]", p[0], p[1])
		}
		b.WriteString(`]]}`)
		name := shortName(t.Name) + "防火巡护区"
		if n > 0 || count[t.Code] > 1 {
			name = fmt.Sprintf("%s%s片防火巡护区", shortName(t.Name), directions[n%len(directions)])
		}
		if isFarm(t.Name) {
			name = t.Name + "防火巡护区"
		}
		out = append(out, Site{
			Key: fmt.Sprintf("patrol:%s:%d", t.Code, n+1), Kind: SiteKindPatrolArea, Name: name, RegionCode: t.Code,
			Lat: lat, Lon: lon, Boundary: b.String(), ResponsiblePerson: personName(i*5 + 2),
		})
	}
	return out
}

func dealers(townships []Region) []Site {
	rural := ruralTownships(townships)
	kinds := []string{"农资经销部", "农资超市", "种子门市", "化肥经销处", "农资服务站"}
	alnum := "0123456789ABCDEFGHJKLMNPQRTUWXY"
	out := make([]Site, 0, NumDealers)
	for i := 0; i < NumDealers; i++ {
		t := rural[(i*53)%len(rural)]
		if i == 0 {
			for _, r := range rural {
				if r.Code == RangerTownship {
					t = r
				}
			}
		}
		owner := personName(i*7 + 4)
		lic := []byte("92" + t.Code[:6] + "MA")
		x := uint32(i*2654435761 + 12345)
		for k := 0; k < 8; k++ {
			lic = append(lic, alnum[x%uint32(len(alnum))])
			x = x*1103515245 + 12345
		}
		theta := float64(i) * goldenAngle
		out = append(out, Site{
			Key: fmt.Sprintf("dealer:%03d", i+1), Kind: SiteKindDealer,
			Name:       shortName(t.Name) + string([]rune(owner)[:1]) + "记" + kinds[i%len(kinds)],
			RegionCode: t.Code, Lat: round6(t.Lat + 0.002*math.Sin(theta)), Lon: round6(t.Lon + 0.0027*math.Cos(theta)),
			LicenceNumber: string(lic), Owner: owner,
		})
	}
	return out
}

func plots(villages []Region) []Site {
	crops := []string{"玉米", "玉米", "玉米", "高粱", "谷子", "大豆", "花生", "杂粮", "马铃薯", "水稻"}
	var rural []Region
	for _, v := range villages {
		if !strings.HasSuffix(v.Name, "社区") {
			rural = append(rural, v)
		}
	}
	pick := make([]Region, 0, NumPlots)
	for _, v := range rural { // the ranger's villages first
		if v.ParentCode == RangerTownship {
			pick = append(pick, v)
		}
	}
	for i := 0; len(pick) < NumPlots; i++ {
		pick = append(pick, rural[(i*7)%len(rural)])
	}
	out := make([]Site, 0, NumPlots)
	for i, v := range pick {
		crop := crops[(i*3)%len(crops)]
		theta := float64(i) * goldenAngle
		out = append(out, Site{
			Key: fmt.Sprintf("plot:%03d", i+1), Kind: SiteKindVillagePlot, Name: shortName(v.Name) + crop + "种植地块",
			RegionCode: v.Code, Lat: round6(v.Lat + 0.003*math.Sin(theta)), Lon: round6(v.Lon + 0.004*math.Cos(theta)),
			Crop: crop, PlannedAreaMu: round1(200 + float64((i*7919)%2800)),
		})
	}
	return out
}

// CityName is the Chinese name of the demo city.
func CityName() string { return cityName }

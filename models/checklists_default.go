package models

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"
)

// checklistNamespace makes the ids of the built-in checklists: the same on every server, so loading
// the defaults twice changes nothing.
var checklistNamespace = uuid.MustParse("3b0f6a52-8c1d-4e7a-9f25-6d4c2e8b1a90")

// DefaultChecklistID is the id of the built-in checklist of kind k.
func DefaultChecklistID(k Kind) uuid.UUID {
	return uuid.NewSHA1(checklistNamespace, []byte("checklist:"+string(k)))
}

func clNum(v float64) *float64 { return &v }

func clBool(key, label string, required bool) ChecklistItem {
	return ChecklistItem{Key: key, Label: label, Type: ItemBool, Required: required}
}

func clNumber(key, label, unit string, lo, hi *float64, integer, required bool) ChecklistItem {
	return ChecklistItem{Key: key, Label: label, Type: ItemNumber, Unit: unit, Min: lo, Max: hi, Integer: integer, Required: required}
}

func clChoice(typ ItemType, key, label string, required bool, opts ...[2]string) ChecklistItem {
	it := ChecklistItem{Key: key, Label: label, Type: typ, Required: required, OptionLabels: map[string]string{}}
	for _, o := range opts {
		it.Options = append(it.Options, o[0])
		it.OptionLabels[o[0]] = o[1]
	}
	return it
}

func clText(key, label string, maxLen int, required bool) ChecklistItem {
	return ChecklistItem{Key: key, Label: label, Type: ItemText, MaxLength: maxLen, Required: required}
}

// defaultChecklistItems are version 1 of the four built-in checklists, from DOMAIN.md's table.
func defaultChecklistItems(k Kind) (string, []ChecklistItem) {
	switch k {
	case KindProjectVisit:
		return "重点项目现场督查", []ChecklistItem{
			clChoice(ItemChoice, "stage", "项目阶段", true, [2]string{"reserve", "储备"}, [2]string{"preliminary", "前期"},
				[2]string{"approved", "已批"}, [2]string{"under_construction", "在建"}, [2]string{"completed", "竣工"},
				[2]string{"in_production", "投产"}),
			clChoice(ItemChoice, "works_status", "开复工情况", true, [2]string{"not_started", "未开工"},
				[2]string{"started", "已开工"}, [2]string{"resumed", "已复工"}, [2]string{"suspended", "停工"}),
			clNumber("workers_on_site", "在场施工人数", "人", clNum(0), clNum(100000), true, true),
			clNumber("progress_pct", "形象进度", "%", clNum(0), clNum(100), false, true),
			clNumber("investment_completed_wan", "本年完成投资", "万元", clNum(0), clNum(MaxInvestmentWan), false, true),
			clChoice(ItemMultiChoice, "blockers", "要素保障问题", false, [2]string{"land", "用地"}, [2]string{"funding", "资金"},
				[2]string{"power", "用电"}, [2]string{"water", "用水"}, [2]string{"permits", "审批手续"},
				[2]string{"labour", "用工"}, [2]string{"other", "其他"}),
			clText("blockers_detail", "问题说明", 1000, false),
			clBool("counted_in_statistics", "是否入统", true),
			ChecklistItem{Key: "photos", Label: "现场照片数", Type: ItemPhotoCount},
		}
	case KindPlantingCheck:
		return "春耕备耕 / 抗旱春播检查", []ChecklistItem{
			clText("crop", "作物", 100, true),
			clNumber("planned_area_mu", "计划播种面积", "亩", clNum(0), clNum(MaxPlannedAreaMu), false, true),
			clNumber("sown_area_mu", "已播种面积", "亩", clNum(0), clNum(MaxPlannedAreaMu), false, true),
			clChoice(ItemChoice, "soil_moisture", "墒情", true, [2]string{"adequate", "适宜"},
				[2]string{"slightly_dry", "偏旱"}, [2]string{"dry", "干旱"}, [2]string{"severe_drought", "严重干旱"}),
			clNumber("wells_working", "可用机电井数", "眼", clNum(0), clNum(10000), true, false),
			clChoice(ItemChoice, "reservoir_level", "水库塘坝蓄水", false, [2]string{"normal", "正常"},
				[2]string{"low", "偏少"}, [2]string{"very_low", "严重不足"}, [2]string{"none", "无水源"}),
			clBool("irrigation_ready", "灌溉设备到位", true),
			clBool("seed_stock_adequate", "种子储备充足", true),
			clBool("fertiliser_stock_adequate", "化肥储备充足", true),
			clText("drought_measures", "抗旱措施（如坐水种）", 1000, false),
			clBool("credit_needed", "需要春耕贷款", false),
			{Key: "check_date", Label: "检查日期", Type: ItemDate},
		}
	case KindFirePatrol:
		return "森林草原防火巡护", []ChecklistItem{
			clChoice(ItemMultiChoice, "hazards", "发现隐患", true, [2]string{"field_fire_use", "野外用火"},
				[2]string{"straw_burning", "焚烧秸秆"}, [2]string{"grave_burning", "上坟烧纸"}, [2]string{"smoking", "吸烟"},
				[2]string{"unattended_fire", "无人看管火源"}),
			clBool("fire_or_smoke_sighted", "发现火情或烟点", true),
			clText("reported_to", "报告对象", 200, false),
			clNumber("warnings_given", "劝阻警示次数", "次", clNum(0), clNum(10000), true, false),
			clChoice(ItemMultiChoice, "facilities_checked", "检查设施", false, [2]string{"signs", "警示标牌"},
				[2]string{"fire_breaks", "防火隔离带"}, [2]string{"tools", "扑火工具"}),
			ChecklistItem{Key: "photos", Label: "现场照片数", Type: ItemPhotoCount},
		}
	case KindAgriInputCheck:
		return "农资打假检查", []ChecklistItem{
			clBool("licence_valid", "营业执照有效", true),
			clBool("ledger_kept", "建立进销货台账", true),
			clBool("invoices_kept", "留存票据", true),
			{Key: "products", Label: "抽查产品", Type: ItemGroup, Required: true, MinItems: 1, MaxItems: 200, Items: []ChecklistItem{
				clChoice(ItemChoice, "category", "类别", true, [2]string{"seed", "种子"}, [2]string{"fertiliser", "化肥"},
					[2]string{"pesticide", "农药"}, [2]string{"veterinary_drug", "兽药"}, [2]string{"film", "农膜"},
					[2]string{"machinery", "农机"}),
				clText("brand", "品牌", 100, true),
				clText("registration_number", "登记证号/批准文号", 100, false),
				clText("batch", "批次", 100, false),
				{Key: "expiry", Label: "有效期至", Type: ItemDate},
				clBool("label_compliant", "标签合规", true),
			}},
			clBool("banned_pesticide_found", "发现禁限用农药", true),
			clNumber("samples_taken", "抽样数量", "个", clNum(0), clNum(1000), true, false),
			clChoice(ItemChoice, "outcome", "处理结果", true, [2]string{"compliant", "合格"},
				[2]string{"rectification_notice", "责令限期整改"}, [2]string{"evidence_held", "登记保存"},
				[2]string{"case_filed", "立案查处"}),
			clText("seized_quantity", "扣押数量", 200, false),
			clNumber("seized_value_yuan", "扣押货值", "元", clNum(0), clNum(1e10), false, false),
		}
	}
	return "", nil
}

// DefaultChecklists returns version 1 of the built-in checklist of each kind, published at
// publishedAt by the system (no user). Their ids are DefaultChecklistID(kind).
func DefaultChecklists(publishedAt time.Time) []Checklist {
	out := make([]Checklist, 0, len(Kinds))
	for _, k := range Kinds {
		name, items := defaultChecklistItems(k)
		out = append(out, Checklist{ID: DefaultChecklistID(k), Kind: k, Name: name,
			Versions: []ChecklistVersion{{Version: 1, Items: items, PublishedAt: publishedAt.UTC()}}})
	}
	return out
}

// DefaultChecklistExample returns a complete, valid set of answers to version 1 of the built-in
// checklist of kind k (for tests and demo visits).
func DefaultChecklistExample(k Kind) map[string]json.RawMessage {
	var raw string
	switch k {
	case KindProjectVisit:
		raw = `{"stage":"under_construction","works_status":"resumed","workers_on_site":126,"progress_pct":45.5,
			"investment_completed_wan":8600,"blockers":["power","permits"],"blockers_detail":"二期用电增容待批复",
			"counted_in_statistics":true,"photos":4}`
	case KindPlantingCheck:
		raw = `{"crop":"玉米","planned_area_mu":850,"sown_area_mu":320.5,"soil_moisture":"slightly_dry","wells_working":6,
			"reservoir_level":"low","irrigation_ready":true,"seed_stock_adequate":true,"fertiliser_stock_adequate":false,
			"drought_measures":"坐水种","credit_needed":true,"check_date":"2026-04-20"}`
	case KindFirePatrol:
		raw = `{"hazards":["straw_burning"],"fire_or_smoke_sighted":false,"warnings_given":3,
			"facilities_checked":["signs","fire_breaks"],"photos":2}`
	case KindAgriInputCheck:
		raw = `{"licence_valid":true,"ledger_kept":true,"invoices_kept":false,"products":[
			{"category":"seed","brand":"登海605","registration_number":"国审玉20170013","batch":"20260105","expiry":"2027-01-31","label_compliant":true},
			{"category":"pesticide","brand":"草甘膦","registration_number":"PD20080001","label_compliant":false}],
			"banned_pesticide_found":false,"samples_taken":2,"outcome":"rectification_notice"}`
	default:
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		panic(err)
	}
	return m
}

package models

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

func checklistFieldCodes(ve *ValidationError) map[string]string {
	out := map[string]string{}
	for _, e := range ve.Errors {
		out[e.Field] = e.Code
	}
	return out
}

func TestDefaultChecklistsAreValid(t *testing.T) {
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	cls := DefaultChecklists(at)
	if len(cls) != len(Kinds) {
		t.Fatalf("%d defaults", len(cls))
	}
	for _, cl := range cls {
		var ve ValidationError
		cl.Validate(&ve)
		if ve.Err() != nil {
			t.Fatalf("%s: %v", cl.Kind, ve.Err())
		}
		if cl.ID != DefaultChecklistID(cl.Kind) || cl.ID != uuid.NewSHA1(checklistNamespace, []byte("checklist:"+string(cl.Kind))) {
			t.Fatalf("%s: id not deterministic", cl.Kind)
		}
		for _, it := range cl.Versions[0].Items {
			if !strings.ContainsFunc(it.Label, func(r rune) bool { return r >= 0x4e00 && r <= 0x9fff }) {
				t.Fatalf("%s.%s: label %q is not Chinese", cl.Kind, it.Key, it.Label)
			}
		}
		ex := DefaultChecklistExample(cl.Kind)
		ve = ValidationError{}
		ValidateAnswersAgainst(cl.Versions[0].Items, ex, &ve)
		if ve.Err() != nil {
			t.Fatalf("%s: example answers: %v", cl.Kind, ve.Err())
		}
		// Every required item is really required: dropping one is refused.
		for _, it := range cl.Versions[0].Items {
			if !it.Required {
				continue
			}
			cut := map[string]json.RawMessage{}
			for k, v := range ex {
				if k != it.Key {
					cut[k] = v
				}
			}
			ve = ValidationError{}
			ValidateAnswersAgainst(cl.Versions[0].Items, cut, &ve)
			if checklistFieldCodes(&ve)["answers."+it.Key] != "required" {
				t.Fatalf("%s: without %s: %+v", cl.Kind, it.Key, ve.Errors)
			}
			ve = ValidationError{}
			ValidateDraftAnswersAgainst(cl.Versions[0].Items, cut, &ve)
			if ve.Err() != nil {
				t.Fatalf("%s: a draft without %s: %v", cl.Kind, it.Key, ve.Err())
			}
		}
	}
	if DefaultChecklistID(KindFirePatrol) == DefaultChecklistID(KindProjectVisit) {
		t.Fatal("ids collide")
	}
}

func checklistTestItems() []ChecklistItem {
	return []ChecklistItem{
		{Key: "ok", Label: "正常", Type: ItemBool, Required: true},
		{Key: "pct", Label: "进度", Type: ItemNumber, Min: clNum(0), Max: clNum(100), Unit: "%"},
		{Key: "n", Label: "人数", Type: ItemNumber, Min: clNum(0), Integer: true},
		{Key: "stage", Label: "阶段", Type: ItemChoice, Options: []string{"a", "b"}},
		{Key: "tags", Label: "问题", Type: ItemMultiChoice, Options: []string{"x", "y", "z"}},
		{Key: "note", Label: "说明", Type: ItemText, MaxLength: 5},
		{Key: "day", Label: "日期", Type: ItemDate},
		{Key: "photos", Label: "照片", Type: ItemPhotoCount},
		{Key: "rows", Label: "产品", Type: ItemGroup, MinItems: 1, MaxItems: 2, Items: []ChecklistItem{
			{Key: "brand", Label: "品牌", Type: ItemText, Required: true},
			{Key: "qty", Label: "数量", Type: ItemNumber, Min: clNum(1)},
		}},
	}
}

func TestChecklistDefinitionValidation(t *testing.T) {
	var ve ValidationError
	ValidateChecklistItems(&ve, "items", checklistTestItems())
	if ve.Err() != nil {
		t.Fatal(ve.Err())
	}
	cases := []struct {
		name  string
		edit  func([]ChecklistItem) []ChecklistItem
		field string
		code  string
	}{
		{"empty", func([]ChecklistItem) []ChecklistItem { return nil }, "items", "required"},
		{"bad key", func(it []ChecklistItem) []ChecklistItem { it[0].Key = "Bad-Key"; return it }, "items[0].key", "invalid"},
		{"duplicate key", func(it []ChecklistItem) []ChecklistItem { it[1].Key = "ok"; return it }, "items[1].key", "invalid"},
		{"no label", func(it []ChecklistItem) []ChecklistItem { it[0].Label = " "; return it }, "items[0].label", "required"},
		{"long label", func(it []ChecklistItem) []ChecklistItem { it[0].Label = strings.Repeat("字", 201); return it }, "items[0].label", "too_long"},
		{"bad type", func(it []ChecklistItem) []ChecklistItem { it[0].Type = "slider"; return it }, "items[0].type", "unknown"},
		{"min > max", func(it []ChecklistItem) []ChecklistItem { it[1].Min = clNum(200); return it }, "items[1].max", "invalid"},
		{"no options", func(it []ChecklistItem) []ChecklistItem { it[3].Options = nil; return it }, "items[3].options", "required"},
		{"duplicate option", func(it []ChecklistItem) []ChecklistItem { it[4].Options = []string{"x", "x"}; return it }, "items[4].options[1]", "invalid"},
		{"blank option", func(it []ChecklistItem) []ChecklistItem { it[4].Options = []string{"x", ""}; return it }, "items[4].options[1]", "invalid"},
		{"label of no option", func(it []ChecklistItem) []ChecklistItem {
			it[3].OptionLabels = map[string]string{"q": "问"}
			return it
		}, "items[3].option_labels.q", "unknown"},
		{"options on a bool", func(it []ChecklistItem) []ChecklistItem { it[0].Options = []string{"a"}; return it }, "items[0].options", "invalid"},
		{"range on text", func(it []ChecklistItem) []ChecklistItem { it[5].Max = clNum(3); return it }, "items[5].max", "invalid"},
		{"negative max_length", func(it []ChecklistItem) []ChecklistItem { it[5].MaxLength = -1; return it }, "items[5].max_length", "out_of_range"},
		{"empty group", func(it []ChecklistItem) []ChecklistItem { it[8].Items = nil; return it }, "items[8].items", "required"},
		{"group bounds", func(it []ChecklistItem) []ChecklistItem { it[8].MinItems = 3; return it }, "items[8].max_items", "invalid"},
		{"nested group", func(it []ChecklistItem) []ChecklistItem {
			it[8].Items[1] = ChecklistItem{Key: "sub", Label: "子", Type: ItemGroup, Items: []ChecklistItem{{Key: "a", Label: "甲", Type: ItemBool}}}
			return it
		}, "items[8].items[1].type", "invalid"},
		{"duplicate key in group", func(it []ChecklistItem) []ChecklistItem { it[8].Items[1].Key = "brand"; return it }, "items[8].items[1].key", "invalid"},
	}
	for _, c := range cases {
		var ve ValidationError
		ValidateChecklistItems(&ve, "items", c.edit(checklistTestItems()))
		if got := checklistFieldCodes(&ve); got[c.field] != c.code {
			t.Errorf("%s: want %s %s, got %+v", c.name, c.field, c.code, ve.Errors)
		}
	}

	cl := Checklist{ID: uuid.New(), Kind: KindFirePatrol, Name: "巡护", Versions: []ChecklistVersion{{Version: 1, Items: checklistTestItems()}, {Version: 3, Items: checklistTestItems()}}}
	ve = ValidationError{}
	cl.Validate(&ve)
	if checklistFieldCodes(&ve)["versions[1].version"] != "invalid" {
		t.Fatalf("gap in versions: %+v", ve.Errors)
	}
	cl = Checklist{Kind: "x"}
	ve = ValidationError{}
	cl.Validate(&ve)
	if got := checklistFieldCodes(&ve); got["id"] != "required" || got["kind"] != "unknown" || got["name"] != "required" || got["versions"] != "required" {
		t.Fatalf("empty checklist: %+v", ve.Errors)
	}
}

func TestChecklistAnswerRules(t *testing.T) {
	base := `{"ok":true,"rows":[{"brand":"甲"}]}`
	cases := []struct {
		name    string
		answers string
		field   string // "" = valid
		code    string
	}{
		{"minimal", base, "", ""},
		{"everything", `{"ok":false,"pct":99.5,"n":3,"stage":"b","tags":["x","z"],"note":"短","day":"2026-04-01","photos":0,
			"rows":[{"brand":"甲","qty":2},{"brand":"乙","qty":null}]}`, "", ""},
		{"null is no answer", `{"ok":true,"pct":null,"rows":[{"brand":"甲"}]}`, "", ""},
		{"empty multi_choice", `{"ok":true,"tags":[],"rows":[{"brand":"甲"}]}`, "", ""},
		{"required missing", `{"rows":[{"brand":"甲"}]}`, "answers.ok", "required"},
		{"required null", `{"ok":null,"rows":[{"brand":"甲"}]}`, "answers.ok", "required"},
		{"bool type", `{"ok":"yes","rows":[{"brand":"甲"}]}`, "answers.ok", "invalid"},
		{"number type", `{"ok":true,"pct":"50","rows":[{"brand":"甲"}]}`, "answers.pct", "invalid"},
		{"number above max", `{"ok":true,"pct":100.1,"rows":[{"brand":"甲"}]}`, "answers.pct", "out_of_range"},
		{"number below min", `{"ok":true,"n":-1,"rows":[{"brand":"甲"}]}`, "answers.n", "out_of_range"},
		{"integer", `{"ok":true,"n":1.5,"rows":[{"brand":"甲"}]}`, "answers.n", "invalid"},
		{"choice not an option", `{"ok":true,"stage":"c","rows":[{"brand":"甲"}]}`, "answers.stage", "unknown"},
		{"choice type", `{"ok":true,"stage":["a"],"rows":[{"brand":"甲"}]}`, "answers.stage", "invalid"},
		{"multi not a subset", `{"ok":true,"tags":["x","w"],"rows":[{"brand":"甲"}]}`, "answers.tags[1]", "unknown"},
		{"multi twice", `{"ok":true,"tags":["x","x"],"rows":[{"brand":"甲"}]}`, "answers.tags[1]", "invalid"},
		{"multi type", `{"ok":true,"tags":"x","rows":[{"brand":"甲"}]}`, "answers.tags", "invalid"},
		{"text too long", `{"ok":true,"note":"六个字太长了","rows":[{"brand":"甲"}]}`, "answers.note", "too_long"},
		{"text type", `{"ok":true,"note":5,"rows":[{"brand":"甲"}]}`, "answers.note", "invalid"},
		{"date format", `{"ok":true,"day":"2026/04/01","rows":[{"brand":"甲"}]}`, "answers.day", "invalid"},
		{"date impossible", `{"ok":true,"day":"2026-02-30","rows":[{"brand":"甲"}]}`, "answers.day", "invalid"},
		{"photo_count negative", `{"ok":true,"photos":-1,"rows":[{"brand":"甲"}]}`, "answers.photos", "invalid"},
		{"photo_count fraction", `{"ok":true,"photos":1.5,"rows":[{"brand":"甲"}]}`, "answers.photos", "invalid"},
		{"group too few", `{"ok":true,"rows":[]}`, "answers.rows", "out_of_range"},
		{"group too many", `{"ok":true,"rows":[{"brand":"甲"},{"brand":"乙"},{"brand":"丙"}]}`, "answers.rows", "out_of_range"},
		{"group type", `{"ok":true,"rows":{"brand":"甲"}}`, "answers.rows", "invalid"},
		{"group row not an object", `{"ok":true,"rows":[null]}`, "answers.rows[0]", "invalid"},
		{"group sub required", `{"ok":true,"rows":[{"brand":"甲"},{"qty":2}]}`, "answers.rows[1].brand", "required"},
		{"group sub range", `{"ok":true,"rows":[{"brand":"甲","qty":0}]}`, "answers.rows[0].qty", "out_of_range"},
		{"group sub unknown", `{"ok":true,"rows":[{"brand":"甲","colour":"红"}]}`, "answers.rows[0].colour", "unknown"},
		{"unknown key", `{"ok":true,"rows":[{"brand":"甲"}],"extra":1}`, "answers.extra", "unknown"},
	}
	for _, c := range cases {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(c.answers), &m); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var ve ValidationError
		ValidateAnswersAgainst(checklistTestItems(), m, &ve)
		if c.field == "" {
			if ve.Err() != nil {
				t.Errorf("%s: %v", c.name, ve.Err())
			}
			continue
		}
		if got := checklistFieldCodes(&ve); got[c.field] != c.code {
			t.Errorf("%s: want %s %s, got %+v", c.name, c.field, c.code, ve.Errors)
		}
	}
	// A draft may leave required items and group minimums open, but types still count.
	var ve ValidationError
	ValidateDraftAnswersAgainst(checklistTestItems(), map[string]json.RawMessage{"rows": json.RawMessage(`[{"qty":2}]`)}, &ve)
	if ve.Err() != nil {
		t.Fatalf("draft: %v", ve.Err())
	}
	ValidateDraftAnswersAgainst(checklistTestItems(), map[string]json.RawMessage{"pct": json.RawMessage(`101`)}, &ve)
	if checklistFieldCodes(&ve)["answers.pct"] != "out_of_range" {
		t.Fatalf("draft range: %+v", ve.Errors)
	}
}

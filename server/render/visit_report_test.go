package render

import (
	"encoding/json"
	"testing"

	"github.com/fieldsync/fieldsync/models"
)

func TestLabelAnswers(t *testing.T) {
	items := []models.ChecklistItem{
		{Key: "ok", Label: "是否开工", Type: models.ItemBool},
		{Key: "area", Label: "面积", Type: models.ItemNumber, Unit: "亩"},
		{Key: "photos", Label: "照片", Type: models.ItemPhotoCount},
		{Key: "note", Label: "说明", Type: models.ItemText},
		{Key: "stage", Label: "阶段", Type: models.ItemChoice, OptionLabels: map[string]string{"approved": "已批"}},
		{Key: "issues", Label: "问题", Type: models.ItemMultiChoice, OptionLabels: map[string]string{"land": "用地"}},
		{Key: "none", Label: "无", Type: models.ItemMultiChoice},
		{Key: "rows", Label: "明细", Type: models.ItemGroup, Items: []models.ChecklistItem{{Key: "n", Label: "数量", Type: models.ItemNumber}}},
		{Key: "absent", Label: "未答", Type: models.ItemText},
		{Key: "nulled", Label: "空", Type: models.ItemText},
	}
	answers := map[string]json.RawMessage{"ok": []byte("true"), "area": []byte("12.5"), "photos": []byte("3"),
		"note": []byte(`"=1+1"`), "stage": []byte(`"approved"`), "issues": []byte(`["land","other"]`), "none": []byte(`[]`),
		"rows": []byte(`[{"n":2},{"n":3}]`), "nulled": []byte("null"), "zzz": []byte("1"), "aaa": []byte(`"x"`)}
	got := labelAnswers(items, answers)
	want := []struct{ key, label, text string }{
		{"ok", "是否开工", "是"}, {"area", "面积", "12.5 亩"}, {"photos", "照片", "3 张"}, {"note", "说明", "=1+1"},
		{"stage", "阶段", "已批"}, {"issues", "问题", "用地、other"}, {"none", "无", "无"}, {"rows", "明细", "2 项"},
		{"aaa", "aaa", `"x"`}, {"zzz", "zzz", "1"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d answers, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i].Key != w.key || got[i].Label != w.label || got[i].Text != w.text {
			t.Errorf("answer %d = %s %s %q, want %s %s %q", i, got[i].Key, got[i].Label, got[i].Text, w.key, w.label, w.text)
		}
	}
	if rows := got[7].Rows; len(rows) != 2 || rows[1][0].Text != "3" || rows[1][0].Label != "数量" {
		t.Errorf("group rows %+v", rows)
	}
}

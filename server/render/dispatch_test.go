package render

import (
	"bytes"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"
)

func TestDispatchXLSXDefusesText(t *testing.T) {
	place := storage.DispatchPlace{County: "=cmd|' /C calc'!A0", Township: "＋1"}
	total := &storage.SummaryRow{Region: storage.RegionBrief{Name: "@北山市"}, Projects: &storage.ProjectFigures{}}
	out := &Dispatch{Month: "2026-04", ListLimit: 5000,
		Summary: Summary{Kinds: []models.Kind{models.KindProjectVisit}, Total: total,
			Rows: []*storage.SummaryRow{{Region: storage.RegionBrief{Name: " -东升镇"}, Projects: &storage.ProjectFigures{}}}},
		OverdueFindings: []storage.OverdueFinding{{ID: uuid.New(), Place: place, Site: "\t=1", Category: "类别",
			Severity: "serious", Description: "=HYPERLINK(\"http://evil.example\")", ResponsibleUnit: "｜unit",
			Deadline: "2026-04-01", DaysOverdue: 3, Status: models.FindingOpen, RecordedOn: "2026-03-01"}},
		ProjectsWithoutVisit: []storage.ProjectWithoutVisit{{ID: uuid.New(), Name: "-项目", Place: place,
			Stage: "approved", ResponsibleLeader: "+leader", LeadUnit: "lead"}},
	}
	data, err := DispatchXLSX(out)
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[string]map[string]string{
		"汇总":    {"A3": "' -东升镇", "A4": "合计 @北山市"},
		"逾期问题":  {"A3": "'=cmd|' /C calc'!A0", "B3": "'＋1", "C3": "'\t=1", "F3": "'=HYPERLINK(\"http://evil.example\")", "G3": "'｜unit"},
		"未督查项目": {"C3": "'-项目", "E3": "'+leader", "F3": "lead"},
	}
	for sheet, cells := range want {
		for cell, v := range cells {
			if got, _ := f.GetCellValue(sheet, cell); got != v {
				t.Errorf("%s!%s = %q, want %q", sheet, cell, got, v)
			}
			if formula, _ := f.GetCellFormula(sheet, cell); formula != "" {
				t.Errorf("%s!%s has the formula %q", sheet, cell, formula)
			}
		}
	}
	for i := 1; i <= 3; i++ {
		if xml := sheetXML(t, data, "xl/worksheets/sheet"+string(rune('0'+i))+".xml"); strings.Contains(xml, "<f>") || strings.Contains(xml, "<f ") {
			t.Fatalf("sheet %d holds a formula", i)
		}
	}
}

package server

import (
	"bytes"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/server/render"
	"github.com/xuri/excelize/v2"
)

// TestExportsDefuseFormulas plants text a spreadsheet would evaluate in site names, finding
// descriptions and responsible units, and reads every CSV and XLSX export: each planted value must
// arrive (prefixed with an apostrophe), and no cell of any export may be one a spreadsheet runs.
func TestExportsDefuseFormulas(t *testing.T) {
	e := newReportEnv(t)
	const site, desc, unit = ` =HYPERLINK("http://evil.example","x")`, "＝1+1", "|calc"
	if _, err := e.h.store.SQL().ExecContext(e.ctx, `UPDATE records SET data = CASE type
		WHEN 'site' THEN jsonb_set(data, '{name}', to_jsonb($1::text))
		ELSE jsonb_set(jsonb_set(data, '{description}', to_jsonb($2::text)), '{responsible_unit}', to_jsonb($3::text)) END
		WHERE type IN ('site', 'finding')`, site, desc, unit); err != nil {
		t.Fatal(err)
	}
	tok := e.token("supervisor")
	exports := []struct {
		path  string
		plant []string
	}{
		{"/v1/reports/visits?format=csv", []string{site}},
		{"/v1/reports/visits?format=xlsx", []string{site}},
		{"/v1/reports/findings?format=csv", []string{site, desc, unit}},
		{"/v1/reports/findings?format=xlsx", []string{site, desc, unit}},
		{"/v1/reports/findings?format=csv&group=unit", []string{unit}},
		{"/v1/reports/findings?format=xlsx&group=unit", []string{unit}},
		{"/v1/reports/dispatch?format=xlsx", []string{site, desc, unit}},
	}
	for _, x := range exports {
		r := e.h.do("GET", x.path, tok, nil)
		expectStatus(t, r, 200)
		var cells []string
		if strings.Contains(x.path, "csv") {
			for _, row := range readCSV(t, r.Body) {
				cells = append(cells, row...)
			}
		} else {
			cells = xlsxCells(t, r.Body)
		}
		for _, c := range cells {
			if render.DefuseFormula(c) != c {
				t.Errorf("%s: the cell %q would be evaluated", x.path, c)
			}
		}
		for _, p := range x.plant {
			found := false
			for _, c := range cells {
				found = found || strings.Contains(c, "'"+p)
			}
			if !found {
				t.Errorf("%s: the planted %q is not there, defused", x.path, p)
			}
		}
	}
}

// xlsxCells lists every cell value of every sheet, failing on a formula.
func xlsxCells(t *testing.T, data []byte) []string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	for _, sheet := range f.GetSheetList() {
		rows, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		for i, row := range rows {
			for j, v := range row {
				name, _ := excelize.CoordinatesToCellName(j+1, i+1)
				if formula, _ := f.GetCellFormula(sheet, name); formula != "" {
					t.Errorf("%s!%s holds the formula %q", sheet, name, formula)
				}
				out = append(out, v)
			}
		}
	}
	return out
}

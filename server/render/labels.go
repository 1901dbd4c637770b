package render

import (
	"fmt"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
)

// Chinese labels of the printable and spreadsheet reports (DOMAIN.md's words).
var (
	kindLabels = map[models.Kind]string{models.KindProjectVisit: "重点项目现场督查", models.KindPlantingCheck: "春耕备耕检查",
		models.KindFirePatrol: "森林草原防火巡护", models.KindAgriInputCheck: "农资打假检查"}
	severityLabels      = map[string]string{"ordinary": "一般", "serious": "较大", "major": "重大"}
	findingStatusLabels = map[string]string{models.FindingOpen: "待整改", models.FindingRectifying: "整改中",
		models.FindingAwaitingRecheck: "待复查", models.FindingClosed: "已销号"}
	stageLabels = map[string]string{"reserve": "储备", "preliminary": "前期", "approved": "已批", "under_construction": "在建",
		"completed": "竣工", "in_production": "投产"}
	blockerLabels = map[string]string{"land": "用地", "funding": "资金", "power": "用电", "water": "用水", "permits": "审批手续",
		"labour": "用工", "other": "其他"}
	verdictLabels = map[models.VerdictLevel]string{models.VerdictOK: "可信", models.VerdictWarn: "存疑",
		models.VerdictFail: "不可信", models.VerdictPending: "待核验"}
	findingStepLabels = map[string]string{models.FindingStepCreate: "发现问题", models.FindingStepStart: "开始整改",
		models.FindingStepRectify: "报送整改", models.FindingStepRecheck: "复查"}
)

// label returns m[k], or k itself when it has no label.
func label[K ~string](m map[K]string, k K) string {
	if l, ok := m[k]; ok {
		return l
	}
	return string(k)
}

func pctText(p *float64) string {
	if p == nil {
		return "—"
	}
	return fmt.Sprintf("%.1f%%", *p)
}

// summaryColumn is one column of the summary table (XLSX and PDF): a header in Chinese and
// English and the value of a row.
type summaryColumn struct {
	zh, en string
	value  func(r *storage.SummaryRow) any
	pdf    bool // also in the PDF's narrower table
}

func summaryColumns(kinds []models.Kind) []summaryColumn {
	cols := []summaryColumn{
		{"地区", "Region", func(r *storage.SummaryRow) any { return r.Region.Name }, true},
		{"督查总数", "Visits", func(r *storage.SummaryRow) any { return r.AllKinds.Visits }, true},
	}
	for _, k := range kinds {
		k := k
		cols = append(cols, summaryColumn{kindLabels[k], string(k) + " visits", func(r *storage.SummaryRow) any {
			if f := r.Kinds[k]; f != nil {
				return f.Visits
			}
			return 0
		}, false})
	}
	cols = append(cols,
		summaryColumn{"发现问题", "Findings", func(r *storage.SummaryRow) any { return r.AllKinds.Findings.Total }, true},
		summaryColumn{"一般", "Ordinary", func(r *storage.SummaryRow) any { return r.AllKinds.Findings.Ordinary }, false},
		summaryColumn{"较大", "Serious", func(r *storage.SummaryRow) any { return r.AllKinds.Findings.Serious }, false},
		summaryColumn{"重大", "Major", func(r *storage.SummaryRow) any { return r.AllKinds.Findings.Major }, false},
		summaryColumn{"按期整改率", "Rectified on time %", func(r *storage.SummaryRow) any { return pctValue(r.AllKinds.RectifiedOnTimePct) }, true},
		summaryColumn{"逾期未整改", "Overdue", func(r *storage.SummaryRow) any { return r.AllKinds.Overdue }, true},
	)
	if hasKindIn(kinds, models.KindProjectVisit) {
		cols = append(cols,
			summaryColumn{"重点项目", "Projects", func(r *storage.SummaryRow) any { return r.Projects.Projects }, true},
			summaryColumn{"近30日督查率", "Visited in 30 days %", func(r *storage.SummaryRow) any { return pctValue(r.Projects.Visited30dPct) }, true},
			summaryColumn{"开复工", "Works started/resumed", func(r *storage.SummaryRow) any { return r.Projects.WorksStartedOrResumed }, true},
		)
		for _, b := range storage.Blockers {
			b := b
			cols = append(cols, summaryColumn{"要素·" + blockerLabels[b], "Blocker " + b,
				func(r *storage.SummaryRow) any { return r.Projects.Blockers[b] }, false})
		}
	}
	if hasKindIn(kinds, models.KindFirePatrol) {
		cols = append(cols,
			summaryColumn{"巡护天数", "Patrol days", func(r *storage.SummaryRow) any { return r.Patrols.PatrolDays }, true},
			summaryColumn{"巡护里程(km)", "Distance km", func(r *storage.SummaryRow) any { return r.Patrols.DistanceKm }, true},
			summaryColumn{"平均覆盖率", "Mean coverage %", func(r *storage.SummaryRow) any { return pctValue(r.Patrols.MeanCoveragePct) }, true},
			summaryColumn{"未巡护片区", "Areas not patrolled", func(r *storage.SummaryRow) any { return r.Patrols.AreasNotPatrolled }, true},
		)
	}
	if hasKindIn(kinds, models.KindAgriInputCheck) {
		cols = append(cols,
			summaryColumn{"检查经营户", "Dealers checked", func(r *storage.SummaryRow) any { return r.Dealers.DealersChecked }, true},
			summaryColumn{"抽样", "Samples", func(r *storage.SummaryRow) any { return r.Dealers.Samples }, false},
			summaryColumn{"责令整改", "Rectification notices", func(r *storage.SummaryRow) any { return r.Dealers.RectificationNotices }, false},
			summaryColumn{"立案", "Cases filed", func(r *storage.SummaryRow) any { return r.Dealers.CasesFiled }, true},
		)
	}
	return cols
}

// pctValue is a percentage cell: the number, or an empty cell when there is none.
func pctValue(p *float64) any {
	if p == nil {
		return ""
	}
	return *p
}

func hasKindIn(kinds []models.Kind, k models.Kind) bool {
	for _, x := range kinds {
		if x == k {
			return true
		}
	}
	return false
}

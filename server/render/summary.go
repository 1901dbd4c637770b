package render

import (
	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
)

// Summary is the summary report (GET /v1/reports/summary), also the first part of the dispatch.
type Summary struct {
	Region  storage.RegionBrief   `json:"region"`
	From    string                `json:"from"`
	To      string                `json:"to"`
	By      models.RegionLevel    `json:"by"`
	AsOf    string                `json:"as_of"` // the CST date overdue is judged at
	Kinds   []models.Kind         `json:"kinds"`
	Rows    []*storage.SummaryRow `json:"rows"`
	Total   *storage.SummaryRow   `json:"total"`
	Defined string                `json:"definitions"`
}

// SummaryDefinitions is where the summary's figures are defined (its "definitions" member).
const SummaryDefinitions = "README.md, section \"Reports: summary, dispatch and printable visit reports\""

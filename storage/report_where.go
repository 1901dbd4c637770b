package storage

import (
	"strings"

	"github.com/fieldsync/fieldsync/models"
)

// reportScope is what every report query shares: live records of one type inside the actor's
// scope (region subtree and kinds), narrowed to a subtree of it, a kind and a status when set.
type reportScope struct {
	Type       string
	Scope      models.Scope
	RegionPath string // a subtree inside the scope ("" = the whole scope)
	Kind       models.Kind
	Status     string
	// RegionIndexes adds the county or township of the region path as an equality on
	// split_part(region_path, ...), which the visit report's county and township indexes serve
	// in the list's order.
	RegionIndexes bool
}

// reportWhere builds a report's WHERE clause over records aliased r, its parameters in a.
type reportWhere struct {
	a     *sqlArgs
	conds []string
}

// newReportWhere starts a WHERE clause with the conditions of rs.
func newReportWhere(a *sqlArgs, rs reportScope) *reportWhere {
	// The type is a literal, not a parameter: the partial indexes of the reports name it, and a
	// generic plan of a prepared statement could not use them with a parameter.
	w := &reportWhere{a: a, conds: []string{`r.type = '` + recordTypeLiteral(rs.Type) + `'`, `r.deleted_at IS NULL`}}
	path := rs.Scope.RegionPath
	if len(rs.RegionPath) > len(path) {
		path = rs.RegionPath
	}
	if path != "" {
		w.add(`r.region_path LIKE ` + a.add(likePrefix(path)) + ` ESCAPE '\'`)
		if rs.RegionIndexes {
			if county, township := regionPathIDs(path); township != nil {
				w.eq(`split_part(r.region_path, '/', 4)`, township.String())
			} else if county != nil {
				w.eq(`split_part(r.region_path, '/', 3)`, county.String())
			}
		}
	}
	if len(rs.Scope.Kinds) > 0 {
		w.add(`r.kind = ANY(` + a.add(kindStrings(rs.Scope.Kinds)) + `::text[])`)
	}
	if rs.Kind != "" {
		w.eq(`r.kind`, string(rs.Kind))
	}
	if rs.Status != "" {
		w.eq(`r.status`, rs.Status)
	}
	return w
}

// add appends a condition.
func (w *reportWhere) add(cond string) { w.conds = append(w.conds, cond) }

// eq appends expr = v, v as a parameter.
func (w *reportWhere) eq(expr string, v any) { w.add(expr + ` = ` + w.a.add(v)) }

// sql returns the conditions joined by AND.
func (w *reportWhere) sql() string { return strings.Join(w.conds, "\n\t\t  AND ") }

// kindStrings returns kinds as text values for a text[] parameter.
func kindStrings(kinds []models.Kind) []string {
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = string(k)
	}
	return out
}

// recordTypeLiteral returns typ for use inside a SQL string literal: record types are
// lower_snake_case constants of models; anything else is a programming error.
func recordTypeLiteral(typ string) string {
	for _, c := range typ {
		if (c < 'a' || c > 'z') && c != '_' {
			panic("storage: record type " + typ + " cannot be a SQL literal")
		}
	}
	return typ
}

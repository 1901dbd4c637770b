package models

import (
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// Scope is what a user may see and touch: a region subtree plus, optionally, a set of kinds.
// It is always computed on the server from the user's assignment, never taken from a request.
// A nil RegionID means the whole city; an empty Kinds means every kind.
type Scope struct {
	RegionID   *uuid.UUID
	RegionPath string // materialised path of the scope's region ("/<id>/<id>/"), "" for the whole city
	Kinds      []Kind
}

// CoversRegion reports whether a record placed at regionPath lies inside the scope's subtree.
// This is the one region rule every feature uses; storage.ScopeClause is its SQL twin.
func (s Scope) CoversRegion(regionPath string) bool {
	return s.RegionPath == "" || strings.HasPrefix(regionPath, s.RegionPath)
}

// CoversKind reports whether the scope includes kind k.
func (s Scope) CoversKind(k Kind) bool {
	return len(s.Kinds) == 0 || slices.Contains(s.Kinds, k)
}

// Covers reports whether a record of kind k at regionPath is inside the scope. Pass an empty
// kind for records that have none (regions, sites shared by all kinds).
func (s Scope) Covers(regionPath string, k Kind) bool {
	return s.CoversRegion(regionPath) && (k == "" || s.CoversKind(k))
}

// ValidateKinds checks a list of kind names and returns them typed, without duplicates.
func ValidateKinds(ve *ValidationError, field string, names []string) []Kind {
	out := make([]Kind, 0, len(names))
	for i, n := range names {
		k := Kind(n)
		if !k.Valid() {
			ve.Add(fmt.Sprintf("%s[%d]", field, i), "unknown", "unknown kind %q (want one of project_visit, planting_check, fire_patrol, agri_input_check)", n)
			continue
		}
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

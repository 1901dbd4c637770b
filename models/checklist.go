package models

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/google/uuid"
)

// ItemType is the type of answer a checklist item asks for.
type ItemType string

// The item types. A group is a repeating group (e.g. the products checked at a dealer): its answer
// is an array of objects, each answering the group's sub-items.
const (
	ItemBool        ItemType = "bool"
	ItemNumber      ItemType = "number"
	ItemChoice      ItemType = "choice"
	ItemMultiChoice ItemType = "multi_choice"
	ItemText        ItemType = "text"
	ItemDate        ItemType = "date"
	ItemPhotoCount  ItemType = "photo_count"
	ItemGroup       ItemType = "group"
)

// ItemTypes lists every item type.
var ItemTypes = []ItemType{ItemBool, ItemNumber, ItemChoice, ItemMultiChoice, ItemText, ItemDate, ItemPhotoCount, ItemGroup}

// Valid reports whether t is a known item type.
func (t ItemType) Valid() bool { return slices.Contains(ItemTypes, t) }

// Limits on checklist definitions and answers.
const (
	MaxChecklistNameLen   = 200
	MaxItemLabelLen       = 200
	MaxChecklistItems     = 200  // items of one level (top level or one group)
	MaxItemOptions        = 100  // options of a choice item
	MaxOptionLen          = 64   // an option value (lower_snake_case)
	MaxItemTextLen        = 4000 // the largest max_length a text item may declare
	DefaultItemTextLen    = MaxTextFieldLen
	MaxGroupRows          = 1000 // rows of a repeating group in one answer
	MaxPhotoCount         = 1000
	MaxChecklistVersions  = 1000
	maxChecklistUnitLen   = 20
	maxChecklistGroupNest = 1 // a group's items may not contain another group
)

// ChecklistItem is one question of a checklist. Unit, Min, Max and Integer belong to number items;
// Options and OptionLabels to choice and multi_choice items; MaxLength to text items (0 = 200);
// Items, MinItems and MaxItems (0 = no upper bound but MaxGroupRows) to group items.
type ChecklistItem struct {
	Key          string            `json:"key"`
	Label        string            `json:"label"`
	Type         ItemType          `json:"type"`
	Required     bool              `json:"required"`
	Unit         string            `json:"unit,omitempty"`
	Min          *float64          `json:"min,omitempty"`
	Max          *float64          `json:"max,omitempty"`
	Integer      bool              `json:"integer,omitempty"`
	Options      []string          `json:"options,omitempty"`
	OptionLabels map[string]string `json:"option_labels,omitempty"`
	MaxLength    int               `json:"max_length,omitempty"`
	Items        []ChecklistItem   `json:"items,omitempty"`
	MinItems     int               `json:"min_items,omitempty"`
	MaxItems     int               `json:"max_items,omitempty"`
}

// ChecklistVersion is one published version of a checklist. Published versions never change: a
// phone that was offline when a newer one came out keeps filling in the one it has.
type ChecklistVersion struct {
	Version     int             `json:"version"`
	Items       []ChecklistItem `json:"items"`
	PublishedAt time.Time       `json:"published_at"`
	PublishedBy *uuid.UUID      `json:"published_by"` // nil for the built-in defaults
}

// Checklist is the form template of one kind of field work with every version published so far,
// oldest first (the data of a record of type "checklist").
type Checklist struct {
	ID       uuid.UUID          `json:"id"`
	Kind     Kind               `json:"kind"`
	Name     string             `json:"name"`
	Versions []ChecklistVersion `json:"versions"`
}

// Latest returns the newest version (nil when there is none).
func (c *Checklist) Latest() *ChecklistVersion {
	if len(c.Versions) == 0 {
		return nil
	}
	return &c.Versions[len(c.Versions)-1]
}

// Version returns version n (nil when it was never published).
func (c *Checklist) Version(n int) *ChecklistVersion {
	for i := range c.Versions {
		if c.Versions[i].Version == n {
			return &c.Versions[i]
		}
	}
	return nil
}

// Validate checks a whole checklist: id, kind, name, and versions numbered 1, 2, … each with a
// valid item list.
func (c *Checklist) Validate(ve *ValidationError) {
	if c.ID == uuid.Nil {
		ve.Add("id", "required", "a checklist needs an id")
	}
	if !c.Kind.Valid() {
		ve.Add("kind", "unknown", "kind must be one of project_visit, planting_check, fire_patrol, agri_input_check")
	}
	ve.CheckText("name", c.Name, true, MaxChecklistNameLen)
	if len(c.Versions) == 0 {
		ve.Add("versions", "required", "a checklist has at least one version")
	}
	if len(c.Versions) > MaxChecklistVersions {
		ve.Add("versions", "too_long", "at most %d versions", MaxChecklistVersions)
	}
	for i, v := range c.Versions {
		if v.Version != i+1 {
			ve.Add(fmt.Sprintf("versions[%d].version", i), "invalid", "versions are numbered 1, 2, 3 … in order")
		}
		ValidateChecklistItems(ve, fmt.Sprintf("versions[%d].items", i), v.Items)
	}
}

// ValidateChecklistItems checks the items of one checklist version: at least one, keys
// lower_snake_case and unique, a known type, and for each type only its own settings, with
// min ≤ max, options non-empty and unique, and groups nesting one level only.
func ValidateChecklistItems(ve *ValidationError, field string, items []ChecklistItem) {
	validateItems(ve, field, items, 0)
}

func validateItems(ve *ValidationError, field string, items []ChecklistItem, depth int) {
	if len(items) == 0 {
		ve.Add(field, "required", "a checklist needs at least one item")
		return
	}
	if len(items) > MaxChecklistItems {
		ve.Add(field, "too_long", "at most %d items", MaxChecklistItems)
		return
	}
	seen := map[string]bool{}
	for i := range items {
		it := &items[i]
		f := fmt.Sprintf("%s[%d]", field, i)
		switch {
		case !ValidAnswerKey(it.Key):
			ve.Add(f+".key", "invalid", "keys are lower_snake_case, at most 64 characters")
		case seen[it.Key]:
			ve.Add(f+".key", "invalid", "key %q is used twice", it.Key)
		}
		seen[it.Key] = true
		ve.CheckText(f+".label", it.Label, true, MaxItemLabelLen)
		if !it.Type.Valid() {
			ve.Add(f+".type", "unknown", "type must be one of bool, number, choice, multi_choice, text, date, photo_count, group")
			continue
		}
		it.validateSettings(ve, f, depth)
	}
}

// validateSettings checks the type-specific settings of one item.
func (it *ChecklistItem) validateSettings(ve *ValidationError, f string, depth int) {
	isNumber, isChoice := it.Type == ItemNumber, it.Type == ItemChoice || it.Type == ItemMultiChoice
	foreign := []struct {
		name string
		set  bool
		ok   bool
	}{
		{"unit", it.Unit != "", isNumber},
		{"min", it.Min != nil, isNumber},
		{"max", it.Max != nil, isNumber},
		{"integer", it.Integer, isNumber},
		{"options", it.Options != nil, isChoice},
		{"option_labels", it.OptionLabels != nil, isChoice},
		{"max_length", it.MaxLength != 0, it.Type == ItemText},
		{"items", it.Items != nil, it.Type == ItemGroup},
		{"min_items", it.MinItems != 0, it.Type == ItemGroup},
		{"max_items", it.MaxItems != 0, it.Type == ItemGroup},
	}
	for _, s := range foreign {
		if s.set && !s.ok {
			ve.Add(f+"."+s.name, "invalid", "is not a setting of %s items", it.Type)
		}
	}
	switch it.Type {
	case ItemNumber:
		ve.CheckText(f+".unit", it.Unit, false, maxChecklistUnitLen)
		for _, b := range []struct {
			name string
			v    *float64
		}{{"min", it.Min}, {"max", it.Max}} {
			if b.v != nil && (math.IsNaN(*b.v) || math.IsInf(*b.v, 0)) {
				ve.Add(f+"."+b.name, "invalid", "must be a finite number")
			}
		}
		if it.Min != nil && it.Max != nil && *it.Min > *it.Max {
			ve.Add(f+".max", "invalid", "max (%g) is below min (%g)", *it.Max, *it.Min)
		}
	case ItemChoice, ItemMultiChoice:
		it.validateOptions(ve, f)
	case ItemText:
		if it.MaxLength < 0 || it.MaxLength > MaxItemTextLen {
			ve.Add(f+".max_length", "out_of_range", "must be between 1 and %d (0 or absent = %d)", MaxItemTextLen, DefaultItemTextLen)
		}
	case ItemGroup:
		if depth >= maxChecklistGroupNest {
			ve.Add(f+".type", "invalid", "groups nest one level only: a group cannot hold another group")
			return
		}
		if it.MinItems < 0 || it.MinItems > MaxGroupRows {
			ve.Add(f+".min_items", "out_of_range", "must be between 0 and %d", MaxGroupRows)
		}
		if it.MaxItems < 0 || it.MaxItems > MaxGroupRows {
			ve.Add(f+".max_items", "out_of_range", "must be between 0 and %d (0 = %d)", MaxGroupRows, MaxGroupRows)
		} else if it.MaxItems > 0 && it.MaxItems < it.MinItems {
			ve.Add(f+".max_items", "invalid", "max_items (%d) is below min_items (%d)", it.MaxItems, it.MinItems)
		}
		validateItems(ve, f+".items", it.Items, depth+1)
	}
}

func (it *ChecklistItem) validateOptions(ve *ValidationError, f string) {
	if len(it.Options) == 0 {
		ve.Add(f+".options", "required", "a %s item needs at least one option", it.Type)
		return
	}
	if len(it.Options) > MaxItemOptions {
		ve.Add(f+".options", "too_long", "at most %d options", MaxItemOptions)
	}
	seen := map[string]bool{}
	for i, o := range it.Options {
		of := fmt.Sprintf("%s.options[%d]", f, i)
		switch {
		case !ValidAnswerKey(o) || len(o) > MaxOptionLen:
			ve.Add(of, "invalid", "options are lower_snake_case values of at most %d characters", MaxOptionLen)
		case seen[o]:
			ve.Add(of, "invalid", "option %q is listed twice", o)
		}
		seen[o] = true
	}
	for _, o := range sortedKeys(it.OptionLabels) {
		if !seen[o] {
			ve.Add(f+".option_labels."+o, "unknown", "%q is not one of the options", o)
		}
		ve.CheckText(f+".option_labels."+o, it.OptionLabels[o], true, MaxItemLabelLen)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

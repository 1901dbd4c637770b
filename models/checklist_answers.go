package models

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
)

// ValidateAnswersAgainst checks a complete (submitted) set of answers against the items of one
// checklist version: every required item answered, every answer of its item's type and within
// its rules. An answer whose key no item has is refused (code "unknown"): the version names every
// question, so an unknown key is a typo or an answer meant for another version. A JSON null
// counts as no answer. Errors name answers.<key> and, inside groups, answers.<key>[i].<sub>.
func ValidateAnswersAgainst(items []ChecklistItem, answers map[string]json.RawMessage, ve *ValidationError) {
	validateAnswers(ve, "answers", items, answers, true)
}

// ValidateDraftAnswersAgainst checks the answers of a draft: like ValidateAnswersAgainst, but
// required items may still be unanswered (a draft is being filled in). Rows of a repeating group
// are checked the same way.
func ValidateDraftAnswersAgainst(items []ChecklistItem, answers map[string]json.RawMessage, ve *ValidationError) {
	validateAnswers(ve, "answers", items, answers, false)
}

func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

// maxAnswerFaults bounds the errors one answers object can produce: a client fixes the first
// ones and sends again; listing thousands would only cost memory.
const maxAnswerFaults = 100

func validateAnswers(ve *ValidationError, prefix string, items []ChecklistItem, answers map[string]json.RawMessage, complete bool) {
	known := make(map[string]bool, len(items))
	for i := range items {
		if len(ve.Errors) >= maxAnswerFaults {
			return
		}
		it := &items[i]
		known[it.Key] = true
		f := prefix + "." + it.Key
		raw, ok := answers[it.Key]
		if !ok || isNull(raw) {
			if complete && it.Required {
				ve.Add(f, "required", "%s (%s) must be answered", it.Label, it.Key)
			}
			continue
		}
		it.validateAnswer(ve, f, raw, complete)
	}
	for _, k := range sortedKeys(answers) {
		if len(ve.Errors) >= maxAnswerFaults {
			return
		}
		if !known[k] {
			ve.Add(prefix+"."+k, "unknown", "this checklist version has no item %q", k)
		}
	}
}

// validateAnswer checks one non-null answer against its item.
func (it *ChecklistItem) validateAnswer(ve *ValidationError, f string, raw json.RawMessage, complete bool) {
	switch it.Type {
	case ItemBool:
		var b bool
		if json.Unmarshal(raw, &b) != nil {
			ve.Add(f, "invalid", "must be true or false")
		}
	case ItemNumber:
		var n float64
		if json.Unmarshal(raw, &n) != nil {
			ve.Add(f, "invalid", "must be a number")
			return
		}
		switch {
		case it.Integer && n != math.Trunc(n):
			ve.Add(f, "invalid", "must be a whole number")
		case it.Min != nil && n < *it.Min, it.Max != nil && n > *it.Max:
			ve.Add(f, "out_of_range", "must be %s%s", rangeText(it.Min, it.Max), unitText(it.Unit))
		}
	case ItemChoice:
		var s string
		if json.Unmarshal(raw, &s) != nil {
			ve.Add(f, "invalid", "must be one of the options as a string")
		} else if !slices.Contains(it.Options, s) {
			ve.Add(f, "unknown", "must be one of %s", strings.Join(it.Options, ", "))
		}
	case ItemMultiChoice:
		var ss []string
		if json.Unmarshal(raw, &ss) != nil {
			ve.Add(f, "invalid", "must be an array of options")
			return
		}
		if len(ss) > len(it.Options) {
			ve.Add(f, "out_of_range", "at most %d options (each once)", len(it.Options))
			return
		}
		seen := map[string]bool{}
		for i, s := range ss {
			switch {
			case !slices.Contains(it.Options, s):
				ve.Add(fmt.Sprintf("%s[%d]", f, i), "unknown", "must be one of %s", strings.Join(it.Options, ", "))
			case seen[s]:
				ve.Add(fmt.Sprintf("%s[%d]", f, i), "invalid", "%q is chosen twice", s)
			}
			seen[s] = true
		}
	case ItemText:
		var s string
		if json.Unmarshal(raw, &s) != nil {
			ve.Add(f, "invalid", "must be a string")
			return
		}
		maxLen := it.MaxLength
		if maxLen == 0 {
			maxLen = DefaultItemTextLen
		}
		ve.CheckText(f, s, complete && it.Required, maxLen)
	case ItemDate:
		var s string
		if json.Unmarshal(raw, &s) != nil {
			ve.Add(f, "invalid", "must be a date such as 2026-04-01")
			return
		}
		ParseDate(ve, f, s, true)
	case ItemPhotoCount:
		var n float64
		if json.Unmarshal(raw, &n) != nil || n != math.Trunc(n) || n < 0 {
			ve.Add(f, "invalid", "must be a whole number of photos, 0 or more")
		} else if n > MaxPhotoCount {
			ve.Add(f, "out_of_range", "at most %d photos", MaxPhotoCount)
		}
	case ItemGroup:
		var rows []map[string]json.RawMessage
		if json.Unmarshal(raw, &rows) != nil {
			ve.Add(f, "invalid", "must be an array of objects, one per row")
			return
		}
		maxRows := it.MaxItems
		if maxRows == 0 {
			maxRows = MaxGroupRows
		}
		switch {
		case len(rows) > maxRows:
			ve.Add(f, "out_of_range", "at most %d rows", maxRows)
			return
		case complete && len(rows) < it.MinItems:
			ve.Add(f, "out_of_range", "at least %d rows", it.MinItems)
		}
		for i, row := range rows {
			if len(ve.Errors) >= maxAnswerFaults {
				return
			}
			if row == nil {
				ve.Add(fmt.Sprintf("%s[%d]", f, i), "invalid", "each row must be an object")
				continue
			}
			validateAnswers(ve, fmt.Sprintf("%s[%d]", f, i), it.Items, row, complete)
		}
	}
}

func rangeText(lo, hi *float64) string {
	switch {
	case lo != nil && hi != nil:
		return fmt.Sprintf("between %g and %g", *lo, *hi)
	case lo != nil:
		return fmt.Sprintf("at least %g", *lo)
	default:
		return fmt.Sprintf("at most %g", *hi)
	}
}

func unitText(unit string) string {
	if unit == "" {
		return ""
	}
	return " " + unit
}

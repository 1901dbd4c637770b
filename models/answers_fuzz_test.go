package models

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzValidateAnswers feeds arbitrary bytes to the answer validator (as one answer, as an answers
// object, and as a stored visit for pull). It must never panic, and whatever it accepts must keep
// the limits it promises: valid JSON that Go decodes (numbers fit a float64), nested at most
// MaxAnswerDepth deep, with short strings, lists and objects. Its work is bounded by construction
// (one pass over the bytes, recursion at most MaxAnswerDepth+1 deep); the seeds include a list
// nested 9,000 deep, which it refuses after four levels.
//
//	go test -run '^$' -fuzz FuzzValidateAnswers -fuzztime 15s ./models/
func FuzzValidateAnswers(f *testing.F) {
	for _, s := range []string{
		`{"stage":"under_construction","workers_on_site":120}`,
		`[{"category":"seed","brand":"登海605","tags":["a"]}]`,
		nested(9000, "1"), nested(4, `{"a":1}`), `{"a":` + nested(3, "1") + `}`,
		`1e999`, `-1e-400`, `0e999`, `"\u0000"`, `"\ud800"`, `{"A":1}`, `{"a":1,"a":2}`, `[1,]`, `"abc`, ``,
		`{"id":"v","answers":{"deep":` + nested(50, "1") + `}}`, `{"answers":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var ve ValidationError
		ValidateAnswers(&ve, "answers", data)
		if len(ve.Errors) > MaxAnswerKeys+1 {
			t.Fatalf("%d errors for one answers object", len(ve.Errors))
		}
		if fe := CheckAnswerValue(data); fe == nil {
			checkAccepted(t, data)
		}
		out, withheld, ok := WithholdBadAnswers(data)
		if ok && len(withheld) > 0 && json.Valid(data) && !json.Valid(out) {
			t.Fatalf("the safe form of valid JSON is not JSON: %q", out)
		}
		if ok && len(withheld) == 0 && !bytes.Equal(out, data) {
			t.Fatal("data without bad answers was changed")
		}
	})
}

// checkAccepted verifies that an answer CheckAnswerValue accepted keeps every promised limit.
func checkAccepted(t *testing.T, data []byte) {
	t.Helper()
	if !json.Valid(data) {
		t.Fatalf("accepted invalid JSON %q", data)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("accepted %q, which Go cannot decode: %v", data, err)
	}
	var walk func(v any, depth int)
	walk = func(v any, depth int) {
		switch x := v.(type) {
		case []any:
			if depth+1 > MaxAnswerDepth || len(x) > MaxAnswerListLen {
				t.Fatalf("accepted a list at depth %d with %d items: %q", depth+1, len(x), data)
			}
			for _, e := range x {
				walk(e, depth+1)
			}
		case map[string]any:
			if depth+1 > MaxAnswerDepth || len(x) > MaxAnswerObjectKeys {
				t.Fatalf("accepted an object at depth %d with %d keys: %q", depth+1, len(x), data)
			}
			for k, e := range x {
				if !ValidAnswerKey(k) {
					t.Fatalf("accepted key %q", k)
				}
				walk(e, depth+1)
			}
		case string:
			if n := utf8.RuneCountInString(x); n > MaxAnswerStringLen && !strings.ContainsRune(x, utf8.RuneError) {
				t.Fatalf("accepted a string of %d characters", n)
			}
		}
	}
	walk(v, 0)
}

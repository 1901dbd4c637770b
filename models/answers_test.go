package models

import (
	"encoding/json"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// nested returns a value with n lists around x.
func nested(n int, x string) string { return strings.Repeat("[", n) + x + strings.Repeat("]", n) }

func TestCheckAnswerValue(t *testing.T) {
	row := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = `"k` + strconv.Itoa(i) + `":1`
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	list := func(n int) string { return "[" + strings.TrimSuffix(strings.Repeat("1,", n), ",") + "]" }
	for _, c := range []struct {
		name, raw, field, code string
	}{
		{"number", `42.5`, "", ""},
		{"negative exponent", `-1.5e-3`, "", ""},
		{"text", `"玉米"`, "", ""},
		{"escapes", `"a\"b\\c\u00e9\n"`, "", ""},
		{"bool", `true`, "", ""},
		{"null", ` null `, "", ""},
		{"multi choice", `["power","permits"]`, "", ""},
		{"group rows", `[{"category":"seed","brand":"登海605","tags":["a","b"]},{"category":"film"}]`, "", ""},
		{"three deep", nested(3, "1"), "", ""},
		{"four deep", nested(4, "1"), "[0][0][0]", "too_deep"},
		{"nine thousand deep", nested(9000, "1"), "[0][0][0]", "too_deep"},
		{"deep inside a row", `[{"a":[{"b":1}]}]`, "[0].a[0]", "too_deep"},
		{"string at the limit", `"` + strings.Repeat("字", MaxAnswerStringLen) + `"`, "", ""},
		{"string over the limit", `"` + strings.Repeat("字", MaxAnswerStringLen+1) + `"`, "", "too_long"},
		{"long string in a row", `[{"note":"` + strings.Repeat("x", MaxAnswerStringLen+1) + `"}]`, "[0].note", "too_long"},
		{"list at the limit", list(MaxAnswerListLen), "", ""},
		{"list over the limit", list(MaxAnswerListLen + 1), "", "too_long"},
		{"object at the limit", row(MaxAnswerObjectKeys), "", ""},
		{"object over the limit", row(MaxAnswerObjectKeys + 1), "", "too_long"},
		{"key not snake case", `{"Brand":1}`, "", "invalid"},
		{"key with an escape", `{"\u0061":1}`, "", "invalid"},
		{"number over float64", `1e999`, "", "out_of_range"},
		{"number under float64", `-1e-400`, "", "out_of_range"},
		{"zero with a huge exponent", `0e999`, "", ""},
		{"number too long", `1` + strings.Repeat("0", MaxAnswerNumberLen), "", "too_long"},
		{"leading zero", `01`, "", "invalid"},
		{"two values", `1 2`, "", "invalid"},
		{"unterminated string", `"abc`, "", "invalid"},
		{"unterminated list", `[1,2`, "", "invalid"},
		{"control character", "\"a\x01\"", "", "invalid"},
		{"trailing comma", `[1,]`, "[1]", "invalid"},
		{"empty", ``, "", "invalid"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fe := CheckAnswerValue([]byte(c.raw))
			switch {
			case c.code == "" && fe != nil:
				t.Fatalf("refused: %+v", fe)
			case c.code != "" && fe == nil:
				t.Fatal("accepted")
			case fe != nil && (fe.Code != c.code || fe.Field != c.field):
				t.Fatalf("fault %+v, want %s at %q", fe, c.code, c.field)
			}
		})
	}
}

func TestValidateAnswerMap(t *testing.T) {
	m := map[string]json.RawMessage{
		"stage": json.RawMessage(`"under_construction"`), "deep": json.RawMessage(nested(50, "0")),
		"Bad": json.RawMessage(`1`), "big": json.RawMessage(`1e400`), "ok": json.RawMessage(`[1,2]`),
	}
	var ve ValidationError
	ValidateAnswerMap(&ve, "answers", m)
	got := make([]string, len(ve.Errors))
	for i, fe := range ve.Errors {
		got[i] = fe.Field + ":" + fe.Code
	}
	want := "answers.Bad:invalid answers.big:out_of_range answers.deep[0][0][0]:too_deep"
	if strings.Join(got, " ") != want {
		t.Fatalf("errors %v, want %s (in key order)", got, want)
	}

	// The answers object in all: at most MaxAnswersBytes.
	big := map[string]json.RawMessage{}
	for i := 0; i < 40; i++ {
		big["k"+strconv.Itoa(i)] = json.RawMessage(`"` + strings.Repeat("x", 2000) + `"`)
	}
	ve = ValidationError{}
	ValidateAnswerMap(&ve, "answers", big)
	if len(ve.Errors) != 1 || ve.Errors[0].Code != "too_long" || ve.Errors[0].Field != "answers" {
		t.Fatalf("80 KB of answers: %+v", ve.Errors)
	}
}

// TestValidAnswerKeyMatchesItsPattern: the hand-written key check accepts exactly what the
// documented pattern does.
func TestValidAnswerKeyMatchesItsPattern(t *testing.T) {
	re := regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := "az09_AZ-. \n\x00é"
	for i := 0; i < 200000; i++ {
		b := make([]byte, r.IntN(70))
		for j := range b {
			b[j] = alphabet[r.IntN(len(alphabet))]
		}
		k := string(b)
		if ValidAnswerKey(k) != re.MatchString(k) || validKeyBytes(b) != re.MatchString(k) {
			t.Fatalf("%q: ValidAnswerKey %v, pattern %v", k, ValidAnswerKey(k), re.MatchString(k))
		}
	}
	for _, k := range []string{"a", "stage", "a" + strings.Repeat("b", 63), "x_1"} {
		if !ValidAnswerKey(k) {
			t.Fatalf("%q refused", k)
		}
	}
	for _, k := range []string{"", "1a", "_a", "a" + strings.Repeat("b", 64), "a\n"} {
		if ValidAnswerKey(k) {
			t.Fatalf("%q accepted", k)
		}
	}
}

func TestWithholdBadAnswers(t *testing.T) {
	good := []byte(`{"id":"v1","answers":{"stage":"completed","n":3},"notes":"x"}`)
	out, withheld, ok := WithholdBadAnswers(good)
	if !ok || withheld != nil || &out[0] != &good[0] {
		t.Fatalf("a good visit was changed: %s %v %v", out, withheld, ok)
	}
	bad := []byte(`{"id":"v1","answers":{"deep":` + nested(20000, "1") + `,"huge":1e999,"stage":"completed"},"notes":"x"}`)
	out, withheld, ok = WithholdBadAnswers(bad)
	if !ok || strings.Join(withheld, ",") != "answers.deep,answers.huge" {
		t.Fatalf("withheld %v %v", withheld, ok)
	}
	var v struct {
		ID       string                     `json:"id"`
		Answers  map[string]json.RawMessage `json:"answers"`
		Notes    string                     `json:"notes"`
		Withheld []string                   `json:"withheld"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("safe form is not JSON: %v: %s", err, out)
	}
	if v.ID != "v1" || v.Notes != "x" || string(v.Answers["deep"]) != "null" || string(v.Answers["huge"]) != "null" ||
		string(v.Answers["stage"]) != `"completed"` || len(v.Withheld) != 2 {
		t.Fatalf("safe form %s", out)
	}
	for _, raw := range []string{`{"answers":null}`, `{"id":1}`, `{}`} {
		if out, w, ok := WithholdBadAnswers([]byte(raw)); !ok || w != nil || string(out) != raw {
			t.Fatalf("%s: %s %v %v", raw, out, w, ok)
		}
	}
	for _, raw := range []string{``, `[]`, `{"answers":{"a":1}`, `{"answers"}`} {
		if _, _, ok := WithholdBadAnswers([]byte(raw)); ok {
			t.Fatalf("%q read as a visit", raw)
		}
	}
}

func TestAnswerFieldWithinLimits(t *testing.T) {
	for _, c := range []struct {
		field, raw string
		ok         bool
	}{
		{"notes", nested(100, "1"), true}, // not an answer: typed by the server
		{"answers.stage", `"x"`, true},
		{"answers.stage", nested(4, "1"), false},
		{"answers", `{"a":1,"b":[1]}`, true},
		{"answers", `null`, true},
		{"answers", `{"a":` + nested(9000, "1") + `}`, false},
		{"answers", `{"A":1}`, false},
		{"answers", `[1]`, false},
		{"answers", ``, true},
	} {
		if got := AnswerFieldWithinLimits(c.field, []byte(c.raw)); got != c.ok {
			t.Errorf("%s %.40s: %v, want %v", c.field, c.raw, got, c.ok)
		}
	}
}

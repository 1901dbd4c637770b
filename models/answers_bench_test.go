package models

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// BenchmarkValidateAnswerMap checks the answers of the push benchmark's visits (sync/bench_test.go:
// two kind answers and twelve 40–70 character texts) and of the built-in agri_input_check example
// (a group of product rows), against a baseline measured in the same run: the check push made
// before the answer limits (a regexp per key, values not looked at). It reports ns per answers
// object and the ratio to the baseline.
//
//	go test -run '^$' -bench ValidateAnswerMap ./models/
func BenchmarkValidateAnswerMap(b *testing.B) {
	pushVisit := map[string]json.RawMessage{"stage": json.RawMessage(`"under_construction"`),
		"workers_on_site": json.RawMessage(`120`)}
	for k := 1; k <= 12; k++ {
		pushVisit[fmt.Sprintf("item_%02d", k)] = json.RawMessage(`"` + strings.Repeat("crane scaffold ", 4) + `"`)
	}
	keyRE := regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	baseline := func(m map[string]json.RawMessage) int {
		bad := 0
		if len(m) > MaxAnswerKeys {
			bad++
		}
		for k := range m {
			if !keyRE.MatchString(k) {
				bad++
			}
		}
		return bad
	}
	for _, c := range []struct {
		name    string
		answers map[string]json.RawMessage
	}{{"push_visit", pushVisit}, {"input_check", DefaultChecklistExample(KindAgriInputCheck)}} {
		b.Run(c.name, func(b *testing.B) {
			measure := func(f func()) time.Duration {
				start := time.Now()
				for range b.N {
					f()
				}
				return time.Since(start)
			}
			base := measure(func() {
				if baseline(c.answers) != 0 {
					b.Fatal("baseline refused")
				}
			})
			b.ResetTimer()
			took := measure(func() {
				var ve ValidationError
				ValidateAnswerMap(&ve, "answers", c.answers)
				if len(ve.Errors) != 0 {
					b.Fatal(ve.Errors)
				}
			})
			b.ReportMetric(float64(base.Nanoseconds())/float64(b.N), "baseline_ns/op")
			b.ReportMetric(float64(took)/float64(base), "limits/baseline")
		})
	}
}

// BenchmarkWithholdBadAnswers is the check pull makes of every visit it sends (a stored visit of
// about 1.5 KB, as the push benchmark writes), against a baseline measured in the same run: the
// compaction encoding/json already does to every json.RawMessage it writes into a pull answer.
//
//	go test -run '^$' -bench WithholdBadAnswers ./models/
func BenchmarkWithholdBadAnswers(b *testing.B) {
	answers := map[string]json.RawMessage{"stage": json.RawMessage(`"under_construction"`), "workers_on_site": json.RawMessage(`120`)}
	for k := 1; k <= 12; k++ {
		answers[fmt.Sprintf("item_%02d", k)] = json.RawMessage(`"` + strings.Repeat("crane scaffold ", 4) + `"`)
	}
	ended := "2026-03-14T10:40:00+08:00"
	v := Visit{Kind: KindProjectVisit, StartedAt: "2026-03-14T09:12:03+08:00", EndedAt: &ended, Answers: answers,
		Notes: strings.Repeat("rebar helmet net ", 20), Status: VisitDraft, DeviceID: "bench-dev"}
	data, _ := json.Marshal(&v)
	var buf bytes.Buffer
	start := time.Now()
	for range b.N {
		buf.Reset()
		if err := json.Compact(&buf, data); err != nil {
			b.Fatal(err)
		}
	}
	base := time.Since(start)
	b.ResetTimer()
	start = time.Now()
	for range b.N {
		if out, w, ok := WithholdBadAnswers(data); !ok || w != nil || len(out) != len(data) {
			b.Fatal("a good visit was withheld")
		}
	}
	took := time.Since(start)
	b.ReportMetric(float64(len(data)), "bytes/visit")
	b.ReportMetric(float64(base.Nanoseconds())/float64(b.N), "compact_ns/op")
	b.ReportMetric(float64(took)/float64(base), "check/compact")
}

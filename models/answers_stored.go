package models

import "strings"

// Visits stored before the answer limits were enforced may hold answers that break them (a list
// nested thousands deep, a number no float64 holds). Such a record must not break the pull of
// every phone in its scope, so pull sends it in a safe form: see WithholdBadAnswers.

// Withheld names the member of a record's data that lists what the server withheld from it.
const Withheld = "withheld"

// WithholdBadAnswers returns a stored visit's data (a JSON object) in the form pull sends: every
// answer whose key or value breaks the answer limits (CheckAnswerValue) is replaced by null, and
// the data gains a member "withheld" listing them ("answers.<key>"). Data whose answers are all
// within the limits comes back unchanged (the same slice) with a nil list, which is the common
// case and costs one walk of the bytes. ok is false when data is not a readable JSON object; the
// caller must then send something else. Its work is linear in len(data) and it never recurses
// deeper than CheckAnswerValue does.
func WithholdBadAnswers(data []byte) (out []byte, withheld []string, ok bool) {
	s := answerScan{b: data}
	s.ws()
	answers, end, ok := s.findMember("answers")
	if !ok {
		return nil, nil, false
	}
	if answers.start < 0 || data[answers.start] != '{' {
		return data, nil, true // no answers, or null
	}
	var bad []span
	var keys []string
	t := answerScan{b: data[:answers.end], i: answers.start}
	ok = t.members(func(key []byte, v span) bool {
		if !validKeyBytes(key) || CheckAnswerValue(data[v.start:v.end]) != nil {
			bad = append(bad, v)
			keys = append(keys, "answers."+string(key))
		}
		return true
	})
	if !ok {
		return nil, nil, false
	}
	if len(bad) == 0 {
		return data, nil, true
	}
	out = make([]byte, 0, len(data)+64)
	at := 0
	for _, v := range bad {
		out = append(out, data[at:v.start]...)
		out = append(out, "null"...)
		at = v.end
	}
	out = append(out, data[at:end]...) // up to the closing brace of the record
	out = append(out, `,"`+Withheld+`":[`...)
	for i, k := range keys {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, '"')
		out = append(out, k...) // a key's raw JSON string content stays valid JSON
		out = append(out, '"')
	}
	out = append(out, ']')
	out = append(out, data[end:]...)
	return out, keys, true
}

// AnswerFieldWithinLimits reports whether a stored value of a visit field (a conflict's
// server_value or client_value) keeps the answer limits: field "answers" holds an answers object
// (or null) whose keys and values do, "answers.<key>" one answer. Other fields are typed by the
// server when written and always pass.
func AnswerFieldWithinLimits(field string, raw []byte) bool {
	if len(raw) == 0 {
		return true
	}
	if _, ok := strings.CutPrefix(field, "answers."); ok {
		return CheckAnswerValue(raw) == nil
	}
	if field != "answers" {
		return true
	}
	s := answerScan{b: raw}
	s.ws()
	if s.peek() == 'n' {
		return s.literal("null") == nil
	}
	good := true
	ok := s.members(func(key []byte, v span) bool {
		good = validKeyBytes(key) && CheckAnswerValue(raw[v.start:v.end]) == nil
		return good
	})
	return ok && good
}

// span is where a value lies in the bytes walked.
type span struct{ start, end int }

// findMember walks the object at the scan position and returns the value of its member name
// (start -1 when it has none) and the position of the object's closing brace.
func (s *answerScan) findMember(name string) (found span, end int, ok bool) {
	found = span{-1, -1}
	ok = s.members(func(key []byte, v span) bool {
		if string(key) == name {
			found = v
		}
		return true
	})
	return found, s.i - 1, ok
}

// members walks the object at the scan position, calling each with every member's raw key and
// value, until each returns false. Values are skipped without recursion, whatever their depth.
func (s *answerScan) members(each func(key []byte, v span) bool) bool {
	if s.peek() != '{' {
		return false
	}
	s.i++
	s.ws()
	if s.peek() == '}' {
		s.i++
		return true
	}
	for {
		if s.peek() != '"' {
			return false
		}
		key, f := s.str(len(s.b))
		if f != nil {
			return false
		}
		s.ws()
		if s.peek() != ':' {
			return false
		}
		s.i++
		s.ws()
		start := s.i
		if !s.skip() {
			return false
		}
		if !each(key, span{start, s.i}) {
			return true
		}
		s.ws()
		switch s.peek() {
		case ',':
			s.i++
			s.ws()
		case '}':
			s.i++
			return true
		default:
			return false
		}
	}
}

// skip moves past one JSON value of any depth by counting brackets outside strings (no recursion,
// no decoding). It checks strings and bracket balance, not the rest of the grammar: it is for
// bytes PostgreSQL stored as jsonb, which are valid JSON.
func (s *answerScan) skip() bool {
	depth := 0
	start := s.i
	for s.i < len(s.b) {
		switch c := s.b[s.i]; {
		case c == '"':
			if _, f := s.str(len(s.b)); f != nil {
				return false
			}
		case c == '{' || c == '[':
			depth++
			s.i++
		case c == '}' || c == ']':
			if depth == 0 {
				return s.i > start // the end of the enclosing object
			}
			depth--
			s.i++
		case depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			return s.i > start
		default:
			s.i++
		}
		if depth == 0 && s.i > start && (s.b[s.i-1] == '"' || s.b[s.i-1] == '}' || s.b[s.i-1] == ']') {
			return true
		}
	}
	return depth == 0 && s.i > start
}

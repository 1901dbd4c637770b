package models

import (
	"math"
	"strconv"
)

// answerScan walks one JSON value byte by byte and enforces the answer limits as it goes, so
// nothing is decoded and the walk stops at the first fault. A fault's Field is built on the way
// back up ("[3]" then ".brand"), only when there is one.
type answerScan struct {
	b []byte
	i int
}

func fault(code, msg string) *FieldError { return &FieldError{Code: code, Message: msg} }

// in prefixes the place of a fault with the step into it.
func in(f *FieldError, step string) *FieldError {
	f.Field = step + f.Field
	return f
}

var errMalformed = FieldError{Code: "invalid", Message: "is not valid JSON"}

func malformed() *FieldError {
	f := errMalformed
	return &f
}

func (s *answerScan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *answerScan) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// value reads one value nested in depth lists and objects of the answer.
func (s *answerScan) value(depth int) *FieldError {
	switch c := s.peek(); {
	case c == '{':
		return s.object(depth + 1)
	case c == '[':
		return s.array(depth + 1)
	case c == '"':
		_, f := s.str(MaxAnswerStringLen)
		return f
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	}
	return malformed()
}

func tooDeep() *FieldError {
	return fault("too_deep", "lists and objects nest at most "+strconv.Itoa(MaxAnswerDepth)+" deep inside an answer")
}

func (s *answerScan) array(level int) *FieldError {
	if level > MaxAnswerDepth {
		return tooDeep()
	}
	s.i++
	s.ws()
	if s.peek() == ']' {
		s.i++
		return nil
	}
	for n := 0; ; n++ {
		if n == MaxAnswerListLen {
			return fault("too_long", "a list inside an answer holds at most "+strconv.Itoa(MaxAnswerListLen)+" items")
		}
		if f := s.value(level); f != nil {
			return in(f, "["+strconv.Itoa(n)+"]")
		}
		s.ws()
		switch s.peek() {
		case ',':
			s.i++
			s.ws()
		case ']':
			s.i++
			return nil
		default:
			return malformed()
		}
	}
}

func (s *answerScan) object(level int) *FieldError {
	if level > MaxAnswerDepth {
		return tooDeep()
	}
	s.i++
	s.ws()
	if s.peek() == '}' {
		s.i++
		return nil
	}
	for n := 0; ; n++ {
		if n == MaxAnswerObjectKeys {
			return fault("too_long", "an object inside an answer holds at most "+strconv.Itoa(MaxAnswerObjectKeys)+" keys")
		}
		if s.peek() != '"' {
			return malformed()
		}
		key, f := s.str(MaxAnswerKeyLen)
		if f != nil {
			return f
		}
		if !validKeyBytes(key) {
			return fault("invalid", "keys inside an answer are lower_snake_case, at most 64 characters")
		}
		s.ws()
		if s.peek() != ':' {
			return malformed()
		}
		s.i++
		s.ws()
		if f := s.value(level); f != nil {
			return in(f, "."+string(key))
		}
		s.ws()
		switch s.peek() {
		case ',':
			s.i++
			s.ws()
		case '}':
			s.i++
			return nil
		default:
			return malformed()
		}
	}
}

// validKeyBytes is ValidAnswerKey on the raw bytes of a JSON string (an escape is never valid).
func validKeyBytes(k []byte) bool {
	if len(k) == 0 || len(k) > MaxAnswerKeyLen || k[0] < 'a' || k[0] > 'z' {
		return false
	}
	for _, c := range k[1:] {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// str reads a string of at most max characters (an escape counts as one) and returns its raw
// bytes between the quotes.
func (s *answerScan) str(max int) ([]byte, *FieldError) {
	start := s.i + 1
	n := 0
	for i := start; i < len(s.b); n++ {
		if n == max+1 {
			return nil, fault("too_long", "a string inside an answer has at most "+strconv.Itoa(max)+" characters")
		}
		switch c := s.b[i]; {
		case c == '"':
			s.i = i + 1
			return s.b[start:i], nil
		case c == '\\':
			if i+1 >= len(s.b) {
				return nil, malformed()
			}
			switch s.b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(s.b) || !isHex4(s.b[i+2:i+6]) {
					return nil, malformed()
				}
				i += 6
			default:
				return nil, malformed()
			}
		case c < 0x20:
			return nil, malformed()
		default:
			i++
			for i < len(s.b) && s.b[i]&0xC0 == 0x80 { // the rest of a UTF-8 sequence
				i++
			}
		}
	}
	return nil, malformed()
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func (s *answerScan) literal(word string) *FieldError {
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		return malformed()
	}
	s.i += len(word)
	return nil
}

// number reads a JSON number of at most MaxAnswerNumberLen characters. Without an exponent such a
// number always fits a float64; with one it is parsed to make sure.
func (s *answerScan) number() *FieldError {
	start, b := s.i, s.b
	i := start
	digits := func() bool {
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i > j
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case !digits():
		return malformed()
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return malformed()
		}
	}
	mantissa := i
	exp := i < len(b) && (b[i] == 'e' || b[i] == 'E')
	if exp {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return malformed()
		}
	}
	s.i = i
	if i-start > MaxAnswerNumberLen {
		return fault("too_long", "a number inside an answer has at most "+strconv.Itoa(MaxAnswerNumberLen)+" characters")
	}
	if exp {
		x, err := strconv.ParseFloat(string(b[start:i]), 64)
		if err != nil || math.IsInf(x, 0) || x == 0 && nonZeroDigit(b[start:mantissa]) {
			return fault("out_of_range", "a number inside an answer must fit a 64-bit float (about 1e-308 to 1.8e308)")
		}
	}
	return nil
}

// nonZeroDigit reports whether a number's digits are not all zero (a non-zero number that parses
// to 0 is too small for a float64, and PostgreSQL refuses to convert it).
func nonZeroDigit(b []byte) bool {
	for _, c := range b {
		if c >= '1' && c <= '9' {
			return true
		}
	}
	return false
}

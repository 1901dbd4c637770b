package render

import "unicode"

// DefuseFormula returns s with an apostrophe in front when a spreadsheet could take it for a
// formula, and s unchanged otherwise (OWASP's advice on CSV injection). A value is a formula risk
// when it starts with TAB, CR or LF, or when its first character after any leading white space
// (spaces, NBSP, the ideographic space) and invisible format characters (zero-width space, byte
// order mark, direction marks) is = + - @ or |, in ASCII or in their full-width or small forms
// (＝ ＋ － ＠ ｜ ﹦ ﹢ ﹣ ﹫) or the minus sign −. Spreadsheets skip the white space, and some
// (and some input methods) fold the wide forms to ASCII before parsing. Every text cell of every
// CSV and XLSX export goes through it; the apostrophe keeps the value visible and makes it text.
func DefuseFormula(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '\t', '\r', '\n':
		return "'" + s
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) {
			continue
		}
		if formulaStart(r) {
			return "'" + s
		}
		return s
	}
	return s
}

func formulaStart(r rune) bool {
	switch r {
	case '=', '+', '-', '@', '|',
		'\uFF1D', '\uFF0B', '\uFF0D', '\uFF20', '\uFF5C', // full-width ＝ ＋ － ＠ ｜
		'\uFE66', '\uFE62', '\uFE63', '\uFE6B', // small ﹦ ﹢ ﹣ ﹫
		'\u2212': // minus sign −
		return true
	}
	return false
}

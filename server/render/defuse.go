package render

import "strings"

// DefuseFormula prefixes text that a spreadsheet would run as a formula (starting with = + - @ or
// a tab or carriage return) with an apostrophe (OWASP's advice on CSV injection).
func DefuseFormula(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

package models

import (
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxStoredFilenameLen is the most characters a photo's stored original filename keeps.
const MaxStoredFilenameLen = 100

// SanitizeFilename makes a phone's original filename (tus Upload-Metadata "filename") safe to
// store and show: only the last path component is kept ("/" and "\" both separate), invalid
// UTF-8, control characters and format characters (bidirectional overrides such as U+202E,
// zero-width characters, the byte-order mark) are removed, runs of white space (line breaks, tabs,
// line and paragraph separators) become one space, leading and trailing spaces and dots are trimmed, and the result is
// cut to MaxStoredFilenameLen characters, keeping a short extension. The result may be "" (then
// the photo is named after its id).
func SanitizeFilename(name string) string {
	name = strings.ToValidUTF8(name, "")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	space := false
	for _, r := range name {
		switch {
		case unicode.IsSpace(r): // also tab, CR, LF and the line and paragraph separators
			space = true
			continue
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r):
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	name = strings.Trim(b.String(), " .")
	if utf8.RuneCountInString(name) <= MaxStoredFilenameLen {
		return name
	}
	ext := path.Ext(name)
	if n := utf8.RuneCountInString(ext); n > 10 || n == utf8.RuneCountInString(name) {
		ext = ""
	}
	base := []rune(strings.TrimSuffix(name, ext))
	base = base[:MaxStoredFilenameLen-utf8.RuneCountInString(ext)]
	return strings.TrimRight(string(base), " .") + ext
}

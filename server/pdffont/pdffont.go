// Package pdffont is the CJK font built into fieldsync for PDF reports, so a fresh machine prints
// Chinese PDFs with no font installed: a subset of Droid Sans Fallback (Apache License 2.0, see
// LICENSE) holding the 6,763 hanzi and the symbols of GB 2312 plus every CJK character fieldsync's
// own sources print, about 1 MB. subset.sh (`make pdf-font`) rebuilds it, byte for byte, from
// Debian's fonts-droid-fallback; chars.txt lists what it covers. Characters outside it are left
// out of a PDF: set FIELDSYNC_PDF_FONT to a full font (or install fonts-droid-fallback) where rare
// characters matter.
package pdffont

import _ "embed"

//go:embed droid-sans-fallback-gb2312.ttf
var subset []byte

// CJK returns the built-in TrueType font. The slice is shared: do not modify it.
func CJK() []byte { return subset }

package models

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSanitizeFilename(t *testing.T) {
	long := strings.Repeat("巡", 150) + ".jpg"
	cases := map[string]string{
		"IMG_20260312_101500.jpg":          "IMG_20260312_101500.jpg",
		"东升镇 巡查 照片.jpg":                    "东升镇 巡查 照片.jpg",
		"../../etc/passwd":                 "passwd",
		`C:\Users\me\DCIM\photo.jpg`:       "photo.jpg",
		"/sdcard/DCIM/":                    "",
		"..":                               "",
		"evil\r\nSet-Cookie: x=1.jpg":      "evil Set-Cookie: x=1.jpg",
		"invoice\u202Egpj.exe":             "invoicegpj.exe",
		"a\u200Bb\uFEFFc\u2066d\u2069.png": "abcd.png",
		"tab\there\x00nul\x7f.jpg":         "tab herenul.jpg",
		"line\u2028sep\u2029.jpg":          "line sep .jpg",
		"bad\xff\xfeutf8.jpg":              "badutf8.jpg",
		"  spaced   out  .jpg  ":           "spaced out .jpg",
		`quote"d.jpg`:                      `quote"d.jpg`,
		long:                               strings.Repeat("巡", MaxStoredFilenameLen-4) + ".jpg",
		strings.Repeat("a", 200):           strings.Repeat("a", MaxStoredFilenameLen),
		strings.Repeat("a", 200) + ".verylongextension": strings.Repeat("a", MaxStoredFilenameLen),
	}
	for in, want := range cases {
		got := SanitizeFilename(in)
		if got != want {
			t.Errorf("SanitizeFilename(%q) = %q, want %q", in, got, want)
		}
		if !utf8.ValidString(got) || utf8.RuneCountInString(got) > MaxStoredFilenameLen || strings.ContainsAny(got, "/\\\r\n\x00") {
			t.Errorf("SanitizeFilename(%q) = %q is not safe", in, got)
		}
		if again := SanitizeFilename(got); again != got {
			t.Errorf("not idempotent: %q → %q → %q", in, got, again)
		}
	}
}

func FuzzSanitizeFilename(f *testing.F) {
	for _, s := range []string{"a.jpg", "../x", "a\u202Eb", strings.Repeat("é", 120) + ".png"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := SanitizeFilename(in)
		if !utf8.ValidString(got) || utf8.RuneCountInString(got) > MaxStoredFilenameLen || strings.ContainsAny(got, "/\\") {
			t.Fatalf("SanitizeFilename(%q) = %q", in, got)
		}
		for _, r := range got {
			if r < 0x20 || r == 0x7f || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) {
				t.Fatalf("SanitizeFilename(%q) = %q keeps %U", in, got, r)
			}
		}
		if again := SanitizeFilename(got); again != got {
			t.Fatalf("not idempotent: %q → %q → %q", in, got, again)
		}
	})
}

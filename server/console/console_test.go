package console

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCatalogueComplete: every message key the templates and handlers ask for has a Chinese and an
// English text, and every enum label group the templates use is there for the values they list.
func TestCatalogueComplete(t *testing.T) {
	keys := map[string]bool{}
	files, _ := filepath.Glob("templates/*.html")
	goFiles, _ := filepath.Glob("*.go")
	tKey := regexp.MustCompile(`\{\{t "([^"]+)"`)
	msgKey := regexp.MustCompile(`message\([a-z]+, "([^"]+)"\)|"((?:login|admin|recheck)\.[a-z_]+)"`)
	for _, f := range append(files, goFiles...) {
		if strings.HasSuffix(f, "_test.go") || f == "messages.go" {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range tKey.FindAllStringSubmatch(string(src), -1) {
			keys[m[1]] = true
		}
		for _, m := range msgKey.FindAllStringSubmatch(string(src), -1) {
			keys[m[1]+m[2]] = true
		}
	}
	if len(keys) < 100 {
		t.Fatalf("found only %d message keys; the scan is broken", len(keys))
	}
	for k := range keys {
		m, ok := catalogue[k]
		switch {
		case !ok:
			t.Errorf("message %q is used but not in the catalogue", k)
		case m[0] == "" || m[1] == "":
			t.Errorf("message %q lacks a language: %q", k, m)
		}
	}
	groups := map[string][]string{"kind": kinds, "role": roles, "verdict": {"ok", "warn", "fail", "pending", "none"},
		"light": {"red", "yellow", "green", "none"}, "fstatus": {"open", "rectifying", "awaiting_recheck", "closed"},
		"severity": {"ordinary", "serious", "major"}, "vstatus": {"draft", "submitted"},
		"step": {"create", "start", "rectify", "recheck"}, "site": {"project", "village_plot", "patrol_area", "dealer"},
		"level": {"city", "county", "township", "village"}}
	for g, values := range groups {
		for _, v := range values {
			if _, ok := catalogue[g+"."+v]; !ok {
				t.Errorf("label %s.%s is missing", g, v)
			}
		}
	}
	if message(langEN, "nav.overview") != "Overview" || message(langZH, "nav.overview") != "总览" {
		t.Error("the catalogue does not pick the language")
	}
}

// TestSafeNext: a redirect after login or a form goes only to a path on this site.
func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/":                       "/",
		"/visits?kind=x":          "/visits?kind=x",
		"//evil.example/":         "/",
		"/\\evil.example":         "/",
		"https://evil.example/":   "/",
		"":                        "/",
		"visits":                  "/",
		"/findings\r\nSet-Cookie": "/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCSRFToken: the token is tied to its session's token and compared in full.
func TestCSRFToken(t *testing.T) {
	a, b := csrfToken("fs_one"), csrfToken("fs_two")
	if a == b || a != csrfToken("fs_one") || len(a) != 43 {
		t.Fatalf("csrf tokens %q %q", a, b)
	}
	if sameToken("", "") || sameToken(a[:42], a) || !sameToken(a, csrfToken("fs_one")) {
		t.Fatal("sameToken accepts what it must not, or refuses the right token")
	}
}

// TestTileURL: only an http(s) {z}/{x}/{y} template is a tile URL, and its origin is allowed for images.
func TestTileURL(t *testing.T) {
	for _, ok := range []string{"https://tiles.intranet/{z}/{x}/{y}.png", "http://10.1.2.3:8080/t/{z}/{y}/{x}"} {
		if err := CheckTileURL(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"tiles/{z}/{x}/{y}", "javascript:alert(1)//{z}{x}{y}", "https://tiles.example/{z}/{x}.png", "ftp://h/{z}/{x}/{y}"} {
		if CheckTileURL(bad) == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	k, err := New(Options{MapTileURL: "https://tiles.intranet:8443/{z}/{x}/{y}.png", ImageOrigins: []string{"http://127.0.0.1:9000"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(k.csp, "img-src 'self' data: blob: http://127.0.0.1:9000 https://tiles.intranet:8443;") ||
		!strings.Contains(k.csp, "script-src 'self';") {
		t.Errorf("CSP %q", k.csp)
	}
}

package console

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

//go:embed templates/*.html
var templateFS embed.FS

// Languages of the console: Chinese by default, English on request.
const (
	langZH = "zh"
	langEN = "en"
)

var cst = time.FixedZone("CST", 8*3600)

// parsePages parses every page once per language, each page a clone of the layout with its own
// "content" block, and the language's catalogue bound to the t and label functions.
func parsePages() (map[string]map[string]*template.Template, error) {
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]*template.Template{}
	for _, lang := range []string{langZH, langEN} {
		base, err := template.New("layout").Funcs(funcs(lang)).ParseFS(templateFS, "templates/_*.html")
		if err != nil {
			return nil, fmt.Errorf("console: templates: %w", err)
		}
		out[lang] = map[string]*template.Template{}
		for _, f := range files {
			name := strings.TrimSuffix(path.Base(f), ".html")
			if strings.HasPrefix(name, "_") {
				continue
			}
			t, err := template.Must(base.Clone()).ParseFS(templateFS, f)
			if err != nil {
				return nil, fmt.Errorf("console: template %s: %w", name, err)
			}
			out[lang][name] = t
		}
	}
	return out, nil
}

func funcs(lang string) template.FuncMap {
	t := func(key string) string { return message(lang, key) }
	return template.FuncMap{
		"t": t,
		// label names an enum value ("kind", "project_visit"), falling back to the value itself.
		"label": func(group string, v any) string {
			s := fmt.Sprint(deref(v))
			if s == "" {
				return ""
			}
			if m, ok := lookup(lang, group+"."+s); ok {
				return m
			}
			return s
		},
		"cst":       formatCST,
		"day":       func(s any) string { return firstN(formatCST(s), 10) },
		"pct":       formatPct,
		"num":       func(v any) string { return fmt.Sprint(deref(v)) },
		"str":       func(v any) string { return fmt.Sprint(deref(v)) },
		"param":     withParam,
		"add":       func(a, b int) int { return a + b },
		"list":      func(v ...string) []string { return v },
		"op":        newOp,
		"otherLang": func() string { return map[string]string{langZH: langEN, langEN: langZH}[lang] },
		"km":        func(m any) string { return strconv.FormatFloat(toFloat(m)/1000, 'f', 1, 64) },
		"min":       func(s any) string { return strconv.FormatFloat(toFloat(s)/60, 'f', 0, 64) },
		"f1":        func(x any) string { return strconv.FormatFloat(toFloat(x), 'f', 1, 64) },
		"mul100":    func(x any) float64 { return toFloat(x) * 100 },
	}
}

func deref(v any) any {
	switch p := v.(type) {
	case *string:
		if p == nil {
			return ""
		}
		return *p
	case *int:
		if p == nil {
			return ""
		}
		return *p
	case *float64:
		if p == nil {
			return ""
		}
		return *p
	case *bool:
		if p == nil {
			return ""
		}
		return *p
	}
	return v
}

func toFloat(v any) float64 {
	switch x := deref(v).(type) {
	case float64:
		return x
	case int:
		return float64(x)
	}
	return 0
}

func firstN(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// formatCST shows an RFC 3339 time as a China Standard Time minute ("2026-03-14 09:12").
func formatCST(v any) string {
	s := fmt.Sprint(deref(v))
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.In(cst).Format("2006-01-02 15:04")
}

func formatPct(v any) string {
	switch p := v.(type) {
	case *float64:
		if p == nil {
			return "–"
		}
		return strconv.FormatFloat(*p, 'f', 1, 64) + "%"
	case float64:
		return strconv.FormatFloat(p, 'f', 1, 64) + "%"
	}
	return "–"
}

// withParam returns the query string q with key set to value (removed when value is empty).
func withParam(q, key, value string) string {
	v, _ := url.ParseQuery(q)
	if value == "" {
		v.Del(key)
	} else {
		v.Set(key, value)
	}
	if enc := v.Encode(); enc != "" {
		return "?" + enc
	}
	return ""
}

// view is what every page template gets.
type view struct {
	S       *session
	Lang    string
	Page    string // the nav entry to highlight
	Title   string // a message key
	Flash   string
	Path    string
	Query   string // the request's raw query string
	Version string
	Data    any
}

// lang is the request's language: the fs_lang cookie, Chinese by default.
func requestLang(c *fiber.Ctx) string {
	if c.Cookies(langCookie) == langEN {
		return langEN
	}
	return langZH
}

// render writes page name with data as the answer (the status set before stays).
func (k *Console) render(c *fiber.Ctx, s *session, name, nav string, data any) error {
	lang := requestLang(c)
	t := k.pages[lang][name]
	if t == nil {
		return fmt.Errorf("console: no page %q", name)
	}
	v := view{S: s, Lang: lang, Page: nav, Title: "title." + name, Path: c.Path(),
		Query: string(c.Request().URI().QueryString()), Version: k.opts.Version, Data: data}
	if s != nil {
		v.Flash = k.takeFlash(c)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		return fmt.Errorf("console: render %s: %w", name, err)
	}
	c.Type("html", "utf-8")
	return c.Send(buf.Bytes())
}

// errorPage renders err as a page with its status; an unexpected error is logged once and shown
// as an internal error with the request id.
func (k *Console) errorPage(c *fiber.Ctx, s *session, err error) error {
	ae, ok := err.(*apiError)
	if !ok {
		k.log.ErrorContext(c.UserContext(), "console: internal error", "request_id", c.GetRespHeader("X-Request-Id"),
			"path", c.Path(), "error", err.Error())
		ae = &apiError{Status: fiber.StatusInternalServerError, Title: "Internal error",
			Detail: "An internal error occurred; it has been logged with the request id."}
	}
	if ae.Status == fiber.StatusUnauthorized {
		return k.toLogin(c)
	}
	c.Status(ae.Status)
	data := struct {
		*apiError
		RequestID string
	}{ae, c.GetRespHeader("X-Request-Id")}
	if rerr := k.render(c, s, "error", "", data); rerr != nil {
		return rerr
	}
	return nil
}

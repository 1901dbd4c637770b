package server

import (
	"net/url"
	"strings"
	"testing"
)

// TestQueryOddInputIs400 sends every operation that takes query parameters values no parameter
// accepts: NUL, invalid UTF-8, a control character, a value over 200 bytes, the parameter twice, an
// unknown parameter and a name that is not UTF-8. Each is a 400 bad-request naming the parameter,
// never a 422 or a 500 from the database (the harness validates each against openapi.yaml).
func TestQueryOddInputIs400(t *testing.T) {
	h := newHarness(t)
	tokens := map[string]string{"admin": h.login("admin", "laptop-a"), "supervisor": h.login("supervisor", "laptop-s")}
	ct := loadContract(t)
	tested := 0
	for _, op := range specOperations(t) {
		if op.method != "GET" {
			continue
		}
		item := ct.doc.Paths.Find(op.path)
		var param string
		for _, p := range append(item.Parameters, item.Get.Parameters...) {
			if p.Value.In == "query" && p.Value.Name != "cursor" {
				param = p.Value.Name
				break
			}
		}
		if param == "" {
			continue
		}
		tested++
		token := tokens["supervisor"]
		if strings.HasPrefix(op.path, "/v1/admin/") {
			token = tokens["admin"]
		}
		cases := map[string]struct{ query, param string }{
			"NUL":               {param + "=a%00b", param},
			"invalid UTF-8":     {param + "=%FF%FE", param},
			"control character": {param + "=a%01", param},
			"overlong":          {param + "=" + strings.Repeat("x", 201), param},
			"overlong UTF-8":    {param + "=" + url.QueryEscape(strings.Repeat("县", 67)), param},
			"repeated":          {param + "=a&" + param + "=b", param},
			"unknown":           {"no_such_param=1", "no_such_param"},
			"name not UTF-8":    {"%FF=1", `"\xff"`},
		}
		for what, c := range cases {
			r := h.do("GET", op.url+"?"+c.query, token, nil)
			if r.Status != 400 || r.problemType(t) != "bad-request" {
				t.Errorf("%s %s: %d %s, want 400 bad-request", op.path, what, r.Status, r.Body)
				continue
			}
			if m := r.json(t); m["param"] != c.param || !strings.HasPrefix(m["detail"].(string), c.param+":") {
				t.Errorf("%s %s: the problem does not name %s: %s", op.path, what, c.param, r.Body)
			}
		}
	}
	if tested < 12 {
		t.Fatalf("only %d operations take query parameters; the walk is broken", tested)
	}
}

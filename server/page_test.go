package server

import (
	"encoding/base64"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/server/cursor"
	"github.com/fieldsync/fieldsync/storage/storagetest"
	"github.com/gofiber/fiber/v2"
)

// pagedList is one list that pages with limit and cursor, and who may read it.
type pagedList struct {
	path, user string
	filter     string // a filter the list takes, as name=value
	other      string // another value of it
}

var pagedLists = []pagedList{
	{"/v1/admin/users", "admin", "active=true", "active=false"},
	{"/v1/admin/devices", "admin", "revoked=false", "revoked=true"},
	{"/v1/admin/audit", "admin", "action=auth.login", "action=auth.logout"},
	{"/v1/admin/sites", "admin", "status=active", "status=archived"},
	{"/v1/checklists", "admin", "kind=", "kind=fire_patrol"},
	{"/v1/conflicts", "supervisor", "status=all", "status=open"},
	{"/v1/reports/visits", "supervisor", "sort=started_at", "sort=-started_at"},
	{"/v1/reports/findings", "supervisor", "overdue=false", "overdue=true"},
}

// addSites creates two sites, so the site list has a second page at limit=1.
func addSites(t *testing.T, h *harness, admin string) {
	t.Helper()
	for _, k := range []string{"project", "dealer"} {
		expectStatus(t, h.do("POST", "/v1/admin/sites", admin, validSites()[k]), 201)
	}
}

// cursorEnv is a report city with two sites and two conflicts, so every list has a second page at
// limit=1.
func cursorEnv(t *testing.T) *reportEnv {
	t.Helper()
	e := newReportEnv(t)
	for _, u := range []string{"admin", "supervisor"} {
		e.token(u)
	}
	addSites(t, e.h, e.token("admin"))
	if _, err := e.h.store.SQL().ExecContext(e.ctx, `INSERT INTO conflicts (id, record_type, record_id, field, region_path,
			kind, base_version, kept, server_value, client_value, server_meta, client_meta)
		SELECT gen_random_uuid(), 'visit', id, 'notes', region_path, kind, 1, 'client', '"a"', '"b"',
			jsonb_build_object('version', 2, 'user_id', data->>'inspector_id', 'device_id', 'p1', 'at', now()),
			jsonb_build_object('user_id', data->>'inspector_id', 'device_id', 'p2', 'client_id', gen_random_uuid(),
				'mutation_id', 1, 'client_time', now(), 'at', now())
		FROM records WHERE type = 'visit' LIMIT 2`); err != nil {
		t.Fatal(err)
	}
	return e
}

// firstPage gets a list's first page of one item and returns its next_cursor.
func firstPage(t *testing.T, h *harness, token string, l pagedList) string {
	t.Helper()
	r := h.do("GET", l.path+"?limit=1&"+l.filter, token, nil)
	expectStatus(t, r, 200)
	next, _ := r.json(t)["next_cursor"].(string)
	if next == "" {
		t.Fatalf("%s?limit=1&%s: no next page: %s", l.path, l.filter, r.Body)
	}
	return next
}

func expectBadCursor(t *testing.T, r resp, what string) {
	t.Helper()
	if r.Status != 400 || r.problemType(t) != "bad-cursor" || r.json(t)["param"] != "cursor" {
		t.Errorf("%s: %d %s, want 400 bad-cursor", what, r.Status, r.Body)
	}
}

// TestListCursorsAreVerified pages every list with the cursor it issued, then sends it cursors it
// did not issue: forged (a plausible key, base64url, as cursors were before they were signed),
// truncated, edited, from another list, with other filters, and the same key and filters sealed
// with another server's key. Each is a 400 bad-cursor; none is a 404, a 422 or a page.
func TestListCursorsAreVerified(t *testing.T) {
	e := cursorEnv(t)
	otherKey, err := cursor.New([]byte(strings.Repeat("k", cursor.KeySize))) // another server's
	if err != nil {
		t.Fatal(err)
	}
	cursors := map[string]string{}
	for _, l := range pagedLists {
		tok := e.token(l.user)
		next := firstPage(t, e.h, tok, l)
		cursors[l.path] = next
		get := func(query string) resp { return e.h.do("GET", l.path+"?"+query, tok, nil) }
		if r := get("limit=1&" + l.filter + "&cursor=" + url.QueryEscape(next)); r.Status != 200 {
			t.Errorf("%s: its own cursor: %d %s", l.path, r.Status, r.Body)
		}
		raw, err := base64.RawURLEncoding.DecodeString(next)
		if err != nil {
			t.Fatalf("%s: cursor %q is not base64url: %v", l.path, next, err)
		}
		edited := []byte(strings.Clone(string(raw)))
		edited[1] ^= 0x01
		for what, c := range map[string]string{
			"forged key":     base64.RawURLEncoding.EncodeToString([]byte("admin")),
			"forged uuid":    base64.RawURLEncoding.EncodeToString([]byte("6c1d0a8e-0f6b-4c55-9f0e-2b8c1a7e4d10")),
			"forged report":  base64.RawURLEncoding.EncodeToString([]byte("2026-01-01T00:00:00Z|6c1d0a8e-0f6b-4c55-9f0e-2b8c1a7e4d10")),
			"truncated":      next[:len(next)-1],
			"half":           next[:len(next)/2],
			"edited":         base64.RawURLEncoding.EncodeToString(edited),
			"not base64":     "***",
			"another server": otherKey.Seal(l.path, e.h.filterOf(t, l.path+"?"+l.filter), string(raw[1:len(raw)-32])),
		} {
			expectBadCursor(t, get("limit=1&"+l.filter+"&cursor="+url.QueryEscape(c)), l.path+" "+what)
		}
		expectBadCursor(t, get("limit=1&cursor="+url.QueryEscape(next)), l.path+" without its filter")
		expectBadCursor(t, get("limit=1&"+l.other+"&cursor="+url.QueryEscape(next)), l.path+" with "+l.other)
	}
	// a cursor of one list is refused by every other
	for _, l := range pagedLists {
		for _, from := range pagedLists {
			if from.path == l.path {
				continue
			}
			r := e.h.do("GET", l.path+"?limit=1&"+l.filter+"&cursor="+url.QueryEscape(cursors[from.path]), e.token(l.user), nil)
			expectBadCursor(t, r, l.path+" with a cursor of "+from.path)
		}
	}
}

// TestListCursorKeyIsSharedAndKept pages with a cursor issued by one server on a second server
// process on the same database, and on a server built after the first is gone (a restart): both
// accept it, because the key lives in PostgreSQL.
func TestListCursorKeyIsSharedAndKept(t *testing.T) {
	first := newHarness(t)
	admin := first.login("admin", "laptop")
	l := pagedLists[0]
	next := firstPage(t, first, admin, l)
	page2 := first.do("GET", l.path+"?limit=1&active=true&cursor="+url.QueryEscape(next), admin, nil)
	expectStatus(t, page2, 200)
	for _, name := range []string{"a sibling process", "a restarted server"} {
		again := newHarnessOn(t, storagetest.Open(t, first.dsn), first.dsn)
		r := again.do("GET", l.path+"?limit=1&active=true&cursor="+url.QueryEscape(next), admin, nil)
		if r.Status != 200 || string(r.Body) != string(page2.Body) {
			t.Fatalf("%s: %d %s, want the same second page %s", name, r.Status, r.Body, page2.Body)
		}
	}
	var keys int
	if err := first.store.SQL().QueryRow(`SELECT count(*) FROM server_secrets`).Scan(&keys); err != nil || keys != 1 {
		t.Fatalf("%d server secrets, %v", keys, err)
	}
}

// TestListPagesWalkWithSignedCursors walks the user list one user at a time and finds every user
// once, in order, as the one-page list has them.
func TestListPagesWalkWithSignedCursors(t *testing.T) {
	h := newHarness(t)
	admin := h.login("admin", "laptop")
	r := h.do("GET", "/v1/admin/users?limit=1000", admin, nil)
	var all struct{ Users []struct{ Username string } }
	if err := json.Unmarshal(r.Body, &all); err != nil {
		t.Fatal(err)
	}
	var walked []string
	cur := ""
	for range len(all.Users) + 1 {
		r := h.do("GET", "/v1/admin/users?limit=1&cursor="+url.QueryEscape(cur), admin, nil)
		expectStatus(t, r, 200)
		var p struct {
			Users      []struct{ Username string }
			NextCursor *string `json:"next_cursor"`
		}
		if err := json.Unmarshal(r.Body, &p); err != nil {
			t.Fatal(err)
		}
		for _, u := range p.Users {
			walked = append(walked, u.Username)
		}
		if p.NextCursor == nil {
			break
		}
		cur = *p.NextCursor
	}
	if len(walked) != len(all.Users) || len(walked) < 3 {
		t.Fatalf("walked %d users, the list has %d", len(walked), len(all.Users))
	}
	for i, u := range all.Users {
		if walked[i] != u.Username {
			t.Fatalf("user %d: walked %s, list %s", i, walked[i], u.Username)
		}
	}
}

// filterOf is the canonical filter string the server binds a cursor to for a request to target.
func (h *harness) filterOf(t *testing.T, target string) string {
	t.Helper()
	var out string
	h.app.Get("/test/filter-of", func(c *fiber.Ctx) error {
		q, err := readQuery(c, "active", "revoked", "action", "status", "kind", "sort", "overdue")
		if err != nil {
			return err
		}
		out = q.filter()
		return c.SendStatus(204)
	})
	_, query, _ := strings.Cut(target, "?")
	req := httptest.NewRequest("GET", "/test/filter-of?"+query, nil)
	if _, err := h.app.Test(req, -1); err != nil {
		t.Fatal(err)
	}
	return out
}

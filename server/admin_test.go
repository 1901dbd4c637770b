package server

import (
	"context"
	"net/url"
	"testing"
)

func TestAdminEndpointsNeedAdmin(t *testing.T) {
	h := newHarness(t)
	for _, who := range []string{"inspector", "supervisor", "ranger.dongsheng", "dept.market"} {
		tok := h.login(who, "phone-"+who)
		for _, path := range []string{"/v1/admin/users", "/v1/admin/devices", "/v1/admin/regions", "/v1/admin/audit"} {
			r := h.do("GET", path, tok, nil)
			expectStatus(t, r, 403)
			if r.problemType(t) != "forbidden" {
				t.Fatal(string(r.Body))
			}
		}
		r := h.do("POST", "/v1/admin/users", tok, map[string]any{"username": "x"})
		expectStatus(t, r, 403)
	}
	expectStatus(t, h.do("GET", "/v1/admin/users", "", nil), 401)
}

func TestAdminUsersLifecycle(t *testing.T) {
	h := newHarness(t)
	admin := h.login("admin", "admin-laptop")
	create := map[string]any{"username": "Ranger.Xinglong", "name": "赵刚", "password": "patrol-2026-spring",
		"role": "township_officer", "region_code": "211522105", "kinds": []string{"fire_patrol"}}
	r := h.do("POST", "/v1/admin/users", admin, create)
	expectStatus(t, r, 201)
	u := r.json(t)
	id := u["id"].(string)
	if u["username"] != "ranger.xinglong" || u["region_id"] == nil || u["active"] != true {
		t.Fatalf("created %v", u)
	}
	if _, ok := u["password_hash"]; ok {
		t.Fatal("password hash leaked")
	}
	r = h.do("POST", "/v1/admin/users", admin, create)
	expectStatus(t, r, 409)
	if r.problemType(t) != "username-taken" {
		t.Fatal(string(r.Body))
	}
	// The new user logs in with the password the admin set.
	r = h.do("POST", "/v1/auth/login", "", loginBody("ranger.xinglong", "patrol-2026-spring", "phone-x"))
	expectStatus(t, r, 200)
	userTok := r.json(t)["token"].(string)

	// Widen the scope to the whole city, change role and kinds.
	r = h.do("PATCH", "/v1/admin/users/"+id, admin, map[string]any{"region_id": nil, "role": "inspector", "kinds": []string{}})
	expectStatus(t, r, 200)
	u = r.json(t)
	if u["region_id"] != nil || u["role"] != "inspector" || len(u["kinds"].([]any)) != 0 {
		t.Fatalf("patched %v", u)
	}
	r = h.do("GET", "/v1/regions?max_level=county", userTok, nil)
	expectStatus(t, r, 200)
	if n := len(r.json(t)["regions"].([]any)); n != 9 {
		t.Fatalf("whole-city scope sees %d regions up to county level, want 9", n)
	}
	// A new password ends the user's sessions.
	expectStatus(t, h.do("PATCH", "/v1/admin/users/"+id, admin, map[string]any{"password": "another-long-one"}), 200)
	expectStatus(t, h.do("GET", "/v1/regions", userTok, nil), 401)

	r = h.do("GET", "/v1/admin/users/"+id, admin, nil)
	expectStatus(t, r, 200)
	expectStatus(t, h.do("GET", "/v1/admin/users/00000000-0000-0000-0000-000000000000", admin, nil), 404)
	expectStatus(t, h.do("GET", "/v1/admin/users/not-a-uuid", admin, nil), 404)

	// Every change is in the audit log.
	r = h.do("GET", "/v1/admin/audit?target_id="+id, admin, nil)
	expectStatus(t, r, 200)
	actions := map[string]int{}
	for _, e := range r.json(t)["entries"].([]any) {
		actions[e.(map[string]any)["action"].(string)]++
	}
	if actions["user.create"] != 1 || actions["user.update"] != 2 || actions["auth.login"] != 1 {
		t.Fatalf("audit actions %v", actions)
	}
}

func TestAdminUserValidation(t *testing.T) {
	h := newHarness(t)
	admin := h.login("admin", "admin-laptop")
	r := h.do("POST", "/v1/admin/users", admin, map[string]any{"username": "A B", "name": "", "password": "short",
		"role": "mayor", "region_code": "nowhere", "kinds": []string{"fishing"}})
	expectStatus(t, r, 422)
	fields := map[string]bool{}
	for _, e := range r.json(t)["errors"].([]any) {
		fields[e.(map[string]any)["field"].(string)] = true
	}
	for _, f := range []string{"username", "name", "password", "role", "kinds[0]", "region_code"} {
		if !fields[f] {
			t.Errorf("no error for %s: %s", f, r.Body)
		}
	}
	r = h.do("POST", "/v1/admin/users", admin, map[string]any{"username": "ok.name", "surprise": true})
	expectStatus(t, r, 400)
	// Nothing was created by the bad requests.
	r = h.do("GET", "/v1/admin/users?q=ok.name", admin, nil)
	if n := len(r.json(t)["users"].([]any)); n != 0 {
		t.Fatalf("bad request created %d users", n)
	}
	expectStatus(t, h.do("GET", "/v1/admin/users?limit=0", admin, nil), 400)
	expectStatus(t, h.do("GET", "/v1/admin/users?limit=5000", admin, nil), 400)
	expectStatus(t, h.do("GET", "/v1/admin/users?cursor=***", admin, nil), 400)
	expectStatus(t, h.do("GET", "/v1/admin/users?role=mayor", admin, nil), 400)
}

func TestAdminUserListPaginates(t *testing.T) {
	h := newHarness(t)
	admin := h.login("admin", "admin-laptop")
	all := h.do("GET", "/v1/admin/users", admin, nil).json(t)["users"].([]any)
	if len(all) != 9 {
		t.Fatalf("demo has %d users, want 9", len(all))
	}
	var walked []string
	cursor := ""
	for pages := 0; pages < 10; pages++ {
		q := "/v1/admin/users?limit=2"
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		page := h.do("GET", q, admin, nil).json(t)
		for _, u := range page["users"].([]any) {
			walked = append(walked, u.(map[string]any)["username"].(string))
		}
		next, _ := page["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if len(walked) != len(all) {
		t.Fatalf("pages gave %d users, one page %d", len(walked), len(all))
	}
	for i, u := range all {
		if walked[i] != u.(map[string]any)["username"] {
			t.Fatalf("page order differs at %d", i)
		}
	}
	r := h.do("GET", "/v1/admin/users?role=supervisor&region=211521", admin, nil)
	us := r.json(t)["users"].([]any)
	if len(us) != 1 || us[0].(map[string]any)["username"] != "supervisor.qinghe" {
		t.Fatalf("filtered %v", us)
	}
}

func TestAdminDevices(t *testing.T) {
	h := newHarness(t)
	admin := h.login("admin", "admin-laptop")
	h.login("inspector", "phone-1")
	h.login("inspector", "phone-2")
	r := h.do("GET", "/v1/admin/devices?limit=2", admin, nil)
	expectStatus(t, r, 200)
	page := r.json(t)
	if len(page["devices"].([]any)) != 2 || page["next_cursor"] == nil {
		t.Fatalf("page %v", page)
	}
	r = h.do("GET", "/v1/admin/devices?cursor="+url.QueryEscape(page["next_cursor"].(string)), admin, nil)
	if n := len(r.json(t)["devices"].([]any)); n != 1 {
		t.Fatalf("second page has %d devices, want 1", n)
	}
	expectStatus(t, h.do("POST", "/v1/admin/devices/phone-1/revoke", admin, nil), 200)
	r = h.do("GET", "/v1/admin/devices?revoked=true", admin, nil)
	ds := r.json(t)["devices"].([]any)
	if len(ds) != 1 || ds[0].(map[string]any)["id"] != "phone-1" {
		t.Fatalf("revoked %v", ds)
	}
}

func TestLastAdminStays(t *testing.T) {
	h := newHarness(t)
	admin := h.login("admin", "admin-laptop")
	u, _ := h.store.GetUserByUsername(context.Background(), "admin")
	for _, body := range []map[string]any{{"active": false}, {"role": "supervisor"}} {
		r := h.do("PATCH", "/v1/admin/users/"+u.ID.String(), admin, body)
		expectStatus(t, r, 409)
		if r.problemType(t) != "last-admin" {
			t.Fatal(string(r.Body))
		}
	}
	expectStatus(t, h.do("POST", "/v1/admin/users/"+u.ID.String()+"/disable", admin, nil), 409)
	// With a second admin, the first may step down.
	r := h.do("POST", "/v1/admin/users", admin, map[string]any{"username": "admin2", "name": "备用", "password": "second-admin-pw", "role": "admin"})
	expectStatus(t, r, 201)
	expectStatus(t, h.do("PATCH", "/v1/admin/users/"+u.ID.String(), admin, map[string]any{"role": "supervisor"}), 200)
}

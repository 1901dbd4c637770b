package server

import (
	"context"
	"strings"
	"testing"
)

func TestLoginAndLogout(t *testing.T) {
	h := newHarness(t)
	r := h.do("POST", "/v1/auth/login", "", loginBody("Ranger.Dongsheng", demoPassword("ranger.dongsheng"), "phone-a"))
	expectStatus(t, r, 200)
	body := r.json(t)
	tok := body["token"].(string)
	if !strings.HasPrefix(tok, tokenPrefix) || len(tok) < 40 {
		t.Fatalf("token %q", tok)
	}
	user := body["user"].(map[string]any)
	scope := user["scope"].(map[string]any)
	if user["role"] != "township_officer" || scope["region"].(map[string]any)["code"] != "211522105" {
		t.Fatalf("user %v", user)
	}
	if kinds := scope["kinds"].([]any); len(kinds) != 2 {
		t.Fatalf("kinds %v", kinds)
	}
	if body["device"].(map[string]any)["id"] != "phone-a" {
		t.Fatalf("device %v", body["device"])
	}
	// The token is stored only as a hash.
	var stored int
	if err := h.store.SQL().QueryRow(`SELECT count(*) FROM tokens WHERE hash = $1`, hashToken(tok)).Scan(&stored); err != nil || stored != 1 {
		t.Fatalf("token hash rows %d, %v", stored, err)
	}
	var plain int
	h.store.SQL().QueryRow(`SELECT count(*) FROM tokens WHERE encode(hash, 'escape') LIKE '%' || $1 || '%'`, tok[3:20]).Scan(&plain)
	if plain != 0 {
		t.Fatal("token stored in plain text")
	}
	expectStatus(t, h.do("GET", "/v1/regions", tok, nil), 200)
	expectStatus(t, h.do("POST", "/v1/auth/logout", tok, nil), 204)
	r = h.do("GET", "/v1/regions", tok, nil)
	expectStatus(t, r, 401)
	if r.problemType(t) != "unauthenticated" || r.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("after logout: %s %v", r.Body, r.Header)
	}
}

func TestLoginFailuresRevealNothing(t *testing.T) {
	h := newHarness(t)
	wrong := h.do("POST", "/v1/auth/login", "", loginBody("inspector", "not-the-password", "phone-a"))
	unknown := h.do("POST", "/v1/auth/login", "", loginBody("nobody.here", "not-the-password", "phone-a"))
	for _, r := range []resp{wrong, unknown} {
		expectStatus(t, r, 401)
		if r.problemType(t) != "invalid-credentials" {
			t.Fatalf("type %s", r.Body)
		}
	}
	a, b := wrong.json(t), unknown.json(t)
	for _, k := range []string{"type", "title", "detail", "status"} {
		if a[k] != b[k] {
			t.Errorf("%s differs between wrong password (%v) and unknown user (%v)", k, a[k], b[k])
		}
	}
}

func TestLoginValidation(t *testing.T) {
	h := newHarness(t)
	cases := []struct {
		name   string
		body   any
		status int
		typ    string
		fields []string
	}{
		{"missing everything", map[string]any{}, 422, "validation", []string{"username", "password", "device.id"}},
		{"bad device id", loginBody("inspector", "x", "has space"), 422, "validation", []string{"device.id"}},
		{"not json", []byte("{username"), 400, "bad-request", nil},
		{"two objects", []byte(`{} {}`), 400, "bad-request", nil},
		{"wrong type", map[string]any{"username": 5}, 400, "bad-request", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := h.do("POST", "/v1/auth/login", "", c.body)
			expectStatus(t, r, c.status)
			if got := r.problemType(t); got != c.typ {
				t.Fatalf("type %s, want %s", got, c.typ)
			}
			errs, _ := r.json(t)["errors"].([]any)
			if len(errs) != len(c.fields) {
				t.Fatalf("errors %v, want fields %v", errs, c.fields)
			}
			for i, f := range c.fields {
				if errs[i].(map[string]any)["field"] != f {
					t.Errorf("error %d is %v, want field %s", i, errs[i], f)
				}
			}
		})
	}
	r := h.do("POST", "/v1/auth/login", "", []byte(`{}`), "Content-Type", "text/plain")
	expectStatus(t, r, 415)
}

func TestRevokedDeviceLosesAccessAtOnce(t *testing.T) {
	h := newHarness(t)
	admin := h.login("admin", "admin-laptop")
	tok := h.login("inspector", "lost-phone")
	expectStatus(t, h.do("GET", "/v1/regions", tok, nil), 200)
	r := h.do("POST", "/v1/admin/devices/lost-phone/revoke", admin, nil)
	expectStatus(t, r, 200)
	if r.json(t)["revoked"] != true {
		t.Fatal(string(r.Body))
	}
	r = h.do("GET", "/v1/regions", tok, nil)
	expectStatus(t, r, 401)
	// The revoked phone cannot log in again; another phone can.
	r = h.do("POST", "/v1/auth/login", "", loginBody("inspector", demoPassword("inspector"), "lost-phone"))
	expectStatus(t, r, 403)
	if r.problemType(t) != "device-revoked" {
		t.Fatal(string(r.Body))
	}
	h.login("inspector", "new-phone")
	expectStatus(t, h.do("POST", "/v1/admin/devices/no-such-phone/revoke", admin, nil), 404)
}

func TestDisabledUserLosesAccessAtOnce(t *testing.T) {
	h := newHarness(t)
	admin := h.login("admin", "admin-laptop")
	tok := h.login("dept.market", "phone-m")
	u, err := h.store.GetUserByUsername(context.Background(), "dept.market")
	if err != nil {
		t.Fatal(err)
	}
	expectStatus(t, h.do("POST", "/v1/admin/users/"+u.ID.String()+"/disable", admin, nil), 200)
	expectStatus(t, h.do("GET", "/v1/regions", tok, nil), 401)
	r := h.do("POST", "/v1/auth/login", "", loginBody("dept.market", demoPassword("dept.market"), "phone-m"))
	expectStatus(t, r, 403)
	if r.problemType(t) != "account-disabled" {
		t.Fatal(string(r.Body))
	}
}

// TestSharedPhone: two people log in on one township phone; neither login touches the other's
// session, and revoking the (lost) phone ends both.
func TestSharedPhone(t *testing.T) {
	h := newHarness(t)
	first := h.login("inspector", "shared-phone")
	second := h.login("supervisor", "shared-phone")
	expectStatus(t, h.do("GET", "/v1/regions", first, nil), 200)
	expectStatus(t, h.do("GET", "/v1/regions", second, nil), 200)
	admin := h.login("admin", "admin-laptop")
	expectStatus(t, h.do("POST", "/v1/admin/devices/shared-phone/revoke", admin, nil), 200)
	expectStatus(t, h.do("GET", "/v1/regions", first, nil), 401)
	expectStatus(t, h.do("GET", "/v1/regions", second, nil), 401)
	r := h.do("POST", "/v1/auth/login", "", loginBody("dept.agri", demoPassword("dept.agri"), "shared-phone"))
	expectStatus(t, r, 403)
}

func TestBearerTokenShapes(t *testing.T) {
	h := newHarness(t)
	for _, hdr := range []string{"", "Bearer", "Bearer ", "Basic abc", "Bearer fs_not-a-real-token", "Bearer " + strings.Repeat("a", 500)} {
		r := h.do("GET", "/v1/regions", "", nil, "Authorization", hdr)
		expectStatus(t, r, 401)
	}
}

// TestOneSessionPerDevice: logging in again on a device ends the user's earlier session there (and
// audits it); the user's other devices and other users of the same phone keep theirs.
func TestOneSessionPerDevice(t *testing.T) {
	h := newHarness(t)
	first := h.login("inspector", "phone-a")
	other := h.login("inspector", "phone-b")
	shared := h.login("supervisor", "phone-a")
	second := h.login("inspector", "phone-a")
	expectStatus(t, h.do("GET", "/v1/regions", first, nil), 401)
	for _, tok := range []string{second, other, shared} {
		expectStatus(t, h.do("GET", "/v1/regions", tok, nil), 200)
	}
	var ended string
	err := h.store.SQL().QueryRow(`SELECT details->>'sessions_ended' FROM audit_log
		WHERE action = 'auth.session_replaced' AND target_type = 'device' AND target_id = 'phone-a'`).Scan(&ended)
	if err != nil || ended != "1" {
		t.Fatalf("replacement not audited: %q %v", ended, err)
	}
	var live int
	h.store.SQL().QueryRow(`SELECT count(*) FROM tokens WHERE device_id = 'phone-a' AND revoked_at IS NULL`).Scan(&live)
	if live != 2 {
		t.Fatalf("%d live tokens on phone-a, want one per user", live)
	}
}

// TestAuthAnswersAreNotCached: every login answer and the logout say Cache-Control: no-store,
// so no browser or proxy keeps a token or a login outcome.
func TestAuthAnswersAreNotCached(t *testing.T) {
	h := newHarness(t)
	answers := []resp{
		h.do("POST", "/v1/auth/login", "", loginBody("inspector", demoPassword("inspector"), "phone-a")),
		h.do("POST", "/v1/auth/login", "", loginBody("inspector", "wrong", "phone-b")),
		h.do("POST", "/v1/auth/login", "", map[string]any{}),
		h.do("POST", "/v1/auth/login", "", []byte("{")),
	}
	for range 5 {
		answers = append(answers, h.do("POST", "/v1/auth/login", "", loginBody("inspector", "wrong", "phone-b")))
	}
	answers = append(answers, h.do("POST", "/v1/auth/logout", answers[0].json(t)["token"].(string), nil))
	want := []int{200, 401, 422, 400, 401, 401, 401, 401, 429, 204}
	for i, r := range answers {
		if r.Status != want[i] || r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("answer %d: %d Cache-Control %q, want %d no-store", i, r.Status, r.Header.Get("Cache-Control"), want[i])
		}
	}
}

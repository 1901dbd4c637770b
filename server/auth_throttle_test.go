package server

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage/storagetest"
)

// behindProxy makes the harness believe X-Forwarded-For (app.Test's peer is 0.0.0.0), so a test
// can send logins from many client addresses.
func behindProxy(c *Config) { c.TrustedProxies = []string{"0.0.0.0"} }

// loginFrom sends one login from the client address addr.
func (h *harness) loginFrom(addr, username, password, deviceID string) resp {
	h.t.Helper()
	return h.do("POST", "/v1/auth/login", "", loginBody(username, password, deviceID), "X-Forwarded-For", addr)
}

// endWaits lets every throttled key try again now, as if its wait had passed; the counts stay.
func (h *harness) endWaits() {
	h.t.Helper()
	if _, err := h.store.SQL().Exec(`UPDATE login_failures SET blocked_until = now() WHERE blocked_until > now()`); err != nil {
		h.t.Fatal(err)
	}
}

// attack sends n wrong passwords for username from addr on a device the user never used, waiting
// out every delay (as a patient attacker does), and returns the Retry-After of each 429.
func (h *harness) attack(addr, username string, n int) []int {
	h.t.Helper()
	var waits []int
	for i := range n {
		r := h.loginFrom(addr, username, "wrong-password-"+strconv.Itoa(i), "attacker-phone")
		switch r.Status {
		case 401:
		case 429:
			secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
			if err != nil || r.problemType(h.t) != "too-many-login-failures" {
				h.t.Fatalf("429 without Retry-After: %v %s", r.Header, r.Body)
			}
			waits = append(waits, secs)
			h.endWaits()
		default:
			h.t.Fatalf("attack attempt %d: %d %s", i, r.Status, r.Body)
		}
	}
	return waits
}

// TestLoginDelaysGrow: five free failures from one address, then each failure doubles the wait,
// up to 15 minutes; while a wait runs even the right password is refused without being checked,
// and a success from that address forgets the failures.
func TestLoginDelaysGrow(t *testing.T) {
	h := newHarness(t, behindProxy)
	const addr = "198.51.100.7"
	waits := h.attack(addr, "inspector", 16)
	want := []int{2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900}
	if fmt.Sprint(waits) != fmt.Sprint(want) {
		t.Fatalf("waits %v, want %v", waits, want)
	}
	// One more failure: a wait runs again, and the right password does not cut it short.
	r := h.loginFrom(addr, "inspector", "still-wrong", "attacker-phone")
	expectStatus(t, r, 429)
	r = h.loginFrom(addr, "inspector", demoPassword("inspector"), "new-phone")
	expectStatus(t, r, 429)
	if secs, _ := strconv.Atoi(r.Header.Get("Retry-After")); secs < 800 || secs > 900 {
		t.Fatalf("Retry-After %q while the 15-minute wait runs", r.Header.Get("Retry-After"))
	}
	h.endWaits()
	expectStatus(t, h.loginFrom(addr, "inspector", demoPassword("inspector"), "new-phone"), 200)
	var n int
	h.store.SQL().QueryRow(`SELECT count(*) FROM login_failures WHERE key = 'pair:inspector ' || $1`, addr).Scan(&n)
	if n != 0 {
		t.Fatal("a successful login did not forget the failures of its address")
	}
	if waits := h.attack(addr, "inspector", 6); fmt.Sprint(waits) != "[2]" {
		t.Fatalf("after the reset: waits %v, want [2]", waits)
	}
}

// TestLoginAttackerCannotLockOutTheUser: however long someone guesses the inspector's password
// from one address, the inspector gets in from another address (even on a new phone), and from
// the attacker's own address (an office NAT) on the phone they used before.
func TestLoginAttackerCannotLockOutTheUser(t *testing.T) {
	h := newHarness(t, behindProxy)
	const office, home = "198.51.100.7", "203.0.113.20"
	expectStatus(t, h.loginFrom(office, "inspector", demoPassword("inspector"), "inspector-phone"), 200)
	if waits := h.attack(office, "inspector", 40); len(waits) != 35 {
		t.Fatalf("the attacker was not slowed: %d waits", len(waits))
	}
	expectStatus(t, h.loginFrom(office, "inspector", "wrong-again", "attacker-phone"), 429)
	// From the office, a phone the inspector never used waits like the attacker's...
	expectStatus(t, h.loginFrom(office, "inspector", demoPassword("inspector"), "borrowed-phone"), 429)
	// ...but the inspector's own phone gets in, and so does anyone from elsewhere.
	expectStatus(t, h.loginFrom(office, "inspector", demoPassword("inspector"), "inspector-phone"), 200)
	expectStatus(t, h.loginFrom(home, "inspector", demoPassword("inspector"), "new-phone"), 200)
	// Other users of the office are not held back by one user's attacker.
	expectStatus(t, h.loginFrom(office, "supervisor", demoPassword("supervisor"), "supervisor-phone"), 200)
}

// TestLoginSpreadAttackSlowsUnknownDevicesOnly: failures for one username from more than 10
// addresses slow every device the user never used, from anywhere; the user's own phone still
// gets in with the right password, and a wrong one on it is counted on its own.
func TestLoginSpreadAttackSlowsUnknownDevicesOnly(t *testing.T) {
	h := newHarness(t, behindProxy)
	expectStatus(t, h.loginFrom("203.0.113.20", "inspector", demoPassword("inspector"), "inspector-phone"), 200)
	for i := 1; i <= 10; i++ {
		expectStatus(t, h.loginFrom("192.0.2."+strconv.Itoa(i), "inspector", "guess", "bot"), 401)
	}
	r := h.loginFrom("192.0.2.11", "inspector", "guess", "bot")
	expectStatus(t, r, 429)
	if r.Header.Get("Retry-After") != "2" {
		t.Fatalf("Retry-After %q after the 11th address", r.Header.Get("Retry-After"))
	}
	expectStatus(t, h.loginFrom("203.0.113.99", "inspector", demoPassword("inspector"), "new-phone"), 429)
	expectStatus(t, h.loginFrom("203.0.113.99", "inspector", demoPassword("inspector"), "inspector-phone"), 200)
	// Another user is untouched.
	expectStatus(t, h.loginFrom("192.0.2.1", "supervisor", demoPassword("supervisor"), "supervisor-phone"), 200)
	// Someone who learnt the phone's id gets the same growing waits on it, not a free run.
	var waits []int
	for range 7 {
		if r := h.loginFrom("192.0.2.1", "inspector", "guess", "inspector-phone"); r.Status == 429 {
			secs, _ := strconv.Atoi(r.Header.Get("Retry-After"))
			waits = append(waits, secs)
			h.endWaits()
		}
	}
	if fmt.Sprint(waits) != "[2 4]" {
		t.Fatalf("known-device waits %v, want [2 4]", waits)
	}
}

// TestLoginOfficeBehindOneAddress: sixty people of one office share one address; each mistypes
// twice and logs in on a new phone, and nobody is slowed. The address ceiling is still there: past
// it, new phones from the address wait, the office's known phones do not.
func TestLoginOfficeBehindOneAddress(t *testing.T) {
	h := newHarness(t, behindProxy)
	const office = "198.51.100.50"
	hash, err := models.HashPassword("office-password-2026", storagetest.CheapPasswords)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const people = 60
	for i := range people {
		u := models.User{Username: "clerk" + strconv.Itoa(i), Name: "clerk", PasswordHash: hash, Role: models.RoleInspector, Active: true}
		if err := h.store.CreateUser(ctx, &u); err != nil {
			t.Fatal(err)
		}
	}
	for i := range people {
		name, phone := "clerk"+strconv.Itoa(i), "clerk-phone-"+strconv.Itoa(i)
		expectStatus(t, h.loginFrom(office, name, "office-password-2O26", phone), 401)
		expectStatus(t, h.loginFrom(office, name, "Office-password-2026", phone), 401)
		expectStatus(t, h.loginFrom(office, name, "office-password-2026", phone), 200)
	}
	var failures int
	h.store.SQL().QueryRow(`SELECT failures FROM login_failures WHERE key = 'addr:' || $1`, office).Scan(&failures)
	if ceiling := DefaultConfig().Login.Address.Free; failures != 2*people || failures >= ceiling {
		t.Fatalf("address counted %d failures (ceiling %d)", failures, ceiling)
	}
	// Push the address to its ceiling, as a password sprayer would.
	h.store.SQL().Exec(`UPDATE login_failures SET failures = $1 WHERE key = 'addr:' || $2`, DefaultConfig().Login.Address.Free, office)
	expectStatus(t, h.loginFrom(office, "nobody.here", "spray", "sprayer"), 429)
	expectStatus(t, h.loginFrom(office, "clerk1", "office-password-2026", "another-new-phone"), 429)
	expectStatus(t, h.loginFrom(office, "clerk1", "office-password-2026", "clerk-phone-1"), 200)
	expectStatus(t, h.loginFrom("203.0.113.5", "clerk2", "office-password-2026", "home-phone"), 200)
}

// TestLoginThrottleSurvivesRestart: the counters are in PostgreSQL, so a new server process on
// the same database (a restart, or another instance behind the load balancer) keeps the wait.
func TestLoginThrottleSurvivesRestart(t *testing.T) {
	h := newHarness(t, behindProxy)
	const addr = "198.51.100.7"
	for range 5 {
		expectStatus(t, h.loginFrom(addr, "inspector", "wrong", "attacker-phone"), 401)
	}
	expectStatus(t, h.loginFrom(addr, "inspector", "wrong", "attacker-phone"), 429)
	other := newHarnessOn(t, storagetest.Open(t, h.dsn), h.dsn, behindProxy)
	r := other.loginFrom(addr, "inspector", demoPassword("inspector"), "attacker-phone")
	expectStatus(t, r, 429)
	if r.Header.Get("Retry-After") != "2" {
		t.Fatalf("Retry-After %q on the new server", r.Header.Get("Retry-After"))
	}
	other.endWaits()
	if waits := other.attack(addr, "inspector", 1); fmt.Sprint(waits) != "[4]" {
		t.Fatalf("the new server's next failure waits %v, want [4]", waits)
	}
}

// TestLoginThrottleRevealsNoUsername: an unknown username is throttled exactly like a real one;
// the answers (status, Retry-After, body) are the same.
func TestLoginThrottleRevealsNoUsername(t *testing.T) {
	h := newHarness(t, behindProxy)
	for i := range 8 {
		real := h.loginFrom("198.51.100.7", "inspector", "wrong", "phone-a")
		fake := h.loginFrom("198.51.100.8", "nobody.here", "wrong", "phone-a")
		if real.Status != fake.Status || real.Header.Get("Retry-After") != fake.Header.Get("Retry-After") {
			t.Fatalf("attempt %d: %d %q vs %d %q", i, real.Status, real.Header.Get("Retry-After"), fake.Status, fake.Header.Get("Retry-After"))
		}
		a, b := real.json(t), fake.json(t)
		for _, k := range []string{"type", "title", "detail", "status"} {
			if a[k] != b[k] {
				t.Fatalf("attempt %d: %s differs: %v vs %v", i, k, a[k], b[k])
			}
		}
		if real.Status == 429 {
			h.endWaits()
		}
	}
}

// TestLoginForwardedForIsReadFromTheRight: behind a trusted proxy the client address is the
// proxy's last entry; what the client writes on the left of X-Forwarded-For does not give it
// fresh counters. IPv6 clients count by their /64.
func TestLoginForwardedForIsReadFromTheRight(t *testing.T) {
	h := newHarness(t, behindProxy)
	for i := range 5 {
		r := h.do("POST", "/v1/auth/login", "", loginBody("inspector", "wrong", "x"), "X-Forwarded-For", "10.9.9."+strconv.Itoa(i)+", 198.51.100.7")
		expectStatus(t, r, 401)
	}
	r := h.do("POST", "/v1/auth/login", "", loginBody("inspector", "wrong", "x"), "X-Forwarded-For", "10.9.9.99, 198.51.100.7")
	expectStatus(t, r, 429)
	for i := range 5 {
		expectStatus(t, h.loginFrom("2001:db8:1:2::"+strconv.Itoa(i+1), "supervisor", "wrong", "x"), 401)
	}
	expectStatus(t, h.loginFrom("2001:db8:1:2:ffff::1", "supervisor", "wrong", "x"), 429)
	expectStatus(t, h.loginFrom("2001:db8:1:3::1", "supervisor", "wrong", "x"), 401)
	var ip string
	h.store.SQL().QueryRow(`SELECT ip FROM audit_log WHERE action = 'auth.login_failed' ORDER BY id LIMIT 1`).Scan(&ip)
	if ip != "198.51.100.7" {
		t.Fatalf("audit records the client as %q", ip)
	}
}

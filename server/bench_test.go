package server

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/fieldsync/fieldsync/models"
)

// BenchmarkLogin measures logins per second through the whole stack (HTTP, throttle check,
// argon2id at production cost, device upsert, token, audit) against its own baseline: the bare
// argon2id check (BenchmarkPasswordCheck) in the same run. Report the ratio, not seconds.
//
//	go test -run '^$' -bench 'Login|PasswordCheck' -benchtime 5s ./server/
func BenchmarkLogin(b *testing.B) {
	h := newHarness(b, func(c *Config) {
		c.Password = models.DefaultPasswordParams
	})
	hash, err := models.HashPassword("bench-password-2026", models.DefaultPasswordParams)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for i := range 8 {
		u := models.User{Username: "bench" + strconv.Itoa(i), Name: "bench", PasswordHash: hash, Role: models.RoleInspector, Active: true}
		if err := h.store.CreateUser(ctx, &u); err != nil {
			b.Fatal(err)
		}
	}
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			r := h.do("POST", "/v1/auth/login", "", loginBody("bench"+strconv.Itoa(int(i%8)), "bench-password-2026", "bench-phone-"+strconv.Itoa(int(i%8))))
			if r.Status != 200 {
				b.Fatalf("login: %d %s", r.Status, r.Body)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logins/s")
}

// BenchmarkPasswordCheck is BenchmarkLogin's baseline: the argon2id verification alone.
func BenchmarkPasswordCheck(b *testing.B) {
	hash, _ := models.HashPassword("bench-password-2026", models.DefaultPasswordParams)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if ok, _ := models.CheckPassword("bench-password-2026", hash); !ok {
				b.Fatal("password refused")
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checks/s")
}

// BenchmarkAuthenticatedRequest measures an authenticated GET (token lookup per request).
func BenchmarkAuthenticatedRequest(b *testing.B) {
	h := newHarness(b)
	tok := h.login("ranger.dongsheng", "bench-phone")
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if r := h.do("GET", "/v1/regions", tok, nil); r.Status != 200 {
				b.Fatalf("%d", r.Status)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

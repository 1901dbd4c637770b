package cursor

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func codec(t testing.TB, fill byte) *Codec {
	t.Helper()
	c, err := New(bytes.Repeat([]byte{fill}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRoundTrip(t *testing.T) {
	c := codec(t, 1)
	for _, payload := range []string{"", "admin", "2026-04-01T02:00:00.123456Z|6c1d0a8e-0f6b-4c55-9f0e-2b8c1a7e4d10",
		"phone a\x00b|东升镇", strings.Repeat("x", MaxPayload)} {
		s := c.Seal("/v1/admin/users", "role=admin", payload)
		if len(s) > MaxLen || strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			t.Fatalf("cursor %q is not base64url of at most %d characters", s, MaxLen)
		}
		got, err := c.Open("/v1/admin/users", "role=admin", s)
		if err != nil || got != payload {
			t.Fatalf("Open(Seal(%q)) = %q, %v", payload, got, err)
		}
	}
	if _, err := c.Open("l", "f", c.Seal("l", "f", strings.Repeat("x", MaxPayload+1))); !errors.Is(err, ErrInvalid) {
		t.Fatalf("the cursor of an overlong key opened: %v", err)
	}
}

func TestOpenRefuses(t *testing.T) {
	c := codec(t, 1)
	good := c.Seal("/v1/admin/users", "role=admin", "ranger.dongsheng")
	raw, _ := base64.RawURLEncoding.DecodeString(good)
	flip := func(i int) string {
		b := bytes.Clone(raw)
		b[i] ^= 1
		return base64.RawURLEncoding.EncodeToString(b)
	}
	forged := append([]byte{version}, "zzz"...)
	forged = append(forged, make([]byte, macSize)...)
	other := codec(t, 2).Seal("/v1/admin/users", "role=admin", "ranger.dongsheng")
	cases := map[string]struct{ list, filter, cursor string }{
		"empty":                  {"/v1/admin/users", "role=admin", ""},
		"not base64":             {"/v1/admin/users", "role=admin", "%%%"},
		"padded base64":          {"/v1/admin/users", "role=admin", base64.URLEncoding.EncodeToString(raw)},
		"standard alphabet":      {"/v1/admin/users", "role=admin", base64.RawStdEncoding.EncodeToString(raw)},
		"truncated":              {"/v1/admin/users", "role=admin", good[:len(good)-1]},
		"truncated by a byte":    {"/v1/admin/users", "role=admin", base64.RawURLEncoding.EncodeToString(raw[:len(raw)-1])},
		"payload edited":         {"/v1/admin/users", "role=admin", flip(1)},
		"mac edited":             {"/v1/admin/users", "role=admin", flip(len(raw) - 1)},
		"version edited":         {"/v1/admin/users", "role=admin", flip(0)},
		"forged":                 {"/v1/admin/users", "role=admin", base64.RawURLEncoding.EncodeToString(forged)},
		"old plain base64 key":   {"/v1/admin/users", "role=admin", base64.RawURLEncoding.EncodeToString([]byte("ranger.dongsheng"))},
		"another list":           {"/v1/admin/devices", "role=admin", good},
		"other filters":          {"/v1/admin/users", "role=inspector", good},
		"no filters":             {"/v1/admin/users", "", good},
		"another server's key":   {"/v1/admin/users", "role=admin", other},
		"too long":               {"/v1/admin/users", "role=admin", good + strings.Repeat("A", MaxLen)},
		"shifted list/filter":    {"/v1/admin/usersr", "ole=admin", good},
		"non-canonical trailing": {"/v1/admin/users", "role=admin", good[:len(good)-1] + nextChar(good[len(good)-1])},
		"with line breaks":       {"/v1/admin/users", "role=admin", good[:10] + "\r\n" + good[10:]},
	}
	for name, tc := range cases {
		if p, err := c.Open(tc.list, tc.filter, tc.cursor); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: opened (%q, %v)", name, p, err)
		}
	}
}

// nextChar is another base64url character that decodes to the same bytes when only the unused
// low bits of the last character differ.
func nextChar(c byte) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, c)
	return string(alphabet[i^1])
}

func TestNewRefusesAShortKey(t *testing.T) {
	if _, err := New(make([]byte, KeySize-1)); err == nil {
		t.Fatal("a 31-byte key was accepted")
	}
}

// FuzzOpen feeds Open arbitrary cursors, lists and filters: it must never panic, and whatever it
// accepts must be exactly what Seal makes of the payload it returns (so nothing but a sealed
// cursor opens).
func FuzzOpen(f *testing.F) {
	c := codec(f, 7)
	for _, p := range []string{"", "admin", "true|2026-04-01|6c1d0a8e-0f6b-4c55-9f0e-2b8c1a7e4d10"} {
		s := c.Seal("/v1/admin/users", "q=a", p)
		f.Add("/v1/admin/users", "q=a", s)
		f.Add("/v1/admin/users", "q=b", s)
		f.Add("/v1/admin/audit", "q=a", s[:len(s)-2])
	}
	f.Add("", "", "AQ")
	f.Fuzz(func(t *testing.T, list, filter, cur string) {
		payload, err := c.Open(list, filter, cur)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v is not ErrInvalid", err)
			}
			return
		}
		if again := c.Seal(list, filter, payload); again != cur {
			t.Fatalf("opened %q (payload %q), but Seal makes %q", cur, payload, again)
		}
	})
}

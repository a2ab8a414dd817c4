package account

import (
	"strings"
	"testing"
)

// FuzzNormalizeOrigin: a normalized origin normalizes to itself and is
// allowed by an account listing it.
func FuzzNormalizeOrigin(f *testing.F) {
	for _, s := range []string{"https://Shop.example", "http://localhost:8080/", "http://[::1]:80", "*", "ftp://x", "https://a@b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := NormalizeOrigin(s)
		if err != nil {
			return
		}
		again, err := NormalizeOrigin(n)
		if err != nil || again != n {
			t.Fatalf("NormalizeOrigin(%q) = %q, but that gives %q, %v", s, n, again, err)
		}
		a := Account{ID: "x", Origins: []string{n}}
		if !a.AllowsOrigin(n) {
			t.Fatalf("account with origin %q refuses it", n)
		}
	})
}

// FuzzValidateID: accepted IDs are exactly the 1-32 character strings of
// letters, digits, '_' and '-'.
func FuzzValidateID(f *testing.F) {
	for _, s := range []string{"75555851", "qa51680169", "a.b", "", strings.Repeat("a", 33)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		want := len(id) >= 1 && len(id) <= MaxIDLen && strings.Trim(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == ""
		if got := ValidateID(id) == nil; got != want {
			t.Fatalf("ValidateID(%q) ok=%v, want %v", id, got, want)
		}
	})
}

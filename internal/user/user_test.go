package user

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAddAndSignIn(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenStore(nil, dir)
	if err != nil {
		t.Fatal(err)
	}
	hash, err := HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	secrets, key := NewKey()
	u, err := s.Add("acme", User{Login: "ann", Skills: []string{"sales"}, MaxChats: 3, PasswordHash: hash, Keys: []Key{key}})
	if err != nil {
		t.Fatal(err)
	}
	if len(u.ID) != 10 || u.PID == "" {
		t.Errorf("ids %q %q: want 10 digits and a pid", u.ID, u.PID)
	}
	if _, err := s.Add("acme", User{Login: "ann"}); !errors.Is(err, ErrExists) {
		t.Errorf("second ann: %v, want ErrExists", err)
	}
	if _, err := s.Add("other", User{Login: "ann"}); err != nil {
		t.Errorf("ann in another account: %v", err)
	}
	// Another process (the CLI) sees the user.
	s2, err := OpenStore(nil, dir)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := s2.ByLogin("acme", "ann")
	if !ok || got.ID != u.ID {
		t.Fatalf("ByLogin = %+v, %v", got, ok)
	}
	if _, ok := s2.ByID("other", u.ID); ok {
		t.Error("acme's user found in account other")
	}
	tests := []struct {
		name string
		ok   bool
		fn   func() bool
	}{
		{"password", true, func() bool { return got.CheckPassword("correct horse") }},
		{"wrong password", false, func() bool { return got.CheckPassword("correct horsE") }},
		{"empty password", false, func() bool { return got.CheckPassword("") }},
		{"keys", true, func() bool { return got.CheckKey(secrets) }},
		{"wrong secret", false, func() bool { s := secrets; s.Secret += "x"; return got.CheckKey(s) }},
		{"wrong token secret", false, func() bool { s := secrets; s.AccessTokenSecret = ""; return got.CheckKey(s) }},
		{"no password set", false, func() bool { u := got; u.PasswordHash = ""; return u.CheckPassword("") }},
	}
	for _, tt := range tests {
		if tt.fn() != tt.ok {
			t.Errorf("%s: got %v, want %v", tt.name, !tt.ok, tt.ok)
		}
	}
	fi, err := os.Stat(filepath.Join(dir, "acme.json"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("users file mode %v, want private", fi.Mode())
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		u    User
		want string // in the error; "" for none
	}{
		{User{Login: "a"}, ""},
		{User{}, "login"},
		{User{Login: "a b"}, "spaces"},
		{User{Login: strings.Repeat("a", MaxLoginLen+1)}, "login"},
		{User{Login: "a", MaxChats: -1}, "maxChats"},
		{User{Login: "a", Skills: []string{""}}, "skill"},
	}
	for _, tt := range tests {
		err := tt.u.Validate()
		if (err == nil) != (tt.want == "") || err != nil && !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate(%+v) = %v, want %q", tt.u, err, tt.want)
		}
	}
	if _, err := HashPassword("short"); err == nil || !strings.Contains(err.Error(), "password") {
		t.Errorf("short password: %v", err)
	}
}

package account

import (
	"strings"
	"testing"
)

func TestNewAdminToken(t *testing.T) {
	token, hash := NewAdminToken()
	other, otherHash := NewAdminToken()
	if !strings.HasPrefix(token, AdminTokenPrefix) || len(token) != len(AdminTokenPrefix)+43 {
		t.Errorf("token %q: want %s and 43 base64url characters", token, AdminTokenPrefix)
	}
	if token == other || hash == otherHash {
		t.Error("two tokens are the same")
	}
	if len(hash) != 64 || strings.Contains(hash, token) {
		t.Errorf("hash %q: want 64 hex digits", hash)
	}
	a := &Account{ID: "a", AdminTokenHash: hash}
	for _, tc := range []struct {
		name  string
		acct  *Account
		token string
		want  bool
	}{
		{"its token", a, token, true},
		{"another token", a, other, false},
		{"the hash", a, hash, false},
		{"empty", a, "", false},
		{"prefix", a, token[:len(token)-1], false},
		{"no token set", &Account{ID: "b"}, "", false},
		{"no token set, any", &Account{ID: "b"}, token, false},
	} {
		if got := tc.acct.CheckAdminToken(tc.token); got != tc.want {
			t.Errorf("%s: CheckAdminToken = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestSetAdminTokenHash(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenStore(nil, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Add(Account{ID: "shop", Origins: []string{"https://shop.example"}}); err != nil {
		t.Fatal(err)
	}
	token, hash := NewAdminToken()
	if err := s.SetAdminTokenHash("shop", hash); err != nil {
		t.Fatal(err)
	}
	rotated, rotatedHash := NewAdminToken()
	tests := []struct {
		name       string
		set        string // hash to set first, unless "-"
		setErr     string
		id, token  string
		exists, ok bool
	}{
		{name: "its token", set: "-", id: "shop", token: token, exists: true, ok: true},
		{name: "wrong token", set: "-", id: "shop", token: "slat_x", exists: true},
		{name: "unknown account", set: "-", id: "other", token: token},
		{name: "invalid id", set: "-", id: "../shop", token: token},
		{name: "bad hash", set: "abc", setErr: "64 hex digits", id: "shop", token: token, exists: true, ok: true},
		{name: "rotated: old token", set: rotatedHash, id: "shop", token: token, exists: true},
		{name: "rotated: new token", set: "-", id: "shop", token: rotated, exists: true, ok: true},
		{name: "removed", set: "", id: "shop", token: rotated, exists: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.set != "-" {
				err := s.SetAdminTokenHash("shop", tt.set)
				if tt.setErr == "" && err != nil || tt.setErr != "" && (err == nil || !strings.Contains(err.Error(), tt.setErr)) {
					t.Fatalf("SetAdminTokenHash(%q): %v, want %q", tt.set, err, tt.setErr)
				}
			}
			// Another process (the server) reads the file anew.
			other, err := OpenStore(nil, dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, st := range []*Store{s, other} {
				if exists, ok := st.CheckAdminToken(tt.id, tt.token); exists != tt.exists || ok != tt.ok {
					t.Errorf("CheckAdminToken(%q) = %v, %v, want %v, %v", tt.id, exists, ok, tt.exists, tt.ok)
				}
			}
			if a, _ := other.Get("shop"); len(a.Origins) != 1 {
				t.Errorf("origins lost: %+v", a)
			}
		})
	}
	if err := s.SetAdminTokenHash("nobody", hash); err == nil || !strings.Contains(err.Error(), `no account "nobody"`) {
		t.Errorf("SetAdminTokenHash of an unknown account: %v", err)
	}
}

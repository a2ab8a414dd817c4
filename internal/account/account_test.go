package account

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestValidateID(t *testing.T) {
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"75555851", true},
		{"qa51680169", true},
		{"a_b-C", true},
		{"x", true},
		{"12345678901234567890123456789012", true},
		{"", false},
		{"123456789012345678901234567890123", false},
		{"a.b", false},
		{"a/b", false},
		{"ä", false},
		{"a b", false},
	} {
		if err := ValidateID(tc.id); (err == nil) != tc.ok {
			t.Errorf("ValidateID(%q) = %v, want ok=%v", tc.id, err, tc.ok)
		}
	}
}

func TestNormalizeOrigin(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"https://Shop.Example", "https://shop.example", ""},
		{"http://localhost:8080/", "http://localhost:8080", ""},
		{"https://shop.example:443", "https://shop.example", ""},
		{"http://[::1]:8080", "http://[::1]:8080", ""},
		{"*", "*", ""},
		{"ftp://x", "", "scheme"},
		{"https://shop.example/path", "", "scheme://host"},
		{"shop.example", "", "scheme"},
	} {
		got, err := NormalizeOrigin(tc.in)
		if tc.err != "" {
			if err == nil {
				t.Errorf("NormalizeOrigin(%q) = %q, want error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("NormalizeOrigin(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestAllowsOrigin(t *testing.T) {
	a := Account{ID: "a", Origins: []string{"https://shop.example"}}
	for origin, want := range map[string]bool{
		"https://shop.example":      true,
		"https://SHOP.example":      true,
		"http://shop.example":       false,
		"https://evil.example":      false,
		"https://shop.example.evil": false,
	} {
		if got := a.AllowsOrigin(origin); got != want {
			t.Errorf("AllowsOrigin(%q) = %v, want %v", origin, got, want)
		}
	}
	any := Account{ID: "b", Origins: []string{AnyOrigin}}
	if !any.AllowsOrigin("https://whatever.example") {
		t.Error("* does not allow every origin")
	}
	none := Account{ID: "c"}
	if none.AllowsOrigin("https://shop.example") {
		t.Error("an account without origins allows a browser origin")
	}
}

func TestStoreAddListAndPickUp(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenStore(nil, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Add(Account{ID: "75555851", Origins: []string{"https://Shop.example/"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(Account{ID: "75555851"}); !errors.Is(err, ErrExists) {
		t.Fatalf("second add: %v, want ErrExists", err)
	}
	if err := s.Add(Account{ID: "bad id"}); err == nil {
		t.Fatal("bad id accepted")
	}
	if err := s.Add(Account{ID: "x", Origins: []string{"nope"}}); err == nil {
		t.Fatal("bad origin accepted")
	}
	a, ok := s.Get("75555851")
	if !ok || len(a.Origins) != 1 || a.Origins[0] != "https://shop.example" {
		t.Fatalf("Get = %+v, %v", a, ok)
	}

	// Another process (a second Store on the same directory) adds an
	// account: the first store sees it on lookup without restart.
	other, err := OpenStore(nil, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Add(Account{ID: "qa51680169"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Get("qa51680169"); !ok {
		t.Fatal("account added by another store not picked up")
	}
	list := s.List()
	if len(list) != 2 || list[0].ID != "75555851" || list[1].ID != "qa51680169" {
		t.Fatalf("List = %+v", list)
	}
	// No temporary files are left behind.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Fatalf("directory holds %d entries, want 2", len(entries))
	}
}

func TestStoreSkipsBadFiles(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "broken.json"), []byte("{"), 0o644)
	os.WriteFile(filepath.Join(dir, "other.json"), []byte(`{"id":"mismatch"}`), 0o644)
	os.WriteFile(filepath.Join(dir, "good.json"), []byte(`{"id":"good"}`), 0o644)
	s, err := OpenStore(nil, dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 1 {
		t.Fatalf("Len = %d, want 1", s.Len())
	}
	if _, ok := s.Get("good"); !ok {
		t.Fatal("good account missing")
	}
}

package jsondir

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

type rec struct {
	Name string `json:"name"`
	N    int    `json:"n"`
}

func decodeRec(name string, b []byte) (rec, error) {
	var r rec
	if err := json.Unmarshal(b, &r); err != nil {
		return r, err
	}
	if r.Name != name {
		return r, fmt.Errorf("name %q in file %q", r.Name, name)
	}
	return r, nil
}

func open(t *testing.T, dir string) *Dir[rec] {
	t.Helper()
	d, err := Open(nil, dir, "record", decodeRec)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestCreateGetRemove(t *testing.T) {
	d := open(t, filepath.Join(t.TempDir(), "recs"))
	for _, r := range []rec{{"a", 1}, {"b", 2}} {
		if err := d.Create(r.Name, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Create("a", rec{"a", 3}); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second Create: %v, want fs.ErrExist", err)
	}
	if r, ok := d.Get("a"); !ok || r.N != 1 {
		t.Fatalf("Get(a) = %+v, %v", r, ok)
	}
	if d.Len() != 2 || len(d.All()) != 2 {
		t.Fatalf("Len %d, All %v", d.Len(), d.All())
	}
	if err := d.Remove("a"); err != nil {
		t.Fatal(err)
	}
	if err := d.Remove("a"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("second Remove: %v, want fs.ErrNotExist", err)
	}
	if _, ok := d.Get("a"); ok {
		t.Fatal("removed record found")
	}
}

// TestOtherProcess changes the directory through a second Dir, as the CLI
// does while a server runs.
func TestOtherProcess(t *testing.T) {
	dir := t.TempDir()
	d, other := open(t, dir), open(t, dir)
	if err := other.Create("a", rec{"a", 1}); err != nil {
		t.Fatal(err)
	}
	if _, ok := d.Get("a"); !ok {
		t.Fatal("a record another process created is not found at once")
	}
	if err := other.Remove("a"); err != nil {
		t.Fatal(err)
	}
	d.lastCheck = time.Time{} // as if a second had passed
	if _, ok := d.Get("a"); ok {
		t.Fatal("a record another process removed is still found after the check")
	}
}

func TestSkipsBadFiles(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"good.json":      `{"name":"good","n":1}`,
		"bad.json":       `{`,
		"mismatch.json":  `{"name":"other"}`,
		".hidden.json":   `{"name":".hidden"}`,
		"notes.txt":      `x`,
		".x.json.12.tmp": `{}`, // a crashed write's temporary file: removed
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	d := open(t, dir)
	if got := d.All(); !slices.Equal(got, []rec{{"good", 1}}) {
		t.Fatalf("All = %v, want only the good record", got)
	}
	if _, err := os.Stat(filepath.Join(dir, ".x.json.12.tmp")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("temporary file left: %v", err)
	}
}

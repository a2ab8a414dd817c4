package filestore

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestPutListOpenRemove(t *testing.T) {
	ctx := context.Background()
	d, err := NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	put := func(acct, name, content string) error {
		return d.Put(ctx, acct, name, func(w io.Writer) error {
			_, err := io.WriteString(w, content)
			return err
		})
	}
	for _, f := range []struct{ acct, name, content string }{
		{"a1", "b.gz", "bee"}, {"a1", "a.gz", "ay"}, {"a2", "c.gz", "sea"}, {"a1", "b.gz", "bee2"},
	} {
		if err := put(f.acct, f.name, f.content); err != nil {
			t.Fatal(err)
		}
	}
	files, err := d.List(ctx, "a1")
	if err != nil || len(files) != 2 || files[0].Name != "a.gz" || files[1].Name != "b.gz" || files[1].Size != 4 {
		t.Fatalf("List = %+v, %v", files, err)
	}
	if files, err := d.List(ctx, "nobody"); err != nil || len(files) != 0 {
		t.Fatalf("List of an account without files = %+v, %v", files, err)
	}
	r, info, err := d.Open(ctx, "a1", "b.gz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r)
	r.Close()
	if string(b) != "bee2" || info.Size != 4 {
		t.Fatalf("Open = %q %+v", b, info)
	}
	if _, _, err := d.Open(ctx, "a2", "b.gz"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open of another account's file: %v", err)
	}
	accts, err := d.Accounts(ctx)
	if err != nil || len(accts) != 2 {
		t.Fatalf("Accounts = %v, %v", accts, err)
	}
	if err := d.Remove(ctx, "a1", "b.gz"); err != nil {
		t.Fatal(err)
	}
	if err := d.Remove(ctx, "a1", "b.gz"); err != nil {
		t.Fatalf("second Remove: %v", err)
	}
}

func TestNamesCannotEscape(t *testing.T) {
	ctx := context.Background()
	d, _ := NewDir(t.TempDir())
	for _, c := range []struct{ acct, name string }{
		{"a1", "../x"}, {"a1", "x/y"}, {"a1", ".hidden"}, {"a1", ""}, {"..", "x"}, {"a/b", "x"},
	} {
		err := d.Put(ctx, c.acct, c.name, func(io.Writer) error { return nil })
		if err == nil {
			t.Errorf("Put(%q, %q) succeeded", c.acct, c.name)
		}
		if _, _, err := d.Open(ctx, c.acct, c.name); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Open(%q, %q): %v, want not exist", c.acct, c.name, err)
		}
	}
}

func TestFailedPutLeavesNothing(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	d, _ := NewDir(root)
	boom := errors.New("boom")
	if err := d.Put(ctx, "a1", "f.gz", func(w io.Writer) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("Put: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Join(root, "a1"))
	if len(entries) != 0 {
		t.Fatalf("%d entries after a failed Put", len(entries))
	}
}

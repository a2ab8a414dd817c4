package hourfiles

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/filestore"
)

const (
	acct   = "75555851"
	hourMs = int64(3600_000)
	h0     = int64(1464778800000) // 2016-06-01T11:00Z
)

// hourTimes returns the scope of hour hr after h0.
func hourTimes(hr int) (start, end time.Time) {
	return time.UnixMilli(h0 + int64(hr)*hourMs), time.UnixMilli(h0 + int64(hr+1)*hourMs)
}

func key(hr int) hourKey { return newHourKey(hourTimes(hr)) }

// part, manifest and pending name the files of hour hr.
func part(hr, n, gen int) string         { return key(hr).partName(n, gen) }
func manifest(hr, gen, parts int) string { return key(hr).manifestName(gen, parts).String() }
func pending(hr, gen int) string         { return key(hr).pendingName(gen) }

// store is a filestore.Dir in a temporary directory that knows where its
// files are.
type store struct {
	*filestore.Dir
	root string
}

func newStore(t testing.TB) *store {
	t.Helper()
	root := t.TempDir()
	d, err := filestore.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	return &store{d, root}
}

// put writes the file name with content, modified age before now.
func (s *store) put(t testing.TB, name, content string, age time.Duration, now time.Time) {
	t.Helper()
	if err := s.Put(context.Background(), acct, name, func(w io.Writer) error {
		_, err := io.WriteString(w, content)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	mod := now.Add(-age)
	if err := os.Chtimes(filepath.Join(s.root, acct, name), mod, mod); err != nil {
		t.Fatal(err)
	}
}

// names lists the names of the account's files.
func (s *store) names(t testing.TB) []string {
	t.Helper()
	files, err := s.List(context.Background(), acct)
	if err != nil {
		t.Fatal(err)
	}
	return names(files)
}

func names(files []filestore.Info) []string {
	out := []string{}
	for _, f := range files {
		out = append(out, f.Name)
	}
	return out
}

// write writes a generation of hour hr with the contents as parts,
// committing it if commit.
func write(t testing.TB, s Store, hr int, commit bool, contents ...string) *Generation {
	t.Helper()
	ctx := context.Background()
	start, end := hourTimes(hr)
	g, err := Begin(ctx, s, acct, start, end)
	if err != nil {
		t.Fatal(err)
	}
	for n, c := range contents {
		if err := g.PutPart(ctx, n, func(w io.Writer) error {
			_, err := io.WriteString(w, c)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	if commit {
		if err := g.Commit(ctx, len(contents)); err != nil {
			t.Fatal(err)
		}
	}
	return g
}

// visible returns the names of the files Visible shows of the store.
func visible(t testing.TB, s Store) []string {
	t.Helper()
	files, err := s.List(context.Background(), acct)
	if err != nil {
		t.Fatal(err)
	}
	return names(Visible(files))
}

func eq(a, b []string) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

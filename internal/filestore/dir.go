// Package filestore keeps the files Sightline serves to data teams (the
// hourly web-session files) in a local directory, one folder per account.
// Files appear whole: they are written to a temporary name, fsynced and
// renamed. An S3-compatible store will offer the same methods.
package filestore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/atomicfile"
)

// Info describes a stored file.
type Info struct {
	Name    string
	Size    int64
	ModTime time.Time
}

// Dir is a store in a local directory: <root>/<account>/<name>.
type Dir struct {
	root string
}

// NewDir returns the store rooted at root, creating root if needed.
func NewDir(root string) (*Dir, error) {
	if err := os.MkdirAll(root, atomicfile.DirMode); err != nil {
		return nil, fmt.Errorf("file store: %w", err)
	}
	return &Dir{root: root}, nil
}

// path returns where a file lives, checking that the names cannot leave
// the store.
func (d *Dir) path(acct, name string) (string, error) {
	if err := account.ValidateID(acct); err != nil {
		return "", err
	}
	if name == "" || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
		return "", fmt.Errorf("file name %q: must be a plain name not starting with a dot", name)
	}
	return filepath.Join(d.root, acct, name), nil
}

// Put stores the file name of acct with what write writes, replacing any
// file of that name. Readers see the old file or the whole new one.
func (d *Dir) Put(ctx context.Context, acct, name string, write func(io.Writer) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := d.path(acct, name)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), atomicfile.DirMode); err != nil {
		return fmt.Errorf("file store: %w", err)
	}
	if err := atomicfile.WriteFunc(p, write); err != nil {
		return fmt.Errorf("file store: write %s/%s: %w", acct, name, err)
	}
	return nil
}

// List returns the files of acct, sorted by name. An account without files
// has none.
func (d *Dir) List(ctx context.Context, acct string) ([]Info, error) {
	if err := account.ValidateID(acct); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(filepath.Join(d.root, acct))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("file store: %w", err)
	}
	files := make([]Info, 0, len(entries))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") || !e.Type().IsRegular() {
			continue // temporary files and anything else that is not a stored file
		}
		fi, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		files = append(files, Info{Name: e.Name(), Size: fi.Size(), ModTime: fi.ModTime()})
	}
	slices.SortFunc(files, func(a, b Info) int { return strings.Compare(a.Name, b.Name) })
	return files, nil
}

// Open opens the file name of acct for reading. A missing file is an error
// wrapping fs.ErrNotExist.
func (d *Dir) Open(ctx context.Context, acct, name string) (io.ReadSeekCloser, Info, error) {
	p, err := d.path(acct, name)
	if err != nil {
		return nil, Info{}, fmt.Errorf("%w: %w", fs.ErrNotExist, err)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, Info{}, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, Info{}, err
	}
	return f, Info{Name: name, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// Remove deletes the file name of acct; a missing file is not an error.
func (d *Dir) Remove(ctx context.Context, acct, name string) error {
	p, err := d.path(acct, name)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("file store: %w", err)
	}
	return nil
}

// Accounts returns the accounts that have a folder in the store.
func (d *Dir) Accounts(ctx context.Context) ([]string, error) {
	entries, err := os.ReadDir(d.root)
	if err != nil {
		return nil, fmt.Errorf("file store: %w", err)
	}
	var accts []string
	for _, e := range entries {
		if e.IsDir() && account.ValidateID(e.Name()) == nil {
			accts = append(accts, e.Name())
		}
	}
	return accts, nil
}

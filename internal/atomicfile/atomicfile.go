// Package atomicfile writes small files so that a crash at any moment leaves
// either the old content or the new one, never a mix, and so that the
// change is durable once the call returns.
//
// The files it writes have mode FileMode, whatever the umask. FileMode and
// DirMode are the modes of everything Sightline keeps in its data
// directory, also of what other packages create there.
package atomicfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The modes of what Sightline keeps in its data directory: its owner's
// alone, since events hold visitors' URLs and IP addresses and keys hold
// secrets. A umask only takes bits away, so a file or directory created
// with one of these modes has it whatever the umask.
const (
	FileMode fs.FileMode = 0o600
	DirMode  fs.FileMode = 0o700
)

// Write replaces path with data: it writes a temporary file beside it,
// fsyncs it, renames it over path and fsyncs the directory.
func Write(path string, data []byte) error {
	return WriteFunc(path, writeBytes(data))
}

// writeBytes returns a write function that writes data.
func writeBytes(data []byte) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}
}

// WriteFunc replaces path with what write writes, as Write does: readers
// see the old file or the whole new one. When write fails, path is left
// as it was.
func WriteFunc(path string, write func(io.Writer) error) error {
	tmp, err := writeTemp(path, write)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return Sync(filepath.Dir(path))
}

// Create writes data to path only if path does not exist yet, also when
// other processes race to create it: the complete file appears under its
// name or not at all. It returns an error wrapping fs.ErrExist when path
// exists.
func Create(path string, data []byte) error {
	tmp, err := writeTemp(path, writeBytes(data))
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	// A hard link publishes the file only if the name is free.
	if err := os.Link(tmp, path); err != nil {
		return err
	}
	return Sync(filepath.Dir(path))
}

// RemoveTemps removes the temporary files that a crash in Write or Create
// left in dir.
func RemoveTemps(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		if isTemp(e.Name()) {
			errs = append(errs, os.Remove(filepath.Join(dir, e.Name())))
		}
	}
	return errors.Join(errs...)
}

func isTemp(name string) bool { return strings.HasPrefix(name, ".") && strings.HasSuffix(name, ".tmp") }

// writeTemp writes a new temporary file beside path with write and fsyncs
// it. os.CreateTemp creates it with mode FileMode.
func writeTemp(path string, write func(io.Writer) error) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return "", err
	}
	werr := write(f)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// Sync fsyncs the file or directory at path: for a directory, it makes the
// files created, renamed or removed in it durable. fsync works on the file,
// whichever descriptor it is called on.
func Sync(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

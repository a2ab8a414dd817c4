package server

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"

	"github.com/sightline/sightline/internal/atomicfile"
	"github.com/sightline/sightline/internal/dataaccess"
)

// The data directory and everything in it are private to the user the
// server runs as: directories have mode atomicfile.DirMode (0700), files
// and the control socket atomicfile.FileMode (0600), whatever the umask.

// dataDirEntries are the names a server creates in its data directory.
var dataDirEntries = []string{
	accountsDir, logDir, dedupFile, webSessionsDir, controlSocket, campaignsFile, stateKeyFile, conversationsFile, usersDir, agentKeyFile,
	filepath.Base(dataaccess.KeysDir("")),
}

// holdsOnlyOurs reports whether dir is missing or holds nothing but what a
// server creates in it.
func holdsOnlyOurs(dir string) (bool, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("cannot read data directory: %w", err)
	}
	for _, e := range entries {
		if !slices.Contains(dataDirEntries, e.Name()) {
			return false, nil
		}
	}
	return true, nil
}

// openDataDir creates the data directory dir, private, or makes an
// existing one private. A data directory that others may read or enter
// was made by a version before modes were private (or loosened by hand):
// what the server created in it is made private too, then dir itself, last,
// so that a start interrupted in between does it again. Files of the
// server's that cannot be changed (another user's) are logged and left:
// dir itself, private, already keeps everyone but its owner out.
func openDataDir(logger *slog.Logger, dir string) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, atomicfile.DirMode); err != nil {
			return fmt.Errorf("cannot create data directory: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot open data directory: %w", err)
	}
	if !isLoose(fi.Mode()) {
		return nil
	}
	logger.Warn("making the data directory private to its owner", "path", dir, "mode", fi.Mode().Perm())
	for _, name := range dataDirEntries {
		filepath.WalkDir(filepath.Join(dir, name), func(path string, d fs.DirEntry, err error) error {
			if err == nil {
				err = makePrivate(path, d)
			}
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				logger.Warn("cannot make private", "path", path, "err", err)
			}
			return nil
		})
	}
	if err := os.Chmod(dir, atomicfile.DirMode); err != nil {
		return fmt.Errorf("cannot make data directory private: %w", err)
	}
	return nil
}

// isLoose reports whether mode lets users other than the owner in.
func isLoose(mode fs.FileMode) bool { return mode.Perm()&0o077 != 0 }

// makePrivate gives the directory or regular file d at path
// atomicfile.DirMode or atomicfile.FileMode if others may use it. Anything else (the socket
// of a server that is gone, which the next one replaces) is left.
func makePrivate(path string, d fs.DirEntry) error {
	var mode fs.FileMode
	switch {
	case d.IsDir():
		mode = atomicfile.DirMode
	case d.Type().IsRegular():
		mode = atomicfile.FileMode
	default:
		return nil
	}
	fi, err := d.Info()
	if err != nil || !isLoose(fi.Mode()) {
		return err
	}
	return os.Chmod(path, mode)
}

// Package jsondir keeps a set of records as one JSON file each in a
// directory (accounts, API keys): created whole and only if absent, so that
// two processes cannot both create a record, and held in memory for
// lookups. Another process's changes (the CLI adding a record while a
// server runs) are picked up within a second: lookups check the
// directory's modification time at most once a second and read it again
// when it changed, and a lookup that misses reads it again at once (at
// most once a second).
package jsondir

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sightline/sightline/internal/atomicfile"
)

// Dir is a directory of records of type T, one <name>.json file each. It
// is safe for concurrent use.
type Dir[T any] struct {
	dir    string
	what   string // what a record is, for messages: "account"
	logger *slog.Logger
	// decode reads the file of record name, checking it.
	decode func(name string, data []byte) (T, error)

	mu      sync.RWMutex
	records map[string]T
	dirMod  time.Time // the directory's modification time when last read

	checkMu   sync.Mutex
	lastCheck time.Time

	missMu   sync.Mutex
	lastMiss time.Time
}

// Open opens (creating it with mode atomicfile.DirMode if needed) the
// directory dir of records of the kind what, and reads it. decode reads one
// record's file; a file it rejects is skipped with a warning. Records are
// written with atomicfile, mode atomicfile.FileMode.
func Open[T any](logger *slog.Logger, dir, what string, decode func(name string, data []byte) (T, error)) (*Dir[T], error) {
	if err := os.MkdirAll(dir, atomicfile.DirMode); err != nil {
		return nil, fmt.Errorf("cannot create %s directory: %w", what, err)
	}
	if err := atomicfile.RemoveTemps(dir); err != nil {
		return nil, fmt.Errorf("cannot clean %s directory: %w", what, err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	d := &Dir[T]{dir: dir, what: what, logger: logger, decode: decode, records: map[string]T{}}
	if err := d.Reload(); err != nil {
		return nil, err
	}
	return d, nil
}

// Path returns the file of record name.
func (d *Dir[T]) Path(name string) string { return filepath.Join(d.dir, name+".json") }

// Get returns record name. A miss reads the directory again at once (at
// most once a second), so that a record just added by another process is
// found.
func (d *Dir[T]) Get(name string) (T, bool) {
	d.refresh()
	if r, ok := d.lookup(name); ok {
		return r, ok
	}
	d.missMu.Lock()
	reload := time.Since(d.lastMiss) >= time.Second
	if reload {
		d.lastMiss = time.Now()
	}
	d.missMu.Unlock()
	if reload {
		if err := d.Reload(); err != nil {
			d.logger.Warn("cannot reload "+d.what+"s", "err", err)
		}
	}
	return d.lookup(name)
}

func (d *Dir[T]) lookup(name string) (T, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	r, ok := d.records[name]
	return r, ok
}

// All returns every record, in no order.
func (d *Dir[T]) All() []T {
	d.refresh()
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := make([]T, 0, len(d.records))
	for _, r := range d.records {
		out = append(out, r)
	}
	return out
}

// Len returns the number of records.
func (d *Dir[T]) Len() int {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return len(d.records)
}

// Create writes record r as name, only if there is none: otherwise it
// returns an error wrapping fs.ErrExist.
func (d *Dir[T]) Create(name string, r T) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Create(d.Path(name), append(b, '\n')); err != nil {
		return fmt.Errorf("cannot write %s %s: %w", d.what, name, err)
	}
	d.mu.Lock()
	d.records[name] = r
	d.mu.Unlock()
	return nil
}

// Remove deletes record name; an error wraps fs.ErrNotExist when there is
// none.
func (d *Dir[T]) Remove(name string) error {
	if err := os.Remove(d.Path(name)); err != nil {
		return fmt.Errorf("cannot remove %s %s: %w", d.what, name, err)
	}
	d.mu.Lock()
	delete(d.records, name)
	d.mu.Unlock()
	if err := atomicfile.Sync(d.dir); err != nil {
		return fmt.Errorf("cannot remove %s %s: %w", d.what, name, err)
	}
	return nil
}

// refresh reads the directory again if it changed, looking at most once a
// second. Lookups meanwhile do not wait for it: they use the records in
// memory.
func (d *Dir[T]) refresh() {
	if !d.checkMu.TryLock() {
		return
	}
	defer d.checkMu.Unlock()
	now := time.Now()
	if now.Sub(d.lastCheck) < time.Second {
		return
	}
	d.lastCheck = now
	fi, err := os.Stat(d.dir)
	d.mu.RLock()
	dirMod := d.dirMod
	d.mu.RUnlock()
	// A change within the file system's timestamp granularity of the last
	// read leaves the time as it was: read again while the time is recent.
	if err == nil && fi.ModTime().Equal(dirMod) && now.Sub(fi.ModTime()) > 2*time.Second {
		return
	}
	if err := d.Reload(); err != nil {
		d.logger.Warn("cannot reload "+d.what+"s", "err", err)
	}
}

// Reload reads the directory again.
func (d *Dir[T]) Reload() error {
	// The time is taken before reading, so that a change while reading is
	// seen by the next check.
	fi, err := os.Stat(d.dir)
	if err != nil {
		return fmt.Errorf("cannot read %s directory: %w", d.what, err)
	}
	entries, err := os.ReadDir(d.dir)
	if err != nil {
		return fmt.Errorf("cannot read %s directory: %w", d.what, err)
	}
	records := make(map[string]T, len(entries))
	for _, e := range entries {
		file := e.Name()
		name, ok := strings.CutSuffix(file, ".json")
		if e.IsDir() || !ok || strings.HasPrefix(file, ".") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(d.dir, file))
		var r T
		if err == nil {
			r, err = d.decode(name, b)
		}
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) { // removed meanwhile
				d.logger.Warn("skipping unreadable "+d.what+" file", "file", file, "err", err)
			}
			continue
		}
		records[name] = r
	}
	d.mu.Lock()
	d.records, d.dirMod = records, fi.ModTime()
	d.mu.Unlock()
	return nil
}

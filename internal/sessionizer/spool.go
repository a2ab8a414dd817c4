package sessionizer

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/sightline/sightline/internal/atomicfile"
)

// The spool holds the visits that have closed, one file per hour of their
// closing time and account: spool/<hourStartMs>/<account>. Each visit is a
// uvarint length and the visit's binary form (codec.go). Files are only
// appended to; a checkpoint records their lengths after fsyncing them, and
// a restart cuts them back to those lengths, because what was appended
// after the checkpoint is appended again when the log is read again from
// the checkpoint's offsets.
type spool struct {
	dir   string
	files map[spoolKey]*spoolFile // open for appending
	// lengths are the durable lengths of the files of the hours not yet
	// complete, open or not, keyed by path relative to dir.
	lengths map[string]int64
	buf     []byte
}

type spoolKey struct {
	hour    int64 // start of the hour, epoch ms
	account string
}

type spoolFile struct {
	f    *os.File
	w    *bufio.Writer
	size int64 // bytes appended, buffered ones included
}

func (k spoolKey) path(dir string) string { return filepath.Join(dir, k.rel()) }

// rel is the path of k's file relative to the spool directory.
func (k spoolKey) rel() string { return filepath.Join(strconv.FormatInt(k.hour, 10), k.account) }

// hourOf returns the start of the hour holding ms, epoch ms.
func hourOf(ms int64) int64 {
	h := int64(time.Hour / time.Millisecond)
	return ms - ((ms%h)+h)%h
}

// add appends the closed visit v to the file of its closing hour, or of
// the first hour not declared complete, firstOpen (epoch ms), if its
// closing hour is: the files of a complete hour are written once.
func (s *spool) add(v *trackedVisit, firstOpen int64) error {
	k := spoolKey{hour: max(hourOf(v.closeAt), firstOpen), account: v.AccountID}
	f := s.files[k]
	if f == nil {
		var err error
		if f, err = s.open(k); err != nil {
			return err
		}
	}
	s.buf = appendVisit(s.buf[:0], v)
	var n [binary.MaxVarintLen64]byte
	size := binary.PutUvarint(n[:], uint64(len(s.buf)))
	f.w.Write(n[:size])
	if _, err := f.w.Write(s.buf); err != nil {
		return fmt.Errorf("spool: write %s: %w", f.f.Name(), err)
	}
	f.size += int64(size + len(s.buf))
	return nil
}

func (s *spool) open(k spoolKey) (*spoolFile, error) {
	p := k.path(s.dir)
	if err := os.MkdirAll(filepath.Dir(p), atomicfile.DirMode); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND, atomicfile.FileMode)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("spool: %w", err)
	}
	sf := &spoolFile{f: f, w: bufio.NewWriterSize(f, 64<<10), size: fi.Size()}
	if s.files == nil {
		s.files = make(map[spoolKey]*spoolFile)
	}
	s.files[k] = sf
	return sf, nil
}

// sync makes every appended visit durable and returns the length of each
// file of the hours not yet complete, keyed by its path relative to the
// spool directory.
func (s *spool) sync() (map[string]int64, error) {
	if s.lengths == nil {
		s.lengths = make(map[string]int64)
	}
	var dirs []string
	for k, f := range s.files {
		if err := f.w.Flush(); err != nil {
			return nil, fmt.Errorf("spool: %w", err)
		}
		if err := f.f.Sync(); err != nil {
			return nil, fmt.Errorf("spool: %w", err)
		}
		s.lengths[k.rel()] = f.size
		if d := filepath.Dir(k.path(s.dir)); !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	for _, d := range append(dirs, s.dir) {
		if err := atomicfile.Sync(d); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("spool: %w", err)
		}
	}
	return maps.Clone(s.lengths), nil
}

// closeHours closes the files of the hours before end, which will not be
// appended to any more, and forgets their lengths: recover keeps complete
// hours whole.
func (s *spool) closeHours(end int64) error {
	var errs []error
	for k, f := range s.files {
		if k.hour+time.Hour.Milliseconds() <= end {
			errs = append(errs, f.w.Flush(), f.f.Close())
			delete(s.files, k)
		}
	}
	for rel := range s.lengths {
		if start, err := strconv.ParseInt(filepath.Dir(rel), 10, 64); err == nil && start+time.Hour.Milliseconds() <= end {
			delete(s.lengths, rel)
		}
	}
	return errors.Join(errs...)
}

// closeAll closes every file without syncing.
func (s *spool) closeAll() {
	for k, f := range s.files {
		f.f.Close()
		delete(s.files, k)
	}
}

// recover brings the spool back to a checkpoint: files it lists are cut to
// their recorded lengths and every other file is removed, except those of
// the hours before complete (epoch ms), which the checkpoint declared
// complete: nothing is appended to them after the checkpoint that did, and
// later checkpoints no longer list them.
func (s *spool) recover(lengths map[string]int64, complete int64) error {
	s.lengths = maps.Clone(lengths)
	hours, err := os.ReadDir(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	for _, h := range hours {
		if start, err := strconv.ParseInt(h.Name(), 10, 64); err == nil && start+time.Hour.Milliseconds() <= complete {
			continue
		}
		files, err := os.ReadDir(filepath.Join(s.dir, h.Name()))
		if err != nil {
			return fmt.Errorf("spool: %w", err)
		}
		for _, f := range files {
			rel := filepath.Join(h.Name(), f.Name())
			p := filepath.Join(s.dir, rel)
			n, ok := lengths[rel]
			if !ok {
				err = os.Remove(p)
			} else {
				err = os.Truncate(p, n)
			}
			if err != nil {
				return fmt.Errorf("spool: recover %s: %w", rel, err)
			}
		}
	}
	return nil
}

// hours returns the hours that have a spool directory, oldest first.
func (s *spool) hours() ([]int64, error) {
	entries, err := os.ReadDir(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	var hours []int64
	for _, e := range entries {
		if h, err := strconv.ParseInt(e.Name(), 10, 64); err == nil && e.IsDir() {
			hours = append(hours, h)
		}
	}
	slices.Sort(hours)
	return hours, nil
}

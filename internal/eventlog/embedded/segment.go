package embedded

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/sightline/sightline/internal/eventlog"
)

// segmentFile is what the writer needs of the active segment file. Tests
// wrap it to inject write and sync failures.
type segmentFile interface {
	WriteAt(b []byte, off int64) (int, error)
	Sync() error
	Truncate(size int64) error
	Close() error
}

// segmentSuffix ends the name of every segment file.
const segmentSuffix = ".seg"

// segmentName returns the file name of the segment whose first record is at
// offset base.
func segmentName(base int64) string {
	return fmt.Sprintf("%020d%s", base, segmentSuffix)
}

// parseSegmentName returns the base offset of a segment file name.
func parseSegmentName(name string) (int64, bool) {
	digits, ok := strings.CutSuffix(name, segmentSuffix)
	if !ok || len(digits) != 20 {
		return 0, false
	}
	base, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || base < 0 {
		return 0, false
	}
	return base, true
}

// listSegments returns the base offsets of the segments in dir, in order.
func listSegments(dir string) ([]int64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var bases []int64
	for _, e := range entries {
		if base, ok := parseSegmentName(e.Name()); ok && e.Type().IsRegular() {
			bases = append(bases, base)
		}
	}
	slices.Sort(bases)
	return bases, nil
}

// segmentStarts returns the offsets at which the segments of partition
// directory dir start, oldest first.
func segmentStarts(dir string) ([]eventlog.Offset, error) {
	bases, err := listSegments(dir)
	starts := make([]eventlog.Offset, len(bases))
	for i, b := range bases {
		starts[i] = eventlog.Offset(b)
	}
	return starts, err
}

// errSegmentClosed is returned by segment.ReadAt once the segment has been
// closed, because retention deleted it or the log was closed.
var errSegmentClosed = errors.New("segment closed")

// segment is one segment file of a partition, as readers see it. It keeps
// a read-only handle, opened on first use, that concurrent readers share.
type segment struct {
	base int64
	path string

	mu     sync.RWMutex
	f      *os.File
	closed bool
}

func newSegment(dir string, base int64) *segment {
	return &segment{base: base, path: filepath.Join(dir, segmentName(base))}
}

// ReadAt reads from the segment file with pread; it is safe for concurrent
// use.
func (s *segment) ReadAt(b []byte, off int64) (int, error) {
	s.mu.RLock()
	if s.f == nil {
		s.mu.RUnlock()
		if err := s.open(); err != nil {
			return 0, err
		}
		s.mu.RLock()
	}
	defer s.mu.RUnlock()
	if s.closed {
		return 0, errSegmentClosed
	}
	return s.f.ReadAt(b, off)
}

func (s *segment) open() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errSegmentClosed
	}
	if s.f != nil {
		return nil
	}
	f, err := os.Open(s.path)
	if err != nil {
		return err
	}
	s.f = f
	return nil
}

// size returns the current size of the segment file.
func (s *segment) size() (int64, error) {
	fi, err := os.Stat(s.path)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// close closes the read handle, waiting for reads in progress. Later reads
// fail with errSegmentClosed.
func (s *segment) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

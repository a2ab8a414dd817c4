package embedded

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/sightline/sightline/internal/eventlog"
)

var (
	_ eventlog.RangeReader = (*Reader)(nil)
	_ eventlog.Segmented   = (*Reader)(nil)
	_ eventlog.Segmented   = (*Log)(nil)
)

// Reader reads an event log directory that another process may be writing.
// It never writes to the directory and takes no lock. It is safe for
// concurrent use; Reads of one partition are serialized.
//
// A Reader does not know which records the writer has acknowledged: it
// returns every complete, checksum-valid record on disk. A record the
// writer failed to fsync and then truncated away may therefore be seen by a
// Reader before it disappears.
type Reader struct {
	dir    string
	parts  []*readerPartition
	closed atomic.Bool
}

// readerPartition is the state of a Reader for one partition.
type readerPartition struct {
	dir string

	mu    sync.Mutex // serializes Reads
	fr    *frameReader
	files map[int64]*segment // open segments by base
	// bases are the segments' bases as the last Read listed them: ranges
	// of records a Read passed are in them, unless retention deleted them
	// since.
	bases []int64
}

// OpenReader opens the event log in dir for reading. The number of
// partitions comes from dir/meta.json, written when the log was created.
func OpenReader(dir string) (*Reader, error) {
	m, ok, err := readMeta(dir)
	if err != nil {
		return nil, fmt.Errorf("open event log reader: %w", err)
	}
	if !ok {
		return nil, fmt.Errorf("open event log reader: %s: no %s, not an event log", dir, metaFileName)
	}
	r := &Reader{dir: dir}
	for i := range m.Partitions {
		r.parts = append(r.parts, &readerPartition{
			dir:   filepath.Join(dir, partitionDirName(i)),
			files: map[int64]*segment{},
		})
	}
	return r, nil
}

// Partitions returns the number of partitions.
func (r *Reader) Partitions() int { return len(r.parts) }

// Read calls fn with the records of partition p from offset from on, like
// Log.Read, up to the last complete, checksum-valid record currently on
// disk. A record being written (incomplete or failing its checksum at the
// end of the last segment) is not returned yet: call Read again later, from
// the returned offset, to continue. Corruption before the last segment
// yields a *CorruptionError.
func (r *Reader) Read(ctx context.Context, p int, from eventlog.Offset, maxBytes int, fn func(eventlog.Message) bool) (eventlog.Offset, error) {
	return r.read(ctx, p, from, -1, maxBytes, fn)
}

// ReadRange calls fn with the records of partition p from offset from up
// to to, reading no further; see eventlog.RangeReader.
func (r *Reader) ReadRange(ctx context.Context, p int, from, to eventlog.Offset, fn func(eventlog.Message) bool) error {
	_, err := r.read(ctx, p, from, to, 0, fn)
	return err
}

// read is Read up to offset to, or to the end of the data if to < 0.
func (r *Reader) read(ctx context.Context, p int, from, to eventlog.Offset, maxBytes int, fn func(eventlog.Message) bool) (eventlog.Offset, error) {
	if p < 0 || p >= len(r.parts) {
		return from, fmt.Errorf("read partition %d: out of range [0, %d)", p, len(r.parts))
	}
	if r.closed.Load() {
		return from, eventlog.ErrClosed
	}
	rp := r.parts[p]
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if rp.fr == nil {
		rp.fr = newFrameReader()
	}
	d := delivery{partition: p, maxBytes: maxBytes, fn: fn, next: int64(from), to: int64(to)}
	// Retention in the writer may delete a segment between listing and
	// opening it: list again, a few times.
	for attempt := 0; ; attempt++ {
		err := rp.read(ctx, &d, to >= 0 && attempt == 0)
		if errors.Is(err, fs.ErrNotExist) && attempt < 3 {
			continue
		}
		if err != nil {
			return eventlog.Offset(d.next), err
		}
		return eventlog.Offset(d.next), nil
	}
}

// read reads the partition into d, from the segments the last listing
// found if listed is set (a range of records passed before), else from
// those there are now.
func (rp *readerPartition) read(ctx context.Context, d *delivery, listed bool) error {
	if !listed || len(rp.bases) == 0 {
		bases, err := listSegments(rp.dir)
		if errors.Is(err, fs.ErrNotExist) {
			return nil // the writer is creating the log
		}
		if err != nil {
			return err
		}
		rp.forget(bases)
		rp.bases = bases
	}
	bases := rp.bases
	if len(bases) == 0 {
		return nil
	}
	if d.next < bases[0] {
		d.next = bases[0]
	}
	i := len(bases) - 1
	for i > 0 && bases[i] > d.next {
		i--
	}
	for ; i < len(bases) && !d.stop && (d.to < 0 || d.next < d.to); i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		seg := rp.segment(bases[i])
		last := i == len(bases)-1
		var lim int64
		switch {
		case last && d.to >= 0:
			lim = d.to // passed before: on disk
		case last:
			size, err := seg.size()
			if err != nil {
				return err
			}
			lim = seg.base + size
		default:
			lim = bases[i+1]
		}
		if d.to >= 0 {
			lim = min(lim, d.to)
		}
		if d.next >= lim {
			continue
		}
		d.base = seg.base
		pos, err := rp.fr.scan(seg, d.next-seg.base, lim-seg.base, d.frame)
		switch {
		case isFrameError(err) && last:
			return nil // a record being written
		case isFrameError(err):
			return &CorruptionError{Partition: d.partition, Segment: seg.path, Offset: seg.base + pos, Err: err}
		case err != nil:
			return fmt.Errorf("read segment %s: %w", seg.path, err)
		}
		if !d.stop {
			d.next = lim
		}
	}
	return nil
}

// segment returns the segment of base, opening it on first use.
func (rp *readerPartition) segment(base int64) *segment {
	s, ok := rp.files[base]
	if !ok {
		s = newSegment(rp.dir, base)
		rp.files[base] = s
	}
	return s
}

// forget closes the segments that are no longer in bases.
func (rp *readerPartition) forget(bases []int64) {
	for base, s := range rp.files {
		if _, found := slices.BinarySearch(bases, base); !found {
			s.close()
			delete(rp.files, base)
		}
	}
}

// SegmentStarts returns the offsets at which the segments of partition p
// start, oldest first (eventlog.Segmented).
func (r *Reader) SegmentStarts(p int) ([]eventlog.Offset, error) {
	if p < 0 || p >= len(r.parts) {
		return nil, fmt.Errorf("partition %d: out of range [0, %d)", p, len(r.parts))
	}
	return segmentStarts(r.parts[p].dir)
}

// Close closes the files the Reader holds open.
func (r *Reader) Close() error {
	if r.closed.Swap(true) {
		return nil
	}
	var errs []error
	for _, rp := range r.parts {
		rp.mu.Lock()
		for base, s := range rp.files {
			errs = append(errs, s.close())
			delete(rp.files, base)
		}
		rp.mu.Unlock()
	}
	return errors.Join(errs...)
}

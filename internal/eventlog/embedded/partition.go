package embedded

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sightline/sightline/internal/atomicfile"
)

// partition is one partition of a Log: its segments and its pending
// appends, which the log's writer goroutine commits.
//
// Lock order: segMu before segment.mu. mu is never held with another lock.
type partition struct {
	id     int
	dir    string
	opts   *Options
	logger *slog.Logger
	m      *metrics
	bytes  prometheus.Gauge // m.bytes for this partition

	// mu guards the appends waiting for the writer.
	mu      sync.Mutex
	pending []byte  // frames waiting for the writer
	records int     // records in pending
	cur     *commit // the commit that pending will be written in; nil when pending is empty
	closed  bool
	failed  error // set when the partition cannot write any more

	// Owned by the log's writer goroutine (and by open and close, when it
	// does not run).
	active     segmentFile // write handle of the last segment
	activeSeg  *segment
	activeSize int64
	// writebackFrom is where in the active segment the next
	// startWriteback begins.
	writebackFrom int64
	spare         []byte
	commits       atomic.Int64 // number of commits written, for tests and benchmarks

	// segMu guards segs, the segments in offset order. The last one is the
	// active segment.
	segMu sync.RWMutex
	segs  []*segment

	// end is the offset after the last committed record. Readers never
	// read past it.
	end atomic.Int64
	// first is the base of the first segment, for the bytes gauge.
	first atomic.Int64
}

// openPartition opens or creates partition id under dir and repairs the
// tail of its last segment.
func openPartition(dir string, id int, opts *Options, logger *slog.Logger, m *metrics) (*partition, error) {
	p := &partition{
		id:     id,
		dir:    filepath.Join(dir, partitionDirName(id)),
		opts:   opts,
		logger: logger,
		m:      m,
		bytes:  m.bytes.WithLabelValues(fmt.Sprint(id)),
	}
	if err := os.MkdirAll(p.dir, atomicfile.DirMode); err != nil {
		return nil, err
	}
	bases, err := listSegments(p.dir)
	if err != nil {
		return nil, err
	}
	if len(bases) == 0 {
		if err := p.createSegment(0); err != nil {
			return nil, err
		}
		bases = []int64{0}
	}
	for _, base := range bases {
		p.segs = append(p.segs, newSegment(p.dir, base))
	}
	err = p.checkContiguous()
	if err == nil {
		err = p.recoverTail()
	}
	if err != nil {
		p.closeSegments()
		return nil, err
	}
	p.first.Store(p.segs[0].base)
	p.bytes.Set(float64(p.end.Load() - p.segs[0].base))
	return p, nil
}

// partitionDirName is the name of the directory of partition id.
func partitionDirName(id int) string {
	return fmt.Sprintf("p%03d", id)
}

// createSegment creates an empty segment file and makes its directory
// entry durable.
func (p *partition) createSegment(base int64) error {
	path := filepath.Join(p.dir, segmentName(base))
	f, err := p.opts.openFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if p.opts.NoSync {
		return nil
	}
	return atomicfile.Sync(p.dir)
}

// checkContiguous verifies that each segment starts where the previous one
// ends. Rolling and retention keep it so; a gap means files were lost or
// copied in by hand, and reading across it would return wrong records.
func (p *partition) checkContiguous() error {
	for i := 1; i < len(p.segs); i++ {
		prev := p.segs[i-1]
		size, err := prev.size()
		if err != nil {
			return err
		}
		if end := prev.base + size; end != p.segs[i].base {
			return &CorruptionError{Partition: p.id, Segment: p.segs[i].path, Offset: end,
				Err: fmt.Errorf("segment starts at offset %d, previous segment ends at %d", p.segs[i].base, end)}
		}
	}
	return nil
}

// recoverTail scans the last segment and truncates it after its last valid
// record, then opens it for writing.
func (p *partition) recoverTail() error {
	last := p.segs[len(p.segs)-1]
	size, err := last.size()
	if err != nil {
		return err
	}
	valid, scanErr := scanSegment(last, size)
	if scanErr != nil && !isFrameError(scanErr) {
		return fmt.Errorf("scan segment %s: %w", last.path, scanErr)
	}
	f, err := p.opts.openFile(last.path, os.O_RDWR)
	if err != nil {
		return err
	}
	if valid < size {
		cerr := &CorruptionError{Partition: p.id, Segment: last.path, Offset: last.base + valid, Err: scanErr}
		p.logger.Warn("truncating torn tail of event log partition",
			"partition", p.id, "segment", last.path, "offset", last.base+valid, "bytes_cut", size-valid, "err", cerr.Err)
		err := f.Truncate(valid)
		if err == nil {
			err = f.Sync()
		}
		if err != nil {
			f.Close()
			return fmt.Errorf("repair %w: %w", cerr, err)
		}
	}
	p.active, p.activeSeg, p.activeSize, p.writebackFrom = f, last, valid, valid
	p.end.Store(last.base + valid)
	return nil
}

// close refuses further appends.
func (p *partition) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
}

// closeFiles fsyncs and closes the active segment and closes the read
// handles. The writer must not be running.
func (p *partition) closeFiles() error {
	var err error
	if !p.opts.NoSync && p.failed == nil {
		err = p.active.Sync()
	}
	if cerr := p.active.Close(); err == nil {
		err = cerr
	}
	if cerr := p.closeSegments(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("close partition %d: %w", p.id, err)
	}
	return nil
}

// closeSegments closes the read handles of all segments.
func (p *partition) closeSegments() error {
	p.segMu.Lock()
	defer p.segMu.Unlock()
	var errs []error
	for _, s := range p.segs {
		errs = append(errs, s.close())
	}
	return errors.Join(errs...)
}

// locate returns the segment holding offset off, or the first segment when
// off is before it, with the offset to read from and the offset where
// reading that segment must stop (the next segment or end).
func (p *partition) locate(off, end int64) (seg *segment, from, lim int64) {
	p.segMu.RLock()
	defer p.segMu.RUnlock()
	segs := p.segs
	if off < segs[0].base {
		off = segs[0].base
	}
	i := len(segs) - 1
	for i > 0 && segs[i].base > off {
		i--
	}
	lim = end
	if i+1 < len(segs) && segs[i+1].base < lim {
		lim = segs[i+1].base
	}
	return segs[i], off, lim
}

// firstOffset returns the offset of the first retained record and the
// number of segments.
func (p *partition) firstOffset() (int64, int) {
	p.segMu.RLock()
	defer p.segMu.RUnlock()
	return p.segs[0].base, len(p.segs)
}

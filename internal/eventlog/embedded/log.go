// Package embedded is the event log stored in a local directory: durable,
// partitioned, with group commit.
//
// Each partition is a sequence of segment files of CRC-framed records (see
// docs/eventlog-format.md). An offset is the byte position of a record in
// its partition. One writer goroutine takes all the appends waiting for
// any partition, writes each partition's share to its segment, the whole
// round to a write-ahead file, and fsyncs that one file (wal.go): an append is
// acknowledged (Pending.Wait) only once its records are on stable storage, at the cost of
// one fsync per round of all partitions rather than per append or per
// partition.
//
// One process writes a directory at a time (Open locks it); other
// processes may read it with OpenReader.
package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sightline/sightline/internal/atomicfile"
	"github.com/sightline/sightline/internal/eventlog"
)

var (
	_ eventlog.Appender    = (*Log)(nil)
	_ eventlog.RangeReader = (*Log)(nil)
	_ eventlog.OffsetStore = (*Log)(nil)
)

// retentionInterval is how often the background goroutine applies
// retention.
const retentionInterval = time.Minute

// Log is an event log in a local directory, open for writing. It is safe
// for concurrent use.
type Log struct {
	dir     string
	opts    Options
	logger  *slog.Logger
	metrics *metrics
	parts   []*partition
	offsets *offsetStore
	lock    *os.File
	readers sync.Pool // *frameReader

	// The writer goroutine (writer.go) and what only it uses.
	kick           chan struct{} // wakes the writer; buffered 1
	quit           chan struct{} // closed by Close
	exited         chan struct{} // closed when the writer has returned
	lastCommit     time.Time     // when the last round started
	round          []taken
	wal            *wal
	ckMu           sync.Mutex
	checkpointDone chan struct{} // closed when no checkpoint runs; guarded by ckMu

	closed atomic.Bool
	// mu serializes ApplyRetention, and Close after it.
	mu            sync.Mutex
	stopRetention chan struct{}
	retentionDone chan struct{}
}

// PartitionStats describes one partition.
type PartitionStats struct {
	Partition   int
	FirstOffset eventlog.Offset // offset of the first retained record
	EndOffset   eventlog.Offset // offset after the last committed record
	Bytes       int64           // bytes retained, EndOffset-FirstOffset
	Segments    int
}

// Open opens the event log in dir, creating it if needed, and repairs the
// torn tail a crash may have left in each partition. A nil logger discards
// logs; a nil reg registers no metrics.
func Open(logger *slog.Logger, reg prometheus.Registerer, dir string, opts Options) (*Log, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("component", "eventlog")
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("open event log %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, atomicfile.DirMode); err != nil {
		return nil, fmt.Errorf("open event log: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	l := &Log{dir: dir, opts: opts, logger: logger, lock: lock,
		kick: make(chan struct{}, 1), quit: make(chan struct{}), exited: make(chan struct{}), checkpointDone: make(chan struct{})}
	close(l.checkpointDone)
	if err := l.open(reg); err != nil {
		l.lock.Close()
		return nil, fmt.Errorf("open event log %s: %w", dir, err)
	}
	go l.run()
	if opts.RetentionAge > 0 || opts.RetentionBytes > 0 {
		l.stopRetention = make(chan struct{})
		l.retentionDone = make(chan struct{})
		go l.retain()
	}
	logger.Info("event log open", "dir", dir, "partitions", len(l.parts))
	return l, nil
}

// open does the work of Open once the directory is locked.
func (l *Log) open(reg prometheus.Registerer) (err error) {
	m, ok, err := readMeta(l.dir)
	if err != nil {
		return err
	}
	if ok && m.Partitions != l.opts.Partitions {
		return fmt.Errorf("the log has %d partitions, options ask for %d", m.Partitions, l.opts.Partitions)
	}
	if !ok {
		if _, err := os.Stat(filepath.Join(l.dir, partitionDirName(0))); err == nil {
			return fmt.Errorf("%s is missing but partition directories exist", metaFileName)
		}
		data := fmt.Appendf(nil, `{"version":%d,"partitions":%d}`+"\n", metaVersion, l.opts.Partitions)
		if err := atomicfile.Write(filepath.Join(l.dir, metaFileName), data); err != nil {
			return err
		}
	}
	if l.offsets, err = openOffsetStore(filepath.Join(l.dir, offsetsDirName), l.opts.Partitions); err != nil {
		return err
	}
	if l.metrics, err = newMetrics(reg); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			for _, p := range l.parts {
				p.closeFiles()
			}
			l.metrics.unregister()
		}
	}()
	for i := range l.opts.Partitions {
		p, err := openPartition(l.dir, i, &l.opts, l.logger, l.metrics)
		if err != nil {
			return fmt.Errorf("partition %d: %w", i, err)
		}
		l.parts = append(l.parts, p)
	}
	if err := l.replayWAL(); err != nil {
		return err
	}
	if l.opts.NoSync {
		return nil
	}
	// Make the directories created above durable.
	if err := atomicfile.Sync(l.dir); err != nil {
		return err
	}
	return atomicfile.Sync(filepath.Dir(l.dir))
}

// Partitions returns the number of partitions.
func (l *Log) Partitions() int { return len(l.parts) }

// Submit copies values, as records of key's partition, contiguously, into
// the partition's pending buffer for the writer's next round; the Pending's
// Wait returns once they are fsynced. Submit returns eventlog.ErrBusy,
// appending nothing, when too many bytes already wait for the partition's
// writer. Wait returns an error wrapping eventlog.ErrUnavailable when the
// write or fsync failed: then none of the values is visible. An empty
// values is a no-op.
func (l *Log) Submit(key []byte, values [][]byte) (eventlog.Pending, error) {
	if len(values) == 0 {
		return doneCommit, nil
	}
	size := 0
	for _, v := range values {
		if len(v) > MaxRecordSize {
			return nil, fmt.Errorf("append value of %d bytes: %w", len(v), ErrRecordTooLarge)
		}
		size += frameHeaderSize + len(v)
	}
	c, err := l.parts[eventlog.PartitionFor(key, len(l.parts))].enqueue(values, size, l.kick)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Read calls fn with the committed records of partition p from offset from
// on; see eventlog.Reader. The Message's Value is valid only during fn.
// Read stops at the end of committed data, when fn returns false, or
// before the record that would take the values passed beyond maxBytes (the
// first record is always passed; maxBytes <= 0 means no limit). It returns
// the offset after the last record passed to fn, from when none was.
//
// A record that fails its checksum yields a *CorruptionError, with the
// offset of that record returned.
func (l *Log) Read(ctx context.Context, p int, from eventlog.Offset, maxBytes int, fn func(eventlog.Message) bool) (eventlog.Offset, error) {
	return l.read(ctx, p, from, -1, maxBytes, fn)
}

// ReadRange calls fn with the committed records of partition p from offset
// from up to to, reading no further; see eventlog.RangeReader.
func (l *Log) ReadRange(ctx context.Context, p int, from, to eventlog.Offset, fn func(eventlog.Message) bool) error {
	_, err := l.read(ctx, p, from, to, 0, fn)
	return err
}

// read is Read up to offset to, or to the end of committed data if to < 0.
func (l *Log) read(ctx context.Context, p int, from, to eventlog.Offset, maxBytes int, fn func(eventlog.Message) bool) (eventlog.Offset, error) {
	if p < 0 || p >= len(l.parts) {
		return from, fmt.Errorf("read partition %d: out of range [0, %d)", p, len(l.parts))
	}
	if l.closed.Load() {
		return from, eventlog.ErrClosed
	}
	fr, _ := l.readers.Get().(*frameReader)
	if fr == nil {
		fr = newFrameReader()
	}
	defer l.readers.Put(fr)

	part := l.parts[p]
	end := part.end.Load()
	if to >= 0 {
		end = min(end, int64(to))
	}
	d := delivery{partition: p, maxBytes: maxBytes, fn: fn, next: int64(from)}
	for d.next < end && !d.stop {
		if err := ctx.Err(); err != nil {
			return eventlog.Offset(d.next), err
		}
		seg, start, lim := part.locate(d.next, end)
		if start >= lim {
			break
		}
		d.next, d.base = start, seg.base
		pos, err := fr.scan(seg, start-seg.base, lim-seg.base, d.frame)
		switch {
		case err == errSegmentClosed && !l.closed.Load():
			continue // deleted by retention: locate skips it now
		case err == errSegmentClosed:
			return eventlog.Offset(d.next), eventlog.ErrClosed
		case isFrameError(err):
			return eventlog.Offset(d.next), &CorruptionError{Partition: p, Segment: seg.path, Offset: seg.base + pos, Err: err}
		case err != nil:
			return eventlog.Offset(d.next), fmt.Errorf("read partition %d segment %s: %w", p, seg.path, err)
		}
		if !d.stop {
			d.next = lim
		}
	}
	return eventlog.Offset(d.next), nil
}

// delivery passes frames read from a partition to a Read callback,
// counting bytes against maxBytes.
type delivery struct {
	partition int
	maxBytes  int
	fn        func(eventlog.Message) bool
	base      int64 // base offset of the segment being read
	next      int64 // offset after the last record passed
	to        int64 // offset not to read at or after; < 0 for none (Reader's)
	passed    int   // bytes of values passed
	stop      bool
}

// frame is the callback of frameReader.scan.
func (d *delivery) frame(pos int64, payload []byte) bool {
	if d.maxBytes > 0 && d.passed > 0 && d.passed+len(payload) > d.maxBytes {
		d.stop = true
		return false
	}
	off := d.base + pos
	d.next = off + frameHeaderSize + int64(len(payload))
	d.passed += len(payload)
	msg := eventlog.Message{Partition: d.partition, Offset: eventlog.Offset(off), Next: eventlog.Offset(d.next), Value: payload}
	if !d.fn(msg) || (d.maxBytes > 0 && d.passed >= d.maxBytes) {
		d.stop = true
		return false
	}
	return true
}

// SegmentStarts returns the offsets at which the segments of partition p
// start, oldest first (eventlog.Segmented).
func (l *Log) SegmentStarts(p int) ([]eventlog.Offset, error) {
	if p < 0 || p >= len(l.parts) {
		return nil, fmt.Errorf("partition %d: out of range [0, %d)", p, len(l.parts))
	}
	return segmentStarts(l.parts[p].dir)
}

// EndOffset returns the offset after the last committed record of
// partition p: the offset the next record appended to p will have. Every
// record appended after EndOffset returns is at or after it.
func (l *Log) EndOffset(p int) (eventlog.Offset, error) {
	if p < 0 || p >= len(l.parts) {
		return 0, fmt.Errorf("end offset of partition %d: out of range [0, %d)", p, len(l.parts))
	}
	if l.closed.Load() {
		return 0, eventlog.ErrClosed
	}
	return eventlog.Offset(l.parts[p].end.Load()), nil
}

// Stats returns the state of each partition.
func (l *Log) Stats() []PartitionStats {
	stats := make([]PartitionStats, len(l.parts))
	for i, p := range l.parts {
		first, segments := p.firstOffset()
		end := p.end.Load()
		stats[i] = PartitionStats{
			Partition:   i,
			FirstOffset: eventlog.Offset(first),
			EndOffset:   eventlog.Offset(end),
			Bytes:       end - first,
			Segments:    segments,
		}
	}
	return stats
}

// Close stops accepting appends (they get eventlog.ErrClosed), waits for
// the pending ones to be written and fsynced, and closes the files. Calling
// it again returns nil.
func (l *Log) Close() error {
	if l.closed.Swap(true) {
		return nil
	}
	if l.stopRetention != nil {
		close(l.stopRetention)
		<-l.retentionDone
	}
	l.mu.Lock() // wait for an ApplyRetention in progress
	defer l.mu.Unlock()
	for _, p := range l.parts {
		p.close()
	}
	close(l.quit)
	<-l.exited
	var errs []error
	for _, p := range l.parts {
		errs = append(errs, p.closeFiles())
	}
	if errors.Join(errs...) == nil {
		// The segments are durable: the write-ahead files can go.
		errs = append(errs, l.closeWAL())
	}
	l.metrics.unregister()
	errs = append(errs, l.lock.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close event log %s: %w", l.dir, err)
	}
	l.logger.Info("event log closed", "dir", l.dir)
	return nil
}

// retain applies retention every retentionInterval until Close.
func (l *Log) retain() {
	defer close(l.retentionDone)
	t := time.NewTicker(retentionInterval)
	defer t.Stop()
	for {
		select {
		case <-l.stopRetention:
			return
		case now := <-t.C:
			if err := l.ApplyRetention(now); err != nil && !errors.Is(err, eventlog.ErrClosed) {
				l.logger.Error("cannot apply event log retention", "err", err)
			}
		}
	}
}

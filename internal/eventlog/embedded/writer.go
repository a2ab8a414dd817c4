package embedded

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/sightline/sightline/internal/atomicfile"
	"github.com/sightline/sightline/internal/eventlog"
)

// maxSpareBuffer is the capacity above which the writer drops a pending
// buffer after writing it instead of keeping it for reuse, so that one burst
// does not pin MaxPendingBytes of memory per partition for good.
const maxSpareBuffer = 4 << 20

// commit is a group of appends of one partition written and made durable
// together: the eventlog.Pending of each of them. Its waiters read err once
// done is closed.
type commit struct {
	done    chan struct{}
	err     error
	appends int
}

// doneCommit is the Pending of an append of nothing.
var doneCommit = &commit{done: closedChan}

var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// Wait returns the commit's outcome once it is known; see eventlog.Pending.
func (c *commit) Wait(ctx context.Context) error {
	select {
	case <-c.done:
		return c.err
	case <-ctx.Done():
		select {
		case <-c.done:
			return c.err
		default:
			return ctx.Err()
		}
	}
}

// enqueue adds the frames of values (size bytes framed) to the pending
// buffer, wakes the writer and returns the commit that will write them.
func (p *partition) enqueue(values [][]byte, size int, kick chan<- struct{}) (*commit, error) {
	p.mu.Lock()
	switch {
	case p.closed:
		p.mu.Unlock()
		return nil, eventlog.ErrClosed
	case p.failed != nil:
		err := p.failed
		p.mu.Unlock()
		p.m.unavailable.Inc()
		return nil, err
	case len(p.pending) > 0 && len(p.pending)+size > p.opts.MaxPendingBytes:
		p.mu.Unlock()
		p.m.busy.Inc()
		return nil, eventlog.ErrBusy
	}
	p.pending = slices.Grow(p.pending, size)
	for _, v := range values {
		p.pending = appendFrame(p.pending, v)
	}
	p.records += len(values)
	c := p.cur
	if c == nil {
		c = &commit{done: make(chan struct{})}
		p.cur = c
	}
	c.appends++
	p.mu.Unlock()
	select {
	case kick <- struct{}{}:
	default:
	}
	return c, nil
}

// taken is what a round of the writer took from one partition.
type taken struct {
	p       *partition
	buf     []byte
	records int
	c       *commit
	base    int64 // partition offset where buf is written
}

// take swaps the partition's pending buffer for its spare one.
func (p *partition) take() (t taken, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.pending) == 0 {
		return t, false
	}
	t = taken{p: p, buf: p.pending, records: p.records, c: p.cur, base: p.activeSeg.base + p.activeSize}
	p.pending, p.cur, p.records = p.spare[:0], nil, 0
	return t, true
}

// recycle keeps buf as the partition's spare buffer when it is not too big.
func (p *partition) recycle(buf []byte) {
	if cap(buf) <= maxSpareBuffer {
		p.spare = buf[:0]
	} else {
		p.spare = nil
	}
}

// run is the writer goroutine of the log: it commits rounds until Close.
func (l *Log) run() {
	defer close(l.exited)
	for {
		select {
		case <-l.kick:
		case <-l.quit:
		}
		if l.flush() {
			return
		}
	}
}

// flush commits rounds until nothing is pending. It reports whether the
// log is closing, in which case nothing more will be appended.
func (l *Log) flush() bool {
	for {
		if wait := l.opts.CommitInterval - time.Since(l.lastCommit); wait > 0 {
			time.Sleep(wait)
		}
		round := l.round[:0]
		for _, p := range l.parts {
			if t, ok := p.take(); ok {
				round = append(round, t)
			}
		}
		l.round = round
		if len(round) == 0 {
			select {
			case <-l.quit:
				return true
			default:
				return false
			}
		}
		l.lastCommit = time.Now()
		l.commitRound(round)
		for i := range round {
			round[i] = taken{}
		}
	}
}

// commitRound makes one round durable: it writes each partition's frames to
// its active segment without fsync, then the same bytes to the write-ahead
// file, and fsyncs that file alone. One fsync so covers the appends of every
// partition. On failure everything of the round is truncated away again.
func (l *Log) commitRound(round []taken) {
	ok := round[:0:0]
	for _, t := range round {
		if err := t.p.write(t.buf); err != nil {
			l.fail(t, err)
			continue
		}
		ok = append(ok, t)
	}
	if len(ok) > 0 {
		if err := l.wal.commit(ok); err != nil {
			for _, t := range ok {
				t.p.undo(t.base)
				l.fail(t, err)
			}
			ok = nil
			if errors.Is(err, errFailedUntilRestart) {
				l.failAll(err)
			}
		}
	}
	records := 0
	for _, t := range ok {
		t.p.publish(t, len(t.buf))
		records += t.records
	}
	if records > 0 {
		l.metrics.commitRecords.Observe(float64(records))
	}
	// Before the appends return, so that a checkpoint their round called
	// for is under way when they do.
	if l.wal.size >= l.opts.WALBytes {
		l.checkpointAsync()
	}
	for _, t := range ok {
		close(t.c.done)
	}
	for _, t := range round {
		t.p.recycle(t.buf)
		if t.p.activeSize >= l.opts.SegmentBytes && t.p.failed == nil {
			if err := t.p.roll(); err != nil {
				t.p.logger.Error("cannot roll event log segment", "partition", t.p.id, "segment", t.p.activeSeg.path, "err", err)
			}
		}
	}
}

// failAll makes every later append fail with err.
func (l *Log) failAll(err error) {
	for _, p := range l.parts {
		p.mu.Lock()
		p.failed = err
		p.mu.Unlock()
	}
}

// fail ends t's commit with err.
func (l *Log) fail(t taken, err error) {
	t.c.err = err
	t.p.m.unavailable.Add(float64(t.c.appends))
	close(t.c.done)
}

// write appends buf to the active segment with one write, without fsync.
// On failure it truncates the segment back so that nothing of buf remains.
func (p *partition) write(buf []byte) error {
	if p.failed != nil {
		return p.failed
	}
	if _, err := p.active.WriteAt(buf, p.activeSize); err != nil {
		p.logger.Error("event log write failed", "partition", p.id, "segment", p.activeSeg.path, "err", err)
		if failed := p.repair(err); failed != nil {
			return failed
		}
		return fmt.Errorf("%w: partition %d: write segment %s: %w", eventlog.ErrUnavailable, p.id, p.activeSeg.path, err)
	}
	return nil
}

// undo removes what write wrote at base after the round failed.
func (p *partition) undo(base int64) {
	p.activeSize = base - p.activeSeg.base
	p.writebackFrom = min(p.writebackFrom, p.activeSize)
	if err := p.repair(errors.New("write-ahead file failed")); err != nil {
		p.logger.Error("cannot undo event log write", "partition", p.id, "err", err)
	}
}

// writebackBytes is how much a partition writes between two requests to
// the kernel to start writing its segment back (startWriteback).
const writebackBytes = 1 << 20

// publish makes n bytes written for t durable: readers now see them.
func (p *partition) publish(t taken, n int) {
	p.activeSize += int64(n)
	if p.activeSize-p.writebackFrom >= writebackBytes {
		startWriteback(p.active, p.writebackFrom, p.activeSize-p.writebackFrom)
		p.writebackFrom = p.activeSize
	}
	end := p.activeSeg.base + p.activeSize
	p.end.Store(end)
	p.commits.Add(1)
	p.m.records.Add(float64(t.records))
	p.m.appendedBytes.Add(float64(n))
	p.bytes.Set(float64(end - p.first.Load()))
}

// repair truncates the active segment back to its committed size after
// the write error cause. When that fails too, it marks the partition failed
// and returns the error that every later append gets: the file may hold
// part of the failed write, so writing after it is unsafe.
func (p *partition) repair(cause error) error {
	err := p.active.Truncate(p.activeSize)
	if err == nil {
		return nil
	}
	failed := fmt.Errorf("%w: partition %d failed until restart: write segment %s: %w (truncating it back: %v)",
		eventlog.ErrUnavailable, p.id, p.activeSeg.path, cause, err)
	p.logger.Error("event log partition failed", "partition", p.id, "segment", p.activeSeg.path, "err", failed)
	p.mu.Lock()
	p.failed = failed
	p.mu.Unlock()
	return failed
}

// roll closes the full active segment and starts a new one after it. The
// old segment is fsynced first: recovery only repairs the last segment of
// a partition, and the write-ahead file may be emptied any time after.
func (p *partition) roll() error {
	if !p.opts.NoSync {
		if err := p.active.Sync(); err != nil {
			return err
		}
	}
	base := p.activeSeg.base + p.activeSize
	seg := newSegment(p.dir, base)
	f, err := p.opts.openFile(seg.path, os.O_RDWR|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return err
	}
	if !p.opts.NoSync {
		if err := atomicfile.Sync(p.dir); err != nil {
			f.Close()
			os.Remove(seg.path)
			return err
		}
	}
	if err := p.active.Close(); err != nil {
		p.logger.Warn("cannot close event log segment", "partition", p.id, "segment", p.activeSeg.path, "err", err)
	}
	p.segMu.Lock()
	p.segs = append(p.segs, seg)
	p.segMu.Unlock()
	p.active, p.activeSeg, p.activeSize, p.writebackFrom = f, seg, 0, 0
	p.logger.Debug("rolled event log segment", "partition", p.id, "segment", seg.path)
	return nil
}

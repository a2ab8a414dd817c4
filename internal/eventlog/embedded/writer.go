package embedded

import (
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

// commit is a group of appends written and fsynced together. Its waiters
// read err once done is closed.
type commit struct {
	done    chan struct{}
	err     error
	appends int
}

// enqueue adds the frames of values (size bytes framed) to the pending
// buffer and returns the commit that will write them.
func (p *partition) enqueue(values [][]byte, size int) (*commit, error) {
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
	case p.kick <- struct{}{}:
	default:
	}
	return c, nil
}

// run is the writer goroutine of the partition.
func (p *partition) run() {
	defer close(p.exited)
	for {
		select {
		case <-p.kick:
		case <-p.quit:
		}
		if p.flush() {
			return
		}
	}
}

// flush writes commits until nothing is pending. It reports whether the
// partition is closed, in which case nothing more will be appended.
func (p *partition) flush() bool {
	for {
		if wait := p.opts.CommitInterval - time.Since(p.lastCommit); wait > 0 {
			time.Sleep(wait)
		}
		p.mu.Lock()
		if len(p.pending) == 0 {
			closed := p.closed
			p.mu.Unlock()
			return closed
		}
		buf, c, records := p.pending, p.cur, p.records
		p.pending, p.cur, p.records = p.spare[:0], nil, 0
		p.mu.Unlock()

		c.err = p.write(buf, records)
		if c.err != nil {
			p.m.unavailable.Add(float64(c.appends))
		}
		close(c.done)
		if cap(buf) <= maxSpareBuffer {
			p.spare = buf[:0]
		} else {
			p.spare = nil
		}
		if c.err == nil && p.activeSize >= p.opts.SegmentBytes {
			if err := p.roll(); err != nil {
				p.logger.Error("cannot roll event log segment", "partition", p.id, "segment", p.activeSeg.path, "err", err)
			}
		}
	}
}

// write appends buf to the active segment with one write, fsyncs it and
// publishes the new end offset. On failure it truncates the segment back
// so that nothing of buf remains.
func (p *partition) write(buf []byte, records int) error {
	if p.failed != nil {
		return p.failed
	}
	p.lastCommit = time.Now()
	_, err := p.active.WriteAt(buf, p.activeSize)
	if err == nil && !p.opts.NoSync {
		start := time.Now()
		err = p.active.Sync()
		p.m.fsync.Observe(time.Since(start).Seconds())
	}
	if err != nil {
		p.logger.Error("event log write failed", "partition", p.id, "segment", p.activeSeg.path, "err", err)
		if failed := p.repair(err); failed != nil {
			return failed
		}
		return fmt.Errorf("%w: partition %d: write segment %s: %w", eventlog.ErrUnavailable, p.id, p.activeSeg.path, err)
	}
	p.activeSize += int64(len(buf))
	end := p.activeSeg.base + p.activeSize
	p.end.Store(end)
	p.commits.Add(1)
	p.m.records.Add(float64(records))
	p.m.appendedBytes.Add(float64(len(buf)))
	p.m.commitRecords.Observe(float64(records))
	p.bytes.Set(float64(end - p.first.Load()))
	return nil
}

// repair truncates the active segment back to its committed size after
// the write error cause. When that fails too, it marks the partition failed
// and returns the error that every later append gets: the file may hold
// part of the failed write, so writing after it is unsafe.
func (p *partition) repair(cause error) error {
	err := p.active.Truncate(p.activeSize)
	if err == nil && !p.opts.NoSync {
		err = p.active.Sync()
	}
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

// roll closes the full active segment and starts a new one after it.
func (p *partition) roll() error {
	if !p.opts.NoSync {
		// Every commit has been fsynced already, so this is cheap; it keeps
		// the rule that a segment is durable before the next one exists.
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
		if err := atomicfile.SyncDir(p.dir); err != nil {
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
	p.active, p.activeSeg, p.activeSize = f, seg, 0
	p.logger.Debug("rolled event log segment", "partition", p.id, "segment", seg.path)
	return nil
}

package embedded

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/sightline/sightline/internal/atomicfile"
	"github.com/sightline/sightline/internal/eventlog"
)

// ApplyRetention deletes, in each partition, the oldest segments other than
// the active one while the newest record of the segment (its file's
// modification time) is older than now minus RetentionAge, or the partition
// holds more than RetentionBytes. A background goroutine calls it every
// minute; calling it directly is for tests and administration.
func (l *Log) ApplyRetention(now time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed.Load() {
		return eventlog.ErrClosed
	}
	var errs []error
	for _, p := range l.parts {
		if err := p.applyRetention(now); err != nil {
			errs = append(errs, fmt.Errorf("apply retention to partition %d: %w", p.id, err))
		}
	}
	return errors.Join(errs...)
}

// applyRetention applies retention to the partition.
func (p *partition) applyRetention(now time.Time) error {
	age, maxBytes := p.opts.RetentionAge, p.opts.RetentionBytes
	if age <= 0 && maxBytes <= 0 {
		return nil
	}
	p.segMu.RLock()
	segs := slices.Clone(p.segs)
	p.segMu.RUnlock()

	total := p.end.Load() - segs[0].base
	n := 0 // segments to delete, from the first one
	// The last segment of segs is active or was until just now: keep it.
	for ; n < len(segs)-1; n++ {
		reason, err := p.expired(segs[n], total, now)
		if err != nil {
			return err
		}
		if reason == "" {
			break
		}
		p.logger.Info("deleting event log segment", "partition", p.id, "segment", segs[n].path, "reason", reason)
		total -= segs[n+1].base - segs[n].base
	}
	if n == 0 {
		return nil
	}

	p.segMu.Lock()
	p.segs = slices.Delete(p.segs, 0, n)
	first := p.segs[0].base
	p.segMu.Unlock()
	p.first.Store(first)
	p.bytes.Set(float64(p.end.Load() - first))

	// Delete oldest first, making each removal durable before the next,
	// so that a crash cannot leave a gap in the partition.
	for _, s := range segs[:n] {
		if err := s.close(); err != nil {
			p.logger.Warn("cannot close event log segment", "partition", p.id, "segment", s.path, "err", err)
		}
		if err := os.Remove(s.path); err != nil {
			return err
		}
		if err := atomicfile.Sync(p.dir); err != nil {
			return err
		}
	}
	return nil
}

// expired returns why segment s must be deleted when the partition holds
// total bytes, or "" when it must be kept.
func (p *partition) expired(s *segment, total int64, now time.Time) (string, error) {
	if p.opts.RetentionBytes > 0 && total > p.opts.RetentionBytes {
		return "size", nil
	}
	if p.opts.RetentionAge <= 0 {
		return "", nil
	}
	fi, err := os.Stat(s.path)
	if err != nil {
		return "", err
	}
	if now.Sub(fi.ModTime()) > p.opts.RetentionAge {
		return "age", nil
	}
	return "", nil
}

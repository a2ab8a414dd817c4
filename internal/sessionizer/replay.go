package sessionizer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/sightline/sightline/internal/atomicfile"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/eventlog"
)

// A replay reads the log again to rebuild the visits of some hours of one
// account, with the rules the sessionizer follows live, into a spool of its
// own from which Hours writes the hours' files anew. Since a visit depends
// only on the server times of the events read before it closes, the
// replay reads each partition from Lookback before the first hour (to know
// where the visits open then began and how many continuations they had)
// until its watermark passes the last hour, and gets the visits the live
// sessionizer spooled, except those it spooled late into a later hour.

// Lookback is how far before the first replayed hour a replay starts
// reading: two longest visits, for a visit open at the start of the range
// whose predecessor reached the longest duration, plus the timeout and the
// continuation memory.
func Lookback(cfg Config) time.Duration {
	cfg = cfg.WithDefaults()
	return 2*cfg.MaxDuration + cfg.Timeout + closedMemory
}

// replayChunk is how many bytes of records a replay reads at a time, and
// at most between two checkpoints (tests make it small).
var replayChunk = readChunk

// ReplayProgress is how far a replay has read.
type ReplayProgress struct {
	Partition, Partitions int
	Events                int64 // read so far, of every account
	Visits                int64 // spooled so far
}

// ReplayResult is what a replay found.
type ReplayResult struct {
	// Hours are the starts of the hours with visits, epoch ms, in order;
	// their spool is in the replay's Dir, for Hours.
	Hours []int64
	// Events is the number of events read, of every account; Visits the
	// number spooled.
	Events, Visits int64
	// AgedOut is when the oldest event still in the log was received, if
	// retention has deleted older ones, epoch ms; 0 if nothing was deleted.
	// Hours that start less than MaxDuration after it may lack the
	// beginnings of visits.
	AgedOut int64
}

// Replay spools under cfg.Dir the visits of account that close in the
// hours [from, to), read from log as New's sessionizer would. cfg.Dir must
// be a directory of the replay's own. progress, if not nil, is called
// after every chunk read.
//
// Every cfg.CheckpointInterval, and when ctx ends, Replay records how far
// it has read in cfg.Dir: called again with the same arguments and
// directory after an interruption, a crash included, it goes on from
// there. (ReplayResult's Events and Visits then count this call's.)
func Replay(ctx context.Context, logger *slog.Logger, log eventlog.RangeReader, cfg Config, account string, from, to time.Time,
	progress func(ReplayProgress)) (ReplayResult, error) {
	var res ReplayResult
	s := newSessionizer(logger, log, cfg, nil)
	first, end := hourOf(from.UnixMilli()), hourOf(to.Add(time.Hour-time.Millisecond).UnixMilli())
	start := first - Lookback(cfg).Milliseconds()
	s.skip = func(rec *event.Stored) bool { return rec.AccountID != account || rec.ServerTime < start }
	s.spoolVisit = func(v *trackedVisit) error {
		h := hourOf(v.closeAt)
		if h < first || h >= end {
			return nil
		}
		res.Visits++
		return s.spool.add(v, 0)
	}
	if err := os.MkdirAll(s.spool.dir, atomicfile.DirMode); err != nil {
		return res, fmt.Errorf("replay: %w", err)
	}
	// An interrupted replay of the same hours into the same directory left
	// a checkpoint: go on from it. Without one, the spool is emptied.
	lengths, err := s.loadCheckpoint()
	if err == nil {
		err = s.spool.recover(lengths, 0)
	}
	if err != nil {
		return res, fmt.Errorf("replay: %w", err)
	}
	defer s.spool.closeAll()
	lastCheckpoint := time.Now()
	checkpoint := func() error {
		lastCheckpoint = time.Now()
		return s.replayCheckpoint()
	}
	for _, p := range s.parts {
		agedOut, err := oldestIfDeleted(ctx, log, p.id)
		if err != nil {
			return res, fmt.Errorf("replay: read partition %d: %w", p.id, err)
		}
		if agedOut != 0 && (res.AgedOut == 0 || agedOut < res.AgedOut) {
			res.AgedOut = agedOut
		}
		if p.next == 0 && p.watermark == 0 { // not begun before an interruption
			if p.next, err = seek(ctx, log, p.id, start-s.cfg.Lag.Milliseconds()); err != nil {
				return res, fmt.Errorf("replay: seek in partition %d: %w", p.id, err)
			}
		}
		for p.watermark < end {
			n, err := s.stepPartition(ctx, p, replayChunk)
			res.Events += int64(n)
			if err != nil {
				if ctx.Err() != nil {
					err = errors.Join(err, checkpoint()) // for the next run to go on from
				}
				return res, fmt.Errorf("replay: %w", err)
			}
			if progress != nil {
				progress(ReplayProgress{Partition: p.id, Partitions: len(s.parts), Events: res.Events, Visits: res.Visits})
			}
			if n == 0 {
				break // read to the end
			}
			if time.Since(lastCheckpoint) >= s.cfg.CheckpointInterval {
				if err := checkpoint(); err != nil {
					return res, err
				}
			}
		}
		p.open, p.due, p.closed = nil, nil, nil // done with: free the memory
	}
	if err := checkpoint(); err != nil {
		return res, err
	}
	hours, err := s.spool.hours()
	for _, h := range hours {
		if h >= first && h < end {
			res.Hours = append(res.Hours, h)
		}
	}
	return res, err
}

// replayCheckpoint makes a replay's spool durable and records where each
// partition is, so that a replay interrupted, even by a crash, goes on from
// there: a checkpoint as the live sessionizer writes, with no hour
// complete.
func (s *Sessionizer) replayCheckpoint() error {
	lengths, err := s.spool.sync()
	if err != nil {
		return err
	}
	return s.saveCheckpoint(0, lengths)
}

// seek returns where to start reading partition p of log for every record
// received at or after t: the start of the newest segment whose first
// record was received before t. Appends are in order of receipt to within
// Lag, which t leaves room for, so the segments before hold only records
// received before t. Without segments, it is the oldest record.
func seek(ctx context.Context, log eventlog.Reader, p int, t int64) (eventlog.Offset, error) {
	seg, ok := log.(eventlog.Segmented)
	if !ok {
		return 0, nil
	}
	starts, err := seg.SegmentStarts(p)
	if err != nil {
		return 0, err
	}
	for k := len(starts) - 1; k > 0; k-- {
		at, found, err := serverTimeAt(ctx, log, p, starts[k])
		if err != nil {
			return 0, err
		}
		if found && at < t {
			return starts[k], nil
		}
	}
	return 0, nil
}

// oldestIfDeleted returns when the oldest record of partition p was
// received if retention has deleted older ones, epoch ms, else 0.
func oldestIfDeleted(ctx context.Context, log eventlog.Reader, p int) (int64, error) {
	var first eventlog.Offset
	var at int64
	var perr error
	_, err := log.Read(ctx, p, 0, 1, func(m eventlog.Message) bool {
		var rec event.Stored
		rec, perr = event.ParseRecordView(m.Value)
		first, at = m.Offset, rec.ServerTime
		return false
	})
	if err == nil {
		err = perr
	}
	if err != nil || first == 0 {
		return 0, err
	}
	return at, nil
}

// serverTimeAt returns the server time of the record at off, if there is
// one.
func serverTimeAt(ctx context.Context, log eventlog.Reader, p int, off eventlog.Offset) (at int64, found bool, err error) {
	var perr error
	_, err = log.Read(ctx, p, off, 1, func(m eventlog.Message) bool {
		var rec event.Stored
		rec, perr = event.ParseRecordView(m.Value)
		at, found = rec.ServerTime, true
		return false
	})
	if err == nil {
		err = perr
	}
	return at, found, err
}

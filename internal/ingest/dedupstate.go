package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/sightline/sightline/internal/atomicfile"
	"github.com/sightline/sightline/internal/dedup"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/eventlog"
)

// LogPositions is what rebuilding the dedup index needs of the log: its
// records, and where each partition ends now.
type LogPositions interface {
	eventlog.Reader
	EndOffset(p int) (eventlog.Offset, error)
}

// DedupState keeps the dedup index of a server across restarts. The index
// lives in memory; what is persisted is a list of marks, each the time and
// the end offset of every partition then, taken every few minutes. A
// restart rebuilds the index by reading the log from the newest mark that
// is at least one window old: every record stored within the window is
// after it, and records before it are not read.
type DedupState struct {
	path   string
	window time.Duration
	log    LogPositions
	logger *slog.Logger
	marks  []mark
}

type mark struct {
	Time time.Time         `json:"time"`
	Ends []eventlog.Offset `json:"ends"`
}

// OpenDedupState reads the marks kept in file path (absent on first start).
func OpenDedupState(logger *slog.Logger, path string, window time.Duration, log LogPositions) (*DedupState, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &DedupState{path: path, window: window, log: log, logger: logger.With("component", "dedup")}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read dedup marks: %w", err)
	}
	if err := json.Unmarshal(b, &s.marks); err != nil {
		// The marks only save reading time: without them the whole log is read.
		s.logger.Warn("ignoring unreadable dedup marks; reading the whole log", "file", path, "err", err)
		s.marks = nil
	}
	return s, nil
}

// Rebuild returns an index holding every event the log stored within the
// window before now.
func (s *DedupState) Rebuild(ctx context.Context, now time.Time) (*dedup.Index, error) {
	ix := dedup.New(s.window, now)
	from := make([]eventlog.Offset, s.log.Partitions())
	cutoff := now.Add(-s.window)
	for _, m := range s.marks {
		if !m.Time.After(cutoff) && len(m.Ends) == len(from) {
			copy(from, m.Ends)
		}
	}
	start := time.Now()
	lastReport := start
	var records, kept int
	for p := range from {
		_, err := eventlog.ReadToEnd(ctx, s.log, p, from[p], func(m eventlog.Message) bool {
			records++
			if records%(1<<16) == 0 && time.Since(lastReport) >= 5*time.Second {
				lastReport = time.Now()
				s.logger.Info("rebuilding dedup index", "partition", p, "of", len(from), "records_read", records,
					"records_per_second", int(float64(records)/time.Since(start).Seconds()))
			}
			h, err := event.ParseRecordHead(m.Value)
			if err != nil {
				s.logger.Warn("skipping unreadable record", "partition", p, "offset", m.Offset, "err", err)
				return true
			}
			if h.ServerTime >= cutoff.UnixMilli() {
				ix.Add(now, ix.Key(h.AccountID, h.ID))
				kept++
			}
			return true
		})
		if err != nil {
			return nil, fmt.Errorf("cannot rebuild dedup index from partition %d: %w", p, err)
		}
	}
	s.logger.Info("dedup index rebuilt", "records_read", records, "ids", kept, "took", time.Since(start).Round(time.Millisecond))
	return ix, nil
}

// Mark records the log's current end offsets at now, drops the marks no
// restart would use any more, and writes the list atomically.
func (s *DedupState) Mark(now time.Time) error {
	ends := make([]eventlog.Offset, s.log.Partitions())
	for p := range ends {
		off, err := s.log.EndOffset(p)
		if err != nil {
			return fmt.Errorf("cannot mark dedup position of partition %d: %w", p, err)
		}
		ends[p] = off
	}
	s.marks = append(s.marks, mark{Time: now, Ends: ends})
	// Keep the newest mark at least a window old and everything after it.
	cutoff := now.Add(-s.window)
	keep := 0
	for i, m := range s.marks {
		if !m.Time.After(cutoff) {
			keep = i
		}
	}
	s.marks = s.marks[keep:]
	b, err := json.Marshal(s.marks)
	if err != nil {
		return err
	}
	return atomicfile.Write(s.path, b)
}

// Run marks every interval until ctx ends.
func (s *DedupState) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if err := s.Mark(now); err != nil {
				s.logger.Warn("cannot write dedup marks", "err", err)
			}
		}
	}
}

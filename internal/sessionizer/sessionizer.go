// Package sessionizer turns the event log into visits: a consumer of every
// partition that gathers each visitor's events into visits, closes them
// after a time without events or a longest duration, and spools the closed
// visits by the hour of their closing, from which the hourly job
// (hours.go) writes the web-session files.
//
// # Visits
//
// A visit is keyed by account, visitor and visit id. Whether an event
// belongs to an open visit is decided by server receive times only, so
// that reading the same log again gives the same visits: a visit closes at
// closeAt = min(last event + Timeout, first event + MaxDuration); an event
// received at or after its visit's closeAt starts a continuation of the
// visit (Visit.Continuation counts them), which is written as a document
// of its own in the file of the hour it closes in, or, when that hour's
// files are already written (the sessionizer's clock ran ahead of the
// events, or it was behind), of the first hour that is not. Events are
// ordered by their client time inside a visit.
//
// A partition's clock is its watermark: the newest server time read from
// it less Lag or, once the partition is read to its end, the wall clock
// less Lag (appends still in flight: server times are stamped before the
// append, so a partition holds them in order only to within Lag). Closing
// by the watermark, rather than as soon as a newer event is read, keeps
// the visits independent of how the log happens to be read in chunks. Visits are closed when the watermark passes
// their closeAt; an hour is complete when every partition's watermark has
// passed its end.
//
// # Exactly once
//
// Every CheckpointInterval the sessionizer fsyncs the spool and writes a
// checkpoint atomically: each partition's offset and watermark, its open
// visits, the continuation counts of recently closed visits and the
// spool's file lengths. A restart cuts the spool back to those lengths and
// reads the log again from those offsets, so each closed visit is spooled
// exactly once whatever moment a crash hit. The hourly job writes only
// hours that a checkpoint declared complete, and deletes an hour's spool
// only after all its files are written; writing an hour again gives the
// same files.
//
// A checkpoint holds every open visit, so its size grows with them (about
// 4 KB a visit); checkpoints are spaced so that writing them takes at most
// a tenth of the time. A checkpoint of offsets alone, reading the log again
// from the first event of the oldest open visit, would be far smaller, but
// is subtle: a visit closed by the 24-hour rule whose events straddle that
// offset would be rebuilt from its tail, with another first event and so
// another closing time, and written a second time. It needs the closed
// visits' keys and closing times in the checkpoint as well.
package sessionizer

import (
	"bytes"
	"container/heap"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/atomicfile"
	"github.com/sightline/sightline/internal/enrich"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/eventlog"
	"github.com/sightline/sightline/internal/filelock"
	"github.com/sightline/sightline/internal/websession"
)

// Config configures a Sessionizer.
type Config struct {
	// Dir holds the checkpoint and the spool.
	Dir string
	// Timeout closes a visit after this long without events (30 minutes).
	Timeout time.Duration
	// MaxDuration closes a visit this long after its first event (24 hours).
	MaxDuration time.Duration
	// CheckpointInterval is the time between checkpoints (10 seconds).
	CheckpointInterval time.Duration
	// Lag is how far behind the wall clock a partition read to its end is
	// taken to be: events stamped this long ago may still be in flight to
	// the log (10 seconds).
	Lag time.Duration
	// Poll is the pause after a round that found nothing new to read.
	Poll time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// AnonymizeIP zeroes the last octet of IPv4 and the last 80 bits of
	// IPv6 addresses as events are read, before the spool, the checkpoint
	// or the files hold them.
	AnonymizeIP bool
}

// WithDefaults returns c with the defaults of its zero fields filled in.
func (c Config) WithDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.Timeout, 30*time.Minute)
	def(&c.MaxDuration, 24*time.Hour)
	def(&c.CheckpointInterval, 10*time.Second)
	def(&c.Lag, 10*time.Second)
	def(&c.Poll, 250*time.Millisecond)
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Sessionizer is the consumer of the log that builds visits. It is used
// by one goroutine (Run).
type Sessionizer struct {
	cfg    Config
	log    eventlog.Reader
	logger *slog.Logger
	parts  []*partition
	spool  spool
	names  interner // app and event names, accounts, user agents
	// complete is the end of the newest hour a checkpoint declared
	// complete, epoch ms.
	complete       int64
	lastCheckpoint time.Time
	// checkpointTook is how long the last checkpoint took: checkpoints,
	// which write every open visit, are spaced so that they take at most a
	// tenth of the time.
	checkpointTook time.Duration
	onComplete     func(hourEnd int64)
	metrics        *Metrics
	// spoolVisit takes each closed visit: into the spool, or for a replay
	// (replay.go) into its own spool if it closes in the replayed hours.
	spoolVisit func(v *trackedVisit) error
	// skip, when set, tells the records whose events a replay leaves out.
	skip func(rec *event.Stored) bool
	// closedCount counts the visits closed, for Flush's answer.
	closedCount int64
	// lock is Dir's LOCK, held from New to Close: one sessionizer works on
	// a state directory at a time.
	lock *os.File
	// flushes carries Flush's requests to Run, which closes done when it
	// returns.
	flushes chan flushRequest
	done    chan struct{}
}

// partition is the state of one partition of the log.
type partition struct {
	id        int
	next      eventlog.Offset
	watermark int64 // epoch ms
	open      map[string]*trackedVisit
	due       dueHeap
	// closed remembers, for the visits closed in the last closedMemory,
	// by a hash of their key, how many documents each has had, so that a
	// late event's continuation is numbered. A later one is written as a
	// visit's first document again. (A hash collision, about one in 2^64,
	// only misnumbers a continuation.)
	closed map[uint64]closedEntry
}

type closedEntry struct {
	documents int32
	at        int64 // closeAt of the last one, epoch ms
}

// closedMemory is how long closed visits are remembered for numbering
// continuations: long enough for offline tags catching up, short enough
// to bound memory (about 40 bytes a visit) at high visit rates.
const closedMemory = 2 * time.Hour

// hashKey returns the hash of a visit key that closed is keyed by:
// 64-bit FNV-1a, fixed, so that the hashes in a checkpoint stay valid after
// a restart.
func hashKey(key string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(key); i++ {
		h ^= uint64(key[i])
		h *= 1099511628211
	}
	return h
}

// New returns a Sessionizer reading log, restored from the checkpoint in
// cfg.Dir if there is one. onComplete is called with the end of every hour
// a checkpoint declares complete (all its visits spooled and durable),
// oldest first: by New for the complete hours whose spool is still there,
// then by Checkpoint.
// Metrics may be shared with the hourly job; nil means none.
//
// New locks cfg.Dir until Close: it returns an error wrapping
// filelock.ErrLocked if another sessionizer, in this process or another,
// has it.
func New(logger *slog.Logger, log eventlog.Reader, cfg Config, m *Metrics, onComplete func(hourEnd int64)) (*Sessionizer, error) {
	s := newSessionizer(logger, log, cfg, m)
	s.onComplete = onComplete
	s.spoolVisit = func(v *trackedVisit) error { return s.spool.add(v, s.complete) }
	if err := os.MkdirAll(s.cfg.Dir, atomicfile.DirMode); err != nil {
		return nil, fmt.Errorf("sessionizer: %w", err)
	}
	var err error
	if s.lock, err = filelock.Lock(filepath.Join(s.cfg.Dir, "LOCK"), false); err != nil {
		return nil, fmt.Errorf("sessionizer state %s: %w", s.cfg.Dir, err)
	}
	lengths, err := s.loadCheckpoint()
	if err == nil {
		err = s.spool.recover(lengths, s.complete)
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	s.lastCheckpoint = s.cfg.Now()
	// Hours complete at the checkpoint whose files may not be written yet.
	for _, end := range s.completeHours() {
		onComplete(end)
	}
	return s, nil
}

// newSessionizer returns a sessionizer with no state.
func newSessionizer(logger *slog.Logger, log eventlog.Reader, cfg Config, m *Metrics) *Sessionizer {
	cfg = cfg.WithDefaults()
	if m == nil {
		m, _ = NewMetrics(nil)
	}
	s := &Sessionizer{cfg: cfg, log: log, logger: logger, spool: spool{dir: filepath.Join(cfg.Dir, "spool")}, metrics: m,
		flushes: make(chan flushRequest), done: make(chan struct{})}
	s.parts = make([]*partition, log.Partitions())
	for i := range s.parts {
		s.parts[i] = &partition{id: i, open: map[string]*trackedVisit{}, closed: map[uint64]closedEntry{}}
	}
	return s
}

// readChunk is how many bytes of records one round reads of a partition.
const readChunk = 1 << 20

// Close releases the spool's files and the state directory's lock. It
// writes no checkpoint: Run writes one when it stops.
func (s *Sessionizer) Close() error {
	s.spool.closeAll()
	if s.lock == nil {
		return nil
	}
	err := s.lock.Close()
	s.lock = nil
	return err
}

// Run reads the log and closes visits until ctx ends, then writes a last
// checkpoint. It returns nil once ctx has ended and that checkpoint is
// written, or the first error that stopped it. It serves Flush's requests
// meanwhile.
func (s *Sessionizer) Run(ctx context.Context) error {
	defer close(s.done)
	for {
		select {
		case req := <-s.flushes:
			req.answer(s.flush(req.ctx, req.at))
		default:
		}
		progressed, err := s.Step(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return s.Checkpoint()
			}
			return err
		}
		if s.cfg.Now().Sub(s.lastCheckpoint) >= max(s.cfg.CheckpointInterval, 10*s.checkpointTook) {
			if err := s.Checkpoint(); err != nil {
				return err
			}
		}
		if !progressed {
			select {
			case <-ctx.Done():
				return s.Checkpoint()
			case req := <-s.flushes:
				req.answer(s.flush(req.ctx, req.at))
			case <-time.After(s.cfg.Poll):
			}
		}
	}
}

// Step reads one chunk of every partition, and closes and spools the
// visits that are due. It reports whether anything was read.
func (s *Sessionizer) Step(ctx context.Context) (bool, error) {
	progressed := false
	for _, p := range s.parts {
		n, err := s.stepPartition(ctx, p, readChunk)
		progressed = progressed || n > 0
		if err != nil {
			return progressed, err
		}
	}
	return progressed, nil
}

// stepPartition reads up to chunk bytes of records of p, and closes and
// spools the visits that are due. It returns the number of records read.
func (s *Sessionizer) stepPartition(ctx context.Context, p *partition, chunk int) (int, error) {
	n := 0
	next, err := s.log.Read(ctx, p.id, p.next, chunk, func(m eventlog.Message) bool {
		n++
		s.add(p, m)
		return true
	})
	if err != nil {
		return n, fmt.Errorf("sessionizer: read partition %d: %w", p.id, err)
	}
	if next == p.next {
		// Read to the end: the partition's clock is the wall clock.
		p.watermark = max(p.watermark, s.cfg.Now().Add(-s.cfg.Lag).UnixMilli())
	}
	p.next = next
	return n, s.closeDue(p)
}

// add puts the event of record m in its visit.
func (s *Sessionizer) add(p *partition, m eventlog.Message) {
	rec, err := event.ParseRecordView(m.Value) // views of m.Value: what is kept is copied
	if err != nil {
		s.logger.Warn("sessionizer: skipping unreadable record", "partition", p.id, "offset", m.Offset, "err", err)
		return
	}
	at := rec.ServerTime
	// Events are stamped before they are appended, so a partition's server
	// times are in order only to within Lag: what is older than the newest
	// less Lag has all been read.
	p.watermark = max(p.watermark, at-s.cfg.Lag.Milliseconds())
	if s.skip != nil && s.skip(&rec) {
		return
	}
	key := visitKey(rec.AccountID, rec.VisitorID, rec.VisitID)
	v := p.open[key]
	if v != nil && at >= v.closeAt {
		// The visit is over: close it now, and start a continuation.
		if err := s.close(p, key, v); err != nil {
			s.logger.Error("sessionizer: cannot spool a visit", "err", err)
		}
		v = nil
	}
	if v == nil {
		v = &trackedVisit{first: at, last: at}
		v.AccountID = s.names.string(rec.AccountID)
		v.VisitorID, v.VisitID = strings.Clone(rec.VisitorID), strings.Clone(rec.VisitID)
		v.IP, v.UserAgent = strings.Clone(rec.IP), s.names.string(rec.UserAgent)
		if s.cfg.AnonymizeIP {
			v.IP = enrich.AnonymizeIP(rec.IP)
		}
		if c, ok := p.closed[hashKey(key)]; ok && at-c.at < closedMemory.Milliseconds() {
			v.Continuation = int(c.documents) // whenever pruneClosed ran
		}
		p.open[key] = v
		v.closeAt = s.closeAt(v)
		heap.Push(&p.due, dueVisit{closeAt: v.closeAt, key: key, visit: v})
	}
	v.first, v.last = min(v.first, at), max(v.last, at)
	v.closeAt = s.closeAt(v)
	v.Events = append(v.Events, websession.Event{
		Time: rec.Time, ServerTime: at,
		App: s.names.string(rec.AppName), Name: s.names.string(rec.EventName),
		Data: bytes.Clone(rec.Data),
	})
}

// visitKey is the key of a visit in a partition's open visits.
func visitKey(account, visitor, visit string) string {
	return account + "\x00" + visitor + "\x00" + visit
}

func (s *Sessionizer) closeAt(v *trackedVisit) int64 {
	return min(v.last+s.cfg.Timeout.Milliseconds(), v.first+s.cfg.MaxDuration.Milliseconds())
}

// closeDue closes the visits of p whose closeAt the watermark has reached.
func (s *Sessionizer) closeDue(p *partition) error {
	for len(p.due) > 0 && p.due[0].closeAt <= p.watermark {
		d := heap.Pop(&p.due).(dueVisit)
		switch v := d.visit; {
		case p.open[d.key] != v:
			// Closed already, by an event after its closeAt.
		case v.closeAt > p.watermark:
			heap.Push(&p.due, dueVisit{closeAt: v.closeAt, key: d.key, visit: v}) // later events extended it
		default:
			if err := s.close(p, d.key, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// close spools the visit v of p and forgets it.
func (s *Sessionizer) close(p *partition, key string, v *trackedVisit) error {
	delete(p.open, key)
	slices.SortStableFunc(v.Events, func(a, b websession.Event) int {
		if a.Time != b.Time {
			return cmpInt(a.Time, b.Time)
		}
		return cmpInt(a.ServerTime, b.ServerTime)
	})
	p.closed[hashKey(key)] = closedEntry{documents: int32(v.Continuation + 1), at: v.closeAt}
	s.closedCount++
	s.metrics.closedVisits.Inc()
	return s.spoolVisit(v)
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// OpenVisits returns the number of open visits.
func (s *Sessionizer) OpenVisits() int {
	n := 0
	for _, p := range s.parts {
		n += len(p.open)
	}
	return n
}

// watermark returns the least watermark of the partitions.
func (s *Sessionizer) watermark() int64 {
	w := s.parts[0].watermark
	for _, p := range s.parts[1:] {
		w = min(w, p.watermark)
	}
	return w
}

// completeHours returns the ends of the hours with a spool that the last
// checkpoint declared complete.
func (s *Sessionizer) completeHours() []int64 {
	hours, err := s.spool.hours()
	if err != nil {
		s.logger.Error("sessionizer: cannot list the spool", "err", err)
	}
	var ends []int64
	for _, h := range hours {
		if end := h + time.Hour.Milliseconds(); end <= s.complete {
			ends = append(ends, end)
		}
	}
	return ends
}

// dueVisit is an open visit in the order of its closing time.
type dueVisit struct {
	closeAt int64
	key     string
	visit   *trackedVisit
}

// dueHeap is a min-heap of open visits by closing time. A visit has one
// entry; an entry whose visit has since been extended is pushed again with
// the new time when it comes up, and one whose visit has been closed is
// dropped.
type dueHeap []dueVisit

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].closeAt < h[j].closeAt }
func (h dueHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *dueHeap) Push(x any)        { *h = append(*h, x.(dueVisit)) }
func (h *dueHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

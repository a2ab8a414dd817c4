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
// # Bounded memory
//
// An open visit always holds where its events are in the log: a few bytes
// for each run of adjacent records (a batch's events are adjacent) and
// about 600 bytes of its own (refs.go). While it is small (64 KiB of event
// data) and its partition's open visits take less than their share of
// CacheBytes, it also keeps its events, so that closing it reads nothing;
// otherwise, and after a restart, its events are read again from the log
// when it closes. A checkpoint holds only where events are: its size and a
// restart's time grow with the open visits' batches, not their bytes.
//
// Three bounds hold whatever clients send. A visit reaching MaxVisitEvents
// or MaxVisitBytes is closed at the event that would pass the limit, which
// starts a continuation (as the longest duration does): no event is lost,
// and no document grows without end. A partition whose open visits take
// more than its share of MaxOpenBytes closes early those due to close
// first. And the closed visits remembered for numbering continuations are
// at most MaxClosedVisits. Closing early is counted, by reason, in
// sightline_sessionizer_visits_split_total; a real visit never meets the
// first two (50,000 events, 32 MiB), the third only under a flood of
// visits.
//
// # Pages of open visits
//
// VisitPages (pages.go) gives the agent workspace the pages of a
// visitor's open visit: Run, between two steps, copies where the visit's
// records are, and the caller reads the page views from the log itself,
// bounded in records read and pages returned. The lookup names the
// account, visitor and visit, and keeps only that visit's records, so an
// account never sees another's. Reading the visitor's partition of the
// log by time instead would need no sessionizer, but would read every
// visitor's records of that time to find one visitor's; the sessionizer
// knows where they are already.
//
// A checkpoint of offsets alone, reading the log again from the first
// event of the oldest open visit, would be smaller still, but restarts
// would read up to a day of log, and it is subtle: a visit closed by the
// 24-hour rule whose events straddle that offset would be rebuilt from
// its tail, with another first event and so another closing time, and
// written a second time.
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
	// MaxVisitEvents and MaxVisitBytes bound a visit (50,000 events, 32 MiB
	// of event data): the event that would pass either closes the visit
	// and starts a continuation of it, as the longest duration does.
	MaxVisitEvents int
	MaxVisitBytes  int64
	// MaxOpenBytes bounds the memory the open visits take (512 MiB, about
	// a million visits), shared evenly by the partitions: past its share,
	// a partition closes early the visits due to close first.
	MaxOpenBytes int64
	// CacheBytes is how much memory the open visits may take while new
	// visits keep their events in memory, as well as where they are in
	// the log, so that closing them reads nothing (a quarter of
	// MaxOpenBytes); negative for none.
	CacheBytes int64
	// MaxClosedVisits bounds how many closed visits are remembered for
	// numbering continuations (2,000,000, about 100 MB): past it the
	// oldest are forgotten first.
	MaxClosedVisits int
	// AnonymizeIP zeroes the last octet of IPv4 and the last 80 bits of
	// IPv6 addresses as events are read, before the spool, the checkpoint
	// or the files hold them.
	AnonymizeIP bool
}

// WithDefaults returns c with the defaults of its zero fields filled in.
func (c Config) WithDefaults() Config {
	setDefault(&c.Timeout, 30*time.Minute)
	setDefault(&c.MaxDuration, 24*time.Hour)
	setDefault(&c.CheckpointInterval, 10*time.Second)
	setDefault(&c.Lag, 10*time.Second)
	setDefault(&c.Poll, 250*time.Millisecond)
	setDefault(&c.MaxVisitEvents, 50_000)
	setDefault(&c.MaxVisitBytes, 32<<20)
	setDefault(&c.MaxOpenBytes, 512<<20)
	setDefault(&c.CacheBytes, c.MaxOpenBytes/4)
	setDefault(&c.MaxClosedVisits, 2_000_000)
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// setDefault sets *v to def if it is the zero value.
func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// Sessionizer is the consumer of the log that builds visits. It is used
// by one goroutine (Run).
type Sessionizer struct {
	cfg    Config
	log    eventlog.RangeReader
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
	// scratch holds the data of the events of the visit being closed.
	scratch []byte
	// closedCount counts the visits closed, flushedCount those of them
	// closed by the previous flush, for Flush's answer.
	closedCount, flushedCount int64
	// lock is Dir's LOCK, held from New to Close: one sessionizer works on
	// a state directory at a time.
	lock *os.File
	// flushes carries Flush's requests to Run, which closes done when it
	// returns.
	flushes chan flushRequest
	done    chan struct{}
	// lookups carries VisitPages' requests to Run (pages.go).
	lookups chan pagesRequest
	// stall is Run's failure while it retries.
	stall stall
}

// partition is the state of one partition of the log.
type partition struct {
	id        int
	next      eventlog.Offset
	watermark int64 // epoch ms
	open      map[string]*trackedVisit
	due       dueHeap
	// openBytes is the memory the open visits take (their cost).
	openBytes int64
	// closing are the visits closed and not yet spooled: read, closing
	// decisions are made on the go, and the visits' events read from the
	// log and spooled after.
	closing []*trackedVisit
	// closed remembers, for the visits closed in the last closedMemory,
	// by a hash of their key, how many documents each has had, so that a
	// late event's continuation is numbered. A later one is written as a
	// visit's first document again. (A hash collision, about one in 2^64,
	// only misnumbers a continuation.)
	closed map[uint64]closedEntry
	// forget lists closed's entries oldest first, to prune them by age
	// and number; an entry whose visit closed again since is skipped.
	forget closedQueue
}

type closedEntry struct {
	documents int32
	at        int64 // closeAt of the last one, epoch ms
}

// closedRef is an entry of a partition's closed visits, in the order
// they are forgotten.
type closedRef struct {
	hash uint64
	at   int64
}

// closedQueue is a FIFO of closedRefs.
type closedQueue struct {
	refs []closedRef
	head int // refs[head:] are queued
}

func (q *closedQueue) push(r closedRef) { q.refs = append(q.refs, r) }

func (q *closedQueue) len() int { return len(q.refs) - q.head }

// pop removes and returns the oldest ref; q must not be empty.
func (q *closedQueue) pop() closedRef {
	r := q.refs[q.head]
	q.head++
	if q.head >= 1024 && q.head*2 >= len(q.refs) { // reuse the front
		q.refs = q.refs[:copy(q.refs, q.refs[q.head:])]
		q.head = 0
	}
	return r
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
func New(logger *slog.Logger, log eventlog.RangeReader, cfg Config, m *Metrics, onComplete func(hourEnd int64)) (*Sessionizer, error) {
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
	if err := s.restore(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// restore brings the sessionizer back to its last checkpoint, or to its
// beginning if there is none: what it holds is dropped, the state is read
// from the checkpoint and the spool cut back to it. Hours complete at the
// checkpoint whose files may not be written yet are reported again.
func (s *Sessionizer) restore() error {
	s.spool.closeAll()
	s.reset()
	lengths, err := s.loadCheckpoint()
	if err != nil {
		return err
	}
	if err := s.spool.recover(lengths, s.complete); err != nil {
		return err
	}
	s.lastCheckpoint = s.cfg.Now()
	for _, end := range s.completeHours() {
		s.onComplete(end)
	}
	return nil
}

// reset empties the state: no partition read, no visit open.
func (s *Sessionizer) reset() {
	s.complete = 0
	s.parts = make([]*partition, s.log.Partitions())
	for i := range s.parts {
		s.parts[i] = &partition{id: i, open: map[string]*trackedVisit{}, closed: map[uint64]closedEntry{}}
	}
}

// newSessionizer returns a sessionizer with no state.
func newSessionizer(logger *slog.Logger, log eventlog.RangeReader, cfg Config, m *Metrics) *Sessionizer {
	cfg = cfg.WithDefaults()
	if m == nil {
		m, _ = NewMetrics(nil)
	}
	s := &Sessionizer{cfg: cfg, log: log, logger: logger, spool: spool{dir: filepath.Join(cfg.Dir, "spool")}, metrics: m,
		flushes: make(chan flushRequest), done: make(chan struct{}), lookups: make(chan pagesRequest)}
	s.reset()
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
// checkpoint, and returns nil. It serves Flush's and VisitPages' requests
// meanwhile.
//
// A failure (a spool or checkpoint write on a full disk, a read error)
// stalls it rather than stopping it: Stalled reports the failure, Flush
// answers ErrStalled, and Run waits with a growing backoff, then goes back
// to the last checkpoint, as a restart would, and reads on from there.
func (s *Sessionizer) Run(ctx context.Context) error {
	defer close(s.done)
	var retry backoff
	for {
		err := s.run(ctx)
		if ctx.Err() != nil {
			// Stopped: a stalled sessionizer writes no checkpoint (its state
			// is not one to keep); the next start goes on from the last.
			return err
		}
		s.setStalled(err)
		for {
			wait := retry.next()
			s.logger.Error("sessionizer stalled: retrying from the last checkpoint", "err", err, "retry_in", wait)
			if !s.pause(ctx, wait, err) {
				return nil
			}
			if err = s.restore(); err == nil {
				break
			}
			s.setStalled(err)
		}
		s.logger.Info("sessionizer resumed from the last checkpoint")
		s.setStalled(nil)
		retry.reset()
	}
}

// run is Run until ctx ends (then it checkpoints) or a failure.
func (s *Sessionizer) run(ctx context.Context) error {
	for {
		select {
		case req := <-s.flushes:
			if err := s.serveFlush(req); err != nil {
				return err
			}
		case req := <-s.lookups:
			s.servePages(req)
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
				if err := s.serveFlush(req); err != nil {
					return err
				}
			case req := <-s.lookups:
				s.servePages(req)
			case <-time.After(s.cfg.Poll):
			}
		}
	}
}

// serveFlush carries out a Flush request and answers it. It returns the
// flush's failure, unless the request ended first (the flush stopped
// reading: nothing is amiss).
func (s *Sessionizer) serveFlush(req flushRequest) error {
	res, err := s.flush(req.ctx, req.at)
	req.answer(res, err)
	if err != nil && req.ctx.Err() == nil {
		return err
	}
	return nil
}

// pause waits for d while stalled by err, answering flushes with
// ErrStalled. It returns false if ctx ended.
func (s *Sessionizer) pause(ctx context.Context, d time.Duration, err error) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case req := <-s.flushes:
			req.answer(FlushResult{}, fmt.Errorf("%w: %v", ErrStalled, err))
		case req := <-s.lookups:
			req.answer <- visitRefs{err: fmt.Errorf("%w: %v", ErrStalled, err)}
		case <-t.C:
			return true
		}
	}
}

// setStalled records a failure of Run, or that it works again (nil).
func (s *Sessionizer) setStalled(err error) {
	s.stall.set(err)
	s.metrics.setStalled(consumerSessionizer, err)
}

// Stalled returns the failure Run is retrying after, or nil while it
// works. Any goroutine may call it.
func (s *Sessionizer) Stalled() error { return s.stall.get() }

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
// spools the visits that are due (closeDue also spools those the records
// read closed). It returns the number of records read.
func (s *Sessionizer) stepPartition(ctx context.Context, p *partition, chunk int) (int, error) {
	n := 0
	next, err := s.log.Read(ctx, p.id, p.next, chunk, func(m eventlog.Message) bool {
		n++
		s.add(p, m)
		return true
	})
	if err != nil {
		p.next = next // what was read before the error was taken
		return n, fmt.Errorf("sessionizer: read partition %d: %w", p.id, err)
	}
	if next == p.next {
		// Read to the end: the partition's clock is the wall clock.
		p.watermark = max(p.watermark, s.cfg.Now().Add(-s.cfg.Lag).UnixMilli())
	}
	p.next = next
	return n, s.closeDue(ctx, p)
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
	switch {
	case v == nil:
	case at >= v.closeAt:
		s.close(p, key, v, "") // the visit is over: this event starts a continuation
		v = nil
	case v.events >= s.cfg.MaxVisitEvents:
		s.close(p, key, v, splitEvents)
		v = nil
	case v.bytes+int64(len(rec.Data)) > s.cfg.MaxVisitBytes:
		s.close(p, key, v, splitBytes)
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
		v.cached = p.openBytes <= s.cacheShare()
	}
	v.first, v.last = min(v.first, at), max(v.last, at)
	v.closeAt = s.closeAt(v)
	v.refs.add(m.Offset, m.Next)
	v.events++
	v.bytes += int64(len(rec.Data))
	switch {
	case !v.cached:
	case v.bytes > maxCachedVisit || p.openBytes > s.cacheShare():
		v.cached, v.cache, v.held = false, nil, 0 // read from the log when it closes
	default:
		v.cache = append(v.cache, websession.Event{
			Time: rec.Time, ServerTime: at,
			App: s.names.string(rec.AppName), Name: s.names.string(rec.EventName),
			Data: bytes.Clone(rec.Data),
		})
		v.held += int64(len(rec.Data)) + eventOverhead
	}
	p.recost(key, v)
	if p.openBytes > s.cfg.MaxOpenBytes/int64(len(s.parts)) {
		s.shed(p)
	}
}

// An open visit keeps its events in memory, as well as where they are in
// the log, while it is small and its partition's visits take less than
// its share of CacheBytes: most visits close without reading the log
// again. A visit restored from a checkpoint, or past these, keeps only
// where its events are.
const (
	maxCachedVisit = 64 << 10 // bytes of event data
	eventOverhead  = 64       // what an event takes beyond its data
)

// cacheShare is how much memory a partition's open visits may take while
// new visits keep their events.
func (s *Sessionizer) cacheShare() int64 { return s.cfg.CacheBytes / int64(len(s.parts)) }

// Why a visit was closed before its time (the reason label of
// sightline_sessionizer_visits_split_total).
const (
	splitEvents = "events" // it reached MaxVisitEvents
	splitBytes  = "bytes"  // it reached MaxVisitBytes
	splitMemory = "memory" // its partition's visits reached their share of MaxOpenBytes
)

// visitOverhead is about what an open visit takes beyond its strings and
// refs: the visit, its entries in the open map and the due heap.
const visitOverhead = 400

// recost updates what v, open under key, takes in memory.
func (p *partition) recost(key string, v *trackedVisit) {
	cost := visitOverhead + 2*int64(len(key)) + int64(len(v.IP)+len(v.UserAgent)+cap(v.refs.runs))
	cost += v.held
	p.openBytes += cost - v.cost
	v.cost = cost
}

// shed closes the visits of p due to close first until p's open visits
// take no more than their share of MaxOpenBytes.
func (s *Sessionizer) shed(p *partition) {
	for p.openBytes > s.cfg.MaxOpenBytes/int64(len(s.parts)) && len(p.due) > 0 {
		d := heap.Pop(&p.due).(dueVisit)
		if p.open[d.key] == d.visit {
			s.close(p, d.key, d.visit, splitMemory)
		}
	}
}

// visitKey is the key of a visit in a partition's open visits.
func visitKey(account, visitor, visit string) string {
	return account + "\x00" + visitor + "\x00" + visit
}

func (s *Sessionizer) closeAt(v *trackedVisit) int64 {
	return min(v.last+s.cfg.Timeout.Milliseconds(), v.first+s.cfg.MaxDuration.Milliseconds())
}

// closeDue closes and spools the visits of p whose closeAt the watermark
// has reached.
func (s *Sessionizer) closeDue(ctx context.Context, p *partition) error {
	for len(p.due) > 0 && p.due[0].closeAt <= p.watermark {
		d := heap.Pop(&p.due).(dueVisit)
		switch v := d.visit; {
		case p.open[d.key] != v:
			// Closed already, by an event after its closeAt.
		case v.closeAt > p.watermark:
			heap.Push(&p.due, dueVisit{closeAt: v.closeAt, key: d.key, visit: v}) // later events extended it
		default:
			s.close(p, d.key, v, "")
		}
	}
	return s.spoolClosing(ctx, p)
}

// close closes the visit v of p, open under key, early for reason if
// that is not "": it is forgotten, and spooled by spoolClosing.
func (s *Sessionizer) close(p *partition, key string, v *trackedVisit, reason string) {
	delete(p.open, key)
	p.openBytes -= v.cost
	h := hashKey(key)
	p.closed[h] = closedEntry{documents: int32(v.Continuation + 1), at: v.closeAt}
	p.forget.push(closedRef{hash: h, at: v.closeAt})
	if reason != "" {
		s.metrics.splitVisits.WithLabelValues(reason).Inc()
	}
	s.closedCount++
	s.metrics.closedVisits.Inc()
	p.closing = append(p.closing, v)
}

// spoolClosing reads the events of the visits of p that closed from the
// log and spools them.
func (s *Sessionizer) spoolClosing(ctx context.Context, p *partition) error {
	for i, v := range p.closing {
		if err := s.load(ctx, p, v); err != nil {
			return err
		}
		slices.SortStableFunc(v.Events, func(a, b websession.Event) int {
			if a.Time != b.Time {
				return cmpInt(a.Time, b.Time)
			}
			return cmpInt(a.ServerTime, b.ServerTime)
		})
		if err := s.spoolVisit(v); err != nil {
			return err
		}
		// The due heap may still hold v until its closing time: keep
		// nothing big there.
		v.Events, v.cache, v.refs = nil, nil, refs{}
		p.closing[i] = nil
	}
	p.closing = p.closing[:0]
	if cap(s.scratch) > maxScratch {
		s.scratch = nil
	}
	return nil
}

// maxScratch is the largest scratch buffer kept between closes.
const maxScratch = 4 << 20

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

// openBytes returns the memory the open visits take.
func (s *Sessionizer) openBytes() int64 {
	var n int64
	for _, p := range s.parts {
		n += p.openBytes
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

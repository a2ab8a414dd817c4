package sessionizer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/sightline/sightline/internal/atomicfile"
	"github.com/sightline/sightline/internal/filelock"
	"github.com/sightline/sightline/internal/hourfiles"
	"github.com/sightline/sightline/internal/websession"
)

// Store keeps the web-session files (filestore.Dir), in generations
// (package hourfiles).
type Store interface {
	hourfiles.Store
	Accounts(ctx context.Context) ([]string, error)
}

// HoursConfig configures the hourly job.
type HoursConfig struct {
	// Dir is the sessionizer's Config.Dir, whose spool the job reads.
	Dir string
	// PartBytes starts a new part of an hour's file once this many bytes
	// of documents (before compression) are in the current one (256 MiB).
	PartBytes int64
	// Retention deletes files whose hour ended longer ago (30 days).
	Retention time.Duration
	// Grace is how long a generation an hour's rebuild superseded stays
	// downloadable (hourfiles.DefaultGrace).
	Grace time.Duration
	// Lock, when set, is a file every writer of hours of the same store
	// locks while it writes one (the server's hourly job and rebuilds), so
	// that one at a time works on an hour.
	Lock string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Hours writes the web-session files of the hours the sessionizer
// completes: for each account with visits closed in the hour, gzip parts of
// newline-delimited documents, each written whole, then it deletes the
// hour's spool. Writing an hour again gives the same files.
type Hours struct {
	cfg     HoursConfig
	store   Store
	render  func(dst []byte, v *websession.Visit) []byte
	logger  *slog.Logger
	metrics *Metrics

	mu      sync.Mutex
	pending []int64 // ends of complete hours not yet written, epoch ms
	wake    chan struct{}
	// written remembers what writing the last hours did, by hour end, for
	// a WriteHour of an hour another goroutine has just written.
	written map[int64]HourResult
	// stall is Run's failure while it retries.
	stall stall
}

// rememberedHours is how many hours' results Hours remembers.
const rememberedHours = 48

// NewHours returns the hourly job. render appends the document of a visit.
// m may be shared with the sessionizer; nil means none.
func NewHours(logger *slog.Logger, store Store, cfg HoursConfig, m *Metrics, render func(dst []byte, v *websession.Visit) []byte) *Hours {
	if m == nil {
		m, _ = NewMetrics(nil)
	}
	setDefault(&cfg.PartBytes, 256<<20)
	setDefault(&cfg.Retention, 30*24*time.Hour)
	setDefault(&cfg.Grace, hourfiles.DefaultGrace)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Hours{cfg: cfg, store: store, render: render, logger: logger, metrics: m, wake: make(chan struct{}, 1)}
}

// Complete tells the job that the hour ending at hourEnd (epoch ms) is
// complete. It does not block; Run writes the hour.
func (h *Hours) Complete(hourEnd int64) {
	h.mu.Lock()
	if !slices.Contains(h.pending, hourEnd) {
		h.pending = append(h.pending, hourEnd)
	}
	h.mu.Unlock()
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// Run writes the complete hours as they come, until ctx ends. An hour that
// fails stalls the job (Stalled) and is tried again after a backoff that
// grows from a second to a minute. Expired files are deleted after each
// round and at least hourly, also when no visits come.
func (h *Hours) Run(ctx context.Context) {
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	var wait backoff
	hourly := time.NewTicker(time.Hour)
	defer hourly.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.wake:
		case <-retry.C:
		case <-hourly.C:
		}
		for {
			h.mu.Lock()
			if len(h.pending) == 0 {
				h.mu.Unlock()
				break
			}
			slices.Sort(h.pending)
			end := h.pending[0]
			h.mu.Unlock()
			if _, err := h.WriteHour(ctx, end); err != nil {
				if ctx.Err() == nil {
					d := wait.next()
					h.logger.Error("cannot write web-session files", "hour", time.UnixMilli(end-time.Hour.Milliseconds()).UTC(), "err", err, "retry_in", d)
					h.setStalled(err)
					retry.Reset(d)
				}
				break
			}
			wait.reset()
			h.setStalled(nil)
			h.mu.Lock()
			h.pending = slices.DeleteFunc(h.pending, func(e int64) bool { return e == end })
			h.mu.Unlock()
		}
		if err := h.expire(ctx); err != nil && ctx.Err() == nil {
			h.logger.Error("cannot delete expired web-session files", "err", err)
		}
	}
}

// setStalled records a failure to write an hour, or a success (nil).
func (h *Hours) setStalled(err error) {
	h.stall.set(err)
	h.metrics.setStalled(consumerHours, err)
}

// Stalled returns the failure Run is retrying after, or nil while it
// works. Any goroutine may call it.
func (h *Hours) Stalled() error { return h.stall.get() }

// HourResult is what writing an hour did.
type HourResult struct {
	// Visits is the number of visits written, by account.
	Visits map[string]int
	// Parts is the number of files written.
	Parts int
	// Unchanged counts the accounts whose new files were those already
	// there, byte for byte, and so were not made a new generation.
	Unchanged int
}

// Total returns the number of visits written, of every account.
func (r HourResult) Total() int {
	n := 0
	for _, v := range r.Visits {
		n += v
	}
	return n
}

// WriteHour writes the files of the hour ending at hourEnd from its spool,
// as a new generation of each account's hour, and deletes the spool. An
// hour without a spool is already written: the result is that of its
// writing if h did it lately, else empty. An account whose files come out
// the same as its current generation's keeps that generation.
func (h *Hours) WriteHour(ctx context.Context, hourEnd int64) (HourResult, error) {
	var res HourResult
	start := time.Now()
	hourStart := hourEnd - time.Hour.Milliseconds()
	dir := filepath.Join(h.cfg.Dir, "spool", strconv.FormatInt(hourStart, 10))
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return h.writtenResult(hourEnd), nil
	}
	if h.cfg.Lock != "" {
		lock, err := filelock.Lock(h.cfg.Lock, true)
		if err != nil {
			return res, fmt.Errorf("web-session hour: %w", err)
		}
		defer lock.Close()
	}
	// Read with the lock held: another writer of the same spool (a flush)
	// may have written the hour meanwhile.
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return h.writtenResult(hourEnd), nil
	}
	if err != nil {
		return res, fmt.Errorf("web-session hour: %w", err)
	}
	res.Visits = map[string]int{}
	for _, e := range entries {
		n, parts, same, err := h.writeAccount(ctx, filepath.Join(dir, e.Name()), e.Name(), hourStart, hourEnd)
		if err != nil {
			return res, fmt.Errorf("web-session hour %d, account %s: %w", hourStart, e.Name(), err)
		}
		res.Visits[e.Name()], res.Parts = n, res.Parts+parts
		if same {
			res.Unchanged++
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return res, fmt.Errorf("web-session hour: %w", err)
	}
	if err := atomicfile.Sync(filepath.Dir(dir)); err != nil {
		return res, fmt.Errorf("web-session hour: %w", err)
	}
	h.remember(hourEnd, res)
	h.metrics.visitsWritten.Add(float64(res.Total()))
	h.metrics.filesWritten.Add(float64(res.Parts))
	h.metrics.hourSeconds.Observe(time.Since(start).Seconds())
	h.logger.Info("web-session files written", "hour", time.UnixMilli(hourStart).UTC(), "accounts", len(res.Visits),
		"files", res.Parts, "visits", res.Total(), "unchanged_accounts", res.Unchanged, "took", time.Since(start).Round(time.Millisecond))
	return res, nil
}

func (h *Hours) writtenResult(hourEnd int64) HourResult {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.written[hourEnd]
}

// remember keeps res as the result of the hour ending at hourEnd, and
// forgets the oldest beyond rememberedHours.
func (h *Hours) remember(hourEnd int64, res HourResult) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.written == nil {
		h.written = map[int64]HourResult{}
	}
	h.written[hourEnd] = res
	if len(h.written) > rememberedHours {
		delete(h.written, slices.Min(slices.Collect(maps.Keys(h.written))))
	}
}

// writeAccount writes the parts of one account's hour from its spool file
// as a new generation, and returns the number of visits and parts written,
// and whether they were the current generation's already (same), in which
// case the new one is dropped. Documents are rendered on every CPU
// (startRenderer) while this goroutine compresses them; a part ends after
// the batch that takes it to PartBytes.
func (h *Hours) writeAccount(ctx context.Context, spoolPath, account string, hourStart, hourEnd int64) (visits, parts int, same bool, err error) {
	f, err := os.Open(spoolPath)
	if err != nil {
		return 0, 0, false, err
	}
	defer f.Close()
	sorted, err := sortedSpool(f)
	if err != nil {
		return 0, 0, false, err
	}
	gen, err := hourfiles.Begin(ctx, h.store, account, time.UnixMilli(hourStart), time.UnixMilli(hourEnd))
	if err != nil {
		return 0, 0, false, err
	}
	if visits, parts, err = h.writeParts(ctx, gen, sorted); err == nil {
		if same, err = gen.Same(ctx); err == nil && same {
			err = gen.Abort(ctx)
		} else if err == nil {
			err = gen.Commit(ctx, visits)
		}
	}
	if err != nil {
		// Left for Expire: a generation without manifest is never visible.
		return visits, parts, false, err
	}
	return visits, parts, same, nil
}

// writeParts writes the documents of the visits r holds, in order, as the
// parts of gen.
func (h *Hours) writeParts(ctx context.Context, gen *hourfiles.Generation, r io.Reader) (visits, parts int, err error) {
	rd := startRenderer(r, h.render)
	defer rd.close()
	b, off := rd.next(), 0 // the batch being written and how much of it is
	for b != nil {
		err := gen.PutPart(ctx, parts, func(w io.Writer) error {
			gz, _ := gzip.NewWriterLevel(w, gzip.DefaultCompression)
			for size := int64(0); b != nil && size < h.cfg.PartBytes; {
				if b.err != nil {
					return b.err
				}
				// The whole batch, or the documents that fill the part.
				end := len(b.docs)
				if room := h.cfg.PartBytes - size; int64(end-off) > room {
					end = off + int(room)
					end += bytes.IndexByte(b.docs[end-1:], '\n')
				}
				if _, err := gz.Write(b.docs[off:end]); err != nil {
					return err
				}
				size += int64(end - off)
				visits += bytes.Count(b.docs[off:end], []byte{'\n'})
				if off = end; off == len(b.docs) {
					rd.recycle(b)
					b, off = rd.next(), 0
				}
			}
			return gz.Close()
		})
		if err != nil {
			return visits, parts, err
		}
		parts++
	}
	return visits, parts, nil
}

// expire deletes the files whose hour ended more than the retention ago,
// and the generations superseded more than the grace ago.
func (h *Hours) expire(ctx context.Context) error {
	accounts, err := h.store.Accounts(ctx)
	if err != nil {
		return err
	}
	now := h.cfg.Now()
	var errs []error
	for _, a := range accounts {
		if _, err := hourfiles.Expire(ctx, h.store, a, now, now.Add(-h.cfg.Retention), h.cfg.Grace); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

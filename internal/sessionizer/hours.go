package sessionizer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/sightline/sightline/internal/atomicfile"
	"github.com/sightline/sightline/internal/filestore"
	"github.com/sightline/sightline/internal/websession"
)

// Store keeps the web-session files (filestore.Dir).
type Store interface {
	Put(ctx context.Context, account, name string, write func(io.Writer) error) error
	List(ctx context.Context, account string) ([]filestore.Info, error)
	Remove(ctx context.Context, account, name string) error
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
}

// NewHours returns the hourly job. render appends the document of a visit.
// m may be shared with the sessionizer; nil means none.
func NewHours(logger *slog.Logger, store Store, cfg HoursConfig, m *Metrics, render func(dst []byte, v *websession.Visit) []byte) *Hours {
	if m == nil {
		m, _ = NewMetrics(nil)
	}
	if cfg.PartBytes == 0 {
		cfg.PartBytes = 256 << 20
	}
	if cfg.Retention == 0 {
		cfg.Retention = 30 * 24 * time.Hour
	}
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
// fails is tried again a minute later. Expired files are deleted after
// each round and at least hourly, also when no visits come.
func (h *Hours) Run(ctx context.Context) {
	retry := time.NewTimer(time.Hour)
	retry.Stop()
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
			if err := h.WriteHour(ctx, end); err != nil {
				if ctx.Err() == nil {
					h.logger.Error("cannot write web-session files", "hour", time.UnixMilli(end-time.Hour.Milliseconds()).UTC(), "err", err)
					retry.Reset(time.Minute)
				}
				break
			}
			h.mu.Lock()
			h.pending = slices.DeleteFunc(h.pending, func(e int64) bool { return e == end })
			h.mu.Unlock()
		}
		if err := h.expire(ctx); err != nil && ctx.Err() == nil {
			h.logger.Error("cannot delete expired web-session files", "err", err)
		}
	}
}

// WriteHour writes the files of the hour ending at hourEnd from its spool
// and deletes the spool. An hour without a spool is already written.
func (h *Hours) WriteHour(ctx context.Context, hourEnd int64) error {
	start := time.Now()
	hourStart := hourEnd - time.Hour.Milliseconds()
	dir := filepath.Join(h.cfg.Dir, "spool", strconv.FormatInt(hourStart, 10))
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("web-session hour: %w", err)
	}
	visits, files := 0, 0
	for _, e := range entries {
		n, parts, err := h.writeAccount(ctx, filepath.Join(dir, e.Name()), e.Name(), hourStart, hourEnd)
		if err != nil {
			return fmt.Errorf("web-session hour %d, account %s: %w", hourStart, e.Name(), err)
		}
		visits, files = visits+n, files+parts
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("web-session hour: %w", err)
	}
	if err := atomicfile.Sync(filepath.Dir(dir)); err != nil {
		return fmt.Errorf("web-session hour: %w", err)
	}
	h.metrics.visitsWritten.Add(float64(visits))
	h.metrics.filesWritten.Add(float64(files))
	h.metrics.hourSeconds.Observe(time.Since(start).Seconds())
	h.logger.Info("web-session files written", "hour", time.UnixMilli(hourStart).UTC(), "accounts", len(entries),
		"files", files, "visits", visits, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// writeAccount writes the parts of one account's hour from its spool file
// and returns the number of visits and parts written. Documents are
// rendered on every CPU (startRenderer) while this goroutine compresses
// them; a part ends after the batch that takes it to PartBytes.
func (h *Hours) writeAccount(ctx context.Context, spoolPath, account string, hourStart, hourEnd int64) (visits, parts int, err error) {
	f, err := os.Open(spoolPath)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sorted, err := sortedSpool(f)
	if err != nil {
		return 0, 0, err
	}
	rd := startRenderer(sorted, h.render)
	defer rd.close()
	b, off := rd.next(), 0 // the batch being written and how much of it is
	for b != nil {
		name := websession.FileName{ScopeStart: time.UnixMilli(hourStart), ScopeEnd: time.UnixMilli(hourEnd), Part: parts}
		err := h.store.Put(ctx, account, name.String(), func(w io.Writer) error {
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

// expire deletes the files whose hour ended more than the retention ago.
func (h *Hours) expire(ctx context.Context) error {
	accounts, err := h.store.Accounts(ctx)
	if err != nil {
		return err
	}
	cutoff := h.cfg.Now().Add(-h.cfg.Retention)
	var errs []error
	for _, a := range accounts {
		files, err := h.store.List(ctx, a)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, f := range files {
			if name, err := websession.ParseFileName(f.Name); err == nil && name.ScopeEnd.Before(cutoff) {
				errs = append(errs, h.store.Remove(ctx, a, f.Name))
			}
		}
	}
	return errors.Join(errs...)
}

// Package ingest is the collector: the HTTP endpoint that browsers (the
// tag) and servers POST event batches to. It checks the account and the
// page origin, reads the body within limits, decodes and validates every
// event with package event, drops events already stored (package dedup),
// stamps what the server knows (receive time, client IP, User-Agent) and
// appends the batch to the event log. It answers 200 only once the log has
// made the batch durable.
//
// The hot path reuses per-request state from a pool and bounds how many
// bodies are processed at once, so memory stays bounded under any load:
// at most Config.MaxConcurrent bodies of Config.MaxBodyBytes, plus what the
// log buffers before refusing with eventlog.ErrBusy.
package ingest

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/dedup"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/eventlog"
)

// Config configures the collector.
type Config struct {
	// MaxBodyBytes limits a body, and what a gzip body decompresses to.
	MaxBodyBytes int64
	// MaxConcurrent bounds the requests whose bodies are read and processed
	// at once; others wait up to QueueTimeout, then get 429.
	MaxConcurrent int
	QueueTimeout  time.Duration
	// TrustedProxies are the peers whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// Now is the clock events are stamped with (serverTime) and checked
	// against; nil means time.Now.
	Now func() time.Time
}

// DefaultConfig returns the defaults: 1 MiB bodies, 64 requests per CPU at
// once. Requests hold their slot while the log makes them durable, so the
// limit must cover the requests of a few group commits.
func DefaultConfig() Config {
	return Config{
		MaxBodyBytes:  1 << 20,
		MaxConcurrent: 64 * runtime.GOMAXPROCS(0),
		QueueTimeout:  time.Second,
	}
}

// Accounts finds accounts by ID.
type Accounts interface {
	Get(id string) (*account.Account, bool)
}

// Handler serves POST /api/account/{accountId}/events and its CORS preflight.
type Handler struct {
	cfg      Config
	logger   *slog.Logger
	accounts Accounts
	log      eventlog.Appender
	dedup    *dedup.Index
	metrics  *metrics
	slots    chan struct{}
	now      func() time.Time
	pool     sync.Pool // *request
}

// New returns a collector appending to log. reg may be nil.
func New(cfg Config, logger *slog.Logger, reg prometheus.Registerer, accounts Accounts, log eventlog.Appender, ix *dedup.Index) *Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{
		cfg:      cfg,
		logger:   logger.With("component", "ingest"),
		accounts: accounts,
		log:      log,
		dedup:    ix,
		metrics:  newMetrics(reg, ix),
		slots:    make(chan struct{}, max(cfg.MaxConcurrent, 1)),
		now:      cfg.Now,
	}
	if h.now == nil {
		h.now = time.Now
	}
	h.pool.New = func() any { return &request{seen: map[string]struct{}{}} }
	return h
}

// Register adds the collector's routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/account/{accountId}/events", h.serveEvents)
	mux.HandleFunc("OPTIONS /api/account/{accountId}/events", h.servePreflight)
}

// request is the reusable state of one request.
type request struct {
	body    bytes.Buffer
	dec     event.Decoder
	batch   event.Batch
	records []byte
	ends    []int
	values  [][]byte
	keys    []dedup.Key
	dup     []bool
	fresh   []int // indexes into batch.Events of events to store
	seen    map[string]struct{}
	key     []byte
	resp    []byte
}

func (q *request) reset() {
	q.body.Reset()
	q.records, q.ends, q.values = q.records[:0], q.ends[:0], q.values[:0]
	q.keys, q.dup, q.fresh = q.keys[:0], q.dup[:0], q.fresh[:0]
	q.key, q.resp = q.key[:0], q.resp[:0]
	clear(q.seen)
}

// maxPooledBody is the largest body buffer kept for reuse.
const maxPooledBody = 256 << 10

func (h *Handler) putRequest(q *request) {
	if q.body.Cap() > maxPooledBody || cap(q.records) > 4*maxPooledBody {
		return
	}
	h.pool.Put(q)
}

func (h *Handler) serveEvents(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	code := h.handleEvents(w, r)
	h.metrics.request(code)
	h.metrics.duration.Observe(time.Since(start).Seconds())
}

func (h *Handler) handleEvents(w http.ResponseWriter, r *http.Request) int {
	acct, code := h.checkAccount(w, r)
	if acct == nil {
		return code
	}
	if !h.acquire(r.Context()) {
		w.Header().Set("Retry-After", "1")
		return writeError(w, http.StatusTooManyRequests, "too many requests in progress, retry later")
	}
	defer func() { <-h.slots }()

	q := h.pool.Get().(*request)
	defer h.putRequest(q)
	q.reset()

	if err := readBody(w, r, &q.body, h.cfg.MaxBodyBytes); err != nil {
		if errors.Is(err, errTooLarge) {
			return writeError(w, http.StatusRequestEntityTooLarge, err.Error())
		}
		if se, ok := errors.AsType[*statusError](err); ok {
			return writeError(w, se.code, se.msg)
		}
		return writeError(w, http.StatusBadRequest, err.Error())
	}
	now := h.now()
	if err := q.dec.Decode(q.body.Bytes(), now, &q.batch); err != nil {
		return writeError(w, http.StatusBadRequest, err.Error())
	}
	b := &q.batch
	h.metrics.batchEvents.Observe(float64(len(b.Events) + len(b.Rejected)))
	for _, rej := range b.Rejected {
		h.metrics.rejected(rej.Err.Reason)
	}

	// Events repeated inside the batch count as duplicates at once; the
	// others are reserved in the dedup index.
	duplicates := 0
	for i := range b.Events {
		e := &b.Events[i]
		if e.ID == "" {
			e.ID = uuid.NewString()
		} else if _, ok := q.seen[e.ID]; ok {
			duplicates++
			continue
		} else if len(b.Events) > 1 {
			q.seen[e.ID] = struct{}{}
		}
		q.fresh = append(q.fresh, i)
		q.keys = append(q.keys, h.dedup.Key(acct.ID, e.ID))
	}
	q.dup = append(q.dup, make([]bool, len(q.keys))...)
	if err := h.dedup.Reserve(r.Context(), now, q.keys, q.dup); err != nil {
		w.Header().Set("Retry-After", "1")
		return writeError(w, http.StatusServiceUnavailable, "request ended while waiting for a concurrent request with the same event ids")
	}

	ip := clientIP(r, h.cfg.TrustedProxies)
	rec := event.Stored{
		AccountID:  acct.ID,
		VisitorID:  b.VisitorID,
		VisitID:    b.VisitID,
		ServerTime: now.UnixMilli(),
		UserAgent:  r.UserAgent(),
	}
	if ip.IsValid() {
		rec.IP = ip.String()
	}
	for j, i := range q.fresh {
		if q.dup[j] {
			duplicates++
			continue
		}
		e := &b.Events[i]
		rec.ID, rec.Time, rec.AppName, rec.EventName, rec.Data = e.ID, e.Time, e.AppName, e.EventName, e.Data
		q.records = event.AppendRecord(q.records, &rec)
		q.ends = append(q.ends, len(q.records))
	}
	prev := 0
	for _, end := range q.ends {
		q.values = append(q.values, q.records[prev:end])
		prev = end
	}
	// The append is not cancelled with the request: the handler must learn
	// whether the events were stored to settle the dedup reservations.
	var err error
	if len(q.values) > 0 {
		err = h.log.Append(context.WithoutCancel(r.Context()), partitionKey(q, acct.ID, b.VisitorID), q.values)
	}
	h.dedup.Settle(q.keys, q.dup, err == nil)
	if err != nil {
		return h.appendFailed(w, err)
	}
	h.metrics.accepted.Add(float64(len(q.values)))
	h.metrics.duplicates.Add(float64(duplicates))
	q.resp = appendResult(q.resp, len(q.values), duplicates, b.Rejected)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(q.resp)
	return http.StatusOK
}

// partitionKey keys the log by account and visitor, so a visitor's events
// stay in one partition, in order.
func partitionKey(q *request, accountID, visitorID string) []byte {
	q.key = append(q.key[:0], accountID...)
	q.key = append(q.key, '/')
	q.key = append(q.key, visitorID...)
	return q.key
}

func (h *Handler) appendFailed(w http.ResponseWriter, err error) int {
	switch {
	case errors.Is(err, eventlog.ErrBusy):
		h.metrics.overloaded.Inc()
		w.Header().Set("Retry-After", "1")
		return writeError(w, http.StatusTooManyRequests, "event log busy, retry later")
	case errors.Is(err, eventlog.ErrClosed):
		w.Header().Set("Retry-After", "1")
		return writeError(w, http.StatusServiceUnavailable, "server shutting down, retry later")
	default:
		h.logger.Error("cannot append events", "err", err)
		w.Header().Set("Retry-After", "10")
		return writeError(w, http.StatusServiceUnavailable, "event storage unavailable, retry later")
	}
}

// acquire waits for a processing slot for at most QueueTimeout.
func (h *Handler) acquire(ctx context.Context) bool {
	select {
	case h.slots <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(h.cfg.QueueTimeout)
	defer t.Stop()
	select {
	case h.slots <- struct{}{}:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

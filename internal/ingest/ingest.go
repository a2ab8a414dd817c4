// Package ingest is the collector: the HTTP endpoint that browsers (the
// tag) and servers POST event batches to. It checks the account and the
// page origin, reads the body within limits, decodes and validates every
// event with package event, drops events already stored (package dedup),
// stamps what the server knows (receive time, client IP, User-Agent) and
// appends the batch to the event log. It answers 200 only once the log has
// made the batch durable.
//
// The hot path reuses per-request state from pools. A body is read before
// the request takes one of the processing slots, so slow senders hold no
// slot; what bodies being read and processed hold together is bounded by a
// byte budget (Config.MaxBodyMemory), a buffer growing only as its body
// arrives, so memory stays bounded under any load: the budget, plus what
// the log buffers before refusing with eventlog.ErrBusy. A request waiting
// for the log's fsync holds only its dedup keys and its answer. A body must
// arrive at a minimum rate (Config.BodyTimeout, Config.MinBodyRate), and
// one client address may have only so many requests in progress
// (Config.MaxPerClient).
//
// The byte budget is golang.org/x/sync/semaphore's Weighted: first come,
// first served (a large body is not starved by small ones), with waits a
// context bounds.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/campaign"
	"github.com/sightline/sightline/internal/conversation"
	"github.com/sightline/sightline/internal/dedup"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/eventlog"
)

// Config configures the collector.
type Config struct {
	// MaxBodyBytes limits a body, and what a gzip body decompresses to.
	MaxBodyBytes int64
	// MaxConcurrent bounds the requests whose bodies are decoded and
	// submitted to the log at once (their bodies are read before); others
	// wait up to QueueTimeout, then get 429.
	MaxConcurrent int
	QueueTimeout  time.Duration
	// MaxBodyMemory bounds the bytes that the buffers of the bodies being
	// read and processed hold together, and the gzip readers that
	// decompress them. A request that would pass it waits up to
	// QueueTimeout, then gets 429. It is raised to what one body of
	// MaxBodyBytes needs.
	MaxBodyMemory int64
	// BodyTimeout is the time a body has to arrive in full, from the moment
	// its headers have; MinBodyRate (bytes a second) adds a second for
	// every MinBodyRate bytes of it that arrived (decompressed, for gzip),
	// so a body has BodyTimeout + MaxBodyBytes/MinBodyRate at most. A body
	// that misses its deadline gets 408. 0 sets no deadline; a MinBodyRate
	// of 0 adds nothing.
	BodyTimeout time.Duration
	MinBodyRate int64
	// MaxPerClient bounds the requests in progress from one client
	// address (an IPv6 client's /64); others get 429. 0: no limit.
	MaxPerClient int
	// TrustedProxies are the peers whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// Now is the clock events are stamped with (serverTime) and checked
	// against; nil means time.Now.
	Now func() time.Time
}

// DefaultConfig returns the defaults: 1 MiB bodies, 16 bodies decoded per
// CPU at once, and 16 MiB of bodies in memory per CPU (as many maximal
// bodies as slots). A request takes a slot once its body has arrived and
// gives it back once the log has its events, before it waits for them to
// be durable, so the slots only cover decoding and checking.
//
// A body has 10 s to arrive, and a second more for every 16 KiB that did:
// a tag's batch (a few KB, 64 KB at most for sendBeacon) arrives well
// within 10 s even over a 2G link, and a server's 1 MiB batch needs only
// 128 kbit/s, while a sender of a byte a second is cut off after 10 s
// (the rule of Apache's mod_reqtimeout, body=10,MinRate=16384).
//
// One client address may have 256 requests in progress: a visitor has one
// or two batches in flight, answered in milliseconds, so even the
// thousands of visitors behind one carrier-grade NAT address stay far
// below it, and so do the clients of `sightline bench ingest` (64 by
// default), which all come from 127.0.0.1; one address cannot hold more
// requests than that, however slowly it sends.
func DefaultConfig() Config {
	return Config{
		MaxBodyBytes:  1 << 20,
		MaxConcurrent: 16 * runtime.GOMAXPROCS(0),
		QueueTimeout:  time.Second,
		MaxBodyMemory: int64(16*runtime.GOMAXPROCS(0)) << 20,
		BodyTimeout:   10 * time.Second,
		MinBodyRate:   16 << 10,
		MaxPerClient:  256,
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
	memory   *budget
	clients  clientLimit
	now      func() time.Time
	// stamping is read-locked by a request from the moment it stamps its
	// events until their append is settled; Barrier write-locks it.
	stamping sync.RWMutex
	requests sync.Pool // *request
	bodies   sync.Pool // *body
	works    sync.Pool // *work
	// campaigns and enricher decide what pages show, stateKey signs the
	// visits' states (UseCampaigns).
	campaigns Campaigns
	enricher  campaign.Enricher
	stateKey  *campaign.StateKey
	presence  func(account, skill string) string // see UsePresence
	// conversations takes the attributes of visitors in a conversation
	// (see UseConversations).
	conversations Conversations
}

// New returns a collector appending to log. reg may be nil.
func New(cfg Config, logger *slog.Logger, reg prometheus.Registerer, accounts Accounts, log eventlog.Appender, ix *dedup.Index) *Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	// One body of MaxBodyBytes, and the byte that shows it ends, must fit.
	memory := newBudget(max(cfg.MaxBodyMemory, cfg.MaxBodyBytes+1+gzipReaderBytes), cfg.QueueTimeout)
	h := &Handler{
		cfg:      cfg,
		logger:   logger.With("component", "ingest"),
		accounts: accounts,
		log:      log,
		dedup:    ix,
		metrics:  newMetrics(reg, ix, memory),
		slots:    make(chan struct{}, max(cfg.MaxConcurrent, 1)),
		memory:   memory,
		clients:  clientLimit{max: cfg.MaxPerClient, n: map[netip.Addr]int{}},
		now:      cfg.Now,
	}
	if h.now == nil {
		h.now = time.Now
	}
	h.requests.New = func() any { return new(request) }
	h.bodies.New = func() any { return new(body) }
	h.works.New = func() any { return &work{seen: map[string]struct{}{}} }
	return h
}

// Register adds the collector's routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/account/{accountId}/events", h.serveEvents)
	mux.HandleFunc("OPTIONS /api/account/{accountId}/events", h.servePreflight)
}

// request is the reusable state of one request: what it keeps while the
// log makes its events durable.
type request struct {
	keys       []dedup.Key
	dup        []bool
	pending    eventlog.Pending // nil when nothing was submitted
	accepted   int
	duplicates int
	resp       []byte
	stamping   bool // holds Handler.stamping's read lock
	// visitor and attrs are the visitor and the attributes of a batch
	// whose visitor is in a conversation: they attach to it once stored.
	visitor string
	attrs   []conversation.Attribute
}

func (q *request) reset() {
	q.keys, q.dup, q.resp = q.keys[:0], q.dup[:0], q.resp[:0]
	q.pending, q.accepted, q.duplicates = nil, 0, 0
	q.visitor, q.attrs = "", nil
}

// body is a body being read or processed: its bytes, and what its buffer
// holds of the memory budget. Bodies are pooled apart from the work of
// processing them, so a body that arrives slowly holds its buffer alone,
// which the budget counts.
type body struct {
	buf      []byte
	reserved int64
}

// work is the reusable state of processing one body, held only with a
// processing slot: the decoded batch and its records. Once the log has
// copied the records, it goes back to the pool for the next body while the
// request waits for durability, so the few batches being processed stay in
// the CPU caches however many requests wait.
type work struct {
	dec     event.Decoder
	batch   event.Batch
	records []byte
	ends    []int
	values  [][]byte
	fresh   []int // indexes into batch.Events of events to store
	seen    map[string]struct{}
	key     []byte
	writer  event.RecordWriter
	state   []byte // the campaign state answered, signed
}

func (k *work) reset() {
	k.records, k.ends, k.values, k.fresh, k.key, k.state = k.records[:0], k.ends[:0], k.values[:0], k.fresh[:0], k.key[:0], k.state[:0]
	clear(k.seen)
}

// maxPooledBody is the largest body buffer kept for reuse.
const maxPooledBody = 256 << 10

// putBody gives b's memory back to the budget, and b to the pool.
func (h *Handler) putBody(b *body) {
	h.memory.release(b.reserved)
	b.reserved = 0
	if cap(b.buf) > maxPooledBody {
		return
	}
	b.buf = b.buf[:0]
	h.bodies.Put(b)
}

func (h *Handler) putWork(k *work) {
	if cap(k.records) > 4*maxPooledBody {
		return
	}
	h.works.Put(k)
}

func (h *Handler) putRequest(q *request) {
	if cap(q.resp) > maxPooledBody {
		return
	}
	h.requests.Put(q)
}

func (h *Handler) serveEvents(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	code := h.handleEvents(w, r, start)
	h.metrics.request(code)
	h.metrics.duration.Observe(time.Since(start).Seconds())
}

func (h *Handler) handleEvents(w http.ResponseWriter, r *http.Request, start time.Time) int {
	acct, code := h.checkAccount(w, r)
	if acct == nil {
		return code
	}
	ip := clientIP(r, h.cfg.TrustedProxies)
	client, ok := h.clients.enter(ip)
	if !ok {
		h.metrics.clientLimited.Inc()
		unread(w)
		w.Header().Set("Retry-After", "1")
		return writeError(w, http.StatusTooManyRequests, fmt.Sprintf("too many requests in progress from %s (limit %d a client address), retry later", clientName(client), h.cfg.MaxPerClient))
	}
	defer h.clients.leave(client)
	q := h.requests.Get().(*request)
	defer h.putRequest(q)
	q.reset()
	if code := h.process(w, r, acct, ip, start, q); code != 0 {
		h.stamped(q)
		return code
	}
	// The wait is not cancelled with the request: the handler must learn
	// whether the events were stored to settle the dedup reservations.
	var err error
	if q.pending != nil {
		err = q.pending.Wait(context.Background())
	}
	h.stamped(q)
	h.dedup.Settle(q.keys, q.dup, err == nil)
	if err != nil {
		return h.appendFailed(w, err)
	}
	if len(q.attrs) > 0 {
		// Derived from events already stored: the response does not wait.
		go h.attach(acct.ID, q.visitor, q.attrs)
	}
	h.metrics.accepted.Add(float64(q.accepted))
	h.metrics.duplicates.Add(float64(q.duplicates))
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(http.StatusOK)
	w.Write(q.resp)
	return http.StatusOK
}

// process reads the body of the request from ip that started at start,
// without a processing slot (a slow sender holds none); then, with a slot
// held, it decodes and checks the body, reserves the events' dedup keys in
// q and submits the new events to the log. It returns 0 when the request
// must now wait for q.pending and answer q.resp, or the status of the
// answer it wrote, with no dedup key left reserved.
func (h *Handler) process(w http.ResponseWriter, r *http.Request, acct *account.Account, ip netip.Addr, start time.Time, q *request) int {
	accountID := acct.ID
	in := h.bodies.Get().(*body)
	defer h.putBody(in)
	h.metrics.reading.Inc()
	err := h.readBody(w, r, in, start)
	h.metrics.reading.Dec()
	if err != nil {
		return h.bodyFailed(w, err)
	}
	if !h.acquire(r.Context()) {
		w.Header().Set("Retry-After", "1")
		return writeError(w, http.StatusTooManyRequests, "too many requests in progress, retry later")
	}
	defer func() { <-h.slots }()
	k := h.works.Get().(*work)
	defer h.putWork(k)
	k.reset()

	h.stamping.RLock()
	q.stamping = true
	now := h.now()
	if err := k.dec.Decode(in.buf, now, &k.batch); err != nil {
		return writeError(w, http.StatusBadRequest, err.Error())
	}
	b := &k.batch
	h.metrics.batchEvents.Observe(float64(len(b.Events) + len(b.Rejected)))
	for _, rej := range b.Rejected {
		h.metrics.rejected(rej.Err.Reason)
	}
	if b.InvalidUTF8 > 0 {
		h.metrics.invalidUTF8.Add(float64(b.InvalidUTF8))
	}

	// Events repeated inside the batch count as duplicates at once; the
	// others are reserved in the dedup index.
	for i := range b.Events {
		e := &b.Events[i]
		if e.ID == "" {
			e.ID = uuid.NewString()
		} else if _, ok := k.seen[e.ID]; ok {
			q.duplicates++
			continue
		} else if len(b.Events) > 1 {
			k.seen[e.ID] = struct{}{}
		}
		k.fresh = append(k.fresh, i)
		q.keys = append(q.keys, h.dedup.Key(accountID, e.ID))
	}
	q.dup = append(q.dup, make([]bool, len(q.keys))...)
	if err := h.dedup.Reserve(r.Context(), now, q.keys, q.dup); err != nil {
		w.Header().Set("Retry-After", "1")
		return writeError(w, http.StatusServiceUnavailable, "request ended while waiting for a concurrent request with the same event ids")
	}

	rec := event.Stored{
		AccountID:  accountID,
		VisitorID:  b.VisitorID,
		VisitID:    b.VisitID,
		ServerTime: now.UnixMilli(),
		UserAgent:  r.UserAgent(),
	}
	if ip.IsValid() {
		rec.IP = ip.String()
	}
	decision := h.decide(r.Context(), accountID, b, &rec, k)
	k.writer.Reset(&rec)
	for j, i := range k.fresh {
		if q.dup[j] {
			q.duplicates++
			continue
		}
		e := &b.Events[i]
		rec.ID, rec.Time, rec.AppName, rec.EventName, rec.Data = e.ID, e.Time, e.AppName, e.EventName, e.Data
		if e.AppName == "lp_sdes" && e.EventName == "VAR_ADDED" && h.conversations != nil {
			q.addAttribute(h.conversations, accountID, b.VisitorID, e, now.UnixMilli())
		}
		k.records = k.writer.Append(k.records, &rec)
		k.ends = append(k.ends, len(k.records))
	}
	accepted := len(k.ends)
	if decision != nil && accepted > 0 { // a batch sent again records nothing again
		appendRecords(k, &rec, decision)
	}
	prev := 0
	for _, end := range k.ends {
		k.values = append(k.values, k.records[prev:end])
		prev = end
	}
	if len(k.values) > 0 {
		p, err := h.log.Submit(partitionKey(k, accountID, b.VisitorID), k.values)
		if err != nil {
			h.dedup.Settle(q.keys, q.dup, false)
			return h.appendFailed(w, err)
		}
		q.pending = p
	}
	q.accepted = accepted
	q.resp = appendResult(q.resp, q.accepted, q.duplicates, b.Rejected, decision, k.state)
	return 0
}

// stamped releases the read lock q took when it stamped its events.
func (h *Handler) stamped(q *request) {
	if q.stamping {
		q.stamping = false
		h.stamping.RUnlock()
	}
}

// Barrier returns a time before which every event the handler has stamped
// (serverTime) is settled: durable in the log, or refused. It waits for the
// requests that have stamped their events to learn their appends' outcome,
// and holds back new ones meanwhile, so that those stamp at or after it.
// A flush of the web sessions as of that time then misses no event.
func (h *Handler) Barrier() time.Time {
	h.stamping.Lock()
	defer h.stamping.Unlock()
	return h.now()
}

// jsonContentType is the Content-Type of answers, shared so that setting
// it allocates nothing (net/http only reads it).
var jsonContentType = []string{"application/json"}

// partitionKey keys the log by account and visitor, so a visitor's events
// stay in one partition, in order.
func partitionKey(k *work, accountID, visitorID string) []byte {
	k.key = append(k.key[:0], accountID...)
	k.key = append(k.key, '/')
	k.key = append(k.key, visitorID...)
	return k.key
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

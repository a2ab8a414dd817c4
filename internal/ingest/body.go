package ingest

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
)

var (
	// errTooLarge is returned when a body, or what it decompresses to,
	// passes the limit.
	errTooLarge = errors.New("body too large")
	// errTooSlow is returned when a body misses its deadline.
	errTooSlow = errors.New("body too slow")
	// errNoMemory is returned when the bodies in progress hold the memory
	// budget for longer than a request waits.
	errNoMemory = errors.New("too many bodies in progress")
)

var gzipReaders sync.Pool

// gzipReaderBytes is what a gzip reader holds (its window and tables,
// measured at 42 KiB), counted in the memory budget while one decompresses.
const gzipReaderBytes = 48 << 10

// firstBodyBuffer is the most a new body buffer starts with: a buffer
// grows only as its body arrives, whatever Content-Length announces.
const firstBodyBuffer = 16 << 10

// readBody reads r's body into in, decompressing gzip, within the memory
// budget, and by the deadline that starts at start (bodyDeadline). It fails
// with an error wrapping errTooLarge as soon as more than MaxBodyBytes
// arrive or would be decompressed (gzip bombs cost at most that), with
// errTooSlow when the deadline passes, and with errNoMemory when the budget
// stays full.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request, in *body, start time.Time) error {
	if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
		return err
	}
	limit := h.cfg.MaxBodyBytes
	if r.ContentLength > limit {
		return fmt.Errorf("%w: Content-Length %d, limit %d bytes", errTooLarge, r.ContentLength, limit)
	}
	if err := h.reserve(r, in, int64(cap(in.buf))); err != nil {
		return err
	}
	deadline := newBodyDeadline(w, &h.cfg, start)
	// The raw body is bounded too, so a client cannot stream forever.
	raw := http.MaxBytesReader(w, r.Body, limit)
	var src io.Reader = raw
	// size is the most the buffer may need: a byte more than the body, to
	// see it end.
	size := limit + 1
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		if r.ContentLength >= 0 {
			size = r.ContentLength + 1
		}
	case "gzip", "x-gzip":
		if err := h.reserve(r, in, gzipReaderBytes); err != nil {
			return err
		}
		defer h.unreserve(in, gzipReaderBytes)
		zr, _ := gzipReaders.Get().(*gzip.Reader)
		var err error
		if zr == nil {
			zr, err = gzip.NewReader(raw)
		} else {
			err = zr.Reset(raw)
		}
		if err != nil {
			return h.bodyError(err, "invalid gzip")
		}
		defer gzipReaders.Put(zr)
		src = zr
	default:
		return &statusError{http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Encoding %q not supported (use gzip or none)", enc)}
	}
	for {
		if len(in.buf) == cap(in.buf) {
			if err := h.grow(r, in, size); err != nil {
				return err
			}
		}
		n, err := src.Read(in.buf[len(in.buf):cap(in.buf)])
		in.buf = in.buf[:len(in.buf)+n]
		if int64(len(in.buf)) > limit {
			return fmt.Errorf("%w: decompressed body over %d bytes", errTooLarge, limit)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return h.bodyError(err, "cannot read")
		}
		deadline.arrived(int64(len(in.buf)))
	}
	deadline.clear()
	return nil
}

// grow makes room in in.buf for more of a body that needs at most size
// bytes: twice the room (at least firstBodyBuffer), reserved from the
// budget first. Growing only when full, a new buffer holds at most twice
// what arrived, or firstBodyBuffer.
func (h *Handler) grow(r *http.Request, in *body, size int64) error {
	c := int64(cap(in.buf))
	n := min(max(2*c, firstBodyBuffer), size)
	if err := h.reserve(r, in, n-c); err != nil {
		return err
	}
	buf := make([]byte, len(in.buf), n)
	copy(buf, in.buf)
	in.buf = buf
	return nil
}

// reserve adds n bytes of the memory budget to what in holds, waiting up
// to QueueTimeout for them.
func (h *Handler) reserve(r *http.Request, in *body, n int64) error {
	if !h.memory.reserve(r.Context(), n) {
		return fmt.Errorf("%w for the memory limit of %d bytes, retry later", errNoMemory, h.memory.size)
	}
	in.reserved += n
	return nil
}

// unreserve gives back n bytes of what in holds of the memory budget.
func (h *Handler) unreserve(in *body, n int64) {
	h.memory.release(n)
	in.reserved -= n
}

// bodyError is the error of a body whose reading failed with err.
func (h *Handler) bodyError(err error, what string) error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return fmt.Errorf("%w: over %d bytes", errTooLarge, h.cfg.MaxBodyBytes)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		if h.cfg.MinBodyRate > 0 {
			return fmt.Errorf("%w: a body must arrive within %s, plus 1s for every %d bytes that arrived", errTooSlow, h.cfg.BodyTimeout, h.cfg.MinBodyRate)
		}
		return fmt.Errorf("%w: a body must arrive within %s", errTooSlow, h.cfg.BodyTimeout)
	}
	return &statusError{http.StatusBadRequest, fmt.Sprintf("body: %s: %v", what, err)}
}

// bodyFailed answers a request whose body readBody could not read.
func (h *Handler) bodyFailed(w http.ResponseWriter, err error) int {
	unread(w)
	switch {
	case errors.Is(err, errTooLarge):
		return writeError(w, http.StatusRequestEntityTooLarge, err.Error())
	case errors.Is(err, errTooSlow):
		h.metrics.slowBodies.Inc()
		return writeError(w, http.StatusRequestTimeout, err.Error())
	case errors.Is(err, errNoMemory):
		h.metrics.memoryFull.Inc()
		w.Header().Set("Retry-After", "1")
		return writeError(w, http.StatusTooManyRequests, err.Error())
	}
	if se, ok := errors.AsType[*statusError](err); ok {
		return writeError(w, se.code, se.msg)
	}
	return writeError(w, http.StatusBadRequest, err.Error())
}

// unread closes the connection after the answer to a request whose body
// is left unread. Otherwise net/http would read what is left of it (up to
// 256 KiB) before answering, for as long as the client takes to send it.
func unread(w http.ResponseWriter) {
	w.Header().Set("Connection", "close")
}

// bodyDeadline keeps the read deadline of a body: Config.BodyTimeout after
// the request started, plus a second for every Config.MinBodyRate bytes
// that arrived, moved on as they arrive.
type bodyDeadline struct {
	w       http.ResponseWriter
	cfg     *Config
	start   time.Time
	seconds int64 // seconds added to the deadline
	set     bool  // a deadline is set on the connection
}

// newBodyDeadline sets the deadline of a body that started at start on the
// connection of w, if it takes deadlines (an httptest.ResponseRecorder
// does not).
func newBodyDeadline(w http.ResponseWriter, cfg *Config, start time.Time) bodyDeadline {
	d := bodyDeadline{w: w, cfg: cfg, start: start}
	if cfg.BodyTimeout > 0 {
		d.set = d.setTo(start.Add(cfg.BodyTimeout)) == nil
	}
	return d
}

func (d *bodyDeadline) setTo(t time.Time) error {
	return http.NewResponseController(d.w).SetReadDeadline(t)
}

// arrived moves the deadline on once n bytes have arrived.
func (d *bodyDeadline) arrived(n int64) {
	if !d.set || d.cfg.MinBodyRate <= 0 {
		return
	}
	if s := n / d.cfg.MinBodyRate; s > d.seconds {
		d.seconds = s
		d.setTo(d.start.Add(d.cfg.BodyTimeout + time.Duration(s)*time.Second))
	}
}

// clear lifts the deadline once the body has arrived: the connection is
// not read again until the next request, whose own deadlines net/http sets.
// A body given more than BodyTimeout may have arrived after the server's
// write deadline: that is lifted too, since the answer of a few KB goes to
// the socket's buffer at once whether the client reads it or not.
func (d *bodyDeadline) clear() {
	if !d.set {
		return
	}
	rc := http.NewResponseController(d.w)
	rc.SetReadDeadline(time.Time{})
	if d.seconds > 0 {
		rc.SetWriteDeadline(time.Time{})
	}
}

func checkContentType(ct string) error {
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == "application/json" || mt == "text/plain") {
		return nil
	}
	return &statusError{http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type %q not supported (use application/json or text/plain)", ct)}
}

// statusError is an error answered with its own HTTP status.
type statusError struct {
	code int
	msg  string
}

func (e *statusError) Error() string { return e.msg }

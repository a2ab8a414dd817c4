package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
)

// errTooLarge is returned when a body, or what it decompresses to, passes
// the limit.
var errTooLarge = errors.New("body too large")

var gzipReaders sync.Pool

// readBody reads r's body into buf, decompressing gzip, and fails with an
// error wrapping errTooLarge as soon as more than limit bytes arrive or
// would be decompressed (gzip bombs cost at most limit bytes).
func readBody(w http.ResponseWriter, r *http.Request, buf *bytes.Buffer, limit int64) error {
	if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
		return err
	}
	if r.ContentLength > limit {
		return fmt.Errorf("%w: Content-Length %d, limit %d bytes", errTooLarge, r.ContentLength, limit)
	}
	// The raw body is bounded too, so a client cannot stream forever.
	raw := http.MaxBytesReader(w, r.Body, limit)
	var src io.Reader = raw
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, _ := gzipReaders.Get().(*gzip.Reader)
		var err error
		if zr == nil {
			zr, err = gzip.NewReader(raw)
		} else {
			err = zr.Reset(raw)
		}
		if err != nil {
			return bodyError(err, limit, "invalid gzip")
		}
		defer gzipReaders.Put(zr)
		src = zr
	default:
		return &statusError{http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Encoding %q not supported (use gzip or none)", enc)}
	}
	if r.ContentLength > 0 && src == raw {
		buf.Grow(int(r.ContentLength) + bytes.MinRead)
	}
	n, err := buf.ReadFrom(io.LimitReader(src, limit+1))
	if err != nil {
		return bodyError(err, limit, "cannot read")
	}
	if n > limit {
		return fmt.Errorf("%w: decompressed body over %d bytes", errTooLarge, limit)
	}
	return nil
}

func bodyError(err error, limit int64, what string) error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return fmt.Errorf("%w: over %d bytes", errTooLarge, limit)
	}
	return &statusError{http.StatusBadRequest, fmt.Sprintf("body: %s: %v", what, err)}
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

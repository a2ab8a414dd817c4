// Package script serves a JavaScript file embedded in the binary, as the
// browser tag (web/tag) and the chat window (web/chat) are, or an HTML
// page with its inline style and script, as the agent workspace
// (web/console) is: minified once at start (tdewolff/minify, a pure-Go
// minifier) and kept compressed with gzip (klauspost/compress) and brotli
// (andybalholm/brotli, the pure-Go port of the reference encoder), so
// that a request costs a lookup and a write. Answers carry an ETag and a
// short max-age (none for a page: it is revalidated each time): a page
// revalidates the script every few minutes and gets 304 while it is
// unchanged.
package script

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
	"github.com/tdewolff/minify/v2"
	"github.com/tdewolff/minify/v2/css"
	"github.com/tdewolff/minify/v2/html"
	"github.com/tdewolff/minify/v2/js"
)

// Script is a minified script (or page) and its encodings, ready to
// serve.
type Script struct {
	min, gzipped, brotli []byte
	etag                 string
	contentType          string
	cacheControl         string
}

// New minifies and compresses source, the script called name (for
// errors); answers let browsers keep it for maxAge before revalidating.
func New(name string, source []byte, maxAge time.Duration) (*Script, error) {
	var min bytes.Buffer
	if err := js.Minify(nil, &min, bytes.NewReader(source), nil); err != nil {
		return nil, fmt.Errorf("minify %s: %w", name, err)
	}
	return compressed(name, "text/javascript; charset=utf-8", min.Bytes(), maxAge)
}

// NewHTML minifies and compresses source, the HTML page called name, its
// inline <style> and <script> included, to be served as New's scripts
// are; a maxAge of 0 has browsers revalidate the page each time.
func NewHTML(name string, source []byte, maxAge time.Duration) (*Script, error) {
	m := minify.New()
	m.AddFunc("text/css", css.Minify)
	m.AddFunc("application/javascript", js.Minify)
	m.Add("text/html", &html.Minifier{KeepDocumentTags: true, KeepEndTags: true, KeepQuotes: true})
	var min bytes.Buffer
	if err := m.Minify("text/html", &min, bytes.NewReader(source)); err != nil {
		return nil, fmt.Errorf("minify %s: %w", name, err)
	}
	return compressed(name, "text/html; charset=utf-8", min.Bytes(), maxAge)
}

// compressed keeps min, of contentType, and its gzip and brotli encodings.
func compressed(name, contentType string, min []byte, maxAge time.Duration) (*Script, error) {
	s := &Script{min: min, contentType: contentType, cacheControl: fmt.Sprintf("public, max-age=%d", int(maxAge.Seconds()))}
	if maxAge <= 0 {
		s.cacheControl = "no-cache"
	}
	sum := sha256.Sum256(s.min)
	s.etag = `"` + hex.EncodeToString(sum[:8]) + `"`

	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(s.min)
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("gzip %s: %w", name, err)
	}
	s.gzipped = gz.Bytes()
	var br bytes.Buffer
	bw := brotli.NewWriterLevel(&br, brotli.BestCompression)
	bw.Write(s.min)
	if err := bw.Close(); err != nil {
		return nil, fmt.Errorf("brotli %s: %w", name, err)
	}
	s.brotli = br.Bytes()
	return s, nil
}

// Sizes returns the sizes of the minified script, gzipped and with brotli.
func (s *Script) Sizes() (minified, gzipped, brotli int) {
	return len(s.min), len(s.gzipped), len(s.brotli)
}

// Minified returns the minified script; the caller must not change it.
func (s *Script) Minified() []byte { return s.min }

// ETag returns the script's entity tag, quoted.
func (s *Script) ETag() string { return s.etag }

// ServeHTTP answers with the script, in the best encoding the client
// takes, or 304 when the client has it (If-None-Match).
func (s *Script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Type", s.contentType)
	hd.Set("Cache-Control", s.cacheControl)
	hd.Set("ETag", s.etag)
	hd.Set("Vary", "Accept-Encoding")
	hd.Set("X-Content-Type-Options", "nosniff")
	if etagMatches(r.Header.Get("If-None-Match"), s.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := s.min
	switch enc := acceptedEncoding(r.Header.Get("Accept-Encoding")); enc {
	case "br":
		body = s.brotli
		hd.Set("Content-Encoding", enc)
	case "gzip":
		body = s.gzipped
		hd.Set("Content-Encoding", enc)
	}
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// etagMatches reports whether an If-None-Match header names etag (or *).
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// acceptedEncoding picks "br", "gzip" or "" (identity) from an
// Accept-Encoding header: brotli when the client takes it, it is smaller.
// A coding with q=0 is refused.
func acceptedEncoding(header string) string {
	br, gz := false, false
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if q, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q="); ok && strings.Trim(q, "0.") == "" {
			continue // q=0, q=0.0, q=0.000
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "br":
			br = true
		case "gzip", "x-gzip":
			gz = true
		case "*":
			br, gz = true, true
		}
	}
	switch {
	case br:
		return "br"
	case gz:
		return "gzip"
	}
	return ""
}

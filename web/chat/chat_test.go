package chat

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// TestSizeBudget reports the window's size and keeps it within 20 KB
// gzipped: it is loaded on a chat engagement's click, while the visitor
// waits.
func TestSizeBudget(t *testing.T) {
	h, err := New()
	if err != nil {
		t.Fatal(err)
	}
	minified, gzipped, br := h.Sizes()
	t.Logf("chat.js: %d bytes source, %d minified, %d gzipped, %d brotli", len(source), minified, gzipped, br)
	if gzipped > 20<<10 {
		t.Errorf("chat window is %d bytes gzipped, budget 20 KB", gzipped)
	}
}

func TestServe(t *testing.T) {
	h, err := New()
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	get := func(path string, header ...string) *http.Response {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		return rec.Result()
	}
	res := get(Path, "Accept-Encoding", "gzip")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/javascript; charset=utf-8" ||
		res.Header.Get("Content-Encoding") != "gzip" || res.Header.Get("Cache-Control") != "public, max-age=300" {
		t.Fatalf("GET %s: %d %v", Path, res.StatusCode, res.Header)
	}
	zr, err := gzip.NewReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(body, h.script.Minified()) || !bytes.Contains(body, []byte("lpUnifiedWindow")) {
		t.Fatalf("body: %d bytes (%v), not the minified window", len(body), err)
	}
	etag := res.Header.Get("ETag")
	if res := get(Path, "If-None-Match", etag); res.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation with %s: %d, want 304", etag, res.StatusCode)
	}
	if res := get("/chat/other.js"); res.StatusCode != http.StatusNotFound {
		t.Errorf("/chat/other.js: %d, want 404", res.StatusCode)
	}
}

package tag

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"

	"github.com/sightline/sightline/internal/account"
)

func newTestHandler(t *testing.T) (*Handler, *http.ServeMux) {
	t.Helper()
	h, err := New(testAccounts(t))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	return h, mux
}

// TestSizeBudget keeps the tag, engagement rendering included once it is
// there, within 15 KB gzipped.
func TestSizeBudget(t *testing.T) {
	h, _ := newTestHandler(t)
	minified, gzipped, br := h.Sizes()
	t.Logf("tag.js: %d bytes source, %d minified, %d gzipped, %d brotli", len(source), minified, gzipped, br)
	if gzipped > 15<<10 {
		t.Errorf("tag is %d bytes gzipped, budget 15 KB", gzipped)
	}
	if minified >= len(source) {
		t.Errorf("minified %d bytes, source %d", minified, len(source))
	}
}

// TestServe checks the tag's URLs; package script tests the encodings and
// caching.
func TestServe(t *testing.T) {
	h, mux := newTestHandler(t)
	tests := []struct {
		name, path, acceptEncoding, ifNoneMatch string
		wantCode                                int
		wantEncoding                            string
	}{
		{name: "identity", path: "/tag/75555851.js", wantCode: 200},
		{name: "gzip", path: "/tag/75555851.js", acceptEncoding: "gzip, deflate", wantCode: 200, wantEncoding: "gzip"},
		{name: "not modified", path: "/tag/75555851.js", ifNoneMatch: h.script.ETag(), wantCode: 304},
		{name: "unknown account", path: "/tag/qa51680169.js", wantCode: 404},
		{name: "LivePerson's URL", path: "/tag/tag.js?site=75555851", wantCode: 200},
		{name: "LivePerson's URL, unknown account", path: "/tag/tag.js?site=qa51680169", wantCode: 404},
		{name: "LivePerson's URL without a site", path: "/tag/tag.js", wantCode: 404},
		{name: "not a script", path: "/tag/75555851", wantCode: 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, tc.path, nil)
			if tc.acceptEncoding != "" {
				req.Header.Set("Accept-Encoding", tc.acceptEncoding)
			}
			if tc.ifNoneMatch != "" {
				req.Header.Set("If-None-Match", tc.ifNoneMatch)
			}
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			if rec.Code != tc.wantCode {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.wantCode, rec.Body)
			}
			if tc.wantCode != 200 {
				return
			}
			res := rec.Result()
			if got := res.Header.Get("Content-Encoding"); got != tc.wantEncoding {
				t.Fatalf("Content-Encoding %q, want %q", got, tc.wantEncoding)
			}
			if res.Header.Get("ETag") != h.script.ETag() || res.Header.Get("Cache-Control") == "" || res.Header.Get("Vary") != "Accept-Encoding" {
				t.Fatalf("cache headers %v", res.Header)
			}
			body := decode(t, tc.wantEncoding, rec.Body.Bytes())
			if !bytes.Equal(body, h.script.Minified()) {
				t.Fatalf("body decodes to %d bytes, not the %d-byte script", len(body), len(h.script.Minified()))
			}
		})
	}
}

// testAccounts returns an account store holding the account 75555851.
func testAccounts(t *testing.T) *account.Store {
	t.Helper()
	s, err := account.OpenStore(nil, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Add(account.Account{ID: "75555851"}); err != nil {
		t.Fatal(err)
	}
	return s
}

func decode(t *testing.T, encoding string, body []byte) []byte {
	t.Helper()
	var r io.Reader = bytes.NewReader(body)
	switch encoding {
	case "gzip":
		zr, err := gzip.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	case "br":
		r = brotli.NewReader(r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestJSString(t *testing.T) {
	for _, in := range []string{"75555851", `a"b\c`, "</script><!--", "line\nbreak\u2028end", "a&b>c"} {
		got := jsString(in)
		var back string
		if err := json.Unmarshal([]byte(got), &back); err != nil || back != in {
			t.Errorf("jsString(%q) = %s: reads back as %q (%v)", in, got, back, err)
		}
		if strings.ContainsAny(got, "<>&\n\u2028") {
			t.Errorf("jsString(%q) = %s: not safe inside <script>", in, got)
		}
	}
}

// TestREADMESnippet keeps the snippet the README shows the one Snippet
// writes.
func TestREADMESnippet(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if want := Snippet("75555851", "https://sightline.example/tag/75555851.js"); !bytes.Contains(readme, []byte(want)) {
		t.Errorf("README.md does not show the snippet:\n%s", want)
	}
}

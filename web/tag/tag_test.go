package tag

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

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
		name, path, ifNoneMatch string
		wantCode                int
	}{
		{name: "identity", path: "/tag/75555851.js", wantCode: 200},
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
			if res.Header.Get("ETag") != h.script.ETag() || res.Header.Get("Cache-Control") == "" || res.Header.Get("Vary") != "Accept-Encoding" {
				t.Fatalf("cache headers %v", res.Header)
			}
			if !bytes.Equal(rec.Body.Bytes(), h.script.Minified()) {
				t.Fatalf("body: %d bytes, not the %d-byte script", rec.Body.Len(), len(h.script.Minified()))
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

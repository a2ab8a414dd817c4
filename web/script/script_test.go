package script

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
)

const source = `// A comment the minifier drops.
(function (w) {
  "use strict";
  var greeting = "hello";
  w.greet = function (name) { return greeting + ", " + name; };
})(window);
`

func TestNew(t *testing.T) {
	s, err := New("greet.js", []byte(source), 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	minified, gzipped, br := s.Sizes()
	if minified >= len(source) || gzipped == 0 || br == 0 || minified != len(s.Minified()) {
		t.Errorf("sizes: %d minified (source %d), %d gzipped, %d brotli", minified, len(source), gzipped, br)
	}
	if _, err := New("broken.js", []byte("function ("), time.Minute); err == nil {
		t.Error("a script that does not parse was minified")
	}
}

func TestServe(t *testing.T) {
	s, err := New("greet.js", []byte(source), 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, method, acceptEncoding, ifNoneMatch string
		wantCode                                  int
		wantEncoding                              string
	}{
		{name: "identity", wantCode: 200},
		{name: "gzip", acceptEncoding: "gzip, deflate", wantCode: 200, wantEncoding: "gzip"},
		{name: "brotli preferred", acceptEncoding: "gzip, deflate, br, zstd", wantCode: 200, wantEncoding: "br"},
		{name: "brotli refused", acceptEncoding: "br;q=0, gzip;q=0.5", wantCode: 200, wantEncoding: "gzip"},
		{name: "any", acceptEncoding: "*", wantCode: 200, wantEncoding: "br"},
		{name: "head", method: http.MethodHead, acceptEncoding: "gzip", wantCode: 200, wantEncoding: "gzip"},
		{name: "not modified", ifNoneMatch: s.ETag(), wantCode: 304},
		{name: "weak etag in a list", ifNoneMatch: `"old", W/` + s.ETag(), wantCode: 304},
		{name: "other etag", ifNoneMatch: `"old"`, wantCode: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			req := httptest.NewRequest(method, "/greet.js", nil)
			if tc.acceptEncoding != "" {
				req.Header.Set("Accept-Encoding", tc.acceptEncoding)
			}
			if tc.ifNoneMatch != "" {
				req.Header.Set("If-None-Match", tc.ifNoneMatch)
			}
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			res := rec.Result()
			if rec.Code != tc.wantCode {
				t.Fatalf("status %d, want %d", rec.Code, tc.wantCode)
			}
			if res.Header.Get("ETag") != s.ETag() || res.Header.Get("Cache-Control") != "public, max-age=300" ||
				res.Header.Get("Vary") != "Accept-Encoding" || res.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Fatalf("headers %v", res.Header)
			}
			if tc.wantCode != 200 {
				return
			}
			if got := res.Header.Get("Content-Encoding"); got != tc.wantEncoding {
				t.Fatalf("Content-Encoding %q, want %q", got, tc.wantEncoding)
			}
			if res.Header.Get("Content-Type") != "text/javascript; charset=utf-8" {
				t.Fatalf("Content-Type %q", res.Header.Get("Content-Type"))
			}
			if method == http.MethodHead {
				if rec.Body.Len() != 0 || res.Header.Get("Content-Length") == "0" {
					t.Fatalf("HEAD: %d bytes of body, Content-Length %s", rec.Body.Len(), res.Header.Get("Content-Length"))
				}
				return
			}
			if body := decode(t, tc.wantEncoding, rec.Body.Bytes()); !bytes.Equal(body, s.Minified()) {
				t.Fatalf("body decodes to %d bytes, not the %d-byte script", len(body), len(s.Minified()))
			}
		})
	}
}

// TestNewHTML minifies a page with its inline style and script, keeps
// what the page needs (its document tags, its attributes' quotes), and
// serves it as HTML that browsers revalidate each time.
func TestNewHTML(t *testing.T) {
	page := `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>A page</title>
  <style>
    /* dropped */
    body  {  color : #ff0000 ; }
  </style>
</head>
<body>
  <p   class="a b">Hello,   world</p>
  <script>
    // dropped
    var greeting = "hello";
    document.body.dataset.greeting = greeting;
  </script>
</body>
</html>
`
	s, err := NewHTML("page.html", []byte(page), 0)
	if err != nil {
		t.Fatal(err)
	}
	min := string(s.Minified())
	for _, want := range []string{"<html lang=\"en\">", "<head>", "<body>", "</html>", "body{color:red}", `<p class="a b">Hello, world</p>`,
		`document.body.dataset.greeting=greeting`} {
		if !strings.Contains(min, want) {
			t.Errorf("the minified page has no %q: %s", want, min)
		}
	}
	if strings.Contains(min, "dropped") || len(min) >= len(page) {
		t.Errorf("not minified: %s", min)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/page", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	s.ServeHTTP(rec, req)
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" || rec.Header().Get("Cache-Control") != "no-cache" ||
		rec.Header().Get("Content-Encoding") != "gzip" || string(decode(t, "gzip", rec.Body.Bytes())) != min {
		t.Errorf("served: %d %v", rec.Code, rec.Header())
	}
	if _, err := NewHTML("broken.html", []byte("<script>function (</script>"), 0); err == nil {
		t.Error("a page whose script does not parse was minified")
	}
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

// FuzzHeaders feeds the request headers the handler parses: it must answer
// with one of the encodings it has, and recognise its own ETag in any list.
func FuzzHeaders(f *testing.F) {
	for _, s := range []string{"gzip, deflate, br", "br;q=0, gzip;q=0.5", "*", `"a", W/"b"`, ";q=", ",,,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		if enc := acceptedEncoding(header); enc != "" && enc != "gzip" && enc != "br" {
			t.Fatalf("acceptedEncoding(%q) = %q", header, enc)
		}
		const etag = `"0123456789abcdef"`
		if !etagMatches(header+", "+etag, etag) {
			t.Fatalf("etag not found in %q", header+", "+etag)
		}
	})
}

package console

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// budget is the most the agent workspace's page may weigh gzipped.
const budget = 20 << 10

// TestServeAgent serves the page: HTML, minified with its style and script
// inline, in the encoding asked for, revalidated on each load (ETag, 304),
// not to be framed.
func TestServeAgent(t *testing.T) {
	h, err := New()
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	minified, gzipped, br := h.Sizes()
	t.Logf("agent workspace: %d bytes minified, %d gzipped, %d with brotli (sources %d)", minified, gzipped, br,
		len(agentHTML)+len(agentCSS)+len(agentJS))
	if gzipped > budget || br > gzipped || minified >= len(agentHTML)+len(agentCSS)+len(agentJS) {
		t.Errorf("sizes: %d minified, %d gzipped (budget %d), %d brotli", minified, gzipped, budget, br)
	}
	get := func(encoding, etag string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, AgentPath, nil)
		if encoding != "" {
			req.Header.Set("Accept-Encoding", encoding)
		}
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		return rec
	}
	var page string
	for _, tc := range []struct{ accept, encoding string }{{"", ""}, {"gzip", "gzip"}, {"gzip, deflate, br", "br"}} {
		rec := get(tc.accept, "")
		hd := rec.Header()
		if rec.Code != 200 || hd.Get("Content-Type") != "text/html; charset=utf-8" || hd.Get("Cache-Control") != "no-cache" ||
			hd.Get("ETag") == "" || hd.Get("X-Frame-Options") != "DENY" || hd.Get("Content-Security-Policy") != "frame-ancestors 'none'" ||
			hd.Get("X-Content-Type-Options") != "nosniff" || hd.Get("Vary") != "Accept-Encoding" || hd.Get("Content-Encoding") != tc.encoding {
			t.Fatalf("Accept-Encoding %q: %d %v", tc.accept, rec.Code, hd)
		}
		// Package script checks the encodings decode to the page.
		if want := map[string]int{"": minified, "gzip": gzipped, "br": br}[tc.encoding]; rec.Body.Len() != want {
			t.Errorf("Accept-Encoding %q: %d bytes, want %d", tc.accept, rec.Body.Len(), want)
		}
		if tc.encoding == "" {
			page = rec.Body.String()
		}
	}
	if rec := get("gzip", get("", "").Header().Get("ETag")); rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
		t.Errorf("revalidation: %d, %d bytes", rec.Code, rec.Body.Len())
	}
	for _, want := range []string{"<style>", "<script>", `/ws_api/account/`, `/login?v=1.3`, `.ams.routing.SetAgentState`,
		`role=log`, `aria-live=assertive`} {
		if !strings.Contains(strings.ReplaceAll(page, `"`, ""), strings.ReplaceAll(want, `"`, "")) {
			t.Errorf("the page has no %s", want)
		}
	}
	if strings.Contains(page, `src="agent.js"`) || strings.Contains(page, `href="agent.css"`) || strings.Contains(page, "// The agent workspace") {
		t.Error("the page still loads its files, or keeps its comments")
	}
	for _, r := range []*http.Request{httptest.NewRequest(http.MethodPost, AgentPath, nil), httptest.NewRequest(http.MethodGet, AgentPath+"/x", nil)} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, r)
		if rec.Code == 200 {
			t.Errorf("%s %s: 200", r.Method, r.URL)
		}
	}
}

// TestElementsExist checks that every element the script looks up by id
// is in the page, and that every control has a label.
func TestElementsExist(t *testing.T) {
	ids := map[string]bool{}
	for _, m := range regexp.MustCompile(`id="([^"]+)"`).FindAllStringSubmatch(agentHTML, -1) {
		if ids[m[1]] {
			t.Errorf("id %q twice", m[1])
		}
		ids[m[1]] = true
	}
	for _, m := range regexp.MustCompile(`\$\("([^"]+)"\)`).FindAllStringSubmatch(agentJS, -1) {
		if !ids[m[1]] {
			t.Errorf("agent.js looks up #%s, which agent.html lacks", m[1])
		}
	}
	for _, m := range regexp.MustCompile(`<(input|select|textarea)[^>]*id="([^"]+)"`).FindAllStringSubmatch(agentHTML, -1) {
		if !strings.Contains(agentHTML, `<label for="`+m[2]+`"`) {
			t.Errorf("%s #%s has no label", m[1], m[2])
		}
	}
}

// TestInline refuses a page that does not load its files once, and files
// that would end their element early.
func TestInline(t *testing.T) {
	if _, err := inline("<html></html>", "", ""); err == nil {
		t.Error("a page without the tags was taken")
	}
	page := cssTag + jsTag
	if _, err := inline(page, "a{}", `var s = "</SCRIPT>";`); err == nil {
		t.Error("a script with its end tag was taken")
	}
	got, err := inline(page, "a{}", "var x;")
	if err != nil || !bytes.Equal([]byte(got), []byte("<style>\na{}</style><script>\nvar x;</script>")) {
		t.Errorf("inline: %q %v", got, err)
	}
}

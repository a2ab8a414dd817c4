// Package tag serves the browser tag: GET /tag/{accountId}.js (and
// /tag/tag.js?site={accountId}, LivePerson's snippet's URL), the script a
// brand's pages load to get the lpTag API (tag.js, embedded in the binary).
//
// The script is the same for every account: the tag reads its account from
// lpTag.site, which the snippet sets, and its server from its own URL. It is
// minified once at start (tdewolff/minify, a pure-Go minifier) and kept
// compressed with gzip (klauspost/compress) and brotli (andybalholm/brotli,
// the pure-Go port of the reference encoder), so that a request costs a
// lookup and a write. Answers carry an ETag and a short max-age: a page
// revalidates the tag every few minutes and gets 304 while it is unchanged.
//
// The tests drive the tag in Debian's Chromium through chromedp, a pure-Go
// DevTools client: no Node.js toolchain is needed to test the tag.
package tag

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
	"github.com/tdewolff/minify/v2/js"

	"github.com/sightline/sightline/internal/account"
)

//go:embed tag.js
var source []byte

// maxAge is how long a browser may use the tag before revalidating it.
const maxAge = 300

// Accounts finds accounts by ID.
type Accounts interface {
	Get(id string) (*account.Account, bool)
}

// Handler serves the tag.
type Handler struct {
	accounts Accounts
	// The minified script and its encodings.
	script, gzipped, brotli []byte
	etag                    string
}

// New minifies and compresses the tag.
func New(accounts Accounts) (*Handler, error) {
	h := &Handler{accounts: accounts}
	var min bytes.Buffer
	if err := js.Minify(nil, &min, bytes.NewReader(source), nil); err != nil {
		return nil, fmt.Errorf("minify tag.js: %w", err)
	}
	h.script = min.Bytes()
	sum := sha256.Sum256(h.script)
	h.etag = `"` + hex.EncodeToString(sum[:8]) + `"`

	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(h.script)
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("gzip tag.js: %w", err)
	}
	h.gzipped = gz.Bytes()
	var br bytes.Buffer
	bw := brotli.NewWriterLevel(&br, brotli.BestCompression)
	bw.Write(h.script)
	if err := bw.Close(); err != nil {
		return nil, fmt.Errorf("brotli tag.js: %w", err)
	}
	h.brotli = br.Bytes()
	return h, nil
}

// Snippet returns the inline script a page pastes into its <head> to load
// the tag of account site from src (https://HOST/tag/SITE.js). It defines
// window.lpTag with stubs that queue lpTag.events.bind, unbind and trigger,
// lpTag.sdes.push and send, lpTag.newPage and lpTag.consent until the tag
// has loaded and replays them. A queued bind returns the id the listener
// keeps; a queued unbind or trigger returns false, since no listener has
// run yet, and hasFired an empty list. The page may also set lpTag.section
// and lpTag.cookieDomain, and push attributes with
// lpTag.sdes = lpTag.sdes || []; lpTag.sdes.push(...) before or after the
// snippet.
func Snippet(site, src string) string {
	return `<script>window.lpTag=window.lpTag||{};lpTag.site=` + jsString(site) + `;lpTag._q=lpTag._q||[];` +
		`(function(t,q){["events.bind","events.unbind","events.trigger","events.hasFired","sdes.push","sdes.send",".newPage",".consent"].forEach(function(p){` +
		`p=p.split(".");var o=p[0]?t[p[0]]=t[p[0]]||{}:t;o[p[1]]=o[p[1]]||function(){if(p[1]=="hasFired")return[];` +
		`q.push([p[0],p[1],arguments]);return p[1]=="bind"?"q"+q.length:!1}});` +
		`var s=document.createElement("script");s.async=true;s.src=` + jsString(src) + `;document.head.appendChild(s)})(lpTag,lpTag._q);</script>`
}

// jsString quotes s as a JavaScript string literal that is safe inside a
// <script> element: JSON, whose encoder escapes <, >, &, U+2028 and U+2029.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Sizes returns the sizes of the minified tag, gzipped and with brotli.
func (h *Handler) Sizes() (minified, gzipped, brotli int) {
	return len(h.script), len(h.gzipped), len(h.brotli)
}

// Register adds GET /tag/{accountId}.js to mux, and GET
// /tag/tag.js?site={accountId}, where LivePerson's snippet loads the tag
// from once its host is Sightline's.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /tag/{file}", h.serve)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutSuffix(r.PathValue("file"), ".js")
	if !ok {
		http.NotFound(w, r)
		return
	}
	if site := r.URL.Query().Get("site"); id == "tag" && site != "" {
		id = site
	}
	if _, ok := h.accounts.Get(id); !ok {
		http.Error(w, "unknown account "+id, http.StatusNotFound)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/javascript; charset=utf-8")
	hd.Set("Cache-Control", fmt.Sprintf("public, max-age=%d", maxAge))
	hd.Set("ETag", h.etag)
	hd.Set("Vary", "Accept-Encoding")
	hd.Set("X-Content-Type-Options", "nosniff")
	if etagMatches(r.Header.Get("If-None-Match"), h.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := h.script
	switch enc := acceptedEncoding(r.Header.Get("Accept-Encoding")); enc {
	case "br":
		body = h.brotli
		hd.Set("Content-Encoding", enc)
	case "gzip":
		body = h.gzipped
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

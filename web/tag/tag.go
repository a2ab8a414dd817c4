// Package tag serves the browser tag: GET /tag/{accountId}.js (and
// /tag/tag.js?site={accountId}, LivePerson's snippet's URL), the script a
// brand's pages load to get the lpTag API (tag.js, embedded in the binary).
//
// The script is the same for every account: the tag reads its account from
// lpTag.site, which the snippet sets, and its server from its own URL. It is
// minified once at start and kept compressed (package script); answers
// carry an ETag and a short max-age: a page revalidates the tag every few
// minutes and gets 304 while it is unchanged.
//
// The tests drive the tag in Debian's Chromium through chromedp, a pure-Go
// DevTools client: no Node.js toolchain is needed to test the tag.
package tag

import (
	_ "embed"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/web/script"
)

//go:embed tag.js
var source []byte

// maxAge is how long a browser may use the tag before revalidating it.
const maxAge = 5 * time.Minute

// Accounts finds accounts by ID.
type Accounts interface {
	Get(id string) (*account.Account, bool)
}

// Handler serves the tag.
type Handler struct {
	accounts Accounts
	script   *script.Script
}

// New minifies and compresses the tag.
func New(accounts Accounts) (*Handler, error) {
	sc, err := script.New("tag.js", source, maxAge)
	if err != nil {
		return nil, err
	}
	return &Handler{accounts: accounts, script: sc}, nil
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
	return h.script.Sizes()
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
	h.script.ServeHTTP(w, r)
}

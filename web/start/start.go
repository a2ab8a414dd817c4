// Package start serves Sightline's start page, GET /: what a new user
// opens first, with links to the demo shop and the agent workspace, the
// tag's snippet for an account (Sightline's own, and how LivePerson's is
// pointed here), and the operational endpoints.
package start

import (
	"html/template"
	"net/http"
	"strings"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/web/console"
	"github.com/sightline/sightline/web/demo"
	"github.com/sightline/sightline/web/tag"
)

// Accounts finds accounts by ID.
type Accounts interface {
	Get(id string) (*account.Account, bool)
}

// Handler serves the start page.
type Handler struct {
	accounts Accounts
	demo     string // the demo shop's account
}

// New returns the start page's handler; demo is the account of the demo
// shop, linked while it exists.
func New(accounts Accounts, demo string) *Handler {
	return &Handler{accounts: accounts, demo: demo}
}

// Register adds GET / (exactly) to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", h.serve)
}

// page is what the template shows.
type page struct {
	Host     string
	Demo     bool
	Account  string
	Known    bool // Account exists
	Snippet  string
	LPScript string // LivePerson's snippet's tag URL, on this host
	// Agents is the agent workspace's URL, DemoSkill the skill of the demo
	// shop's chat engagement.
	Agents    string
	DemoSkill string
}

var tmpl = template.Must(template.New("start").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sightline</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1d2330}
h1{font-size:1.8rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem}
pre{background:#f3f5f8;border:1px solid #d8dde6;border-radius:6px;padding:.8rem;white-space:pre-wrap;word-break:break-all;font-size:.85rem}
a{color:#1f5fbf}code{background:#f3f5f8;padding:0 .2rem;border-radius:3px}
form{display:flex;gap:.5rem}input{font:inherit;padding:.3rem .5rem}button{font:inherit;padding:.3rem .8rem}
</style></head><body>
<h1>Sightline</h1>
<p>A self-hosted web engagement platform: one script on a site shows engagements, reports every engagement event and
attribute, and the server stores them durably and gives them back.</p>
{{if .Demo}}<h2>Demo shop</h2>
<p><a href="/demo/">Open the demo shop</a>: its pages carry the tag, show the demo account's engagements (an offer on the
TV pages that takes 10% off the OLED TVs in your cart, a chat slide-out when you leave a page with items in your cart)
and report what you do.
Watch its events arrive with <code>sightline events tail --account demo --follow</code>.</p>{{end}}
<h2>Agents</h2>
<p><a href="{{.Agents}}">Open the agent workspace</a>: an agent of an account signs in there, goes Online and answers the
visitors who start a chat. Add an agent with
<code>sightline agents add --account {{if .Demo}}demo{{else}}ACCOUNT{{end}} --login ann --skill {{if .Demo}}{{.DemoSkill}}{{else}}SKILL{{end}}</code>
(it asks for the password){{if .Demo}}; <code>{{.DemoSkill}}</code> is the skill of the demo shop's chat button{{end}}.</p>
<h2>The tag for an account</h2>
<form method="get" action="/"><label for="account">Account</label>
<input id="account" name="account" value="{{.Account}}" required><button>Show its snippet</button></form>
{{if .Account}}{{if .Known}}
<p>Paste this into the <code>&lt;head&gt;</code> of every page of account <code>{{.Account}}</code>:</p>
<pre>{{.Snippet}}</pre>
<p>A page that carries LivePerson's embed snippet needs only its tag host changed: replace
<code>lptag.liveperson.net</code> with <code>{{.Host}}</code> (or set <code>lpTag.ovr.domain</code>); the tag is then
loaded from <code>{{.LPScript}}</code>.</p>
{{else}}<p>There is no account <code>{{.Account}}</code>: <code>sightline accounts add {{.Account}} --origin https://your.site</code> creates it.</p>{{end}}{{end}}
<h2>Operations</h2>
<ul><li><a href="/healthz">/healthz</a> and <a href="/readyz">/readyz</a>: alive, and ready to take events</li>
<li><a href="/metrics">/metrics</a>: Prometheus metrics</li>
<li>Web-session files: the Data Access API under <code>/data_access_le/</code> (<code>sightline keys add</code>, <code>sightline pull</code>)</li></ul>
</body></html>
`))

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) {
	p := page{Host: r.Host, Account: strings.TrimSpace(r.URL.Query().Get("account")), Agents: console.AgentPath, DemoSkill: demo.ChatSkill}
	_, p.Demo = h.accounts.Get(h.demo)
	if p.Demo {
		p.Agents += "?account=" + h.demo
	}
	if p.Account == "" && p.Demo {
		p.Account = h.demo
	}
	if p.Account != "" {
		_, p.Known = h.accounts.Get(p.Account)
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p.Known {
		p.Snippet = tag.Snippet(p.Account, scheme+"://"+r.Host+"/tag/"+p.Account+".js")
		p.LPScript = scheme + "://" + r.Host + "/tag/tag.js?site=" + p.Account
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if err := tmpl.Execute(w, p); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

// Package console serves the agent workspace, GET /console/agent: the page
// where an agent of an account signs in and serves conversations. It is
// one HTML page (agent.html) with its stylesheet (agent.css) and script
// (agent.js) put inline at start, minified and compressed once, and
// served as the tag and the chat window are (package script), with an
// ETag and no max-age: a browser revalidates it on each load and gets 304
// while it is unchanged. The page holds no secret and nothing of an
// account: what an agent sees comes after sign-in, over LivePerson's agent
// protocol (internal/messaging/lpagent), so the same page serves every
// account.
//
// The page speaks the protocol the Messaging Agent SDK speaks (agent.js's
// header comment lists the requests): it signs in with an account, a
// login and a password, keeps the bearer and csrf in sessionStorage (a
// reload keeps the agent signed in; a closed tab does not), refreshes the
// session every 10 minutes and opens the agent socket on the same origin.
// Two reads the protocol does not carry, the account's skills (for
// transfers) and a conversation's journey (its context, engagement
// attributes and the pages of the visit), are lpagent's JSON endpoints
// with the bearer.
//
// The page is accessible: labelled controls and landmarks, keyboard use
// (Enter sends, Shift+Enter starts a new line, a ring's Accept and
// Decline are buttons), a polite live region that tells new messages of
// the agent's conversations and an assertive one that tells rings. It
// lays out in three columns at 1280 px and stacks below 1000 px.
package console

import (
	_ "embed"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/sightline/sightline/web/script"
)

var (
	//go:embed agent.html
	agentHTML string
	//go:embed agent.css
	agentCSS string
	//go:embed agent.js
	agentJS string
)

// AgentPath is where the agent workspace is served.
const AgentPath = "/console/agent"

// Handler serves the console's pages.
type Handler struct {
	agent *script.Script
}

// The tags agent.html loads its stylesheet and script with, which New
// replaces with the files themselves.
const (
	cssTag = `<link rel="stylesheet" href="agent.css">`
	jsTag  = `<script src="agent.js"></script>`
)

// New assembles, minifies and compresses the pages.
func New() (*Handler, error) {
	page, err := inline(agentHTML, agentCSS, agentJS)
	if err != nil {
		return nil, err
	}
	sc, err := script.NewHTML("agent.html", []byte(page), 0)
	if err != nil {
		return nil, err
	}
	return &Handler{agent: sc}, nil
}

// inline puts css and js into page in place of the tags that load them.
func inline(page, css, js string) (string, error) {
	if strings.Count(page, cssTag) != 1 || strings.Count(page, jsTag) != 1 {
		return "", errors.New("console: agent.html must load agent.css and agent.js once each")
	}
	// Neither may end its element early.
	if strings.Contains(strings.ToLower(css), "</style") || strings.Contains(strings.ToLower(js), "</script") {
		return "", fmt.Errorf("console: agent.css or agent.js holds the end tag of its element")
	}
	page = strings.Replace(page, cssTag, "<style>\n"+css+"</style>", 1)
	return strings.Replace(page, jsTag, "<script>\n"+js+"</script>", 1), nil
}

// Sizes returns the sizes of the agent workspace's page, minified, gzipped
// and with brotli.
func (h *Handler) Sizes() (minified, gzipped, brotli int) { return h.agent.Sizes() }

// Register adds GET /console/agent to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+AgentPath, h.serveAgent)
}

// serveAgent serves the agent workspace; no other site may frame it.
func (h *Handler) serveAgent(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Content-Security-Policy", "frame-ancestors 'none'")
	hd.Set("Referrer-Policy", "no-referrer")
	h.agent.ServeHTTP(w, r)
}

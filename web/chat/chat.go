// Package chat serves the chat window: GET /chat/chat.js, the script the
// tag (web/tag) loads only when a visitor clicks a chat or messaging
// engagement, or on the next pages of a visitor whose chat is going on, so
// that the tag itself stays small. The window speaks the consumer protocol
// of internal/messaging/consumer over a WebSocket; its header comment lists
// what it keeps, the lpTag.events it fires (app lpUnifiedWindow) and the
// CHAT events it sends through the tag's pipeline to ingest:
//
//	load                the window is built on a page (the click's, and each next page it comes back on)
//	open                a click opens the window for a new conversation
//	show, hide          the window is shown (built open, maximized) or hidden (minimized, built minimized)
//	close               the visitor closes the window, after the conversation ended
//	session_started     the first message, of either side, of a chat session (30 minutes without a message end it)
//	session_interacted  the visitor's first message in a session (typed, or a rich content button)
//	live_chat_started   an agent joins the conversation, the first time
//	live_chat_ended     a conversation an agent joined ends
//	platform_rest       the visitor's first message in the conversation, with
//	user_agent_desktop or user_agent_mobile, by the visitor's device (a tablet counts as mobile)
//	link_clicked        a link in a message is clicked ({url})
//
// Their data is {conversation_id, campaign_id, engagement_id}.
//
// The script is the same for every account (the tag hands it the account)
// and is served as the tag is (package script): minified, precompressed,
// with an ETag and a short max-age.
package chat

import (
	_ "embed"
	"net/http"
	"time"

	"github.com/sightline/sightline/web/script"
)

//go:embed chat.js
var source []byte

// Path is where the window is served; the tag loads it from its own
// server's /chat/chat.js.
const Path = "/chat/chat.js"

// maxAge is how long a browser may use the window's script before
// revalidating it.
const maxAge = 5 * time.Minute

// Handler serves the chat window's script.
type Handler struct {
	script *script.Script
}

// New minifies and compresses the window's script.
func New() (*Handler, error) {
	sc, err := script.New("chat.js", source, maxAge)
	if err != nil {
		return nil, err
	}
	return &Handler{script: sc}, nil
}

// Sizes returns the sizes of the minified window, gzipped and with brotli.
func (h *Handler) Sizes() (minified, gzipped, brotli int) { return h.script.Sizes() }

// Register adds GET /chat/chat.js to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.Handle("GET "+Path, h.script)
}

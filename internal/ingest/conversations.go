package ingest

import (
	"context"
	"encoding/json"
	"time"

	"github.com/sightline/sightline/internal/conversation"
	"github.com/sightline/sightline/internal/event"
)

// Conversations are the open conversations that the attributes a page
// pushes attach to while its visitor chats (package messaging).
type Conversations interface {
	// Chatting reports whether the visitor has an open conversation.
	Chatting(account, visitor string) bool
	// Attach adds attributes to the visitor's open conversation.
	Attach(ctx context.Context, account, visitor string, attrs []conversation.Attribute) error
}

// UseConversations attaches the attributes (lp_sdes VAR_ADDED) of a
// visitor who has an open conversation to it, once the batch is stored,
// as unauthenticated attributes. Call it before serving.
func (h *Handler) UseConversations(c Conversations) {
	h.conversations = c
}

// addAttribute keeps e, an attribute of the batch, for the visitor's
// conversation, if they have one open.
func (q *request) addAttribute(c Conversations, account, visitor string, e *event.Event, now int64) {
	if q.visitor == "" {
		if !c.Chatting(account, visitor) {
			return
		}
		q.visitor = visitor
	}
	// A copy: the batch's buffers are reused.
	if a, err := conversation.NewAttribute(append(json.RawMessage(nil), e.Data...), e.Time, now); err == nil {
		q.attrs = append(q.attrs, a)
	}
}

// attach adds attributes to the visitor's open conversation.
func (h *Handler) attach(account, visitor string, attrs []conversation.Attribute) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.conversations.Attach(ctx, account, visitor, attrs); err != nil {
		h.logger.Warn("cannot attach attributes to the conversation", "account", account, "visitor", visitor, "err", err)
	}
}

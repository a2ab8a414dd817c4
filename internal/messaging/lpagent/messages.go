package lpagent

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"unicode/utf8"

	"github.com/sightline/sightline/internal/conversation"
	"github.com/sightline/sightline/internal/messaging"
	"github.com/sightline/sightline/internal/messaging/wire"
)

// MaxHistory is the most messages one QueryMessages returns.
const MaxHistory = 1000

// MaxMetadataLen is the longest metadata (JSON) a published event keeps.
const MaxMetadataLen = 8 << 10

// eventBody is one messaging event: of .ams.ms.OnlineEventDistribution, of
// QueryMessages' history, and a conversation's lastContentEventNotification.
// originatorId is the old id ({account}.{userId}) of an agent, whom the
// SDK tells its own events by; originatorPId and originatorMetadata.id its
// PID, which bots compare with their agentId. Sequence is a message's;
// status and chat state events have none.
type eventBody struct {
	Sequence           *int            `json:"sequence,omitempty"`
	ServerTimestamp    int64           `json:"serverTimestamp"`
	DialogID           string          `json:"dialogId"`
	ConversationID     string          `json:"conversationId"`
	OriginatorID       string          `json:"originatorId"`
	OriginatorPID      string          `json:"originatorPId"`
	OriginatorMetadata originator      `json:"originatorMetadata"`
	Event              any             `json:"event"`
	Metadata           json.RawMessage `json:"metadata,omitempty"`
}

type originator struct {
	ID   string `json:"id"`
	Role string `json:"role"`
	Name string `json:"name,omitempty"`
}

type (
	contentEvent struct {
		Type        string `json:"type"`
		ContentType string `json:"contentType"`
		Message     string `json:"message"`
	}
	richContentEvent struct {
		Type    string          `json:"type"`
		Content json.RawMessage `json:"content"`
	}
	statusEvent struct {
		Type         string `json:"type"`
		Status       string `json:"status"`
		SequenceList []int  `json:"sequenceList"`
	}
	chatStateEvent struct {
		Type      string `json:"type"`
		ChatState string `json:"chatState"`
	}
)

// originatorOf returns an event's originator fields.
func (s *session) originatorOf(c *conversation.Conversation, id string, role conversation.Role) eventBody {
	old, pid := s.ids(id, role)
	name := ""
	if p, ok := c.Participant(id); ok {
		name = p.Name
	}
	return eventBody{DialogID: c.ID, ConversationID: c.ID, OriginatorID: old, OriginatorPID: pid,
		OriginatorMetadata: originator{ID: pid, Role: string(role), Name: name}}
}

// messageEvent returns a stored message as an event.
func (s *session) messageEvent(c *conversation.Conversation, m *conversation.Message) eventBody {
	e := s.originatorOf(c, m.From, m.Role)
	seq := m.Seq
	e.Sequence, e.ServerTimestamp = &seq, m.Time
	if m.Type == conversation.RichContent {
		e.Event = richContentEvent{Type: "RichContentEvent", Content: m.Rich}
	} else {
		e.Event = contentEvent{Type: "ContentEvent", ContentType: string(m.Type), Message: m.Text}
	}
	if len(m.Metadata) > 0 {
		e.Metadata = m.Metadata
	}
	return e
}

// statusEvents returns delivery statuses as events: one per participant,
// status and time, with the sequences it covers.
func (s *session) statusEvents(c *conversation.Conversation, st []conversation.Status) []eventBody {
	var out []eventBody
	for i := 0; i < len(st); {
		j := i + 1
		for j < len(st) && st[j].Participant == st[i].Participant && st[j].Status == st[i].Status && st[j].Time == st[i].Time {
			j++
		}
		seqs := make([]int, 0, j-i)
		for _, x := range st[i:j] {
			seqs = append(seqs, x.Seq)
		}
		e := s.originatorOf(c, st[i].Participant, st[i].Role)
		e.ServerTimestamp = st[i].Time
		e.Event = statusEvent{Type: "AcceptStatusEvent", Status: string(st[i].Status), SequenceList: seqs}
		out = append(out, e)
		i = j
	}
	return out
}

// dialog is a conversation whose events go to the connection.
type dialog struct {
	s      *session
	id     string
	cancel func()
}

// Notify queues a service event of the dialog for the pump.
func (d *dialog) Notify(e messaging.Event) { d.s.enqueue(item{src: d, ev: e}) }

// dialogEvent sends a dialog's event as .ams.ms.OnlineEventDistribution,
// one event a notification.
func (s *session) dialogEvent(d *dialog, e messaging.Event) {
	if s.dialogs[d.id] != d {
		return // replaced by a newer query, or ended
	}
	c := e.Conversation
	switch e.Kind {
	case messaging.MessageAdded:
		s.notify(notifyEvent, s.messageEvent(c, e.Message))
	case messaging.StatusesAdded:
		for _, ev := range s.statusEvents(c, e.Statuses) {
			s.notify(notifyEvent, ev)
		}
	case messaging.ChatStateChanged:
		p, _ := c.Participant(e.From)
		ev := s.originatorOf(c, e.From, p.Role)
		ev.ServerTimestamp = s.h.now().UnixMilli()
		ev.Event = chatStateEvent{Type: "ChatStateEvent", ChatState: e.ChatState}
		s.notify(notifyEvent, ev)
	case messaging.ConversationChanged:
		if c.State == conversation.Closed {
			d.cancel()
			delete(s.dialogs, d.id)
		}
	}
}

// followDialog sends c's events from now on, if they are not sent yet.
func (s *session) followDialog(c *conversation.Conversation) {
	if s.dialogs[c.ID] != nil || len(s.dialogs) >= MaxDialogs {
		return
	}
	d := &dialog{s: s, id: c.ID}
	d.cancel = s.h.svc.Watch(s.account, c.ID, d)
	s.dialogs[c.ID] = d
}

// queryMessages answers a dialog's history (.ams.ms.QueryMessages, which
// the SDK's subscribeMessagingEvents sends): its messages from sequence
// newerThanSequence on and their delivery statuses, in one JSON array,
// and from then on sends its new events. Runs in the pump.
func (s *session) queryMessages(ctx context.Context, req wire.Frame) (any, func(), error) {
	var b struct {
		DialogID          string `json:"dialogId"`
		ConversationID    string `json:"conversationId"`
		NewerThanSequence *int   `json:"newerThanSequence"`
		FromSeq           int    `json:"fromSeq"`
		MaxQuantity       int    `json:"maxQuantity"`
	}
	if err := wire.DecodeBody(req, &b); err != nil {
		return nil, nil, err
	}
	id, err := conversationOf("body.dialogId", b.DialogID, b.ConversationID)
	if err != nil {
		return nil, nil, err
	}
	from := b.FromSeq
	if b.NewerThanSequence != nil {
		from = *b.NewerThanSequence
	}
	switch {
	case from < 0:
		return nil, nil, wire.Errorf("body.newerThanSequence", "%d, must be 0 or more", from)
	case b.MaxQuantity < 0 || b.MaxQuantity > MaxHistory:
		return nil, nil, wire.Errorf("body.maxQuantity", "%d, must be 0 (all, up to %d) to %d", b.MaxQuantity, MaxHistory, MaxHistory)
	}
	if s.dialogs[id] == nil && len(s.dialogs) >= MaxDialogs {
		return nil, nil, errTooMany
	}
	limit := b.MaxQuantity
	if limit == 0 {
		limit = MaxHistory
	}
	d := &dialog{s: s, id: id}
	h, cancel, err := s.h.svc.WatchHistory(ctx, s.account, id, from, limit, d)
	if err != nil {
		return nil, nil, err
	}
	if old := s.dialogs[id]; old != nil {
		old.cancel()
		delete(s.dialogs, id)
	}
	if h.Conversation.State == conversation.Open {
		d.cancel = cancel
		s.dialogs[id] = d
	}
	return s.history(h), nil, nil
}

// history returns a dialog's messages and statuses as events, in the
// order they happened.
func (s *session) history(h messaging.History) []eventBody {
	c := h.Conversation
	out := make([]eventBody, 0, len(h.Messages)+len(h.Statuses))
	for i := range h.Messages {
		out = append(out, s.messageEvent(c, &h.Messages[i]))
	}
	out = append(out, s.statusEvents(c, h.Statuses)...)
	slices.SortStableFunc(out, func(a, b eventBody) int { return cmp.Compare(a.ServerTimestamp, b.ServerTimestamp) })
	return out
}

// chatStates are the chat states an agent may publish.
var chatStates = []string{"COMPOSING", "PAUSE", "ACTIVE", "INACTIVE", "GONE", "BACKGROUND"}

// publish stores an agent's event of a dialog (.ams.ms.PublishEvent):
// a text message (ContentEvent, text/plain) or structured content
// (RichContentEvent), answered once stored, with its sequence; a read or
// accept receipt (AcceptStatusEvent ACCEPT or READ, sequenceList); typing
// (ChatStateEvent). The frame's metadata is kept with a message.
func (s *session) publish(ctx context.Context, req wire.Frame) (any, func(), error) {
	var b struct {
		DialogID       string `json:"dialogId"`
		ConversationID string `json:"conversationId"`
		Event          struct {
			Type         string          `json:"type"`
			ContentType  string          `json:"contentType"`
			Message      json.RawMessage `json:"message"`
			Content      json.RawMessage `json:"content"`
			ChatState    string          `json:"chatState"`
			Status       string          `json:"status"`
			SequenceList []int           `json:"sequenceList"`
		} `json:"event"`
	}
	if err := wire.DecodeBody(req, &b); err != nil {
		return nil, nil, err
	}
	id, err := conversationOf("body.dialogId", b.DialogID, b.ConversationID)
	if err != nil {
		return nil, nil, err
	}
	ev := b.Event
	var meta json.RawMessage
	if wire.Present(req.Metadata) {
		if len(req.Metadata) > MaxMetadataLen || bytes.TrimSpace(req.Metadata)[0] != '[' {
			return nil, nil, wire.Errorf("metadata", "must be an array, at most %d bytes of JSON", MaxMetadataLen)
		}
		meta = req.Metadata
	}
	switch ev.Type {
	case "ContentEvent":
		var text string
		switch {
		case ev.ContentType != string(conversation.TextPlain):
			return nil, nil, wire.Errorf("body.event.contentType", "%.40q: only text/plain is supported (RichContentEvent for structured content)", ev.ContentType)
		case json.Unmarshal(ev.Message, &text) != nil:
			return nil, nil, wire.Errorf("body.event.message", "must be a string")
		case text == "":
			return nil, nil, wire.Errorf("body.event.message", "empty")
		case len(text) > conversation.MaxTextLen:
			return nil, nil, wire.Errorf("body.event.message", "%d bytes, limit %d", len(text), conversation.MaxTextLen)
		case !utf8.ValidString(text):
			return nil, nil, wire.Errorf("body.event.message", "not valid UTF-8")
		}
		return s.send(ctx, id, conversation.Message{From: s.user.ID, Type: conversation.TextPlain, Text: text, Metadata: meta})
	case "RichContentEvent":
		var obj map[string]json.RawMessage
		switch {
		case json.Unmarshal(ev.Content, &obj) != nil || obj == nil:
			return nil, nil, wire.Errorf("body.event.content", "must be a JSON object")
		case len(ev.Content) > conversation.MaxRichContentLen:
			return nil, nil, wire.Errorf("body.event.content", "%d bytes, limit %d", len(ev.Content), conversation.MaxRichContentLen)
		}
		return s.send(ctx, id, conversation.Message{From: s.user.ID, Type: conversation.RichContent, Rich: ev.Content, Metadata: meta})
	case "AcceptStatusEvent":
		st := conversation.Delivery(ev.Status)
		switch {
		case st != conversation.Accepted && st != conversation.Read:
			return nil, nil, wire.Errorf("body.event.status", "%.20q: ACCEPT and READ are supported", ev.Status)
		case len(ev.SequenceList) == 0 || len(ev.SequenceList) > 1000:
			return nil, nil, wire.Errorf("body.event.sequenceList", "%d sequences, must be 1 to 1000", len(ev.SequenceList))
		}
		for i, seq := range ev.SequenceList {
			if seq < 0 {
				return nil, nil, wire.Errorf("body.event.sequenceList", "[%d] is %d, must be 0 or more", i, seq)
			}
		}
		if err := s.h.svc.SetStatus(ctx, s.account, id, s.user.ID, st, ev.SequenceList); err != nil {
			return nil, nil, err
		}
		return map[string]any{}, nil, nil
	case "ChatStateEvent":
		if !slices.Contains(chatStates, ev.ChatState) {
			return nil, nil, wire.Errorf("body.event.chatState", "%.20q, must be one of %v", ev.ChatState, chatStates)
		}
		if err := s.h.svc.SetChatState(s.account, id, s.user.ID, ev.ChatState); err != nil {
			return nil, nil, err
		}
		return map[string]any{}, nil, nil
	}
	return nil, nil, wire.Errorf("body.event.type", "%.40q, must be ContentEvent, RichContentEvent, AcceptStatusEvent or ChatStateEvent", ev.Type)
}

// send stores a message and answers its sequence.
func (s *session) send(ctx context.Context, id string, m conversation.Message) (any, func(), error) {
	stored, _, err := s.h.svc.Send(ctx, s.account, id, m)
	if err != nil {
		return nil, nil, err
	}
	return map[string]int{"sequence": stored.Seq}, nil, nil
}

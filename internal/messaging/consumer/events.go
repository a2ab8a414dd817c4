package consumer

import (
	"context"
	"encoding/json"
	"math"
	"unicode/utf8"

	"github.com/sightline/sightline/internal/conversation"
	"github.com/sightline/sightline/internal/messaging"
	"github.com/sightline/sightline/internal/messaging/wire"
)

// Notify is the session's messaging.Sink: events of the watched
// conversation go out as notifications, or wait while its history is
// being sent.
func (s *session) Notify(e messaging.Event) {
	s.mu.Lock()
	if s.held != nil {
		*s.held = append(*s.held, e)
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	s.send(e)
}

// change is one messaging event as the chat window gets it.
type change struct {
	Sequence           int            `json:"sequence"`
	OriginatorID       string         `json:"originatorId"`
	OriginatorMetadata originator     `json:"originatorMetadata"`
	ServerTimestamp    int64          `json:"serverTimestamp"`
	Event              map[string]any `json:"event"`
}

type originator struct {
	Role string `json:"role"`
	Name string `json:"name,omitempty"`
}

// messageChange returns the change of a stored message.
func messageChange(c *conversation.Conversation, m *conversation.Message) change {
	ev := map[string]any{"type": "ContentEvent", "contentType": string(m.Type)}
	if m.Type == conversation.RichContent {
		ev["type"] = "RichContentEvent"
		ev["content"] = m.Rich
	} else {
		ev["message"] = m.Text
	}
	if m.ID != "" {
		ev["messageId"] = m.ID
	}
	name := ""
	if p, ok := c.Participant(m.From); ok {
		name = p.Name
	}
	return change{Sequence: m.Seq, OriginatorID: m.From, OriginatorMetadata: originator{Role: string(m.Role), Name: name},
		ServerTimestamp: m.Time, Event: ev}
}

// send turns a service event into a notification.
func (s *session) send(e messaging.Event) {
	c := e.Conversation
	switch e.Kind {
	case messaging.MessageAdded:
		s.conn.Notify("ms.MessagingEventNotification", map[string]any{"conversationId": c.ID,
			"changes": []change{messageChange(c, e.Message)}})
	case messaging.StatusesAdded:
		var changes []change
		for _, st := range e.Statuses {
			if st.Participant == s.consumer {
				continue
			}
			changes = append(changes, change{Sequence: -1, OriginatorID: st.Participant,
				OriginatorMetadata: originator{Role: string(st.Role)}, ServerTimestamp: st.Time,
				Event: map[string]any{"type": "AcceptStatusEvent", "status": string(st.Status), "sequenceList": []int{st.Seq}}})
		}
		if len(changes) > 0 {
			s.conn.Notify("ms.MessagingEventNotification", map[string]any{"conversationId": c.ID, "changes": changes})
		}
	case messaging.ChatStateChanged:
		if e.From == s.consumer {
			return
		}
		p, _ := c.Participant(e.From)
		s.conn.Notify("ms.MessagingEventNotification", map[string]any{"conversationId": c.ID, "changes": []change{{
			Sequence: -1, OriginatorID: e.From, OriginatorMetadata: originator{Role: string(p.Role), Name: p.Name},
			Event: map[string]any{"type": "ChatStateEvent", "chatState": e.ChatState}}}})
	case messaging.ConversationChanged:
		s.conn.Notify("cm.ConversationNotification", map[string]any{"conversation": summarize(c)})
	case messaging.QueueChanged:
		s.conn.Notify("cm.QueueNotification", map[string]any{"conversationId": c.ID, "position": e.Position,
			"waitSeconds": int(math.Ceil(e.Wait.Seconds()))})
	}
}

// subscribe sends the conversation's messages from fromSeq on, then its
// events as they come.
func (s *session) subscribe(ctx context.Context, req wire.Frame) error {
	var b struct {
		ConversationID string `json:"conversationId"`
		FromSeq        int    `json:"fromSeq"`
	}
	if err := wire.DecodeBody(req, &b); err != nil {
		return err
	}
	if b.FromSeq < 0 {
		return wire.Errorf("body.fromSeq", "%d, must be 0 or more", b.FromSeq)
	}
	c, err := s.own(ctx, b.ConversationID)
	if err != nil {
		return err
	}
	var held []messaging.Event
	s.mu.Lock()
	prev := s.cancel
	s.cancel = nil
	s.held = &held
	s.mu.Unlock()
	if prev != nil { // not under s.mu: see Closed
		prev()
	}
	cancel := s.h.svc.Watch(s.account, c.ID, s)
	s.mu.Lock()
	s.cancel = cancel
	s.mu.Unlock()

	next := b.FromSeq
	for {
		msgs, err := s.h.svc.Messages(ctx, s.account, c.ID, next, 200)
		if err != nil {
			s.release(next)
			return err
		}
		if len(msgs) > 0 {
			changes := make([]change, len(msgs))
			for i := range msgs {
				changes[i] = messageChange(c, &msgs[i])
			}
			s.conn.Notify("ms.MessagingEventNotification", map[string]any{"conversationId": c.ID, "changes": changes})
			next = msgs[len(msgs)-1].Seq + 1
		}
		if len(msgs) < 200 {
			break
		}
	}
	if st, err := s.h.svc.Store().Statuses(ctx, s.account, c.ID); err == nil && len(st) > 0 {
		s.send(messaging.Event{Kind: messaging.StatusesAdded, Conversation: c, Statuses: st})
	}
	s.release(next)
	return nil
}

// release sends what waited while the history went out, but the messages
// the history had.
func (s *session) release(next int) {
	for {
		s.mu.Lock()
		held := *s.held
		if len(held) == 0 {
			s.held = nil
			s.mu.Unlock()
			return
		}
		*s.held = nil
		s.mu.Unlock()
		for _, e := range held {
			if e.Kind == messaging.MessageAdded && e.Message.Seq < next {
				continue
			}
			s.send(e)
		}
	}
}

// MaxMessageIDLen is the longest id the window may give a message.
const MaxMessageIDLen = 64

func (s *session) publish(ctx context.Context, req wire.Frame) (any, error) {
	var b struct {
		ConversationID string `json:"conversationId"`
		Event          struct {
			Type         string          `json:"type"`
			ContentType  string          `json:"contentType"`
			Message      json.RawMessage `json:"message"`
			MessageID    string          `json:"messageId"`
			Status       string          `json:"status"`
			SequenceList []int           `json:"sequenceList"`
			ChatState    string          `json:"chatState"`
		} `json:"event"`
	}
	if err := wire.DecodeBody(req, &b); err != nil {
		return nil, err
	}
	if _, err := s.own(ctx, b.ConversationID); err != nil {
		return nil, err
	}
	ev := b.Event
	switch ev.Type {
	case "ContentEvent":
		var text string
		if err := json.Unmarshal(ev.Message, &text); err != nil {
			return nil, wire.Errorf("body.event.message", "must be a string")
		}
		switch {
		case ev.ContentType != "" && ev.ContentType != string(conversation.TextPlain):
			return nil, wire.Errorf("body.event.contentType", "%.40q, the consumer sends text/plain only", ev.ContentType)
		case text == "":
			return nil, wire.Errorf("body.event.message", "empty")
		case len(text) > conversation.MaxTextLen:
			return nil, wire.Errorf("body.event.message", "%d bytes, limit %d", len(text), conversation.MaxTextLen)
		case !utf8.ValidString(text):
			return nil, wire.Errorf("body.event.message", "not valid UTF-8")
		case len(ev.MessageID) > MaxMessageIDLen:
			return nil, wire.Errorf("body.event.messageId", "%d bytes, limit %d", len(ev.MessageID), MaxMessageIDLen)
		}
		m, dup, err := s.h.svc.Send(ctx, s.account, b.ConversationID, conversation.Message{ID: ev.MessageID, From: s.consumer,
			Type: conversation.TextPlain, Text: text})
		if err != nil {
			return nil, err
		}
		return map[string]any{"sequence": m.Seq, "duplicate": dup, "serverTimestamp": m.Time}, nil
	case "AcceptStatusEvent":
		st := conversation.Delivery(ev.Status)
		if st != conversation.Accepted && st != conversation.Read {
			return nil, wire.Errorf("body.event.status", "%.20q, must be ACCEPT or READ", ev.Status)
		}
		if len(ev.SequenceList) == 0 || len(ev.SequenceList) > 1000 {
			return nil, wire.Errorf("body.event.sequenceList", "%d sequences, must be 1 to 1000", len(ev.SequenceList))
		}
		return struct{}{}, s.h.svc.SetStatus(ctx, s.account, b.ConversationID, s.consumer, st, ev.SequenceList)
	case "ChatStateEvent":
		switch ev.ChatState {
		case "COMPOSING", "PAUSE", "ACTIVE", "INACTIVE", "GONE":
		default:
			return nil, wire.Errorf("body.event.chatState", "%.20q, must be COMPOSING, PAUSE, ACTIVE, INACTIVE or GONE", ev.ChatState)
		}
		return struct{}{}, s.h.svc.SetChatState(s.account, b.ConversationID, s.consumer, ev.ChatState)
	}
	return nil, wire.Errorf("body.event.type", "%.40q, must be ContentEvent, AcceptStatusEvent or ChatStateEvent", ev.Type)
}

func (s *session) updateField(ctx context.Context, req wire.Frame) (any, error) {
	var b struct {
		ConversationID string `json:"conversationId"`
		Fields         []struct {
			Field string `json:"field"`
			State string `json:"conversationState"`
		} `json:"conversationField"`
	}
	if err := wire.DecodeBody(req, &b); err != nil {
		return nil, err
	}
	if _, err := s.own(ctx, b.ConversationID); err != nil {
		return nil, err
	}
	if len(b.Fields) != 1 || b.Fields[0].Field != "ConversationStateField" || b.Fields[0].State != "CLOSE" {
		return nil, wire.Errorf("body.conversationField", "the consumer may only set ConversationStateField to CLOSE")
	}
	c, err := s.h.svc.CloseConversation(ctx, s.account, b.ConversationID, conversation.ClosedByConsumer)
	if err != nil {
		return nil, err
	}
	return map[string]any{"conversation": summarize(c)}, nil
}

func (s *session) answer(ctx context.Context, req wire.Frame) (any, error) {
	var b struct {
		ConversationID string `json:"conversationId"`
		CSAT           int    `json:"csat"`
		Resolved       string `json:"resolved"`
	}
	if err := wire.DecodeBody(req, &b); err != nil {
		return nil, err
	}
	switch {
	case b.CSAT < 0 || b.CSAT > 5:
		return nil, wire.Errorf("body.csat", "%d, must be 1 to 5 (0: not answered)", b.CSAT)
	case b.Resolved != "" && b.Resolved != "Yes" && b.Resolved != "No":
		return nil, wire.Errorf("body.resolved", "%.20q, must be Yes or No (empty: not answered)", b.Resolved)
	}
	if _, err := s.own(ctx, b.ConversationID); err != nil {
		return nil, err
	}
	c, err := s.h.svc.Answer(ctx, s.account, b.ConversationID, s.consumer, b.CSAT, b.Resolved)
	if err != nil {
		return nil, err
	}
	return map[string]any{"conversation": summarize(c)}, nil
}

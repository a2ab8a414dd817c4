package chatload

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// Message is a text message of a conversation as a client was told it.
type Message struct {
	Conversation string
	Seq          int
	// From is the sender's id as the protocol names it: the consumer's
	// visitor id; an agent's user id to a visitor, its PID to an agent.
	From string
	Role string // CONSUMER, ASSIGNED_AGENT...
	Text string
	// ID is the id the consumer gave the message; only visitors are told
	// it.
	ID string
}

// Visitor is a consumer connection of the chat window's protocol
// (/messaging/account/{id}/consumer), after its InitConnection.
type Visitor struct {
	*Conn
	ID string // the visitor id
	// Conversation is the id of the conversation RequestConversation
	// opened or found.
	Conversation string
}

// DialVisitor connects visitor id to account's chat window protocol at
// base (http://host:port or https://) and sends InitConnection. onMessage,
// if not nil, gets each text message of the notifications
// (ms.MessagingEventNotification, the subscribed history included), in
// the connection's reader.
func DialVisitor(ctx context.Context, client *http.Client, base, account, id string, onMessage func(Message)) (*Visitor, error) {
	var notify func(Frame)
	if onMessage != nil {
		notify = func(f Frame) {
			if f.Type == "ms.MessagingEventNotification" {
				consumerMessages(f.Body, onMessage)
			}
		}
	}
	c, err := Dial(ctx, client, wsURL(base)+"/messaging/account/"+url.PathEscape(account)+"/consumer", notify)
	if err != nil {
		return nil, err
	}
	if _, err := c.Request(ctx, "InitConnection", map[string]string{"visitorId": id}); err != nil {
		c.Close()
		return nil, err
	}
	return &Visitor{Conn: c, ID: id}, nil
}

// wsURL turns an http(s) base URL into a ws(s) one.
func wsURL(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	}
	return u.String()
}

// consumerMessages calls fn with each text message of a messaging
// notification's body.
func consumerMessages(body json.RawMessage, fn func(Message)) {
	var n struct {
		ConversationID string `json:"conversationId"`
		Changes        []struct {
			Sequence           int    `json:"sequence"`
			OriginatorID       string `json:"originatorId"`
			OriginatorMetadata struct {
				Role string `json:"role"`
			} `json:"originatorMetadata"`
			Event struct {
				Type      string `json:"type"`
				Message   any    `json:"message"`
				MessageID string `json:"messageId"`
			} `json:"event"`
		} `json:"changes"`
	}
	if json.Unmarshal(body, &n) != nil {
		return
	}
	for _, ch := range n.Changes {
		text, ok := ch.Event.Message.(string)
		if ch.Event.Type != "ContentEvent" || ch.Sequence < 0 || !ok {
			continue
		}
		fn(Message{Conversation: n.ConversationID, Seq: ch.Sequence, From: ch.OriginatorID, Role: ch.OriginatorMetadata.Role,
			Text: text, ID: ch.Event.MessageID})
	}
}

// RequestConversation asks for a conversation of the campaign's
// engagement (cm.ConsumerRequestConversation): the visitor's open one, or
// a new one in the engagement's skill's queue. It sets and returns
// v.Conversation.
func (v *Visitor) RequestConversation(ctx context.Context, campaignID, engagementID int64) (string, error) {
	f, err := v.Request(ctx, "cm.ConsumerRequestConversation", map[string]any{
		"campaignInfo": map[string]int64{"campaignId": campaignID, "engagementId": engagementID},
		"context":      map[string]string{"pageUrl": "https://shop.example/", "language": "en-US"},
	})
	if err != nil {
		return "", err
	}
	var r struct {
		ConversationID string `json:"conversationId"`
	}
	if err := json.Unmarshal(f.Body, &r); err != nil || r.ConversationID == "" {
		return "", fmt.Errorf("cm.ConsumerRequestConversation answered %.200s", f.Body)
	}
	v.Conversation = r.ConversationID
	return r.ConversationID, nil
}

// Subscribe subscribes to the conversation's messages from fromSeq on
// (ms.SubscribeMessagingEvents): its history comes first, then its new
// messages, to onMessage.
func (v *Visitor) Subscribe(ctx context.Context, fromSeq int) error {
	_, err := v.Request(ctx, "ms.SubscribeMessagingEvents", map[string]any{"conversationId": v.Conversation, "fromSeq": fromSeq})
	return err
}

// Ack is the server's answer to a message: its sequence, and whether it
// had been stored before under its id.
type Ack struct {
	Seq       int  `json:"sequence"`
	Duplicate bool `json:"duplicate"`
}

// Send sends a text message with id (which may be "": then a resent
// message is stored again) and returns the server's answer, which comes
// once the message is durable.
func (v *Visitor) Send(ctx context.Context, id, text string) (Ack, error) {
	f, err := v.Request(ctx, "ms.PublishEvent", map[string]any{"conversationId": v.Conversation,
		"event": map[string]string{"type": "ContentEvent", "contentType": "text/plain", "message": text, "messageId": id}})
	if err != nil {
		return Ack{}, err
	}
	var a Ack
	if err := json.Unmarshal(f.Body, &a); err != nil {
		return Ack{}, fmt.Errorf("ms.PublishEvent answered %.200s: %w", f.Body, err)
	}
	return a, nil
}

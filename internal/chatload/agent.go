package chatload

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// Credentials sign an agent in: a password, or an API key set.
type Credentials struct {
	Login    string
	Password string
	// The API key set `sightline agents add --api-keys` prints.
	AppKey, Secret, AccessToken, AccessTokenSecret string
}

// Session is a signed-in agent.
type Session struct {
	Bearer string
	UserID string
	// PID is the agent's participant id: an agent's messages come from it.
	PID string
}

// Login signs an agent of account in at base (http://host:port or
// https://), as LivePerson's agent SDK does (POST
// /api/account/{id}/login?v=1.3).
func Login(ctx context.Context, client *http.Client, base, account string, cr Credentials) (Session, error) {
	if client == nil {
		client = http.DefaultClient
	}
	body, _ := json.Marshal(map[string]string{"username": cr.Login, "password": cr.Password, "appKey": cr.AppKey, "secret": cr.Secret,
		"accessToken": cr.AccessToken, "accessTokenSecret": cr.AccessTokenSecret})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/account/"+url.PathEscape(account)+"/login?v=1.3", bytes.NewReader(body))
	if err != nil {
		return Session{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return Session{}, fmt.Errorf("cannot log %s in: %w", cr.Login, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Session{}, fmt.Errorf("cannot log %s in: %w", cr.Login, err)
	}
	if resp.StatusCode != http.StatusOK {
		return Session{}, fmt.Errorf("cannot log %s in: %s: %.300s", cr.Login, resp.Status, b)
	}
	var r struct {
		Bearer string `json:"bearer"`
		Config struct {
			UserID  string `json:"userId"`
			UserPID string `json:"userPid"`
		} `json:"config"`
	}
	if err := json.Unmarshal(b, &r); err != nil || r.Bearer == "" {
		return Session{}, fmt.Errorf("cannot log %s in: the server answered %.300s", cr.Login, b)
	}
	return Session{Bearer: r.Bearer, UserID: r.Config.UserID, PID: r.Config.UserPID}, nil
}

// Ring is a routing task of the agent: a conversation offered to it
// (State WAITING), or what became of the offer (ACCEPTED, REJECTED,
// EXPIRED, CANCELLED).
type Ring struct {
	ID           string
	State        string
	Conversation string
	Consumer     string
}

// ConversationChange is a change of a conversation subscription: an
// UPSERT of a conversation that matches it, or a DELETE of one that no
// longer does.
type ConversationChange struct {
	Type         string // UPSERT or DELETE
	Conversation string
	State        string // OPEN or CLOSE
}

// AgentHandlers are what an Agent calls with its notifications, in its
// reader; nil ones are not called.
type AgentHandlers struct {
	// Ring gets the routing tasks (.ams.routing.RoutingTaskNotification).
	Ring func(Ring)
	// Message gets the text messages of the dialogs the agent follows
	// (.ams.ms.OnlineEventDistribution).
	Message func(Message)
	// Conversation gets the changes of conversation subscriptions
	// (.ams.aam.ExConversationChangeNotification).
	Conversation func(ConversationChange)
}

// Agent is an agent's connection of LivePerson's agent protocol.
type Agent struct {
	*Conn
	Session Session
}

// DialAgent opens the agent WebSocket of a session at base (http://host
// or https://): /ws_api/account/{id}/messaging/brand/{bearer}?v=2.1.
func DialAgent(ctx context.Context, client *http.Client, base, account string, s Session, h AgentHandlers) (*Agent, error) {
	u := wsURL(base) + "/ws_api/account/" + url.PathEscape(account) + "/messaging/brand/" + s.Bearer + "?v=2.1"
	c, err := Dial(ctx, client, u, h.notify)
	if err != nil {
		return nil, err
	}
	return &Agent{Conn: c, Session: s}, nil
}

// notify dispatches an agent's notification to its handler.
func (h AgentHandlers) notify(f Frame) {
	switch f.Type {
	case ".ams.ms.OnlineEventDistribution":
		if h.Message != nil {
			var e agentEvent
			if json.Unmarshal(f.Body, &e) == nil {
				if m, ok := e.message(); ok {
					h.Message(m)
				}
			}
		}
	case ".ams.routing.RoutingTaskNotification":
		if h.Ring != nil {
			var n struct {
				Changes []struct {
					Result struct {
						ConversationID string `json:"conversationId"`
						ConsumerID     string `json:"consumerId"`
						RingsDetails   []struct {
							RingID    string `json:"ringId"`
							RingState string `json:"ringState"`
						} `json:"ringsDetails"`
					} `json:"result"`
				} `json:"changes"`
			}
			if json.Unmarshal(f.Body, &n) != nil {
				return
			}
			for _, ch := range n.Changes {
				for _, rd := range ch.Result.RingsDetails {
					h.Ring(Ring{ID: rd.RingID, State: rd.RingState, Conversation: ch.Result.ConversationID, Consumer: ch.Result.ConsumerID})
				}
			}
		}
	case ".ams.aam.ExConversationChangeNotification":
		if h.Conversation != nil {
			var n struct {
				Changes []struct {
					Type   string `json:"type"`
					Result struct {
						ConvID              string `json:"convId"`
						ConversationDetails struct {
							State string `json:"state"`
						} `json:"conversationDetails"`
					} `json:"result"`
				} `json:"changes"`
			}
			if json.Unmarshal(f.Body, &n) != nil {
				return
			}
			for _, ch := range n.Changes {
				h.Conversation(ConversationChange{Type: ch.Type, Conversation: ch.Result.ConvID, State: ch.Result.ConversationDetails.State})
			}
		}
	}
}

// agentEvent is a messaging event of the agent protocol: of
// .ams.ms.OnlineEventDistribution, and of QueryMessages' history.
type agentEvent struct {
	Sequence           *int   `json:"sequence"`
	DialogID           string `json:"dialogId"`
	OriginatorPID      string `json:"originatorPId"`
	OriginatorMetadata struct {
		Role string `json:"role"`
	} `json:"originatorMetadata"`
	Event struct {
		Type    string `json:"type"`
		Message any    `json:"message"`
	} `json:"event"`
}

// message returns the event's text message, if it is one.
func (e *agentEvent) message() (Message, bool) {
	text, ok := e.Event.Message.(string)
	if e.Event.Type != "ContentEvent" || e.Sequence == nil || !ok {
		return Message{}, false
	}
	return Message{Conversation: e.DialogID, Seq: *e.Sequence, From: e.OriginatorPID, Role: e.OriginatorMetadata.Role, Text: text}, true
}

// SetState sets the agent's availability (.ams.routing.SetAgentState):
// ONLINE takes rings.
func (a *Agent) SetState(ctx context.Context, availability string) error {
	_, err := a.Request(ctx, ".ams.routing.SetAgentState", map[string]string{"availability": availability})
	return err
}

// SubscribeRouting subscribes to the agent's rings
// (.ams.routing.SubscribeRoutingTasks): those waiting come at once.
func (a *Agent) SubscribeRouting(ctx context.Context) error {
	_, err := a.Request(ctx, ".ams.routing.SubscribeRoutingTasks", map[string]any{})
	return err
}

// Accept accepts a ring (.ams.routing.UpdateRingState ACCEPTED): the
// agent joins its conversation as its assigned agent.
func (a *Agent) Accept(ctx context.Context, ringID string) error {
	_, err := a.Request(ctx, ".ams.routing.UpdateRingState", map[string]string{"ringId": ringID, "ringState": "ACCEPTED"})
	return err
}

// SubscribeConversations subscribes to the open conversations that one of
// agentIDs (PIDs or user ids) is in (.ams.aam.SubscribeExConversations):
// those open now come at once, then their changes.
func (a *Agent) SubscribeConversations(ctx context.Context, agentIDs ...string) error {
	_, err := a.Request(ctx, ".ams.aam.SubscribeExConversations", map[string]any{"convState": []string{"OPEN"}, "agentIds": agentIDs})
	return err
}

// QueryMessages returns a conversation's text messages from sequence
// from on, at most a thousand (.ams.ms.QueryMessages), and from then on
// the agent is sent its new messages.
func (a *Agent) QueryMessages(ctx context.Context, conversation string, from int) ([]Message, error) {
	f, err := a.Request(ctx, ".ams.ms.QueryMessages", map[string]any{"dialogId": conversation, "newerThanSequence": from})
	if err != nil {
		return nil, err
	}
	var events []agentEvent
	if err := json.Unmarshal(f.Body, &events); err != nil {
		return nil, fmt.Errorf(".ams.ms.QueryMessages answered %.200s: %w", f.Body, err)
	}
	var out []Message
	for i := range events {
		if m, ok := events[i].message(); ok {
			out = append(out, m)
		}
	}
	return out, nil
}

// Publish sends a text message to a conversation (.ams.ms.PublishEvent)
// and returns its sequence, which the server answers once the message is
// durable.
func (a *Agent) Publish(ctx context.Context, conversation, text string) (int, error) {
	f, err := a.Request(ctx, ".ams.ms.PublishEvent", map[string]any{"dialogId": conversation,
		"event": map[string]string{"type": "ContentEvent", "contentType": "text/plain", "message": text}})
	if err != nil {
		return 0, err
	}
	var r struct {
		Sequence *int `json:"sequence"`
	}
	if err := json.Unmarshal(f.Body, &r); err != nil || r.Sequence == nil {
		return 0, fmt.Errorf(".ams.ms.PublishEvent answered %.200s", f.Body)
	}
	return *r.Sequence, nil
}

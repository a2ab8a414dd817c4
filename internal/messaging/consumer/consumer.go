// Package consumer is the chat window's side of messaging: a WebSocket at
// /messaging/account/{accountId}/consumer speaking the frames of package
// wire, with request and notification types named after LivePerson's
// consumer messaging API:
//
//	InitConnection                {visitorId, visitId, name, jwt}          first, once
//	cm.GetConversation            {}                                       the open conversation, or null
//	cm.ConsumerRequestConversation {campaignInfo:{campaignId, engagementId}, context:{pageUrl, pageTitle, language, device, browser, os}, attributes:[...]}
//	ms.SubscribeMessagingEvents   {conversationId, fromSeq}                history from fromSeq, then live
//	ms.PublishEvent               {conversationId, event:{type: ContentEvent|AcceptStatusEvent|ChatStateEvent, ...}}
//	cm.UpdateConversationField    {conversationId, conversationField:[{field:"ConversationStateField", conversationState:"CLOSE"}]}
//	cm.AnswerSurvey               {conversationId, csat, resolved}
//
// Notifications: ms.MessagingEventNotification {conversationId, changes:[{sequence, originatorId,
// originatorMetadata:{role, name}, serverTimestamp, event}]}, cm.ConversationNotification
// {conversation}, cm.QueueNotification {conversationId, position, waitSeconds}.
//
// The consumer is the visitor: the tag's visitor id, kept first-party by the
// page, is what proves it, as LivePerson's unauthenticated messaging does;
// an authenticated visitor also sends the brand's JWT, whose subject then
// identifies them across visits and devices.
package consumer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/conversation"
	"github.com/sightline/sightline/internal/enrich"
	"github.com/sightline/sightline/internal/messaging"
	"github.com/sightline/sightline/internal/messaging/wire"
)

// Path is the pattern of the consumer WebSocket.
const Path = "GET /messaging/account/{accountId}/consumer"

// Engagement is what a conversation started from an engagement takes from
// the campaigns: its names and skill.
type Engagement struct {
	Campaign  conversation.Campaign
	SkillID   int64
	SkillName string
}

// Engagements looks an account's engagement up in its campaigns.
type Engagements func(ctx context.Context, account string, campaignID, engagementID int64) (Engagement, error)

// Identify verifies an authenticated visitor's JWT and returns their
// identity and the authenticated attributes it carries.
type Identify func(ctx context.Context, account, jwt string) (*conversation.Identity, []conversation.Attribute, error)

// Devices tells what device and OS a User-Agent is (package enrich).
type Devices interface {
	Device(userAgent string) enrich.Device
}

// Handler serves the consumer WebSocket.
type Handler struct {
	svc         *messaging.Service
	accounts    *account.Store
	engagements Engagements
	identify    Identify
	devices     Devices
	logger      *slog.Logger
	now         func() time.Time
}

// New returns the handler; identify may be nil (no authenticated
// visitors), devices nil (the device and OS the window says are kept).
func New(svc *messaging.Service, accounts *account.Store, engagements Engagements, identify Identify, devices Devices, logger *slog.Logger) *Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{svc: svc, accounts: accounts, engagements: engagements, identify: identify, devices: devices, logger: logger, now: time.Now}
}

// Register adds the handler's route to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc(Path, h.serve)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("accountId")
	acct, ok := h.accounts.Get(id)
	if !ok {
		http.Error(w, fmt.Sprintf("no account %q", id), http.StatusNotFound)
		return
	}
	if o := r.Header.Get("Origin"); o != "" && !acct.AllowsOrigin(o) {
		http.Error(w, fmt.Sprintf("origin %q is not one of account %s's origins", o, id), http.StatusForbidden)
		return
	}
	wire.Serve(w, r, wire.Options{PingInterval: 30 * time.Second, Logger: h.logger}, func(c *wire.Conn) wire.Handler {
		ip, _, _ := net.SplitHostPort(r.RemoteAddr)
		return &session{h: h, account: id, conn: c, userAgent: r.UserAgent(), ip: ip}
	})
}

// session is one consumer connection.
type session struct {
	h        *Handler
	account  string
	conn     *wire.Conn
	consumer string
	name     string
	identity *conversation.Identity
	authAttr []conversation.Attribute
	// userAgent and ip are the connection's.
	userAgent, ip string

	mu     sync.Mutex
	cancel func() // stops the events of the conversation subscribed to
	// held buffers the events of the conversation while its history is
	// sent; nil when they go out at once.
	held *[]messaging.Event
}

func (s *session) Closed() {
	// Not under s.mu: the service notifies under its lock, then takes s.mu.
	s.mu.Lock()
	cancel := s.cancel
	s.cancel = nil
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// Request handles one request of the chat window.
func (s *session) Request(ctx context.Context, c *wire.Conn, req wire.Frame) {
	if req.Type != "InitConnection" && s.consumer == "" {
		c.Error(req, http.StatusUnauthorized, wire.Errorf("type", "InitConnection must come first"))
		return
	}
	var err error
	var body any
	switch req.Type {
	case "InitConnection":
		body, err = s.init(ctx, req)
	case "cm.GetConversation":
		body, err = s.getConversation()
	case "cm.ConsumerRequestConversation":
		body, err = s.requestConversation(ctx, req)
	case "ms.SubscribeMessagingEvents":
		err = s.subscribe(ctx, req)
		body = struct{}{}
	case "ms.PublishEvent":
		body, err = s.publish(ctx, req)
	case "cm.UpdateConversationField":
		body, err = s.updateField(ctx, req)
	case "cm.AnswerSurvey":
		body, err = s.answer(ctx, req)
	default:
		err = wire.Errorf("type", "%.60q is not a request type of the consumer API", req.Type)
	}
	if err != nil {
		c.Error(req, statusOf(err), err)
		return
	}
	c.Reply(req, http.StatusOK, body)
}

// statusOf maps an error to a response code.
func statusOf(err error) int {
	var fe *wire.FieldError
	switch {
	case errors.As(err, &fe):
		return http.StatusBadRequest
	case errors.Is(err, conversation.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, messaging.ErrNotParticipant):
		return http.StatusForbidden
	case errors.Is(err, conversation.ErrClosed):
		return http.StatusConflict
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// validID checks a visitor or visit id as the tag makes them.
func validID(field, id string, required bool) error {
	if id == "" {
		if required {
			return wire.Errorf(field, "required")
		}
		return nil
	}
	if len(id) > 64 {
		return wire.Errorf(field, "%d bytes, limit 64", len(id))
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return wire.Errorf(field, "character %q not allowed", c)
		}
	}
	return nil
}

func (s *session) init(ctx context.Context, req wire.Frame) (any, error) {
	if s.consumer != "" {
		return nil, wire.Errorf("type", "InitConnection was done already")
	}
	var b struct {
		VisitorID string `json:"visitorId"`
		VisitID   string `json:"visitId"`
		Name      string `json:"name"`
		JWT       string `json:"jwt"`
	}
	if err := wire.DecodeBody(req, &b); err != nil {
		return nil, err
	}
	if err := validID("body.visitorId", b.VisitorID, true); err != nil {
		return nil, err
	}
	if err := validID("body.visitId", b.VisitID, false); err != nil {
		return nil, err
	}
	if len(b.Name) > 100 {
		return nil, wire.Errorf("body.name", "%d bytes, limit 100", len(b.Name))
	}
	if b.JWT != "" {
		if s.h.identify == nil {
			return nil, wire.Errorf("body.jwt", "account %s has no key to verify visitors' tokens with", s.account)
		}
		id, attrs, err := s.h.identify(ctx, s.account, b.JWT)
		if err != nil {
			return nil, wire.Errorf("body.jwt", "%v", err)
		}
		s.identity, s.authAttr = id, attrs
	}
	s.consumer, s.name = b.VisitorID, b.Name
	resp := map[string]any{"consumerId": s.consumer}
	if s.identity != nil {
		resp["identity"] = s.identity
	}
	return resp, nil
}

// summary is a conversation as the chat window sees it.
type summary struct {
	ConversationID string `json:"conversationId"`
	State          string `json:"state"`
	CloseReason    string `json:"closeReason,omitempty"`
	SkillID        int64  `json:"skillId"`
	SkillName      string `json:"skillName,omitempty"`
	AgentID        string `json:"agentId,omitempty"`
	AgentName      string `json:"agentName,omitempty"`
	StartTs        int64  `json:"startTs"`
	EndTs          int64  `json:"endTs,omitempty"`
	Messages       int    `json:"messages"`
	EngagementID   string `json:"engagementId,omitempty"`
	EngagementName string `json:"engagementName,omitempty"`
	CampaignID     string `json:"campaignId,omitempty"`
	Surveyed       bool   `json:"surveyed"`
}

func summarize(c *conversation.Conversation) *summary {
	sm := &summary{ConversationID: c.ID, State: string(c.State), CloseReason: string(c.CloseReason), SkillID: c.SkillID,
		SkillName: c.SkillName, StartTs: c.Start, EndTs: c.End, Messages: c.Messages, EngagementID: c.Campaign.EngagementID,
		EngagementName: c.Campaign.EngagementName, CampaignID: c.Campaign.CampaignID, Surveyed: len(c.Surveys) > 0}
	for _, p := range c.Participants {
		if p.Role == conversation.AssignedAgent && p.In() {
			sm.AgentID, sm.AgentName = p.ID, p.Name
		}
	}
	return sm
}

func (s *session) getConversation() (any, error) {
	c := s.h.svc.Open(s.account, s.consumer)
	if c == nil {
		return map[string]any{"conversation": nil}, nil
	}
	return map[string]any{"conversation": summarize(c)}, nil
}

func (s *session) requestConversation(ctx context.Context, req wire.Frame) (any, error) {
	var b struct {
		CampaignInfo struct {
			CampaignID   json.Number `json:"campaignId"`
			EngagementID json.Number `json:"engagementId"`
		} `json:"campaignInfo"`
		Context    conversation.Context `json:"context"`
		Attributes []json.RawMessage    `json:"attributes"`
	}
	if err := wire.DecodeBody(req, &b); err != nil {
		return nil, err
	}
	cid, err1 := b.CampaignInfo.CampaignID.Int64()
	eid, err2 := b.CampaignInfo.EngagementID.Int64()
	if err1 != nil {
		return nil, wire.Errorf("body.campaignInfo.campaignId", "must be a number")
	}
	if err2 != nil {
		return nil, wire.Errorf("body.campaignInfo.engagementId", "must be a number")
	}
	en, err := s.h.engagements(ctx, s.account, cid, eid)
	if err != nil {
		return nil, wire.Errorf("body.campaignInfo", "%v", err)
	}
	ctxInfo := b.Context
	// The connection's, not what the page says.
	ctxInfo.IP, ctxInfo.UserAgent = s.ip, s.userAgent
	if s.h.devices != nil && s.userAgent != "" {
		d := s.h.devices.Device(s.userAgent)
		ctxInfo.Device, ctxInfo.OS = d.Family, d.OS
	}
	for _, f := range []struct {
		name string
		v    string
		max  int
	}{{"pageUrl", ctxInfo.PageURL, 2048}, {"pageTitle", ctxInfo.PageTitle, 512}, {"language", ctxInfo.Language, 35},
		{"device", ctxInfo.Device, 32}, {"browser", ctxInfo.Browser, 64}, {"os", ctxInfo.OS, 64}, {"visitId", ctxInfo.VisitID, 64},
		{"userAgent", b.Context.UserAgent, 1024}} {
		if len(f.v) > f.max {
			return nil, wire.Errorf("body.context."+f.name, "%d bytes, limit %d", len(f.v), f.max)
		}
	}
	attrs, err := pageAttributes(b.Attributes, s.h.now().UnixMilli())
	if err != nil {
		return nil, err
	}
	attrs = append(attrs, s.authAttr...)
	c, err := s.h.svc.Start(ctx, messaging.StartRequest{AccountID: s.account, ConsumerID: s.consumer, Name: s.name,
		Identity: s.identity, SkillID: en.SkillID, SkillName: en.SkillName, Campaign: en.Campaign, Context: ctxInfo, Attributes: attrs})
	if err != nil {
		return nil, err
	}
	return map[string]any{"conversationId": c.ID, "conversation": summarize(c)}, nil
}

// MaxAttributes is the most attributes a conversation request carries.
const MaxAttributes = 100

// pageAttributes turns the attributes the page pushed ({"type": "cart",
// ...}) into the conversation's unauthenticated attributes.
func pageAttributes(raw []json.RawMessage, now int64) ([]conversation.Attribute, error) {
	if len(raw) > MaxAttributes {
		return nil, wire.Errorf("body.attributes", "%d attributes, limit %d", len(raw), MaxAttributes)
	}
	out := make([]conversation.Attribute, 0, len(raw))
	for i, r := range raw {
		var head struct {
			Time int64 `json:"time"`
		}
		json.Unmarshal(r, &head) // NewAttribute says what is wrong
		a, err := conversation.NewAttribute(r, head.Time, now)
		switch {
		case errors.Is(err, conversation.ErrAttributeType):
			return nil, wire.Errorf(fmt.Sprintf("body.attributes[%d].type", i), "%v", err)
		case err != nil:
			return nil, wire.Errorf(fmt.Sprintf("body.attributes[%d]", i), "%v", err)
		}
		out = append(out, a)
	}
	return out, nil
}

// conversationID decodes the conversationId of a request body.
func conversationID(req wire.Frame) (string, error) {
	var b struct {
		ConversationID string `json:"conversationId"`
	}
	if err := wire.DecodeBody(req, &b); err != nil {
		return "", err
	}
	if b.ConversationID == "" || len(b.ConversationID) > 64 {
		return "", wire.Errorf("body.conversationId", "required, at most 64 bytes")
	}
	return b.ConversationID, nil
}

// own checks that the conversation is the consumer's.
func (s *session) own(ctx context.Context, id string) (*conversation.Conversation, error) {
	c, err := s.h.svc.Get(ctx, s.account, id)
	if err != nil {
		return nil, err
	}
	if c.ConsumerID != s.consumer {
		return nil, conversation.ErrNotFound // not telling that it exists
	}
	return c, nil
}

package lpagent

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/sightline/sightline/internal/conversation"
	"github.com/sightline/sightline/internal/messaging"
	"github.com/sightline/sightline/internal/messaging/wire"
)

// MaxClosedListed is the most closed conversations a subscription whose
// convState has CLOSE lists when it starts, the latest first.
const MaxClosedListed = 100

// exChangesPerNotification is the most changes one notification carries.
const exChangesPerNotification = 50

// exFilter selects the conversations of a subscription.
type exFilter struct {
	states []conversation.State
	// agents are the user ids of whom one must be in the conversation
	// (nil: any conversation).
	agents     map[string]bool
	skillIDs   []int64
	consumer   string
	minUpdated int64
	maxUpdated int64
}

// match reports whether c is one of the filter's. It is called with the
// service's lock held.
func (f *exFilter) match(c *conversation.Conversation) bool {
	switch {
	case !slices.Contains(f.states, c.State),
		len(f.skillIDs) > 0 && !slices.Contains(f.skillIDs, c.SkillID),
		f.consumer != "" && c.ConsumerID != f.consumer,
		f.minUpdated > 0 && c.Updated < f.minUpdated,
		f.maxUpdated > 0 && c.Updated > f.maxUpdated:
		return false
	}
	if f.agents == nil {
		return true
	}
	for _, p := range c.Participants {
		if p.Role != conversation.Consumer && p.In() && f.agents[p.ID] {
			return true
		}
	}
	return false
}

// exSub is a subscription to the account's conversations.
type exSub struct {
	s      *session
	id     string
	f      exFilter
	known  map[string]bool // conversations told as UPSERT, not deleted since
	cancel func()
}

// Notify queues a service event of the subscription for the pump.
func (x *exSub) Notify(e messaging.Event) { x.s.enqueue(item{src: x, ev: e}) }

// decodeExFilter reads the body of SubscribeExConversations.
func (s *session) decodeExFilter(req wire.Frame) (exFilter, error) {
	var b struct {
		ConvState          []string          `json:"convState"`
		Stage              []string          `json:"stage"`
		AgentIDs           []string          `json:"agentIds"`
		SkillIDs           []json.RawMessage `json:"skillIds"`
		ConsumerID         string            `json:"consumerId"`
		MinLastUpdatedTime int64             `json:"minLastUpdatedTime"`
		MaxLastUpdatedTime int64             `json:"maxLastUpdatedTime"`
	}
	if err := wire.DecodeBody(req, &b); err != nil {
		return exFilter{}, err
	}
	var f exFilter
	for _, l := range []struct {
		name   string
		values []string
	}{{"convState", b.ConvState}, {"stage", b.Stage}} {
		for i, v := range l.values {
			st := conversation.State(v)
			if st != conversation.Open && st != conversation.Closed {
				return f, wire.Errorf(fmt.Sprintf("body.%s[%d]", l.name, i), "%.20q, must be OPEN or CLOSE", v)
			}
			if !slices.Contains(f.states, st) {
				f.states = append(f.states, st)
			}
		}
	}
	if len(f.states) == 0 {
		f.states = []conversation.State{conversation.Open}
	}
	if len(b.AgentIDs) > 1000 {
		return f, wire.Errorf("body.agentIds", "%d ids, limit 1000", len(b.AgentIDs))
	}
	if b.AgentIDs != nil {
		f.agents = map[string]bool{}
		for _, id := range b.AgentIDs {
			// An id of no user of the account matches nothing.
			if u, ok := s.resolveUser(id); ok {
				f.agents[u.ID] = true
			}
		}
	}
	for i, raw := range b.SkillIDs {
		id, err := skillID(raw)
		if err != nil {
			return f, wire.Errorf(fmt.Sprintf("body.skillIds[%d]", i), "%v", err)
		}
		f.skillIDs = append(f.skillIDs, id)
	}
	f.consumer, f.minUpdated, f.maxUpdated = b.ConsumerID, b.MinLastUpdatedTime, b.MaxLastUpdatedTime
	return f, nil
}

// skillID reads a skill id given as a number or a string of digits.
func skillID(raw json.RawMessage) (int64, error) {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		s = string(raw)
	}
	id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%.30s is not a skill id", raw)
	}
	return id, nil
}

// subscribeEx starts a subscription to the account's conversations: the
// response names it, then an UPSERT of every conversation that matches
// comes, then one per change; a conversation that stops matching (closed,
// left) comes as a DELETE. Runs in the pump.
func (s *session) subscribeEx(ctx context.Context, req wire.Frame) (any, func(), error) {
	f, err := s.decodeExFilter(req)
	if err != nil {
		return nil, nil, err
	}
	if len(s.subs)+len(s.agentSubs) >= MaxSubscriptions {
		return nil, nil, errTooMany
	}
	x := &exSub{s: s, id: uuid.NewString(), f: f, known: map[string]bool{}}
	s.subs[x.id] = x
	open, cancel := s.h.svc.WatchOpen(s.account, f.match, x)
	x.cancel = cancel
	return map[string]string{"subscriptionId": x.id}, func() { s.listEx(ctx, x, open) }, nil
}

// listEx sends a new subscription's conversations.
func (s *session) listEx(ctx context.Context, x *exSub, open []*conversation.Conversation) {
	var changes []exChange
	flush := func() {
		if len(changes) > 0 {
			s.notify(notifyExConversations, exNotification{SubscriptionID: x.id, Changes: changes})
			changes = nil
		}
	}
	for _, c := range open {
		x.known[c.ID] = true
		changes = append(changes, exChange{Type: "UPSERT", Result: s.exResult(c, s.lastMessage(ctx, c))})
		if _, in := participant(c, s.user.ID); in {
			// Already in it (a bot that connects again): its events come
			// without asking, as LivePerson's do to participants.
			s.followDialog(c)
		}
		if len(changes) == exChangesPerNotification {
			flush()
		}
	}
	if slices.Contains(x.f.states, conversation.Closed) {
		closed, err := s.h.svc.Store().List(ctx, s.account, conversation.Query{State: conversation.Closed, ConsumerID: x.f.consumer,
			Limit: MaxClosedListed})
		if err != nil && ctx.Err() == nil {
			s.logger.Warn("cannot list closed conversations", "err", err)
		}
		for _, c := range closed {
			if x.f.match(c) {
				changes = append(changes, exChange{Type: "UPSERT", Result: s.exResult(c, s.lastMessage(ctx, c))})
				if len(changes) == exChangesPerNotification {
					flush()
				}
			}
		}
	}
	flush()
}

// lastMessage returns the last message of c, nil when it has none.
func (s *session) lastMessage(ctx context.Context, c *conversation.Conversation) *conversation.Message {
	if c.Messages == 0 {
		return nil
	}
	if m := s.last[c.ID]; m != nil && m.Seq == c.Messages-1 {
		return m
	}
	msgs, err := s.h.svc.Messages(ctx, s.account, c.ID, c.Messages-1, 1)
	if err != nil || len(msgs) == 0 {
		return nil
	}
	if c.State == conversation.Open {
		s.last[c.ID] = &msgs[0]
	}
	return &msgs[0]
}

// exEvent turns a service event into the subscription's changes.
func (s *session) exEvent(x *exSub, e messaging.Event) {
	if s.subs[x.id] != x {
		return // unsubscribed
	}
	c := e.Conversation
	switch e.Kind {
	case messaging.MessageAdded:
		if !x.known[c.ID] {
			return
		}
		s.last[c.ID] = e.Message
	case messaging.ConversationChanged:
	default:
		return
	}
	var last *conversation.Message
	if x.known[c.ID] || x.f.match(c) {
		last = s.lastMessage(s.ctx, c)
	}
	switch {
	case x.f.match(c):
		s.notify(notifyExConversations, exNotification{SubscriptionID: x.id, Changes: []exChange{{Type: "UPSERT", Result: s.exResult(c, last)}}})
		x.known[c.ID] = c.State == conversation.Open
	case x.known[c.ID]:
		s.notify(notifyExConversations, exNotification{SubscriptionID: x.id, Changes: []exChange{{Type: "DELETE", Result: s.exResult(c, last)}}})
		delete(x.known, c.ID)
	}
	if c.State == conversation.Closed {
		delete(s.last, c.ID)
		delete(x.known, c.ID)
	}
}

// unsubscribeEx ends a subscription. Runs in the pump.
func (s *session) unsubscribeEx(_ context.Context, req wire.Frame) (any, func(), error) {
	var b struct {
		SubscriptionID string `json:"subscriptionId"`
	}
	if err := wire.DecodeBody(req, &b); err != nil {
		return nil, nil, err
	}
	x := s.subs[b.SubscriptionID]
	if x == nil {
		return nil, nil, wire.Errorf("body.subscriptionId", "%.60q is not a subscription of this connection", b.SubscriptionID)
	}
	x.cancel()
	delete(s.subs, x.id)
	return "OK", nil, nil
}

// The notification's shapes: what the SDK's transformer needs (objects and
// arrays, never null) and what bots read.
type (
	exNotification struct {
		SubscriptionID string     `json:"subscriptionId"`
		Changes        []exChange `json:"changes"`
	}
	exChange struct {
		Type   string   `json:"type"`
		Result exResult `json:"result"`
	}
	exResult struct {
		ConvID                       string         `json:"convId"`
		EffectiveTTR                 int64          `json:"effectiveTTR"`
		LastUpdateTime               int64          `json:"lastUpdateTime"`
		NumberOfUnreadMessages       map[string]int `json:"numberOfunreadMessages"`
		LastContentEventNotification *eventBody     `json:"lastContentEventNotification,omitempty"`
		ConversationDetails          convDetails    `json:"conversationDetails"`
	}
	convDetails struct {
		ConvID                     string          `json:"convId"`
		SkillID                    string          `json:"skillId"`
		SkillName                  string          `json:"skillName,omitempty"`
		BrandID                    string          `json:"brandId"`
		State                      string          `json:"state"`
		Stage                      string          `json:"stage"`
		CloseReason                string          `json:"closeReason,omitempty"`
		StartTs                    int64           `json:"startTs"`
		EndTs                      int64           `json:"endTs,omitempty"`
		MetaDataLastUpdateTs       int64           `json:"metaDataLastUpdateTs"`
		Participants               roleMap         `json:"participants"`
		ParticipantsPID            roleMap         `json:"participantsPId"`
		Dialogs                    []dialogDetails `json:"dialogs"`
		TTR                        ttr             `json:"ttr"`
		Context                    sharkContext    `json:"context"`
		ConversationHandlerDetails handlerDetails  `json:"conversationHandlerDetails"`
		CampaignInfo               *campaignInfo   `json:"campaignInfo,omitempty"`
	}
	dialogDetails struct {
		DialogID             string              `json:"dialogId"`
		DialogType           string              `json:"dialogType"`
		ChannelType          string              `json:"channelType"`
		State                string              `json:"state"`
		CreationTs           int64               `json:"creationTs"`
		EndTs                int64               `json:"endTs,omitempty"`
		ClosedBy             string              `json:"closedBy,omitempty"`
		MetaDataLastUpdateTs int64               `json:"metaDataLastUpdateTs"`
		ParticipantsDetails  []participantDetail `json:"participantsDetails"`
	}
	participantDetail struct {
		ID    string `json:"id"`
		Role  string `json:"role"`
		State string `json:"state"`
	}
	ttr struct {
		TTRType string `json:"ttrType"`
		Value   int    `json:"value"`
	}
	sharkContext struct {
		Type             string           `json:"type"`
		Lang             string           `json:"lang,omitempty"`
		VisitorID        string           `json:"visitorId"`
		SessionID        string           `json:"sessionId,omitempty"`
		ClientProperties clientProperties `json:"clientProperties"`
	}
	clientProperties struct {
		Type         string   `json:"type"`
		AppID        string   `json:"appId"`
		IPAddress    string   `json:"ipAddress,omitempty"`
		DeviceFamily string   `json:"deviceFamily,omitempty"`
		OS           string   `json:"os,omitempty"`
		Browser      string   `json:"browser,omitempty"`
		Integration  string   `json:"integration"`
		Features     []string `json:"features"`
	}
	handlerDetails struct {
		AccountID string `json:"accountId"`
		SkillID   string `json:"skillId"`
	}
	campaignInfo struct {
		CampaignID   string `json:"campaignId"`
		EngagementID string `json:"engagementId"`
	}
)

// participant returns the role of user id in c, and whether they are in it.
func participant(c *conversation.Conversation, id string) (conversation.Role, bool) {
	p, ok := c.Participant(id)
	return p.Role, ok && p.In() && p.Role != conversation.Consumer
}

// exResult returns a conversation as a change's result. Its participants
// are those in it, the consumer first: old ids in participants, PIDs in
// participantsPId, in the same order per role as the dialog's
// participantsDetails (the SDK pairs them by role and position).
func (s *session) exResult(c *conversation.Conversation, last *conversation.Message) exResult {
	skill := strconv.FormatInt(c.SkillID, 10)
	d := convDetails{
		ConvID: c.ID, SkillID: skill, SkillName: c.SkillName, BrandID: s.account, State: string(c.State), Stage: string(c.State),
		CloseReason: string(c.CloseReason), StartTs: c.Start, EndTs: c.End, MetaDataLastUpdateTs: c.Updated,
		TTR: ttr{TTRType: "NORMAL", Value: 3600},
		Context: sharkContext{Type: "SharkContext", Lang: c.Context.Language, VisitorID: c.ConsumerID, SessionID: c.Context.VisitID,
			ClientProperties: clientProperties{Type: ".ClientProperties", AppID: "webAsync", IPAddress: c.Context.IP,
				DeviceFamily: c.Context.Device, OS: c.Context.OS, Browser: c.Context.Browser, Integration: "WEB_SDK", Features: []string{}}},
		ConversationHandlerDetails: handlerDetails{AccountID: s.account, SkillID: skill},
	}
	if c.Campaign.CampaignID != "" || c.Campaign.EngagementID != "" {
		d.CampaignInfo = &campaignInfo{CampaignID: c.Campaign.CampaignID, EngagementID: c.Campaign.EngagementID}
	}
	dlg := dialogDetails{DialogID: c.ID, DialogType: "MAIN", ChannelType: "MESSAGING", State: string(c.State), CreationTs: c.Start,
		EndTs: c.End, MetaDataLastUpdateTs: c.Updated, ParticipantsDetails: []participantDetail{}}
	if c.State == conversation.Closed {
		dlg.ClosedBy = string(c.CloseReason)
	}
	add := func(role conversation.Role, id string) {
		old, pid := s.ids(id, role)
		r := string(role)
		d.Participants.add(r, old)
		d.ParticipantsPID.add(r, pid)
		dlg.ParticipantsDetails = append(dlg.ParticipantsDetails, participantDetail{ID: old, Role: r, State: "ACTIVE"})
	}
	add(conversation.Consumer, c.ConsumerID)
	for _, p := range c.Participants {
		if p.Role != conversation.Consumer && p.In() {
			add(p.Role, p.ID)
		}
	}
	d.Dialogs = []dialogDetails{dlg}
	r := exResult{ConvID: c.ID, EffectiveTTR: -1, LastUpdateTime: c.Updated, NumberOfUnreadMessages: map[string]int{}, ConversationDetails: d}
	if last != nil {
		ev := s.messageEvent(c, last)
		r.LastContentEventNotification = &ev
	}
	return r
}

// roleMap is a JSON object of role to ids, its roles in the order they
// were added (the consumer's first).
type roleMap struct {
	roles []string
	ids   [][]string
}

func (m *roleMap) add(role, id string) {
	i := slices.Index(m.roles, role)
	if i < 0 {
		m.roles, m.ids = append(m.roles, role), append(m.ids, nil)
		i = len(m.roles) - 1
	}
	m.ids[i] = append(m.ids[i], id)
}

// MarshalJSON writes the object.
func (m roleMap) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, r := range m.roles {
		if i > 0 {
			b = append(b, ',')
		}
		role, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		b = append(append(b, role...), ':')
		ids, err := json.Marshal(m.ids[i])
		if err != nil {
			return nil, err
		}
		b = append(b, ids...)
	}
	return append(b, '}'), nil
}

// fieldChange is one entry of UpdateConversationField's conversationField.
type fieldChange struct {
	Field             string          `json:"field"`
	Type              string          `json:"type"`
	Role              string          `json:"role"`
	UserID            string          `json:"userId"`
	Skill             json.RawMessage `json:"skill"`
	ConversationState string          `json:"conversationState"`
}

// Roles an agent may join a conversation in.
var joinRoles = []conversation.Role{conversation.Manager, conversation.AssignedAgent, conversation.Reader, conversation.Agent,
	conversation.Controller}

// updateField joins, leaves, transfers or closes a conversation:
// ParticipantsChange ADD (role MANAGER, ASSIGNED_AGENT, READER, AGENT,
// CONTROLLER), REMOVE and SUGGEST (a transfer to an agent); Skill (or
// TransferToSkill) UPDATE, a transfer to a skill (the assigned agent
// leaves: a REMOVE of it with the transfer is the transfer's); and
// ConversationStateField CLOSE (closeReason AGENT). Every change is
// checked before the first is made.
func (s *session) updateField(ctx context.Context, req wire.Frame) (any, func(), error) {
	var b struct {
		ConversationID string        `json:"conversationId"`
		DialogID       string        `json:"dialogId"`
		Fields         []fieldChange `json:"conversationField"`
	}
	if err := wire.DecodeBody(req, &b); err != nil {
		return nil, nil, err
	}
	id, err := conversationOf("body.conversationId", b.ConversationID, b.DialogID)
	if err != nil {
		return nil, nil, err
	}
	if len(b.Fields) == 0 || len(b.Fields) > 20 {
		return nil, nil, wire.Errorf("body.conversationField", "%d changes, must be 1 to 20", len(b.Fields))
	}
	c, err := s.h.svc.Get(ctx, s.account, id)
	if err != nil {
		return nil, nil, err
	}
	type step struct {
		field  fieldChange
		userID string
		role   conversation.Role
	}
	var steps []step
	var transfer *messaging.TransferRequest
	for i, fc := range b.Fields {
		name := fmt.Sprintf("body.conversationField[%d]", i)
		switch fc.Field {
		case "ParticipantsChange":
			u, ok := s.user, true
			if fc.UserID != "" {
				u, ok = s.resolveUser(fc.UserID)
			}
			if !ok {
				return nil, nil, wire.Errorf(name+".userId", "%.60q is no user of account %s", fc.UserID, s.account)
			}
			role := conversation.Role(fc.Role)
			switch fc.Type {
			case "ADD":
				if !slices.Contains(joinRoles, role) {
					return nil, nil, wire.Errorf(name+".role", "%.30q, must be MANAGER, ASSIGNED_AGENT, READER, AGENT or CONTROLLER", fc.Role)
				}
			case "REMOVE":
			case "SUGGEST":
				if transfer == nil {
					transfer = &messaging.TransferRequest{By: s.user.ID}
				}
				transfer.AgentID = u.ID
			default:
				return nil, nil, wire.Errorf(name+".type", "%.20q, must be ADD, REMOVE or SUGGEST", fc.Type)
			}
			steps = append(steps, step{field: fc, userID: u.ID, role: role})
		case "Skill", "TransferToSkill":
			if fc.Type != "" && fc.Type != "UPDATE" {
				return nil, nil, wire.Errorf(name+".type", "%.20q, must be UPDATE", fc.Type)
			}
			if transfer == nil {
				transfer = &messaging.TransferRequest{By: s.user.ID}
			}
			if id, err := skillID(fc.Skill); err == nil {
				transfer.SkillID = id
			} else if err := json.Unmarshal(fc.Skill, &transfer.SkillName); err != nil || transfer.SkillName == "" {
				return nil, nil, wire.Errorf(name+".skill", "required: a skill id or name")
			}
		case "ConversationStateField":
			if fc.ConversationState != string(conversation.Closed) {
				return nil, nil, wire.Errorf(name+".conversationState", "%.20q, must be CLOSE", fc.ConversationState)
			}
			steps = append(steps, step{field: fc})
		default:
			return nil, nil, unsupported(name+".field", "%.40q (ParticipantsChange, Skill and ConversationStateField are supported)", fc.Field)
		}
	}
	msg := "OK"
	for _, st := range steps {
		var err error
		switch {
		case st.field.Field == "ConversationStateField":
			if transfer != nil {
				_, err = s.transfer(ctx, c, transfer)
				transfer = nil
			}
			if err == nil {
				_, err = s.h.svc.CloseConversation(ctx, s.account, c.ID, conversation.ClosedByAgent)
			}
		case st.field.Type == "ADD":
			u, _ := s.h.users.ByID(s.account, st.userID)
			if u.ID == "" {
				u = s.user
			}
			_, err = s.h.svc.Join(ctx, s.account, c.ID, agentOf(u), st.role)
			msg = "OK Agent added successfully"
		case st.field.Type == "REMOVE":
			if role, in := participant(c, st.userID); transfer != nil && in && role == conversation.AssignedAgent {
				continue // the transfer takes the assigned agent out
			}
			_, err = s.h.svc.Leave(ctx, s.account, c.ID, st.userID)
			msg = "OK Agent removed successfully"
		}
		if err != nil {
			return nil, nil, err
		}
	}
	if transfer != nil {
		if _, err := s.transfer(ctx, c, transfer); err != nil {
			return nil, nil, err
		}
		msg = "OK Conversation transferred successfully"
	}
	return msg, nil, nil
}

// transfer moves c to the request's skill (its own when none) and agent.
func (s *session) transfer(ctx context.Context, c *conversation.Conversation, t *messaging.TransferRequest) (*conversation.Conversation, error) {
	return s.h.svc.Transfer(ctx, s.account, c.ID, *t)
}

// requestConversation starts a conversation with a consumer and assigns
// it to the agent (.ams.cm.AgentRequestConversation). A consumer with an
// open conversation that another agent has gets a conflict.
func (s *session) requestConversation(ctx context.Context, req wire.Frame) (any, func(), error) {
	var b struct {
		ConsumerID string          `json:"consumerId"`
		SkillID    json.RawMessage `json:"skillId"`
	}
	if err := wire.DecodeBody(req, &b); err != nil {
		return nil, nil, err
	}
	if err := validConsumerID(b.ConsumerID); err != nil {
		return nil, nil, err
	}
	r := messaging.StartRequest{AccountID: s.account, ConsumerID: b.ConsumerID}
	if len(b.SkillID) > 0 && string(b.SkillID) != "null" {
		id, err := skillID(b.SkillID)
		if err != nil {
			return nil, nil, wire.Errorf("body.skillId", "%v", err)
		}
		r.SkillID = id
	}
	c, err := s.h.svc.Start(ctx, r)
	if err != nil {
		return nil, nil, err
	}
	for _, p := range c.Participants {
		if p.Role == conversation.AssignedAgent && p.In() && p.ID != s.user.ID {
			return nil, nil, fmt.Errorf("consumer %s has an open conversation, %s, with another agent: %w", b.ConsumerID, c.ID, conversation.ErrExists)
		}
	}
	if _, err := s.h.svc.Join(ctx, s.account, c.ID, agentOf(s.user), conversation.AssignedAgent); err != nil {
		return nil, nil, err
	}
	return map[string]string{"conversationId": c.ID}, nil, nil
}

// validConsumerID checks a consumer id as the tag makes visitor ids.
func validConsumerID(id string) error {
	if id == "" || len(id) > 64 {
		return wire.Errorf("body.consumerId", "required, at most 64 bytes")
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return wire.Errorf("body.consumerId", "character %q not allowed", c)
		}
	}
	return nil
}

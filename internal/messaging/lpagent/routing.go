package lpagent

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/sightline/sightline/internal/conversation"
	"github.com/sightline/sightline/internal/messaging"
	"github.com/sightline/sightline/internal/messaging/wire"
)

// Ring states of a routing task's ringsDetails.
const (
	ringWaiting   = "WAITING"
	ringAccepted  = "ACCEPTED"
	ringRejected  = "REJECTED"
	ringExpired   = "EXPIRED"
	ringCancelled = "CANCELLED"
)

// availabilities are the agent states SetAgentState takes.
var availabilities = []string{messaging.Online, messaging.Away, messaging.Occupied, messaging.Offline, "BACK_SOON"}

// setState sets the agent's state (.ams.routing.SetAgentState): ONLINE
// takes rings of its skills, the others do not.
func (s *session) setState(_ context.Context, req wire.Frame) (any, func(), error) {
	var b struct {
		Availability string `json:"availability"`
		AgentUserID  string `json:"agentUserId"`
	}
	if err := wire.DecodeBody(req, &b); err != nil {
		return nil, nil, err
	}
	if !slices.Contains(availabilities, b.Availability) {
		return nil, nil, wire.Errorf("body.availability", "%.20q, must be one of %v", b.Availability, availabilities)
	}
	if b.AgentUserID != "" {
		if u, ok := s.resolveUser(b.AgentUserID); !ok || u.ID != s.user.ID {
			return nil, nil, wire.Errorf("body.agentUserId", "%.60q: an agent sets its own state only: %v", b.AgentUserID, errForbidden)
		}
	}
	s.as.SetState(b.Availability)
	return "Agent state updated successfully", nil, nil
}

// ringSink receives the agent's rings.
type ringSink struct{ s *session }

// Notify queues a ring event for the pump.
func (r *ringSink) Notify(e messaging.Event) { r.s.enqueue(item{src: r, ev: e}) }

// ringState is a ring of the agent's.
type ringState struct {
	c     *conversation.Conversation
	until time.Time
}

// The routing task notification's shapes.
type (
	routingNotification struct {
		SubscriptionID string          `json:"subscriptionId"`
		Changes        []routingChange `json:"changes"`
	}
	routingChange struct {
		Type   string      `json:"type"`
		Result routingTask `json:"result"`
	}
	routingTask struct {
		RoutingTaskID   string        `json:"routingTaskId"`
		TaskCompleted   bool          `json:"taskCompleted"`
		ConversationID  string        `json:"conversationId"`
		ConsumerID      string        `json:"consumerId"`
		SkillID         string        `json:"skillId"`
		BrandID         string        `json:"brandId"`
		AssignedAgentID string        `json:"assignedAgentId,omitempty"`
		RingsDetails    []ringsDetail `json:"ringsDetails"`
	}
	ringsDetail struct {
		RingID           string `json:"ringId"`
		RingState        string `json:"ringState"`
		RingExpiration   int64  `json:"ringExpiration"`
		RingExpirationTs int64  `json:"ringExpirationTs"`
		Weight           int    `json:"weight"`
		BrandID          string `json:"brandId"`
		ConvID           string `json:"convId"`
		ConsumerID       string `json:"consumerId"`
		SkillID          string `json:"skillId"`
	}
)

// task returns a ring of conversation c as a routing task.
func (s *session) task(ringID, state string, c *conversation.Conversation, until time.Time) routingTask {
	skill := strconv.FormatInt(c.SkillID, 10)
	t := routingTask{RoutingTaskID: c.ID, TaskCompleted: state != ringWaiting, ConversationID: c.ID, ConsumerID: c.ConsumerID,
		SkillID: skill, BrandID: s.account,
		RingsDetails: []ringsDetail{{RingID: ringID, RingState: state, RingExpiration: until.Sub(s.h.now()).Milliseconds(),
			RingExpirationTs: until.UnixMilli(), Weight: 1, BrandID: s.account, ConvID: c.ID, ConsumerID: c.ConsumerID, SkillID: skill}}}
	if state == ringAccepted {
		t.AssignedAgentID = s.oldID
	}
	if t.RingsDetails[0].RingExpiration < 0 {
		t.RingsDetails[0].RingExpiration = 0
	}
	return t
}

func (s *session) notifyTask(t routingTask) {
	s.notify(notifyRoutingTask, routingNotification{SubscriptionID: s.routingSub, Changes: []routingChange{{Type: "UPSERT", Result: t}}})
}

// ringEvent keeps the agent's rings and, once the connection subscribed
// to routing tasks, sends them: WAITING when offered, then the state the
// ring ended in.
func (s *session) ringEvent(e messaging.Event) {
	switch e.Kind {
	case messaging.Ring:
		s.rings[e.RingID] = &ringState{c: e.Conversation, until: e.RingUntil}
		if s.routingSub != "" {
			s.notifyTask(s.task(e.RingID, ringWaiting, e.Conversation, e.RingUntil))
		}
	case messaging.RingEnded:
		r := s.rings[e.RingID]
		if r == nil {
			return // rang before this connection and its pump began
		}
		delete(s.rings, e.RingID)
		s.mu.Lock()
		rejected := s.rejected[e.RingID]
		delete(s.rejected, e.RingID)
		s.mu.Unlock()
		c := e.Conversation
		state := ringCancelled
		switch role, in := participant(c, s.user.ID); {
		case in && role == conversation.AssignedAgent && c.State == conversation.Open:
			state = ringAccepted
		case rejected:
			state = ringRejected
		case c.State == conversation.Open && !s.h.now().Before(r.until):
			state = ringExpired
		}
		if s.routingSub != "" {
			s.notifyTask(s.task(e.RingID, state, c, r.until))
		}
	}
}

// subscribeRouting subscribes the connection to the agent's rings
// (.ams.routing.SubscribeRoutingTasks): the rings waiting now come at once.
// Runs in the pump.
func (s *session) subscribeRouting(_ context.Context, req wire.Frame) (any, func(), error) {
	var b map[string]any
	if err := wire.DecodeBody(req, &b); err != nil {
		return nil, nil, err
	}
	if s.routingSub == "" {
		s.routingSub = uuid.NewString()
	}
	return map[string]string{"subscriptionId": s.routingSub}, func() {
		ids := make([]string, 0, len(s.rings))
		for id := range s.rings {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			r := s.rings[id]
			s.notifyTask(s.task(id, ringWaiting, r.c, r.until))
		}
	}, nil
}

// updateRoutingSub answers .ams.routing.UpdateRoutingTaskSubscription: the
// rings of the agent's skills are the subscription's, whatever it asks.
// Runs in the pump.
func (s *session) updateRoutingSub(_ context.Context, req wire.Frame) (any, func(), error) {
	var b map[string]any
	if err := wire.DecodeBody(req, &b); err != nil {
		return nil, nil, err
	}
	if s.routingSub == "" {
		return nil, nil, wire.Errorf("type", "no routing task subscription on this connection: %v", conversation.ErrNotFound)
	}
	return map[string]string{"subscriptionId": s.routingSub}, nil, nil
}

// updateRing accepts or rejects a ring (.ams.routing.UpdateRingState).
func (s *session) updateRing(ctx context.Context, req wire.Frame) (any, func(), error) {
	var b struct {
		RingID    string `json:"ringId"`
		RingState string `json:"ringState"`
	}
	if err := wire.DecodeBody(req, &b); err != nil {
		return nil, nil, err
	}
	if b.RingID == "" {
		return nil, nil, wire.Errorf("body.ringId", "required")
	}
	switch b.RingState {
	case ringAccepted:
		if _, err := s.as.Accept(ctx, b.RingID); err != nil {
			return nil, nil, err
		}
	case ringRejected:
		s.mu.Lock()
		if len(s.rejected) < 1000 {
			s.rejected[b.RingID] = true
		}
		s.mu.Unlock()
		if err := s.as.Reject(b.RingID); err != nil {
			s.mu.Lock()
			delete(s.rejected, b.RingID)
			s.mu.Unlock()
			return nil, nil, err
		}
	default:
		return nil, nil, wire.Errorf("body.ringState", "%.20q, must be ACCEPTED or REJECTED", b.RingState)
	}
	return "Ring state updated successfully", nil, nil
}

// agentSub is a subscription to an agent's state.
type agentSub struct {
	s      *session
	id     string
	agent  string // user id
	cancel func()
}

// Notify queues an agent state event for the pump.
func (x *agentSub) Notify(e messaging.Event) { x.s.enqueue(item{src: x, ev: e}) }

type (
	agentStateNotification struct {
		SubscriptionID string             `json:"subscriptionId"`
		Changes        []agentStateChange `json:"changes"`
	}
	agentStateChange struct {
		Type   string     `json:"type"`
		Result agentState `json:"result"`
	}
	agentState struct {
		AgentUserID  string   `json:"agentUserId"`
		Channels     []string `json:"channels"`
		Availability string   `json:"availability"`
		Description  string   `json:"description"`
	}
)

func (s *session) notifyAgentState(x *agentSub, state string) {
	s.notify(notifyAgentState, agentStateNotification{SubscriptionID: x.id, Changes: []agentStateChange{{Type: "UPSERT",
		Result: agentState{AgentUserID: s.account + "." + x.agent, Channels: []string{"MESSAGING"}, Availability: state}}}})
}

// subscribeAgents subscribes to an agent's state (the connection's own
// unless agentId names another of the account's): its state now, then
// each change. Runs in the pump.
func (s *session) subscribeAgents(_ context.Context, req wire.Frame) (any, func(), error) {
	var b struct {
		AgentID string `json:"agentId"`
	}
	if err := wire.DecodeBody(req, &b); err != nil {
		return nil, nil, err
	}
	u, ok := s.user, true
	if b.AgentID != "" {
		u, ok = s.resolveUser(b.AgentID)
	}
	if !ok {
		return nil, nil, wire.Errorf("body.agentId", "%.60q is no user of account %s", b.AgentID, s.account)
	}
	if len(s.subs)+len(s.agentSubs) >= MaxSubscriptions {
		return nil, nil, errTooMany
	}
	x := &agentSub{s: s, id: uuid.NewString(), agent: u.ID}
	s.agentSubs[x.id] = x
	states, cancel := s.h.svc.WatchAgents(s.account, x)
	x.cancel = cancel
	state := states[u.ID]
	if state == "" {
		state = messaging.Offline
	}
	return map[string]string{"subscriptionId": x.id}, func() { s.notifyAgentState(x, state) }, nil
}

// agentEvent sends an agent's new state to the subscription of it.
func (s *session) agentEvent(x *agentSub, e messaging.Event) {
	if e.Kind == messaging.AgentStateChanged && e.From == x.agent {
		s.notifyAgentState(x, e.State)
	}
}

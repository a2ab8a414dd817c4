package messaging

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/sightline/sightline/internal/conversation"
)

// AgentSession is one connection of an agent: its state and the rings it
// takes. Close it when the connection ends.
type AgentSession struct {
	s       *Service
	account string
	agent   *agentState
	sink    Sink
}

// Connect registers a connection of ag in the account. The agent starts
// OFFLINE on a first connection; sink receives the agent's rings once it is
// ONLINE.
func (s *Service) Connect(account string, ag Agent, sink Sink) *AgentSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.account(account)
	st := a.agents[ag.ID]
	if st == nil {
		st = &agentState{state: Offline, sinks: map[Sink]int{}}
		for _, lv := range a.convs {
			if assignedAgent(lv.c) == ag.ID {
				st.assigned++
			}
		}
		a.agents[ag.ID] = st
	}
	st.Agent = ag
	st.sinks[sink]++
	// The new connection is told the rings the agent has already.
	for _, lv := range a.rings {
		if lv.ring.agent == st {
			sink.Notify(Event{Kind: Ring, Conversation: lv.c, RingID: lv.ring.id, RingUntil: lv.ring.until})
		}
	}
	return &AgentSession{s: s, account: account, agent: st, sink: sink}
}

// SetState sets the agent's state: Online takes rings, the others do not.
func (as *AgentSession) SetState(state string) {
	s := as.s
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.account(as.account)
	as.agent.state = state
	notifyAgentState(a, as.agent)
	s.route(a)
}

// notifyAgentState tells the account's agent watchers the state of ag.
// s.mu is held.
func notifyAgentState(a *accountState, ag *agentState) {
	for w := range a.agentWatchers {
		w.sink.Notify(Event{Kind: AgentStateChanged, From: ag.ID, State: ag.state})
	}
}

// State returns the agent's state.
func (as *AgentSession) State() string {
	as.s.mu.Lock()
	defer as.s.mu.Unlock()
	return as.agent.state
}

// Agent returns who the session is of.
func (as *AgentSession) Agent() Agent { return as.agent.Agent }

// Close ends the connection. When it was the agent's last, the agent goes
// OFFLINE and its rings go to others.
func (as *AgentSession) Close() {
	s := as.s
	s.mu.Lock()
	defer s.mu.Unlock()
	st := as.agent
	if st.sinks[as.sink]--; st.sinks[as.sink] <= 0 {
		delete(st.sinks, as.sink)
	}
	if len(st.sinks) > 0 {
		return
	}
	st.state = Offline
	a := s.account(as.account)
	notifyAgentState(a, st)
	for _, lv := range a.rings {
		if lv.ring.agent == st {
			s.endRing(a, lv)
		}
	}
	s.route(a)
}

// Accept takes the ring ringID: the agent joins its conversation as the
// assigned agent.
func (as *AgentSession) Accept(ctx context.Context, ringID string) (*conversation.Conversation, error) {
	s := as.s
	s.mu.Lock()
	lv := s.ringOf(as.account, ringID, as.agent)
	if lv == nil {
		s.mu.Unlock()
		return nil, ErrNoRing
	}
	s.mu.Unlock()
	return s.Join(ctx, as.account, lv.c.ID, as.agent.Agent, conversation.AssignedAgent)
}

// Reject declines the ring ringID: the conversation goes to another agent.
func (as *AgentSession) Reject(ringID string) error {
	s := as.s
	s.mu.Lock()
	defer s.mu.Unlock()
	lv := s.ringOf(as.account, ringID, as.agent)
	if lv == nil {
		return ErrNoRing
	}
	a := s.account(as.account)
	lv.reject(as.agent.ID, s.now())
	s.endRing(a, lv)
	s.route(a)
	return nil
}

// reject notes that agent declined lv or let it ring.
func (lv *live) reject(agent string, now time.Time) {
	lv.rejected = append(lv.rejected, agent)
	lv.rejectedAt = now
}

// ringOf returns the conversation ringing ag with ringID. s.mu is held.
func (s *Service) ringOf(account, ringID string, ag *agentState) *live {
	a := s.accounts[account]
	if a == nil {
		return nil
	}
	if lv := a.rings[ringID]; lv != nil && lv.ring.agent == ag {
		return lv
	}
	return nil
}

// endRing takes lv's ring back. s.mu is held.
func (s *Service) endRing(a *accountState, lv *live) {
	r := lv.ring
	lv.ring = nil
	delete(a.rings, r.id)
	r.agent.rings--
	for sink := range r.agent.sinks {
		sink.Notify(Event{Kind: RingEnded, Conversation: lv.c, RingID: r.id})
	}
}

// room reports whether ag may be offered one more conversation.
func (ag *agentState) room() bool {
	return ag.state == Online && len(ag.sinks) > 0 && (ag.MaxChats <= 0 || ag.assigned+ag.rings < ag.MaxChats)
}

func (ag *agentState) serves(skill string) bool {
	return slices.Contains(ag.Skills, skill)
}

// route rings agents with room for the conversations waiting without a
// ring, the longest waiting first. s.mu is held.
func (s *Service) route(a *accountState) {
	for _, lv := range a.queue {
		if lv.ring != nil {
			continue
		}
		if ag := s.pick(a, lv); ag != nil {
			lv.ring = &ring{id: uuid.NewString(), agent: ag, until: s.now().Add(s.cfg.RingTimeout)}
			a.rings[lv.ring.id] = lv
			ag.rings++
			for sink := range ag.sinks {
				sink.Notify(Event{Kind: Ring, Conversation: lv.c, RingID: lv.ring.id, RingUntil: lv.ring.until})
			}
		}
	}
}

// tellPlaces tells the waiting consumers whose place in their skill's
// queue changed since they were last told it their new place. A skill's
// queue is the account's queue's conversations of the skill. Once a
// second rather than at every change: when a conversation leaves the
// head of a queue, every one behind it moves up. s.mu is held.
func (s *Service) tellPlaces(a *accountState) {
	places := map[string]int{}
	for _, lv := range a.queue {
		places[lv.c.SkillName]++
		if pos := places[lv.c.SkillName]; pos != lv.position {
			lv.position = pos
			notifyConversation(lv, Event{Kind: QueueChanged, Conversation: lv.c, Position: pos, Wait: s.wait(lv, pos)})
		}
	}
}

// pick returns the agent to offer lv: online on its skill with room, who
// did not reject it, the least loaded first. s.mu is held.
func (s *Service) pick(a *accountState, lv *live) *agentState {
	var best *agentState
	target := ""
	if n := len(lv.c.Transfers); n > 0 {
		target = lv.c.Transfers[n-1].TargetAgentID
	}
	for id, ag := range a.agents {
		switch {
		case !ag.room(), slices.Contains(lv.rejected, id):
			continue
		case target != "":
			if id != target {
				continue
			}
		case !ag.serves(lv.c.SkillName):
			continue
		}
		if best == nil || ag.assigned+ag.rings < best.assigned+best.rings ||
			(ag.assigned+ag.rings == best.assigned+best.rings && id < best.ID) {
			best = ag
		}
	}
	return best
}

// position returns lv's place in its skill's queue (1: next), and
// remembers it as told. s.mu is held.
func (s *Service) position(a *accountState, lv *live) int {
	pos := 0
	for _, o := range a.queue {
		if o.c.SkillName == lv.c.SkillName {
			pos++
		}
		if o == lv {
			break
		}
	}
	lv.position = pos
	return pos
}

// wait estimates how long lv, at place pos of its queue, still waits: a
// minute per conversation ahead and its own, less the time it has waited,
// at least none.
func (s *Service) wait(lv *live, pos int) time.Duration {
	return max(time.Duration(pos)*time.Minute-s.now().Sub(lv.queued), 0)
}

// SkillState returns the agents' state of a skill of the account: online
// when an agent of the skill is ONLINE with room, busy when all those
// ONLINE are full, offline when none is.
func (s *Service) SkillState(account, skill string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[account]
	if a == nil {
		return SkillOffline
	}
	state := SkillOffline
	for _, ag := range a.agents {
		if ag.state != Online || len(ag.sinks) == 0 || !ag.serves(skill) {
			continue
		}
		if ag.room() {
			return SkillOnline
		}
		state = SkillBusy
	}
	return state
}

// tick times rings out and closes idle conversations.
func (s *Service) tick(ctx context.Context) {
	now := s.now()
	var idle []*conversation.Conversation
	s.mu.Lock()
	for _, a := range s.accounts {
		rang := false
		// Only waiting conversations ring, or were rejected. (endRing
		// leaves the queue as it is.)
		for _, lv := range a.queue {
			if len(lv.rejected) > 0 && now.Sub(lv.rejectedAt) > s.cfg.RingTimeout {
				lv.rejected = nil
				rang = true
			}
			if lv.ring != nil && now.After(lv.ring.until) {
				lv.reject(lv.ring.agent.ID, now)
				s.endRing(a, lv)
				rang = true
			}
		}
		for _, lv := range a.convs {
			if s.cfg.IdleTimeout > 0 && now.Sub(time.UnixMilli(lv.c.Updated)) > s.cfg.IdleTimeout {
				idle = append(idle, lv.c)
			}
		}
		if rang {
			s.route(a)
		}
		s.tellPlaces(a)
	}
	s.mu.Unlock()
	for _, c := range idle {
		if _, err := s.CloseConversation(ctx, c.AccountID, c.ID, conversation.ClosedBySystem); err != nil && ctx.Err() == nil {
			s.logger.Warn("cannot close idle conversation", "account", c.AccountID, "conversation", c.ID, "err", err)
		}
	}
}

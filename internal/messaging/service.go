// Package messaging is the real-time side of conversations: it keeps the
// live state of every open conversation, routes conversations waiting in a
// skill's queue to the agents online on that skill, and tells the connected
// consumers (the chat window), agents and bots what changes. The protocol
// adapters (the chat window's WebSocket, LivePerson's agent protocol) call
// the Service; it changes conversations only through a conversation.Store,
// so that what it acknowledges is durable, and takes the open ones up again
// when it starts.
package messaging

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/sightline/sightline/internal/conversation"
)

// Agent states, as LivePerson's SetAgentState names them.
const (
	Online   = "ONLINE"
	Occupied = "OCCUPIED"
	Away     = "AWAY"
	Offline  = "OFFLINE"
)

// Skill availability, as the campaigns' availability names it.
const (
	SkillOnline  = "online"
	SkillBusy    = "busy"
	SkillOffline = "offline"
)

// Config configures a Service.
type Config struct {
	// RingTimeout is how long an agent is offered a conversation before it
	// goes to the next one.
	RingTimeout time.Duration
	// IdleTimeout closes open conversations (SYSTEM) in which nothing
	// happened for this long; 0 never does.
	IdleTimeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// DefaultConfig returns the defaults of serve.
func DefaultConfig() Config {
	return Config{RingTimeout: 30 * time.Second, IdleTimeout: time.Hour}
}

// Agent is a user who serves conversations: a human agent or a bot.
type Agent struct {
	ID        string
	Name      string
	LoginName string
	// Skills are the names of the skills the agent serves.
	Skills []string
	// MaxChats is the most conversations the agent is assigned at once
	// (0: no limit).
	MaxChats int
	Bot      bool
}

// Skill is a skill of an account: the campaigns' engagements name them.
type Skill struct {
	ID   int64
	Name string
}

// EventKind says what an Event tells.
type EventKind int

// Kinds of events.
const (
	// ConversationChanged: Conversation is the conversation as it is now
	// (opened, joined, transferred, closed, surveyed...).
	ConversationChanged EventKind = iota + 1
	// MessageAdded: Message is a new message of Conversation.
	MessageAdded
	// StatusesAdded: Statuses are new delivery statuses.
	StatusesAdded
	// ChatStateChanged: From's chat state is ChatState (COMPOSING,
	// ACTIVE, PAUSE...). Not stored.
	ChatStateChanged
	// Ring: the agent is offered Conversation; RingID names the offer.
	Ring
	// RingEnded: the offer RingID ended (accepted by someone, timed out,
	// taken back).
	RingEnded
	// QueueChanged: the consumer's conversation is at Position in its
	// skill's queue (0: not waiting), with the estimated wait Wait.
	QueueChanged
	// AgentStateChanged: the agent From is now in State (ONLINE, AWAY...).
	// Conversation is nil.
	AgentStateChanged
)

// Event is what a Sink is told.
type Event struct {
	Kind         EventKind
	Conversation *conversation.Conversation
	Message      *conversation.Message
	Statuses     []conversation.Status
	From         string
	ChatState    string
	RingID       string
	// RingUntil is when the ring of a Ring event times out.
	RingUntil time.Time
	Position  int
	Wait      time.Duration
	// State is an agent's state (AgentStateChanged).
	State string
}

// A Sink receives events. Notify must not block: a connection queues the
// event, or drops itself when its queue is full.
type Sink interface {
	Notify(Event)
}

// Errors of the Service.
var (
	ErrNotParticipant = errors.New("not a participant of the conversation")
	ErrNoRing         = errors.New("no such ring")
)

// Service is the messaging service of a server. It is safe for
// concurrent use.
type Service struct {
	cfg    Config
	logger *slog.Logger
	store  conversation.Store
	skills func(account string) []Skill

	mu       sync.Mutex
	accounts map[string]*accountState
	// starting holds the consumers whose conversation is being created,
	// so that two starts of one consumer make one conversation.
	starting map[string]chan struct{}
}

type accountState struct {
	convs map[string]*live
	// byConsumer is the open conversation of each consumer who has one.
	byConsumer map[string]*live
	agents     map[string]*agentState
	watchers   map[*watch]struct{} // of every conversation of the account
	// agentWatchers are told the agents' state changes.
	agentWatchers map[*watch]struct{}
	// queue is the conversations waiting for an agent (those whose
	// queued is set), the longest waiting first (see ahead): routing
	// reads those alone, in order, without sorting them again.
	queue []*live
	// enqueued counts the conversations queued, to order those queued at
	// the same time.
	enqueued uint64
	// rings are the conversations ringing, by ring id.
	rings map[string]*live
}

// live is an open conversation.
type live struct {
	c        *conversation.Conversation
	watchers map[*watch]struct{}
	// mu orders the durable changes of the conversation and their events.
	mu sync.Mutex
	// queued is when the conversation started waiting for an agent; zero
	// while an agent is assigned. accountState.enqueue and dequeue set it.
	queued time.Time
	// turn orders conversations queued at the same time: the first queued
	// first.
	turn uint64
	// position is the place in its skill's queue its watchers were last
	// told; 0 when not waiting. Places are told once a second (tick).
	position int
	ring     *ring
	// rejected lists agents who rejected or let ring the conversation
	// since rejectedAt; they are offered it again a RingTimeout later.
	rejected   []string
	rejectedAt time.Time
}

type ring struct {
	id    string
	agent *agentState
	until time.Time
}

type agentState struct {
	Agent
	state string
	// sinks are the agent's connections that take rings.
	sinks map[Sink]int
	// assigned counts open conversations the agent is assigned.
	assigned int
	rings    int
}

type watch struct{ sink Sink }

// New returns a Service that keeps conversations in store; skills lists
// an account's skills (nil: none). Call Resume before serving.
func New(cfg Config, logger *slog.Logger, store conversation.Store, skills func(account string) []Skill) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RingTimeout <= 0 {
		cfg.RingTimeout = DefaultConfig().RingTimeout
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if skills == nil {
		skills = func(string) []Skill { return nil }
	}
	return &Service{cfg: cfg, logger: logger, store: store, skills: skills,
		accounts: map[string]*accountState{}, starting: map[string]chan struct{}{}}
}

// Resume takes up the open conversations of the store; call it once,
// before serving.
func (s *Service) Resume(ctx context.Context) error {
	return s.store.EachOpen(ctx, func(c *conversation.Conversation) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		lv := &live{c: c, watchers: map[*watch]struct{}{}}
		a := s.account(c.AccountID)
		a.add(lv)
		if assignedAgent(c) == "" {
			a.enqueue(lv, time.UnixMilli(c.Updated))
		}
		return nil
	})
}

// Run rings agents again when rings time out and closes idle
// conversations, until ctx ends.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.tick(ctx)
	}
}

// account returns the state of account id, creating it. s.mu is held.
func (s *Service) account(id string) *accountState {
	a := s.accounts[id]
	if a == nil {
		a = &accountState{convs: map[string]*live{}, byConsumer: map[string]*live{}, agents: map[string]*agentState{},
			watchers: map[*watch]struct{}{}, agentWatchers: map[*watch]struct{}{}, rings: map[string]*live{}}
		s.accounts[id] = a
	}
	return a
}

// add makes lv one of the account's open conversations.
func (a *accountState) add(lv *live) {
	a.convs[lv.c.ID] = lv
	a.byConsumer[lv.c.ConsumerID] = lv
}

// remove takes lv out of the account's open conversations (and out of
// its queue).
func (a *accountState) remove(lv *live) {
	delete(a.convs, lv.c.ID)
	if a.byConsumer[lv.c.ConsumerID] == lv {
		delete(a.byConsumer, lv.c.ConsumerID)
	}
	a.dequeue(lv)
}

// enqueue makes lv wait for an agent since t.
func (a *accountState) enqueue(lv *live, t time.Time) {
	a.dequeue(lv)
	a.enqueued++
	lv.queued, lv.turn = t, a.enqueued
	i, _ := slices.BinarySearchFunc(a.queue, lv, ahead)
	a.queue = slices.Insert(a.queue, i, lv)
}

// dequeue makes lv wait no more.
func (a *accountState) dequeue(lv *live) {
	if lv.queued.IsZero() {
		return
	}
	if i, ok := slices.BinarySearchFunc(a.queue, lv, ahead); ok {
		a.queue = slices.Delete(a.queue, i, i+1)
	}
	lv.queued, lv.position = time.Time{}, 0
}

// ahead orders the waiting conversations: the longest waiting first, then
// the first queued.
func ahead(x, y *live) int {
	if c := x.queued.Compare(y.queued); c != 0 {
		return c
	}
	return cmp.Compare(x.turn, y.turn)
}

func (s *Service) now() time.Time { return s.cfg.Now() }

func assignedAgent(c *conversation.Conversation) string {
	for _, p := range c.Participants {
		if p.Role == conversation.AssignedAgent && p.In() {
			return p.ID
		}
	}
	return ""
}

// StartRequest is what a consumer starts a conversation with.
type StartRequest struct {
	AccountID  string
	ConsumerID string
	Name       string
	Identity   *conversation.Identity
	SkillID    int64
	SkillName  string
	Campaign   conversation.Campaign
	Context    conversation.Context
	Attributes []conversation.Attribute
}

// Start returns the consumer's open conversation in the account, or starts
// one in the queue of the request's skill.
func (s *Service) Start(ctx context.Context, r StartRequest) (*conversation.Conversation, error) {
	key := r.AccountID + "\x00" + r.ConsumerID
	for {
		s.mu.Lock()
		if a := s.accounts[r.AccountID]; a != nil && a.byConsumer[r.ConsumerID] != nil {
			c := a.byConsumer[r.ConsumerID].c
			s.mu.Unlock()
			return c, nil
		}
		done, busy := s.starting[key]
		if !busy {
			s.starting[key] = make(chan struct{})
			s.mu.Unlock()
			break
		}
		s.mu.Unlock()
		select {
		case <-done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	defer func() {
		s.mu.Lock()
		close(s.starting[key])
		delete(s.starting, key)
		s.mu.Unlock()
	}()
	now := s.now().UnixMilli()
	c := &conversation.Conversation{
		ID: uuid.NewString(), AccountID: r.AccountID, ConsumerID: r.ConsumerID, Identity: r.Identity,
		State: conversation.Open, Start: now, Updated: now, SkillID: -1,
		Campaign: r.Campaign, Context: r.Context, Attributes: r.Attributes,
		Participants: []conversation.Participant{{ID: r.ConsumerID, Role: conversation.Consumer, Name: r.Name, Joined: now}},
	}
	if r.SkillName != "" || r.SkillID > 0 {
		c.SkillID, c.SkillName = s.skill(r.AccountID, r.SkillID, r.SkillName)
	}
	if err := s.store.Create(ctx, c); err != nil {
		return nil, err
	}
	s.mu.Lock()
	a := s.account(r.AccountID)
	lv := &live{c: c, watchers: map[*watch]struct{}{}}
	a.add(lv)
	a.enqueue(lv, s.now())
	s.notifyAccount(a, Event{Kind: ConversationChanged, Conversation: c})
	s.route(a)
	s.mu.Unlock()
	return c, nil
}

// Skills returns the account's skills (those its engagements name).
func (s *Service) Skills(account string) []Skill { return s.skills(account) }

// skill completes a skill given by id or name from the account's skills.
func (s *Service) skill(account string, id int64, name string) (int64, string) {
	for _, sk := range s.skills(account) {
		if (id > 0 && sk.ID == id) || (id <= 0 && sk.Name == name) {
			return sk.ID, sk.Name
		}
	}
	if id <= 0 {
		id = -1
	}
	return id, name
}

// openOf returns the consumer's open conversation, or nil.
func (s *Service) openOf(account, consumer string) *conversation.Conversation {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[account]
	if a == nil || a.byConsumer[consumer] == nil {
		return nil
	}
	return a.byConsumer[consumer].c
}

// Chatting reports whether the consumer has an open conversation in the
// account.
func (s *Service) Chatting(account, consumer string) bool {
	return s.openOf(account, consumer) != nil
}

// Open returns the consumer's open conversation in the account, or nil.
func (s *Service) Open(account, consumer string) *conversation.Conversation {
	return s.openOf(account, consumer)
}

// Get returns a conversation of the account, open or closed.
func (s *Service) Get(ctx context.Context, account, id string) (*conversation.Conversation, error) {
	if lv := s.live(account, id); lv != nil {
		lv.mu.Lock()
		defer lv.mu.Unlock()
		return lv.c, nil
	}
	return s.store.Get(ctx, account, id)
}

// Conversations returns the account's open conversations.
func (s *Service) Conversations(account string) []*conversation.Conversation {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[account]
	if a == nil {
		return nil
	}
	out := make([]*conversation.Conversation, 0, len(a.convs))
	for _, lv := range a.convs {
		out = append(out, lv.c)
	}
	slices.SortFunc(out, func(x, y *conversation.Conversation) int { return int(x.Start - y.Start) })
	return out
}

// Store returns the service's conversation store.
func (s *Service) Store() conversation.Store { return s.store }

func (s *Service) live(account, id string) *live {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.accounts[account]; a != nil {
		return a.convs[id]
	}
	return nil
}

// Watch sends the events of one conversation of the account (messages,
// statuses, chat states, changes, queue position) to sink until cancel is
// called. A closed conversation has no events: Watch returns a cancel that
// does nothing.
func (s *Service) Watch(account, id string, sink Sink) (cancel func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[account]
	if a == nil || a.convs[id] == nil {
		return func() {}
	}
	return s.watch(a, a.convs[id], sink)
}

// watch sends lv's events to sink until cancel is called, the first its
// place in the queue while it waits there. s.mu is held.
func (s *Service) watch(a *accountState, lv *live, sink Sink) (cancel func()) {
	w := &watch{sink: sink}
	lv.watchers[w] = struct{}{}
	if !lv.queued.IsZero() {
		pos := s.position(a, lv)
		sink.Notify(Event{Kind: QueueChanged, Conversation: lv.c, Position: pos, Wait: s.wait(lv, pos)})
	}
	return func() {
		s.mu.Lock()
		delete(lv.watchers, w)
		s.mu.Unlock()
	}
}

// WatchAccount sends the ConversationChanged and MessageAdded events of
// every conversation of the account to sink until cancel is called.
func (s *Service) WatchAccount(account string, sink Sink) (cancel func()) {
	_, cancel = s.WatchOpen(account, func(*conversation.Conversation) bool { return false }, sink)
	return cancel
}

// WatchOpen returns the account's open conversations for which match
// returns true (all when match is nil), the longest open first, and, from
// that moment on, sends the ConversationChanged and MessageAdded events of
// every conversation of the account to sink until cancel is called: each
// event sink gets is newer than the conversations returned. match is
// called with the service's lock held: it must not call the Service.
func (s *Service) WatchOpen(account string, match func(*conversation.Conversation) bool, sink Sink) ([]*conversation.Conversation, func()) {
	w := &watch{sink: sink}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.account(account)
	a.watchers[w] = struct{}{}
	out := make([]*conversation.Conversation, 0, len(a.convs))
	for _, lv := range a.convs {
		if match == nil || match(lv.c) {
			out = append(out, lv.c)
		}
	}
	slices.SortFunc(out, func(x, y *conversation.Conversation) int {
		if c := cmp.Compare(x.Start, y.Start); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	return out, func() {
		s.mu.Lock()
		delete(a.watchers, w)
		s.mu.Unlock()
	}
}

// History is a conversation's messages and delivery statuses.
type History struct {
	Conversation *conversation.Conversation
	// Messages from the Seq asked for on, at most the limit asked for.
	Messages []conversation.Message
	// Statuses of those messages, in the order they were recorded.
	Statuses []conversation.Status
}

// WatchHistory returns a conversation's messages from Seq from on (at most
// limit; all when limit is 0) and their statuses, and, from that moment
// on, sends the conversation's events to sink as Watch does (its place in
// the queue first), until cancel is called: each message and status sink
// gets is newer than the history. A closed
// conversation has a history but no events.
func (s *Service) WatchHistory(ctx context.Context, account, id string, from, limit int, sink Sink) (History, func(), error) {
	nop := func() {}
	lv := s.live(account, id)
	if lv != nil {
		// Holding lv.mu, no message or status is added meanwhile.
		lv.mu.Lock()
		defer lv.mu.Unlock()
	}
	c := (*conversation.Conversation)(nil)
	if lv != nil {
		c = lv.c
	} else {
		var err error
		if c, err = s.store.Get(ctx, account, id); err != nil {
			return History{}, nop, err
		}
	}
	h := History{Conversation: c}
	var err error
	if h.Messages, err = s.store.Messages(ctx, account, id, from, limit); err != nil {
		return History{}, nop, err
	}
	st, err := s.store.Statuses(ctx, account, id)
	if err != nil {
		return History{}, nop, err
	}
	h.Statuses = make([]conversation.Status, 0, len(st))
	for _, x := range st {
		if x.Seq >= from && (limit == 0 || x.Seq < from+limit) {
			h.Statuses = append(h.Statuses, x)
		}
	}
	if lv == nil || c.State == conversation.Closed {
		return h, nop, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return h, s.watch(s.account(account), lv, sink), nil
}

// WatchAgents returns the state of each agent of the account who has
// connected since the service started (by agent id), and, from that
// moment on, sends the AgentStateChanged events of the account's agents
// to sink until cancel is called.
func (s *Service) WatchAgents(account string, sink Sink) (map[string]string, func()) {
	w := &watch{sink: sink}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.account(account)
	a.agentWatchers[w] = struct{}{}
	states := make(map[string]string, len(a.agents))
	for id, ag := range a.agents {
		states[id] = ag.state
	}
	return states, func() {
		s.mu.Lock()
		delete(a.agentWatchers, w)
		s.mu.Unlock()
	}
}

// notifyAccount tells the account's watchers and the conversation's. s.mu
// is held.
func (s *Service) notifyAccount(a *accountState, e Event) {
	for w := range a.watchers {
		w.sink.Notify(e)
	}
	if lv := a.convs[e.Conversation.ID]; lv != nil {
		for w := range lv.watchers {
			w.sink.Notify(e)
		}
	}
}

// notifyConversation tells the conversation's watchers. s.mu is held.
func notifyConversation(lv *live, e Event) {
	for w := range lv.watchers {
		w.sink.Notify(e)
	}
}

// change applies a durable change to an open conversation, then tells
// everyone. fn changes the copy it gets, as Store.Update's.
func (s *Service) change(ctx context.Context, account, id string, fn func(*conversation.Conversation) error) (*conversation.Conversation, error) {
	lv := s.live(account, id)
	if lv == nil {
		if _, err := s.store.Get(ctx, account, id); err != nil {
			return nil, err
		}
		return nil, conversation.ErrClosed
	}
	lv.mu.Lock()
	defer lv.mu.Unlock()
	if lv.c.State == conversation.Closed {
		// Closed since s.live found it: changing the stored conversation
		// again would count its agent's room freed twice.
		return nil, conversation.ErrClosed
	}
	c, err := s.store.Update(ctx, account, id, fn)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.account(account)
	s.settle(a, lv, c)
	return c, nil
}

// settle makes c the live state of lv, tells everyone, frees or takes the
// agents' room, and routes. s.mu is held.
func (s *Service) settle(a *accountState, lv *live, c *conversation.Conversation) {
	before := assignedAgent(lv.c)
	old := lv.c
	lv.c = c
	after := assignedAgent(c)
	if c.State == conversation.Closed {
		after = ""
	}
	if before != after {
		if ag := a.agents[before]; ag != nil && before != "" {
			ag.assigned--
		}
		if ag := a.agents[after]; ag != nil && after != "" {
			ag.assigned++
		}
		if after == "" {
			a.enqueue(lv, s.now())
		} else {
			a.dequeue(lv)
		}
		if lv.ring != nil {
			s.endRing(a, lv)
		}
	}
	// A conversation closed or moved to another skill or agent while it
	// rang takes its ring back (the agent's room with it).
	if lv.ring != nil && (c.State == conversation.Closed || c.SkillName != old.SkillName || len(c.Transfers) != len(old.Transfers)) {
		s.endRing(a, lv)
	}
	s.notifyAccount(a, Event{Kind: ConversationChanged, Conversation: c})
	if c.State == conversation.Closed {
		a.remove(lv)
	}
	s.route(a)
}

// Send stores a message from a participant of an open conversation and
// tells everyone. A message sent again with its id is not stored twice:
// the stored one is returned with dup true, and nobody is told again.
func (s *Service) Send(ctx context.Context, account, id string, m conversation.Message) (conversation.Message, bool, error) {
	lv := s.live(account, id)
	if lv == nil {
		if _, err := s.store.Get(ctx, account, id); err != nil {
			return m, false, err
		}
		// A message sent again after the close is found as a duplicate.
		return s.store.AppendMessage(ctx, account, id, m)
	}
	lv.mu.Lock()
	defer lv.mu.Unlock()
	if lv.c.State == conversation.Closed {
		return s.store.AppendMessage(ctx, account, id, m) // a duplicate, or ErrClosed
	}
	p, ok := lv.c.Participant(m.From)
	if !ok || !p.In() {
		return m, false, ErrNotParticipant
	}
	m.Role = p.Role
	m.Time = s.now().UnixMilli()
	stored, dup, err := s.store.AppendMessage(ctx, account, id, m)
	if err != nil || dup {
		return stored, dup, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := *lv.c
	c.Messages, c.Updated = stored.Seq+1, stored.Time
	lv.c = &c
	a := s.account(account)
	notifyConversation(lv, Event{Kind: MessageAdded, Conversation: &c, Message: &stored})
	for w := range a.watchers {
		w.sink.Notify(Event{Kind: MessageAdded, Conversation: &c, Message: &stored})
	}
	return stored, false, nil
}

// Messages returns a conversation's messages from seq from on.
func (s *Service) Messages(ctx context.Context, account, id string, from, limit int) ([]conversation.Message, error) {
	return s.store.Messages(ctx, account, id, from, limit)
}

// SetStatus records that participant has received (Accepted) or read the
// messages seqs, and tells everyone what was new.
func (s *Service) SetStatus(ctx context.Context, account, id, participant string, status conversation.Delivery, seqs []int) error {
	lv := s.live(account, id)
	if lv == nil {
		_, err := s.store.Get(ctx, account, id)
		if err == nil {
			err = conversation.ErrClosed
		}
		return err
	}
	lv.mu.Lock()
	defer lv.mu.Unlock()
	p, ok := lv.c.Participant(participant)
	if !ok {
		return ErrNotParticipant
	}
	now := s.now().UnixMilli()
	st := make([]conversation.Status, 0, len(seqs))
	for _, seq := range seqs {
		st = append(st, conversation.Status{Seq: seq, Participant: participant, Role: p.Role, Status: status, Time: now})
	}
	added, err := s.store.AddStatuses(ctx, account, id, st)
	if err != nil || len(added) == 0 {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	notifyConversation(lv, Event{Kind: StatusesAdded, Conversation: lv.c, Statuses: added})
	return nil
}

// SetChatState tells the conversation's watchers that participant is
// typing (COMPOSING) or no more. Nothing is stored.
func (s *Service) SetChatState(account, id, participant, state string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[account]
	if a == nil || a.convs[id] == nil {
		return conversation.ErrNotFound
	}
	lv := a.convs[id]
	if p, ok := lv.c.Participant(participant); !ok || !p.In() {
		return ErrNotParticipant
	}
	notifyConversation(lv, Event{Kind: ChatStateChanged, Conversation: lv.c, From: participant, ChatState: state})
	return nil
}

// Join adds an agent to an open conversation in role. Joining as the
// assigned agent takes the conversation out of its queue; an assigned
// agent already there is made an AGENT.
func (s *Service) Join(ctx context.Context, account, id string, ag Agent, role conversation.Role) (*conversation.Conversation, error) {
	now := s.now().UnixMilli()
	return s.change(ctx, account, id, func(c *conversation.Conversation) error {
		if role == conversation.AssignedAgent {
			for i := range c.Participants {
				p := &c.Participants[i]
				if p.Role == conversation.AssignedAgent && p.In() && p.ID != ag.ID {
					p.Role = conversation.Agent
				}
			}
		}
		for i := range c.Participants {
			p := &c.Participants[i]
			if p.ID == ag.ID && p.In() {
				p.Role = role
				c.Updated = now
				return nil
			}
		}
		c.Participants = append(c.Participants, conversation.Participant{
			ID: ag.ID, Role: role, Name: ag.Name, LoginName: ag.LoginName, Bot: ag.Bot, Joined: now})
		c.Updated = now
		return nil
	})
}

// Leave takes an agent out of an open conversation. When the assigned
// agent leaves, the conversation waits in its skill's queue again.
func (s *Service) Leave(ctx context.Context, account, id, agentID string) (*conversation.Conversation, error) {
	now := s.now().UnixMilli()
	return s.change(ctx, account, id, func(c *conversation.Conversation) error {
		for i := range c.Participants {
			p := &c.Participants[i]
			if p.ID == agentID && p.In() && p.Role != conversation.Consumer {
				p.Left = now
				c.Updated = now
				return nil
			}
		}
		return ErrNotParticipant
	})
}

// TransferRequest moves a conversation to a skill, or to an agent.
type TransferRequest struct {
	By        string // user id of who transfers
	SkillID   int64
	SkillName string
	// AgentID, when set, is the agent the conversation is offered to.
	AgentID string
}

// Transfer moves an open conversation to another skill (and agent): its
// assigned agent leaves and it waits in the new skill's queue.
func (s *Service) Transfer(ctx context.Context, account, id string, t TransferRequest) (*conversation.Conversation, error) {
	now := s.now().UnixMilli()
	skillID, skillName := s.skill(account, t.SkillID, t.SkillName)
	return s.change(ctx, account, id, func(c *conversation.Conversation) error {
		tr := conversation.Transfer{Time: now, By: t.By, Reason: "Skill", SourceSkillID: c.SkillID, SourceSkillName: c.SkillName,
			SourceAgentID: assignedAgent(c), TargetSkillID: skillID, TargetSkillName: skillName}
		if t.AgentID != "" {
			tr.Reason, tr.TargetAgentID = "Agent", t.AgentID
		}
		if t.SkillID <= 0 && t.SkillName == "" {
			tr.TargetSkillID, tr.TargetSkillName = c.SkillID, c.SkillName
		}
		for i := range c.Participants {
			p := &c.Participants[i]
			if p.Role == conversation.AssignedAgent && p.In() {
				p.Left = now
			}
		}
		c.SkillID, c.SkillName = tr.TargetSkillID, tr.TargetSkillName
		c.Transfers = append(c.Transfers, tr)
		c.Updated = now
		return nil
	})
}

// CloseConversation closes an open conversation for reason; every
// participant in it leaves.
func (s *Service) CloseConversation(ctx context.Context, account, id string, reason conversation.CloseReason) (*conversation.Conversation, error) {
	now := s.now().UnixMilli()
	return s.change(ctx, account, id, func(c *conversation.Conversation) error {
		if c.State == conversation.Closed {
			return conversation.ErrClosed
		}
		c.State, c.End, c.CloseReason, c.Updated = conversation.Closed, now, reason, now
		return nil
	})
}

// Answer records the consumer's survey of a conversation: csat 1-5 (0: not
// answered) and whether the issue was resolved ("Yes", "No" or "": not
// answered). A conversation keeps its first survey.
func (s *Service) Answer(ctx context.Context, account, id, consumer string, csat int, resolved string) (*conversation.Conversation, error) {
	if csat < 0 || csat > 5 {
		return nil, fmt.Errorf("csat: %d, must be 1 to 5", csat)
	}
	if resolved != "" && resolved != "Yes" && resolved != "No" {
		return nil, fmt.Errorf("resolved: %q, must be Yes or No", resolved)
	}
	now := s.now().UnixMilli()
	fn := func(c *conversation.Conversation) error {
		if c.ConsumerID != consumer {
			return ErrNotParticipant
		}
		if len(c.Surveys) > 0 {
			return nil
		}
		sv := conversation.Survey{Type: "Satisfaction", Status: "FILLED", Time: now}
		if csat > 0 {
			sv.Data = append(sv.Data, conversation.SurveyAnswer{Question: "CSAT", Answer: fmt.Sprint(csat)})
			c.CSAT = csat
		}
		if resolved != "" {
			sv.Data = append(sv.Data, conversation.SurveyAnswer{Question: "Confirm Resolution", Answer: resolved})
		}
		c.Surveys = append(c.Surveys, sv)
		return nil
	}
	if lv := s.live(account, id); lv != nil {
		return s.change(ctx, account, id, fn)
	}
	c, err := s.store.Update(ctx, account, id, fn)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.notifyAccount(s.account(account), Event{Kind: ConversationChanged, Conversation: c})
	s.mu.Unlock()
	return c, nil
}

// Attach adds engagement attributes to the consumer's open conversation in
// the account, if there is one.
func (s *Service) Attach(ctx context.Context, account, consumer string, attrs []conversation.Attribute) error {
	c := s.openOf(account, consumer)
	if c == nil || len(attrs) == 0 {
		return nil
	}
	_, err := s.change(ctx, account, c.ID, func(c *conversation.Conversation) error {
		c.Attributes = append(c.Attributes, attrs...)
		return nil
	})
	return err
}

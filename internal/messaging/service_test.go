package messaging

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/conversation"
	"github.com/sightline/sightline/internal/conversation/boltstore"
)

// recorder is a Sink that keeps what it is told.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) Notify(e Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

// take returns the events told since the last take.
func (r *recorder) take() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.events
	r.events = nil
	return e
}

// rings returns the ring ids of the Ring events among es.
func rings(es []Event) []string {
	var out []string
	for _, e := range es {
		if e.Kind == Ring {
			out = append(out, e.RingID)
		}
	}
	return out
}

// ended reports whether es has a RingEnded event.
func ended(es []Event) bool {
	return slices.ContainsFunc(es, func(e Event) bool { return e.Kind == RingEnded })
}

// clock is a clock the test moves.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fixture is a Service over a real store in a temporary directory.
type fixture struct {
	t     *testing.T
	svc   *Service
	clock *clock
	store conversation.Store
}

const testAccount = "acme"

var testSkills = []Skill{{ID: 1, Name: "sales"}, {ID: 2, Name: "support"}}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "conversations.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	clk := &clock{t: time.UnixMilli(1_716_000_000_000)}
	svc := New(Config{RingTimeout: 30 * time.Second, Now: clk.now}, nil, store, func(string) []Skill { return testSkills })
	return &fixture{t: t, svc: svc, clock: clk, store: store}
}

// agent connects an agent and sets it ONLINE.
func (f *fixture) agent(id string, maxChats int, skills ...string) (*AgentSession, *recorder) {
	r := &recorder{}
	as := f.svc.Connect(testAccount, Agent{ID: id, Name: "agent " + id, Skills: skills, MaxChats: maxChats}, r)
	f.t.Cleanup(as.Close)
	as.SetState(Online)
	return as, r
}

func (f *fixture) start(consumer, skill string) *conversation.Conversation {
	f.t.Helper()
	c, err := f.svc.Start(context.Background(), StartRequest{AccountID: testAccount, ConsumerID: consumer, SkillName: skill})
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// assigned returns the assigned agent of a conversation as stored.
func (f *fixture) assigned(id string) string {
	f.t.Helper()
	c, err := f.store.Get(context.Background(), testAccount, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return assignedAgent(c)
}

func TestRouting(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, f *fixture)
	}{
		{"rings an online agent of the skill with room", func(t *testing.T, f *fixture) {
			_, first := f.agent("1", 0, "sales")
			second := &recorder{} // a second connection of agent 1, online: the state is the agent's
			as := f.svc.Connect(testAccount, Agent{ID: "1", Skills: []string{"sales"}}, second)
			defer as.Close()
			_, support := f.agent("2", 0, "support")
			away, awayRec := f.agent("3", 0, "sales")
			away.SetState(Away)
			_, sales := f.agent("4", 0, "sales")
			sales.take()
			f.start("v1", "sales")
			// 1 and 4 serve sales and are online with nothing: the lower id is rung.
			got1, got4 := append(rings(first.take()), rings(second.take())...), rings(sales.take())
			if len(got1) != 2 || got1[0] != got1[1] || len(got4) != 0 {
				t.Errorf("rings: agent 1 %v (two connections), agent 4 %v; want one ring on each connection of agent 1", got1, got4)
			}
			if r := rings(support.take()); len(r) != 0 {
				t.Errorf("agent of another skill rung: %v", r)
			}
			if r := rings(awayRec.take()); len(r) != 0 {
				t.Errorf("AWAY agent rung: %v", r)
			}
			f.start("v2", "sales")
			if r := rings(sales.take()); len(r) != 1 {
				t.Errorf("second conversation: agent 4 got %v, want the least loaded agent rung", r)
			}
		}},
		{"accept assigns and ends the ring", func(t *testing.T, f *fixture) {
			as, r := f.agent("1", 0, "sales")
			c := f.start("v1", "sales")
			ring := rings(r.take())
			if len(ring) != 1 {
				t.Fatalf("rings %v", ring)
			}
			if _, err := as.Accept(ctx, "nope"); !errors.Is(err, ErrNoRing) {
				t.Errorf("accepting an unknown ring: %v", err)
			}
			got, err := as.Accept(ctx, ring[0])
			if err != nil || assignedAgent(got) != "1" || f.assigned(c.ID) != "1" {
				t.Fatalf("Accept: %v, assigned %q", err, f.assigned(c.ID))
			}
			if !ended(r.take()) {
				t.Error("no RingEnded after accept")
			}
			if _, err := as.Accept(ctx, ring[0]); !errors.Is(err, ErrNoRing) {
				t.Errorf("accepting twice: %v, want ErrNoRing", err)
			}
		}},
		{"reject goes to the next agent", func(t *testing.T, f *fixture) {
			a1, r1 := f.agent("1", 0, "sales")
			_, r2 := f.agent("2", 0, "sales")
			f.start("v1", "sales")
			ring := rings(r1.take())
			if len(ring) != 1 || len(rings(r2.take())) != 0 {
				t.Fatalf("first ring %v", ring)
			}
			if err := a1.Reject(ring[0]); err != nil {
				t.Fatal(err)
			}
			if r := rings(r2.take()); len(r) != 1 {
				t.Errorf("after reject, agent 2 got %v", r)
			}
			if r := rings(r1.take()); len(r) != 0 {
				t.Errorf("after reject, agent 1 rung again: %v", r)
			}
		}},
		{"timeout goes to the next agent", func(t *testing.T, f *fixture) {
			_, r1 := f.agent("1", 0, "sales")
			_, r2 := f.agent("2", 0, "sales")
			f.start("v1", "sales")
			if len(rings(r1.take())) != 1 {
				t.Fatal("agent 1 not rung")
			}
			f.clock.add(29 * time.Second)
			f.svc.tick(ctx)
			if r := rings(r2.take()); len(r) != 0 {
				t.Fatalf("agent 2 rung before the timeout: %v", r)
			}
			f.clock.add(2 * time.Second)
			f.svc.tick(ctx)
			if r := rings(r2.take()); len(r) != 1 {
				t.Errorf("after the timeout, agent 2 got %v", r)
			}
			if !ended(r1.take()) {
				t.Error("agent 1 was not told its ring ended")
			}
		}},
		{"max chats", func(t *testing.T, f *fixture) {
			a1, r1 := f.agent("1", 1, "sales")
			c1 := f.start("v1", "sales")
			if _, err := a1.Accept(ctx, rings(r1.take())[0]); err != nil {
				t.Fatal(err)
			}
			f.start("v2", "sales")
			if r := rings(r1.take()); len(r) != 0 {
				t.Errorf("full agent rung: %v", r)
			}
			if st := f.svc.SkillState(testAccount, "sales"); st != SkillBusy {
				t.Errorf("skill state %s, want busy", st)
			}
			// Closing the first conversation frees the room: the second rings.
			if _, err := f.svc.CloseConversation(ctx, testAccount, c1.ID, conversation.ClosedByAgent); err != nil {
				t.Fatal(err)
			}
			if r := rings(r1.take()); len(r) != 1 {
				t.Errorf("after close, agent 1 got %v, want the waiting conversation", r)
			}
		}},
		{"transfer requeues in the new skill", func(t *testing.T, f *fixture) {
			a1, r1 := f.agent("1", 1, "sales")
			_, r2 := f.agent("2", 0, "support")
			c := f.start("v1", "sales")
			if _, err := a1.Accept(ctx, rings(r1.take())[0]); err != nil {
				t.Fatal(err)
			}
			got, err := f.svc.Transfer(ctx, testAccount, c.ID, TransferRequest{By: "1", SkillName: "support"})
			if err != nil || got.SkillID != 2 || assignedAgent(got) != "" {
				t.Fatalf("Transfer: %+v, %v", got, err)
			}
			if r := rings(r2.take()); len(r) != 1 {
				t.Errorf("support agent got %v", r)
			}
			// Agent 1 has room again: a new sales conversation rings it.
			f.start("v2", "sales")
			if r := rings(r1.take()); len(r) != 1 {
				t.Errorf("after the transfer, agent 1 got %v", r)
			}
		}},
		{"transfer to an agent", func(t *testing.T, f *fixture) {
			a1, r1 := f.agent("1", 0, "sales")
			_, r2 := f.agent("2", 0, "sales")
			_, r3 := f.agent("3", 0, "sales")
			c := f.start("v1", "sales")
			if _, err := a1.Accept(ctx, rings(r1.take())[0]); err != nil {
				t.Fatal(err)
			}
			r2.take()
			if _, err := f.svc.Transfer(ctx, testAccount, c.ID, TransferRequest{By: "1", AgentID: "3"}); err != nil {
				t.Fatal(err)
			}
			if got2, got3 := rings(r2.take()), rings(r3.take()); len(got2) != 0 || len(got3) != 1 {
				t.Errorf("rings after transfer to agent 3: agent 2 %v, agent 3 %v", got2, got3)
			}
		}},
		{"close while ringing takes the ring back", func(t *testing.T, f *fixture) {
			_, r1 := f.agent("1", 1, "sales")
			c := f.start("v1", "sales")
			if len(rings(r1.take())) != 1 {
				t.Fatal("not rung")
			}
			if _, err := f.svc.CloseConversation(ctx, testAccount, c.ID, conversation.ClosedByConsumer); err != nil {
				t.Fatal(err)
			}
			if !ended(r1.take()) {
				t.Error("ring not ended by the close")
			}
			f.start("v2", "sales")
			if r := rings(r1.take()); len(r) != 1 {
				t.Errorf("the closed conversation's ring kept the agent's room: %v", r)
			}
		}},
		{"changes after close fail and free nothing twice", func(t *testing.T, f *fixture) {
			a1, r1 := f.agent("1", 1, "sales")
			c := f.start("v1", "sales")
			if _, err := a1.Accept(ctx, rings(r1.take())[0]); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.CloseConversation(ctx, testAccount, c.ID, conversation.ClosedByAgent); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.Join(ctx, testAccount, c.ID, Agent{ID: "9"}, conversation.Manager); !errors.Is(err, conversation.ErrClosed) {
				t.Errorf("join after close: %v, want ErrClosed", err)
			}
			if _, err := f.svc.CloseConversation(ctx, testAccount, c.ID, conversation.ClosedByAgent); !errors.Is(err, conversation.ErrClosed) {
				t.Errorf("second close: %v, want ErrClosed", err)
			}
			// Room for one, not two.
			f.start("v2", "sales")
			f.start("v3", "sales")
			if r := rings(r1.take()); len(r) != 1 {
				t.Errorf("agent with max chats 1 rung %d times", len(r))
			}
		}},
		{"a new connection is told the agent's rings", func(t *testing.T, f *fixture) {
			f.agent("1", 0, "sales")
			f.start("v1", "sales")
			r := &recorder{}
			as := f.svc.Connect(testAccount, Agent{ID: "1", Skills: []string{"sales"}}, r)
			defer as.Close()
			if got := rings(r.take()); len(got) != 1 {
				t.Errorf("new connection told %v", got)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, newFixture(t)) })
	}
}

func TestWatchers(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	c1 := f.start("v1", "sales")
	f.start("v2", "support")

	acct := &recorder{}
	open, cancel := f.svc.WatchOpen(testAccount, func(c *conversation.Conversation) bool { return c.SkillName == "sales" }, acct)
	defer cancel()
	if len(open) != 1 || open[0].ID != c1.ID {
		t.Errorf("WatchOpen listed %d conversations, want the sales one", len(open))
	}
	if _, _, err := f.svc.Send(ctx, testAccount, c1.ID, conversation.Message{From: "v1", Type: conversation.TextPlain, Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	conv := &recorder{}
	h, stop, err := f.svc.WatchHistory(ctx, testAccount, c1.ID, 0, 0, conv)
	if err != nil || len(h.Messages) != 1 || h.Messages[0].Text != "hi" || h.Conversation.ID != c1.ID {
		t.Fatalf("WatchHistory: %+v, %v", h, err)
	}
	if _, _, err := f.svc.Send(ctx, testAccount, c1.ID, conversation.Message{From: "v1", Type: conversation.TextPlain, Text: "again"}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetStatus(ctx, testAccount, c1.ID, "v1", conversation.Read, []int{0}); !errors.Is(err, nil) {
		t.Fatal(err)
	}
	var kinds []EventKind
	for _, e := range conv.take() {
		kinds = append(kinds, e.Kind)
	}
	// c1 waits for an agent: its place comes first.
	if !slices.Equal(kinds, []EventKind{QueueChanged, MessageAdded, StatusesAdded}) {
		t.Errorf("conversation watcher got %v, want its place, then the second message and the status only", kinds)
	}
	stop()
	kinds = nil
	for _, e := range acct.take() {
		kinds = append(kinds, e.Kind)
	}
	if !slices.Equal(kinds, []EventKind{MessageAdded, MessageAdded}) {
		t.Errorf("account watcher got %v, want both messages", kinds)
	}
	if _, err := f.svc.CloseConversation(ctx, testAccount, c1.ID, conversation.ClosedByConsumer); err != nil {
		t.Fatal(err)
	}
	if es := acct.take(); len(es) != 1 || es[0].Kind != ConversationChanged || es[0].Conversation.State != conversation.Closed {
		t.Errorf("account watcher got %+v, want the close", es)
	}
	h, _, err = f.svc.WatchHistory(ctx, testAccount, c1.ID, 1, 0, conv)
	if err != nil || len(h.Messages) != 1 || len(h.Statuses) != 0 {
		t.Errorf("history of the closed conversation from 1: %+v, %v", h, err)
	}
	if _, _, err := f.svc.WatchHistory(ctx, "other", c1.ID, 0, 0, conv); !errors.Is(err, conversation.ErrNotFound) {
		t.Errorf("history from another account: %v, want ErrNotFound", err)
	}

	agents := &recorder{}
	states, cancelAgents := f.svc.WatchAgents(testAccount, agents)
	defer cancelAgents()
	if len(states) != 0 {
		t.Errorf("states %v before any agent connected", states)
	}
	as, _ := f.agent("1", 0, "sales")
	as.SetState(Away)
	as.Close()
	var got []string
	for _, e := range agents.take() {
		got = append(got, e.From+" "+e.State)
	}
	if !slices.Equal(got, []string{"1 ONLINE", "1 AWAY", "1 OFFLINE"}) {
		t.Errorf("agent states %q", got)
	}
}

// TestIdleClose checks that the system closes a conversation in which
// nothing happened for IdleTimeout, and only that one, and frees the
// agent's room.
func TestIdleClose(t *testing.T) {
	f := newFixture(t)
	f.svc.cfg.IdleTimeout = time.Hour
	ctx := context.Background()
	as, r := f.agent("a1", 1, "sales")
	quiet := f.start("v1", "sales")
	if _, err := as.Accept(ctx, rings(r.take())[0]); err != nil {
		t.Fatal(err)
	}
	f.clock.add(50 * time.Minute)
	busy := f.start("v2", "sales")
	f.clock.add(11 * time.Minute) // quiet: 61 minutes; busy: 11
	f.svc.tick(ctx)
	for _, tt := range []struct {
		id     string
		state  conversation.State
		reason conversation.CloseReason
	}{{quiet.ID, conversation.Closed, conversation.ClosedBySystem}, {busy.ID, conversation.Open, ""}} {
		c, err := f.store.Get(ctx, testAccount, tt.id)
		if err != nil {
			t.Fatal(err)
		}
		if c.State != tt.state || c.CloseReason != tt.reason {
			t.Errorf("conversation %s: %s %q, want %s %q", tt.id, c.State, c.CloseReason, tt.state, tt.reason)
		}
	}
	// The agent's room is free again: the waiting conversation rings.
	if got := rings(r.take()); len(got) != 1 {
		t.Errorf("rings after the idle close: %v, want the waiting conversation's", got)
	}
}

// places returns the places the QueueChanged events among es tell.
func places(es []Event) []int {
	var out []int
	for _, e := range es {
		if e.Kind == QueueChanged {
			out = append(out, e.Position)
		}
	}
	return out
}

// TestQueuePlaces checks that a waiting consumer is told its place in its
// skill's queue when it starts watching, and then only when the place
// changed, at most once a second (at the tick): when the head of a long
// queue leaves, telling everyone behind it at once, at every change, made
// opening many conversations take time quadratic in the queue's length.
func TestQueuePlaces(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	var convs []*conversation.Conversation
	var recs []*recorder
	for i, skill := range []string{"sales", "sales", "support", "sales"} {
		c := f.start(fmt.Sprintf("v%d", i), skill)
		r := &recorder{}
		defer f.svc.Watch(testAccount, c.ID, r)()
		convs, recs = append(convs, c), append(recs, r)
	}
	for i, want := range []int{1, 2, 1, 3} {
		if got := places(recs[i].take()); !slices.Equal(got, []int{want}) {
			t.Errorf("conversation %d was told places %v on watching, want [%d]", i, got, want)
		}
	}
	f.start("v9", "support")
	f.svc.tick(ctx)
	for i, r := range recs {
		if got := places(r.take()); len(got) > 0 {
			t.Errorf("conversation %d was told places %v, its place unchanged", i, got)
		}
	}
	if _, err := f.svc.CloseConversation(ctx, testAccount, convs[0].ID, conversation.ClosedByConsumer); err != nil {
		t.Fatal(err)
	}
	for i, r := range recs[1:] {
		if got := places(r.take()); len(got) > 0 {
			t.Errorf("conversation %d was told places %v before the tick", i+1, got)
		}
	}
	f.svc.tick(ctx)
	f.svc.tick(ctx)
	for i, want := range [][]int{nil, {1}, nil, {2}} {
		if got := places(recs[i].take()); !slices.Equal(got, want) {
			t.Errorf("conversation %d was told places %v after the head left, want %v", i, got, want)
		}
	}

	// Taken by an agent, a conversation leaves the queue: the others move
	// up, and it is told no place again.
	as, r := f.agent("1", 0, "sales")
	ids := rings(r.take())
	if len(ids) != 2 {
		t.Fatalf("agent rung %d times, want for the two sales conversations", len(ids))
	}
	for _, id := range ids {
		if _, err := as.Accept(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	f.svc.tick(ctx)
	for i, r := range recs {
		if got := places(r.take()); len(got) > 0 {
			t.Errorf("conversation %d was told places %v once out of the queue", i, got)
		}
	}
}

// Package storetest is the conformance test that every conversation.Store
// must pass: each sentence of the Store contract is a test here.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sightline/sightline/internal/conversation"
)

// Open opens the store kept in dir, creating an empty one when dir holds
// none. The suite gives every test a new directory of its own, and closes a
// store and opens its directory again to check that what it stored is
// durable. Open should close the store in t.Cleanup; that Close may fail
// when the suite closed the store already.
type Open func(t *testing.T, dir string) conversation.Store

// Run tests the stores that open opens.
func Run(t *testing.T, open Open) {
	tests := []struct {
		name string
		test func(*testing.T, Open)
	}{
		{"Create", testCreate},
		{"Get", testGet},
		{"OtherAccountOrID", testOtherAccountOrID},
		{"Update", testUpdate},
		{"UpdateConcurrent", testUpdateConcurrent},
		{"AppendMessage", testAppendMessage},
		{"AppendMessageConcurrent", testAppendMessageConcurrent},
		{"Messages", testMessages},
		{"AddStatuses", testAddStatuses},
		{"List", testList},
		{"EachOpen", testEachOpen},
		{"RoundTrip", testRoundTrip},
		{"Reopen", testReopen},
		{"Close", testClose},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.test(t, open) })
	}
}

var (
	ctx = context.Background()
	// errAny stands for any error in the tables.
	errAny  = errors.New("any error")
	errBoom = errors.New("boom")
)

// checkErr fails t when err is not want: nil, errAny (any error) or one
// that err wraps.
func checkErr(t *testing.T, what string, err, want error) {
	t.Helper()
	switch {
	case want == errAny && err == nil:
		t.Fatalf("%s: no error, want one", what)
	case want != errAny && !errors.Is(err, want):
		t.Fatalf("%s: %v, want %v", what, err, want)
	}
}

// conv returns a new open conversation of account with the fields a
// messaging service sets when it starts one.
func conv(account, id, consumer string, start int64) *conversation.Conversation {
	return &conversation.Conversation{
		ID: id, AccountID: account, ConsumerID: consumer,
		State: conversation.Open, Start: start, Updated: start, SkillID: -1,
		Participants: []conversation.Participant{{ID: consumer, Role: conversation.Consumer, Joined: start}},
	}
}

// full returns an open conversation with every field set (End and
// CloseReason included), JSON values with spaces, HTML characters and
// non-ASCII text among them.
func full(account, id string) *conversation.Conversation {
	return &conversation.Conversation{
		ID: id, AccountID: account, ConsumerID: "visitor-1",
		Identity: &conversation.Identity{Issuer: "https://idp.example", Subject: "alice", ACR: "loa2"},
		State:    conversation.Open, Start: 1700000000000, End: 1700000009000, CloseReason: conversation.ClosedBySystem,
		SkillID: 12, SkillName: "sales",
		Campaign: conversation.Campaign{CampaignID: "1", CampaignName: "Spring", EngagementID: "2", EngagementName: "Chat",
			GoalID: "3", GoalName: "Buy", Source: "WEB_SITE"},
		Context: conversation.Context{VisitID: "v1", PageURL: "https://shop.example/p?a=1&b=<2>", PageTitle: "Café <b>",
			UserAgent: "Mozilla/5.0", Device: "DESKTOP", Browser: "Firefox", OS: "Linux", IP: "192.0.2.1", Language: "fr-FR"},
		Participants: []conversation.Participant{
			{ID: "visitor-1", Role: conversation.Consumer, Name: "Alice", Joined: 1700000000000},
			{ID: "agent-7", Role: conversation.AssignedAgent, Name: "Bob", LoginName: "bob@example", Joined: 1700000001000, Left: 1700000005000},
			{ID: "bot-1", Role: conversation.Agent, Name: "Helper", Bot: true, Joined: 1700000002000},
		},
		Transfers: []conversation.Transfer{{Time: 1700000004000, By: "agent-7", Reason: "Agent", SourceSkillID: 11,
			SourceSkillName: "support", SourceAgentID: "agent-7", TargetSkillID: 12, TargetSkillName: "sales", TargetAgentID: "agent-8"}},
		Surveys: []conversation.Survey{{Type: "Satisfaction", Status: "FILLED", Time: 1700000010000,
			Data: []conversation.SurveyAnswer{{Question: "CSAT", Answer: "5"}, {Question: "Confirm Resolution", Answer: "Yes"}}}},
		CSAT: 5,
		Attributes: []conversation.Attribute{
			{Type: "CART_STATUS", ServerTime: 1700000000500, OriginalTime: 1700000000400,
				Data: json.RawMessage(`{ "type": "cart", "total": 12.50, "note": "<&> é" }`)},
			{Type: "CUSTOMER_INFO", Authenticated: true, ServerTime: 1700000000600, OriginalTime: 1700000000600,
				Data: json.RawMessage(`{"type":"ctmrinfo","info":{"cstatus":"vip"}}`)},
		},
		Updated: 1700000003000,
	}
}

// msg returns a text message from the consumer.
func msg(id, text string, time int64) conversation.Message {
	return conversation.Message{ID: id, From: "visitor-1", Role: conversation.Consumer, Time: time,
		Type: conversation.TextPlain, Text: text}
}

// richMsg returns a message with every field set, its JSON values with
// spaces and HTML characters.
func richMsg(id string, time int64) conversation.Message {
	return conversation.Message{ID: id, From: "agent-7", Role: conversation.AssignedAgent, Time: time,
		Type: conversation.RichContent, Text: "fallback <b>é</b>",
		Rich:     json.RawMessage(`{ "type": "vertical", "elements": [ {"type": "text", "text": "a < b & c"} ] }`),
		Metadata: json.RawMessage(`[ {"type": "ExternalId", "id": "x-1"} ]`)}
}

// mustCreate creates every conversation of cs.
func mustCreate(t *testing.T, s conversation.Store, cs ...*conversation.Conversation) {
	t.Helper()
	for _, c := range cs {
		if err := s.Create(ctx, c); err != nil {
			t.Fatalf("Create %s/%s: %v", c.AccountID, c.ID, err)
		}
	}
}

// mustAppend appends ms to account/id and returns what was stored.
func mustAppend(t *testing.T, s conversation.Store, account, id string, ms ...conversation.Message) []conversation.Message {
	t.Helper()
	var stored []conversation.Message
	for _, m := range ms {
		got, dup, err := s.AppendMessage(ctx, account, id, m)
		if err != nil || dup {
			t.Fatalf("AppendMessage %s/%s %q: dup %v, %v", account, id, m.ID, dup, err)
		}
		stored = append(stored, got)
	}
	return stored
}

// mustSetState sets the state of account/id through Update.
func mustSetState(t *testing.T, s conversation.Store, account, id string, state conversation.State) {
	t.Helper()
	if _, err := s.Update(ctx, account, id, func(c *conversation.Conversation) error {
		c.State = state
		return nil
	}); err != nil {
		t.Fatalf("Update of %s/%s to %s: %v", account, id, state, err)
	}
}

// mustGet returns account/id.
func mustGet(t *testing.T, s conversation.Store, account, id string) *conversation.Conversation {
	t.Helper()
	c, err := s.Get(ctx, account, id)
	if err != nil {
		t.Fatalf("Get %s/%s: %v", account, id, err)
	}
	return c
}

// checkConv reports an error when got is not want. It does not stop the
// test, so that fn of Update and EachOpen may call it whichever goroutine
// runs them.
func checkConv(t *testing.T, what string, got, want *conversation.Conversation) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %s\nwant %s", what, dump(got), dump(want))
	}
}

// dump shows v with its JSON values as text.
func dump(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%+v", v)
	}
	return string(b)
}

// seqs returns the Seq of each message.
func seqs(ms []conversation.Message) []int {
	s := []int{}
	for _, m := range ms {
		s = append(s, m.Seq)
	}
	return s
}

// ids returns the ID of each conversation.
func ids(cs []*conversation.Conversation) []string {
	s := []string{}
	for _, c := range cs {
		s = append(s, c.ID)
	}
	return s
}

func testCreate(t *testing.T, open Open) {
	withMessages := conv("a", "c1", "v1", 100)
	withMessages.Messages = 2
	tests := []struct {
		name    string
		creates []*conversation.Conversation
		wantErr []error // of each Create
		want    []*conversation.Conversation
		missing [][2]string // account and id that Get does not find
	}{
		{
			name:    "new",
			creates: []*conversation.Conversation{conv("a", "c1", "v1", 100), conv("a", "c2", "v1", 200), conv("b", "c3", "v2", 300)},
			wantErr: []error{nil, nil, nil},
			want:    []*conversation.Conversation{conv("a", "c1", "v1", 100), conv("a", "c2", "v1", 200), conv("b", "c3", "v2", 300)},
		},
		{
			name:    "id taken",
			creates: []*conversation.Conversation{conv("a", "c1", "v1", 100), conv("a", "c1", "v2", 200)},
			wantErr: []error{nil, conversation.ErrExists},
			want:    []*conversation.Conversation{conv("a", "c1", "v1", 100)},
		},
		{
			name:    "id taken in another account",
			creates: []*conversation.Conversation{conv("a", "c1", "v1", 100), conv("b", "c1", "v2", 200)},
			wantErr: []error{nil, conversation.ErrExists},
			want:    []*conversation.Conversation{conv("a", "c1", "v1", 100)},
			missing: [][2]string{{"b", "c1"}},
		},
		{
			name:    "with messages",
			creates: []*conversation.Conversation{withMessages},
			wantErr: []error{errAny},
			missing: [][2]string{{"a", "c1"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t, t.TempDir())
			for i, c := range tt.creates {
				checkErr(t, fmt.Sprintf("Create %d", i), s.Create(ctx, c), tt.wantErr[i])
			}
			for _, want := range tt.want {
				checkConv(t, "Get", mustGet(t, s, want.AccountID, want.ID), want)
			}
			for _, m := range tt.missing {
				if c, err := s.Get(ctx, m[0], m[1]); !errors.Is(err, conversation.ErrNotFound) {
					t.Errorf("Get %s/%s = %v, %v, want ErrNotFound", m[0], m[1], dump(c), err)
				}
			}
		})
	}
	t.Run("caller's copy", func(t *testing.T) {
		s := open(t, t.TempDir())
		c := full("a", "c1")
		mustCreate(t, s, c)
		c.Participants[0].Name = "changed"
		c.Attributes[0].Data[3] = 'X'
		c.Identity.Subject = "changed"
		checkConv(t, "Get after the caller changed its conversation", mustGet(t, s, "a", "c1"), full("a", "c1"))
	})
}

func testGet(t *testing.T, open Open) {
	s := open(t, t.TempDir())
	mustCreate(t, s, full("a", "c1"))
	tests := []struct {
		name, account, id string
		want              *conversation.Conversation
		wantErr           error
	}{
		{"found", "a", "c1", full("a", "c1"), nil},
		{"unknown id", "a", "c2", nil, conversation.ErrNotFound},
		{"other account", "b", "c1", nil, conversation.ErrNotFound},
		{"no account", "", "c1", nil, conversation.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Get(ctx, tt.account, tt.id)
			checkErr(t, "Get", err, tt.wantErr)
			if tt.want != nil {
				checkConv(t, "Get", got, tt.want)
			}
		})
	}
	t.Run("caller's copy", func(t *testing.T) {
		got := mustGet(t, s, "a", "c1")
		got.Participants[0].Name = "changed"
		got.Attributes[0].Data[3] = 'X'
		checkConv(t, "Get after the caller changed what Get returned", mustGet(t, s, "a", "c1"), full("a", "c1"))
	})
}

// testOtherAccountOrID calls every method of the Store with another
// account's conversation and with an unknown id, and checks that each
// fails with ErrNotFound and changes nothing.
func testOtherAccountOrID(t *testing.T, open Open) {
	s := open(t, t.TempDir())
	mustCreate(t, s, full("a", "c1"))
	mustAppend(t, s, "a", "c1", msg("m1", "hello", 1700000003500))
	st := []conversation.Status{{Seq: 0, Participant: "agent-7", Role: conversation.AssignedAgent, Status: conversation.Accepted, Time: 1700000003600}}
	if _, err := s.AddStatuses(ctx, "a", "c1", st); err != nil {
		t.Fatal(err)
	}
	want := mustGet(t, s, "a", "c1")
	calls := []struct {
		method string
		call   func(account, id string) error
	}{
		{"Get", func(account, id string) error {
			_, err := s.Get(ctx, account, id)
			return err
		}},
		{"Update", func(account, id string) error {
			_, err := s.Update(ctx, account, id, func(c *conversation.Conversation) error {
				t.Errorf("Update of %s/%s called fn", account, id)
				c.SkillName = "changed"
				return nil
			})
			return err
		}},
		{"AppendMessage", func(account, id string) error {
			_, _, err := s.AppendMessage(ctx, account, id, msg("m2", "other", 1700000004000))
			return err
		}},
		{"AppendMessage of a message id it has", func(account, id string) error {
			_, _, err := s.AppendMessage(ctx, account, id, msg("m1", "hello", 1700000003500))
			return err
		}},
		{"Messages", func(account, id string) error {
			_, err := s.Messages(ctx, account, id, 0, 0)
			return err
		}},
		{"AddStatuses", func(account, id string) error {
			st := []conversation.Status{{Seq: 0, Participant: "agent-7", Role: conversation.AssignedAgent, Status: conversation.Read, Time: 1700000004000}}
			_, err := s.AddStatuses(ctx, account, id, st)
			return err
		}},
		{"Statuses", func(account, id string) error {
			_, err := s.Statuses(ctx, account, id)
			return err
		}},
	}
	for _, target := range [][2]string{{"b", "c1"}, {"a", "c2"}} {
		for _, c := range calls {
			t.Run(fmt.Sprintf("%s %s/%s", c.method, target[0], target[1]), func(t *testing.T) {
				if err := c.call(target[0], target[1]); !errors.Is(err, conversation.ErrNotFound) {
					t.Errorf("%v, want ErrNotFound", err)
				}
			})
		}
	}
	t.Run("List", func(t *testing.T) {
		if got, err := s.List(ctx, "b", conversation.Query{}); err != nil || len(got) != 0 {
			t.Errorf("List of another account = %v, %v, want none", ids(got), err)
		}
	})
	t.Run("nothing changed", func(t *testing.T) {
		checkConv(t, "Get", mustGet(t, s, "a", "c1"), want)
		if ms, err := s.Messages(ctx, "a", "c1", 0, 0); err != nil || len(ms) != 1 || ms[0].Text != "hello" {
			t.Errorf("Messages = %s, %v, want the one message", dump(ms), err)
		}
		if got, err := s.Statuses(ctx, "a", "c1"); err != nil || !reflect.DeepEqual(got, st) {
			t.Errorf("Statuses = %s, %v, want %s", dump(got), err, dump(st))
		}
	})
}

func testUpdate(t *testing.T, open Open) {
	tests := []struct {
		name   string
		closed bool // the conversation is closed before
		// change is what fn does to the conversation; fnErr what it
		// returns.
		change func(*conversation.Conversation)
		fnErr  error
		// wantErr is Update's error, and errNames what it must name.
		wantErr  error
		errNames string
	}{
		{
			name: "change fields",
			change: func(c *conversation.Conversation) {
				c.SkillID, c.SkillName = 13, "support"
				c.Participants = append(c.Participants, conversation.Participant{ID: "agent-8", Role: conversation.Agent, Joined: 1700000006000})
				c.Attributes = nil
				c.Identity = nil
				c.Updated = 1700000006000
			},
		},
		{
			name: "close",
			change: func(c *conversation.Conversation) {
				c.State, c.CloseReason, c.End = conversation.Closed, conversation.ClosedByAgent, 1700000007000
			},
		},
		{name: "closed conversation", closed: true, change: func(c *conversation.Conversation) { c.CSAT = 3 }},
		{name: "no change", change: func(*conversation.Conversation) {}},
		{
			name: "fn fails",
			change: func(c *conversation.Conversation) {
				c.SkillName = "lost"
				c.Participants[0].Name = "lost"
			},
			fnErr:   errBoom,
			wantErr: errBoom,
		},
		{
			name:     "ID changed",
			change:   func(c *conversation.Conversation) { c.ID, c.SkillName = "c2", "lost" },
			wantErr:  errAny,
			errNames: "ID",
		},
		{
			name:     "AccountID changed",
			change:   func(c *conversation.Conversation) { c.AccountID, c.SkillName = "b", "lost" },
			wantErr:  errAny,
			errNames: "AccountID",
		},
		{
			name:     "Messages changed",
			change:   func(c *conversation.Conversation) { c.Messages, c.SkillName = 7, "lost" },
			wantErr:  errAny,
			errNames: "Messages",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t, t.TempDir())
			mustCreate(t, s, full("a", "c1"))
			mustAppend(t, s, "a", "c1", msg("m1", "hello", 1700000005000))
			if tt.closed {
				mustSetState(t, s, "a", "c1", conversation.Closed)
			}
			before := mustGet(t, s, "a", "c1")
			want := mustGet(t, s, "a", "c1") // changed below if Update succeeds
			var seen *conversation.Conversation
			got, err := s.Update(ctx, "a", "c1", func(c *conversation.Conversation) error {
				seen = c
				checkConv(t, "fn's conversation", c, before)
				tt.change(c)
				return tt.fnErr
			})
			checkErr(t, "Update", err, tt.wantErr)
			if err != nil && !strings.Contains(err.Error(), tt.errNames) {
				t.Errorf("Update: %v, want it to name %s", err, tt.errNames)
			}
			if tt.wantErr == nil {
				tt.change(want)
				checkConv(t, "Update", got, want)
			}
			checkConv(t, "Get after Update", mustGet(t, s, "a", "c1"), want)
			if seen == nil {
				t.Fatal("Update did not call fn")
			}
			// fn's copy is the caller's: changing it now changes nothing.
			seen.SkillName = "changed later"
			seen.Participants[0].Name = "changed later"
			checkConv(t, "Get after changing fn's copy", mustGet(t, s, "a", "c1"), want)
			if got != nil {
				got.CSAT = 1
				checkConv(t, "Get after changing Update's result", mustGet(t, s, "a", "c1"), want)
			}
		})
	}
}

// testUpdateConcurrent changes one conversation from 8 goroutines at once,
// which must be applied one after the other: no change lost.
func testUpdateConcurrent(t *testing.T, open Open) {
	const goroutines, each = 8, 25
	s := open(t, t.TempDir())
	mustCreate(t, s, conv("a", "c1", "v1", 100))
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				_, err := s.Update(ctx, "a", "c1", func(c *conversation.Conversation) error {
					c.Transfers = append(c.Transfers, conversation.Transfer{Time: int64(g*each + i), By: "agent"})
					c.CSAT++
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	c := mustGet(t, s, "a", "c1")
	if len(c.Transfers) != goroutines*each || c.CSAT != goroutines*each {
		t.Fatalf("after %d concurrent updates: %d transfers, CSAT %d", goroutines*each, len(c.Transfers), c.CSAT)
	}
	seen := map[int64]bool{}
	for _, tr := range c.Transfers {
		seen[tr.Time] = true
	}
	if len(seen) != goroutines*each {
		t.Errorf("%d distinct transfers, want %d", len(seen), goroutines*each)
	}
}

func testAppendMessage(t *testing.T, open Open) {
	type appendCall struct {
		close bool   // close c1 instead of appending
		id    string // conversation; "c1" when empty
		m     conversation.Message
		dup   bool
		err   error
		want  int // Seq of the message returned; -1: none
		text  string
	}
	closeC1 := appendCall{close: true}
	tests := []struct {
		name    string
		appends []appendCall
		want    []string // texts of c1's messages after them
		updated int64    // c1's Updated after them; 0: the Start
	}{
		{
			name: "from 0",
			appends: []appendCall{
				{m: msg("m1", "one", 1000), want: 0, text: "one"},
				{m: msg("m2", "two", 2000), want: 1, text: "two"},
				{m: msg("m3", "three", 3000), want: 2, text: "three"},
			},
			want:    []string{"one", "two", "three"},
			updated: 3000,
		},
		{
			name: "Seq given ignored",
			appends: []appendCall{
				{m: conversation.Message{Seq: 42, ID: "m1", From: "v1", Role: conversation.Consumer, Time: 1000, Type: conversation.TextPlain, Text: "one"}, want: 0, text: "one"},
			},
			want:    []string{"one"},
			updated: 1000,
		},
		{
			name: "id again",
			appends: []appendCall{
				{m: msg("m1", "one", 1000), want: 0, text: "one"},
				{m: msg("m2", "two", 2000), want: 1, text: "two"},
				{m: msg("m1", "one again", 3000), dup: true, want: 0, text: "one"},
			},
			want:    []string{"one", "two"},
			updated: 2000,
		},
		{
			name: "id again after close",
			appends: []appendCall{
				{m: msg("m1", "one", 1000), want: 0, text: "one"},
				closeC1,
				{m: msg("m1", "one again", 3000), dup: true, want: 0, text: "one"},
				{m: msg("m2", "two", 4000), err: conversation.ErrClosed, want: -1},
			},
			want:    []string{"one"},
			updated: 1000,
		},
		{
			name: "empty ids",
			appends: []appendCall{
				{m: msg("", "one", 1000), want: 0, text: "one"},
				{m: msg("", "one", 1000), want: 1, text: "one"},
			},
			want:    []string{"one", "one"},
			updated: 1000,
		},
		{
			name: "ids per conversation",
			appends: []appendCall{
				{m: msg("m1", "one", 1000), want: 0, text: "one"},
				{id: "c2", m: msg("m1", "other one", 1000), want: 0, text: "other one"},
				{id: "c2", m: msg("m2", "other two", 1000), want: 1, text: "other two"},
				{m: msg("m2", "two", 2000), want: 1, text: "two"},
			},
			want:    []string{"one", "two"},
			updated: 2000,
		},
		{
			name:    "closed",
			appends: []appendCall{closeC1, {m: msg("m1", "one", 1000), err: conversation.ErrClosed, want: -1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t, t.TempDir())
			mustCreate(t, s, conv("a", "c1", "v1", 100), conv("a", "c2", "v1", 100))
			for i, a := range tt.appends {
				if a.close {
					mustSetState(t, s, "a", "c1", conversation.Closed)
					continue
				}
				id := a.id
				if id == "" {
					id = "c1"
				}
				got, dup, err := s.AppendMessage(ctx, "a", id, a.m)
				checkErr(t, fmt.Sprintf("AppendMessage %d", i), err, a.err)
				if dup != a.dup {
					t.Errorf("AppendMessage %d: dup %v, want %v", i, dup, a.dup)
				}
				if a.want >= 0 && (got.Seq != a.want || got.Text != a.text || got.ID != a.m.ID) {
					t.Errorf("AppendMessage %d = %s, want Seq %d, text %q", i, dump(got), a.want, a.text)
				}
			}
			ms, err := s.Messages(ctx, "a", "c1", 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			texts := []string{}
			for i, m := range ms {
				texts = append(texts, m.Text)
				if m.Seq != i {
					t.Errorf("message %d has Seq %d", i, m.Seq)
				}
			}
			if !slices.Equal(texts, tt.want) {
				t.Errorf("messages %q, want %q", texts, tt.want)
			}
			c := mustGet(t, s, "a", "c1")
			updated := tt.updated
			if updated == 0 {
				updated = 100
			}
			if c.Messages != len(tt.want) || c.Updated != updated {
				t.Errorf("conversation has Messages %d, Updated %d, want %d, %d", c.Messages, c.Updated, len(tt.want), updated)
			}
		})
	}
	t.Run("stored as given", func(t *testing.T) {
		s := open(t, t.TempDir())
		mustCreate(t, s, full("a", "c1"))
		m := richMsg("m1", 1700000005000)
		got := mustAppend(t, s, "a", "c1", m)[0]
		if !reflect.DeepEqual(got, m) {
			t.Errorf("AppendMessage = %s, want %s", dump(got), dump(m))
		}
		m.Rich[3] = 'X' // the caller's, not the store's
		again, dup, err := s.AppendMessage(ctx, "a", "c1", richMsg("m1", 1700000009000))
		if want := richMsg("m1", 1700000005000); err != nil || !dup || !reflect.DeepEqual(again, want) {
			t.Errorf("AppendMessage again = %s, %v, %v, want %s, dup", dump(again), dup, err, dump(want))
		}
	})
}

// testAppendMessageConcurrent appends to one conversation from 8
// goroutines at once: every message gets its own Seq, from 0 on without a
// gap, and a message sent by two goroutines is stored once.
func testAppendMessageConcurrent(t *testing.T, open Open) {
	const goroutines, each = 8, 50
	tests := []struct {
		name string
		// msgID is the id goroutine g gives its message i.
		msgID  func(g, i int) string
		stored int
	}{
		{"ids", func(g, i int) string { return fmt.Sprintf("g%d-%d", g, i) }, goroutines * each},
		{"empty ids", func(g, i int) string { return "" }, goroutines * each},
		{"ids sent twice", func(g, i int) string { return fmt.Sprintf("g%d-%d", g%(goroutines/2), i) }, goroutines * each / 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t, t.TempDir())
			mustCreate(t, s, conv("a", "c1", "v1", 100))
			var mu sync.Mutex
			replies := map[int][]conversation.Message{} // by Seq
			dups := 0
			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Go(func() {
					for i := range each {
						m := msg(tt.msgID(g, i), fmt.Sprintf("%d %d", g, i), int64(1000+i))
						got, dup, err := s.AppendMessage(ctx, "a", "c1", m)
						if err != nil {
							t.Error(err)
							return
						}
						mu.Lock()
						replies[got.Seq] = append(replies[got.Seq], got)
						if dup {
							dups++
						}
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if len(replies) != tt.stored || dups != goroutines*each-tt.stored {
				t.Fatalf("%d seqs, %d duplicates, want %d and %d", len(replies), dups, tt.stored, goroutines*each-tt.stored)
			}
			ms, err := s.Messages(ctx, "a", "c1", 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) != tt.stored {
				t.Fatalf("%d messages stored, want %d", len(ms), tt.stored)
			}
			texts := map[string]bool{}
			for i, m := range ms {
				if m.Seq != i {
					t.Fatalf("message %d has Seq %d", i, m.Seq)
				}
				for _, r := range replies[i] {
					if !reflect.DeepEqual(r, m) {
						t.Fatalf("AppendMessage returned %s for Seq %d, stored is %s", dump(r), i, dump(m))
					}
				}
				if texts[m.ID+" "+m.Text] {
					t.Fatalf("message %q %q stored twice", m.ID, m.Text)
				}
				texts[m.ID+" "+m.Text] = true
			}
			if c := mustGet(t, s, "a", "c1"); c.Messages != tt.stored {
				t.Errorf("Messages %d, want %d", c.Messages, tt.stored)
			}
		})
	}
}

func testMessages(t *testing.T, open Open) {
	s := open(t, t.TempDir())
	mustCreate(t, s, full("a", "c1"), conv("a", "empty", "v1", 100))
	stored := mustAppend(t, s, "a", "c1", msg("m0", "zero", 1000), richMsg("m1", 2000), msg("", "two", 3000),
		msg("m3", "three", 4000), msg("m4", "four", 5000))
	tests := []struct {
		name        string
		id          string
		from, limit int
		want        []int
	}{
		{"all", "c1", 0, 0, []int{0, 1, 2, 3, 4}},
		{"from", "c1", 2, 0, []int{2, 3, 4}},
		{"limit", "c1", 0, 2, []int{0, 1}},
		{"from and limit", "c1", 1, 1, []int{1}},
		{"limit past the end", "c1", 3, 10, []int{3, 4}},
		{"from the end", "c1", 5, 0, []int{}},
		{"from past the end", "c1", 9, 3, []int{}},
		{"no messages", "empty", 0, 0, []int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Messages(ctx, "a", tt.id, tt.from, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(seqs(got), tt.want) {
				t.Fatalf("Messages(%d, %d) = seqs %v, want %v", tt.from, tt.limit, seqs(got), tt.want)
			}
			for _, m := range got {
				if !reflect.DeepEqual(m, stored[m.Seq]) {
					t.Errorf("message %d = %s, want %s", m.Seq, dump(m), dump(stored[m.Seq]))
				}
			}
		})
	}
}

func testAddStatuses(t *testing.T, open Open) {
	st := func(seq int, participant string, d conversation.Delivery, time int64) conversation.Status {
		role := conversation.AssignedAgent
		if participant == "visitor-1" {
			role = conversation.Consumer
		}
		return conversation.Status{Seq: seq, Participant: participant, Role: role, Status: d, Time: time}
	}
	const (
		acc  = conversation.Accepted
		read = conversation.Read
		p1   = "agent-7"
		p2   = "visitor-1"
	)
	type call struct{ add, new []conversation.Status }
	tests := []struct {
		name  string
		calls []call
	}{
		{"read after accept", []call{
			{[]conversation.Status{st(0, p1, acc, 10)}, []conversation.Status{st(0, p1, acc, 10)}},
			{[]conversation.Status{st(0, p1, read, 20)}, []conversation.Status{st(0, p1, read, 20)}},
		}},
		{"accept after read", []call{
			{[]conversation.Status{st(0, p1, read, 10)}, []conversation.Status{st(0, p1, read, 10)}},
			{[]conversation.Status{st(0, p1, acc, 20)}, nil},
		}},
		{"same again", []call{
			{[]conversation.Status{st(0, p1, acc, 10)}, []conversation.Status{st(0, p1, acc, 10)}},
			{[]conversation.Status{st(0, p1, acc, 20)}, nil},
		}},
		{"unknown message", []call{
			{[]conversation.Status{st(2, p1, acc, 10), st(-1, p1, acc, 10), st(0, p1, acc, 10), st(9, p1, read, 10)},
				[]conversation.Status{st(0, p1, acc, 10)}},
		}},
		{"per participant", []call{
			{[]conversation.Status{st(0, p1, acc, 10), st(0, p2, acc, 11)}, []conversation.Status{st(0, p1, acc, 10), st(0, p2, acc, 11)}},
			{[]conversation.Status{st(0, p2, read, 20), st(0, p1, acc, 21)}, []conversation.Status{st(0, p2, read, 20)}},
		}},
		{"per message", []call{
			{[]conversation.Status{st(0, p1, read, 10)}, []conversation.Status{st(0, p1, read, 10)}},
			{[]conversation.Status{st(1, p1, acc, 20), st(0, p1, acc, 20)}, []conversation.Status{st(1, p1, acc, 20)}},
		}},
		{"in one call", []call{
			{[]conversation.Status{st(0, p1, acc, 10), st(0, p1, read, 11), st(0, p1, acc, 12), st(1, p1, read, 13), st(1, p1, acc, 14)},
				[]conversation.Status{st(0, p1, acc, 10), st(0, p1, read, 11), st(1, p1, read, 13)}},
		}},
		{"recorded order", []call{
			{[]conversation.Status{st(1, p1, acc, 10)}, []conversation.Status{st(1, p1, acc, 10)}},
			{[]conversation.Status{st(0, p2, read, 20)}, []conversation.Status{st(0, p2, read, 20)}},
			{[]conversation.Status{st(0, p1, acc, 30), st(1, p2, acc, 30)}, []conversation.Status{st(0, p1, acc, 30), st(1, p2, acc, 30)}},
		}},
		{"none", []call{{nil, nil}, {[]conversation.Status{}, nil}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t, t.TempDir())
			mustCreate(t, s, full("a", "c1"))
			mustAppend(t, s, "a", "c1", msg("m0", "zero", 1), msg("m1", "one", 2))
			var all []conversation.Status
			for i, c := range tt.calls {
				got, err := s.AddStatuses(ctx, "a", "c1", c.add)
				if err != nil {
					t.Fatalf("AddStatuses %d: %v", i, err)
				}
				if len(got) != 0 || len(c.new) != 0 {
					if !reflect.DeepEqual(got, c.new) {
						t.Fatalf("AddStatuses %d = %s, want %s", i, dump(got), dump(c.new))
					}
				}
				all = append(all, c.new...)
			}
			got, err := s.Statuses(ctx, "a", "c1")
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 0 || len(all) != 0 {
				if !reflect.DeepEqual(got, all) {
					t.Fatalf("Statuses = %s, want %s", dump(got), dump(all))
				}
			}
		})
	}
}

func testList(t *testing.T, open Open) {
	s := open(t, t.TempDir())
	withSubject := func(c *conversation.Conversation, sub string) *conversation.Conversation {
		c.Identity = &conversation.Identity{Issuer: "https://idp.example", Subject: sub}
		return c
	}
	closed := func(c *conversation.Conversation) *conversation.Conversation {
		c.State, c.End, c.CloseReason = conversation.Closed, c.Start+50, conversation.ClosedByConsumer
		return c
	}
	mustCreate(t, s,
		withSubject(conv("a", "c1", "v1", 100), "alice"),
		closed(conv("a", "c2", "v2", 200)),
		closed(withSubject(conv("a", "c3", "v1", 300), "alice")),
		withSubject(conv("a", "c4", "v3", 400), "bob"),
		withSubject(conv("b", "b1", "v1", 250), "alice"),
	)
	mustAppend(t, s, "a", "c4", msg("m1", "hello", 450))
	type listCase struct {
		name string
		q    conversation.Query
		want []string
	}
	check := func(t *testing.T, tests []listCase) {
		t.Helper()
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := s.List(ctx, "a", tt.q)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(ids(got), tt.want) {
					t.Fatalf("List(%+v) = %v, want %v", tt.q, ids(got), tt.want)
				}
				for _, c := range got {
					checkConv(t, "listed conversation", c, mustGet(t, s, "a", c.ID))
				}
			})
		}
	}
	check(t, []listCase{
		{"all", conversation.Query{}, []string{"c4", "c3", "c2", "c1"}},
		{"open", conversation.Query{State: conversation.Open}, []string{"c4", "c1"}},
		{"closed", conversation.Query{State: conversation.Closed}, []string{"c3", "c2"}},
		{"consumer", conversation.Query{ConsumerID: "v1"}, []string{"c3", "c1"}},
		{"unknown consumer", conversation.Query{ConsumerID: "v9"}, []string{}},
		{"subject", conversation.Query{Subject: "alice"}, []string{"c3", "c1"}},
		{"start from", conversation.Query{StartFrom: 200}, []string{"c4", "c3", "c2"}},
		{"start to", conversation.Query{StartTo: 300}, []string{"c2", "c1"}},
		{"start from and to", conversation.Query{StartFrom: 200, StartTo: 400}, []string{"c3", "c2"}},
		{"empty range", conversation.Query{StartFrom: 201, StartTo: 300}, []string{}},
		{"limit", conversation.Query{Limit: 2}, []string{"c4", "c3"}},
		{"consumer and state", conversation.Query{ConsumerID: "v1", State: conversation.Open}, []string{"c1"}},
		{"consumer and limit", conversation.Query{ConsumerID: "v1", Limit: 1}, []string{"c3"}},
		{"subject and start", conversation.Query{Subject: "alice", StartFrom: 200, StartTo: 301}, []string{"c3"}},
		{"subject and consumer", conversation.Query{Subject: "bob", ConsumerID: "v3"}, []string{"c4"}},
		{"closed and limit", conversation.Query{State: conversation.Closed, Limit: 1}, []string{"c3"}},
	})
	t.Run("unknown account", func(t *testing.T) {
		if got, err := s.List(ctx, "z", conversation.Query{}); err != nil || len(got) != 0 {
			t.Errorf("List = %v, %v, want none", ids(got), err)
		}
	})
	// Updates that change what List selects by.
	changes := map[string]func(*conversation.Conversation){
		"c1": func(c *conversation.Conversation) {
			c.ConsumerID, c.Start = "v2", 500
			c.Identity.Subject = "bob"
			closed(c)
		},
		"c3": func(c *conversation.Conversation) { c.Identity = nil },
		"c2": func(c *conversation.Conversation) {
			c.State, c.End, c.CloseReason = conversation.Open, 0, ""
		},
	}
	for id, change := range changes {
		if _, err := s.Update(ctx, "a", id, func(c *conversation.Conversation) error {
			change(c)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("after updates", func(t *testing.T) {
		check(t, []listCase{
			{"all", conversation.Query{}, []string{"c1", "c4", "c3", "c2"}},
			{"open", conversation.Query{State: conversation.Open}, []string{"c4", "c2"}},
			{"closed", conversation.Query{State: conversation.Closed}, []string{"c1", "c3"}},
			{"old consumer", conversation.Query{ConsumerID: "v1"}, []string{"c3"}},
			{"new consumer", conversation.Query{ConsumerID: "v2"}, []string{"c1", "c2"}},
			{"old subject", conversation.Query{Subject: "alice"}, []string{}},
			{"new subject", conversation.Query{Subject: "bob"}, []string{"c1", "c4"}},
			{"old start", conversation.Query{StartTo: 101}, []string{}},
			{"new start", conversation.Query{StartFrom: 500}, []string{"c1"}},
		})
	})
}

func testEachOpen(t *testing.T, open Open) {
	closed := conv("a", "c2", "v2", 200)
	closed.State = conversation.Closed
	tests := []struct {
		name string
		// update is applied to these conversations before EachOpen.
		update map[string]conversation.State
		// fail is how many calls of fn succeed before it returns errBoom;
		// -1: all do.
		fail int
		want []string // ids visited, sorted; nil when fail >= 0
	}{
		{"open of every account", nil, -1, []string{"b3", "c1", "c4"}},
		{"closed since", map[string]conversation.State{"c1": conversation.Closed}, -1, []string{"b3", "c4"}},
		{"open again", map[string]conversation.State{"c2": conversation.Open}, -1, []string{"b3", "c1", "c2", "c4"}},
		{"fn fails", nil, 0, nil},
		{"fn fails later", nil, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t, t.TempDir())
			mustCreate(t, s, conv("a", "c1", "v1", 100), closed, conv("b", "b3", "v1", 300), conv("a", "c4", "v4", 400))
			mustAppend(t, s, "a", "c4", msg("m1", "hello", 450))
			for id, state := range tt.update {
				mustSetState(t, s, "a", id, state)
			}
			var got []string
			err := s.EachOpen(ctx, func(c *conversation.Conversation) error {
				if len(got) == tt.fail {
					return errBoom
				}
				got = append(got, c.ID)
				checkConv(t, "conversation of EachOpen", c, mustGet(t, s, c.AccountID, c.ID))
				return nil
			})
			if tt.fail >= 0 {
				if !errors.Is(err, errBoom) || len(got) != tt.fail {
					t.Fatalf("EachOpen with fn failing after %d: %v after %d calls, want errBoom", tt.fail, err, len(got))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("EachOpen visited %v, want %v", got, tt.want)
			}
		})
	}
}

// testRoundTrip stores every field of every type and checks that it comes
// back as it was, JSON values to the byte, before and after reopening.
func testRoundTrip(t *testing.T, open Open) {
	dir := t.TempDir()
	s := open(t, dir)
	mustCreate(t, s, full("a", "c1"))
	ms := mustAppend(t, s, "a", "c1", richMsg("m1", 1700000005000), msg("", "plain", 1700000006000))
	st := []conversation.Status{
		{Seq: 0, Participant: "visitor-1", Role: conversation.Consumer, Status: conversation.Read, Time: 1700000005500},
		{Seq: 1, Participant: "agent-7", Role: conversation.AssignedAgent, Status: conversation.Accepted, Time: 1700000006500},
	}
	if _, err := s.AddStatuses(ctx, "a", "c1", st); err != nil {
		t.Fatal(err)
	}
	want := full("a", "c1")
	want.Messages, want.Updated = 2, 1700000006000
	wantMs := []conversation.Message{richMsg("m1", 1700000005000), msg("", "plain", 1700000006000)}
	wantMs[1].Seq = 1
	if !reflect.DeepEqual(ms, wantMs) {
		t.Fatalf("AppendMessage returned %s, want %s", dump(ms), dump(wantMs))
	}
	check := func(t *testing.T, s conversation.Store) {
		checkConv(t, "Get", mustGet(t, s, "a", "c1"), want)
		if got, err := s.Messages(ctx, "a", "c1", 0, 0); err != nil || !reflect.DeepEqual(got, wantMs) {
			t.Errorf("Messages = %s, %v, want %s", dump(got), err, dump(wantMs))
		}
		if got, err := s.Statuses(ctx, "a", "c1"); err != nil || !reflect.DeepEqual(got, st) {
			t.Errorf("Statuses = %s, %v, want %s", dump(got), err, dump(st))
		}
		if got, err := s.List(ctx, "a", conversation.Query{Subject: "alice"}); err != nil || len(got) != 1 {
			t.Errorf("List = %v, %v, want c1", ids(got), err)
		} else {
			checkConv(t, "List", got[0], want)
		}
		err := s.EachOpen(ctx, func(c *conversation.Conversation) error {
			checkConv(t, "EachOpen", c, want)
			return nil
		})
		if err != nil {
			t.Error(err)
		}
	}
	t.Run("open", func(t *testing.T) { check(t, s) })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	t.Run("reopened", func(t *testing.T) { check(t, open(t, dir)) })
}

// testReopen closes a store and opens it again: what it stored is there,
// and it goes on from there.
func testReopen(t *testing.T, open Open) {
	dir := t.TempDir()
	s := open(t, dir)
	mustCreate(t, s, full("a", "c1"), conv("b", "b1", "v1", 100))
	mustAppend(t, s, "a", "c1", msg("m1", "one", 1700000005000), msg("m2", "two", 1700000006000))
	st := []conversation.Status{{Seq: 1, Participant: "agent-7", Role: conversation.AssignedAgent, Status: conversation.Accepted, Time: 1700000006500}}
	if _, err := s.AddStatuses(ctx, "a", "c1", st); err != nil {
		t.Fatal(err)
	}
	mustSetState(t, s, "b", "b1", conversation.Closed)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, dir)
	if err := s.Create(ctx, conv("b", "c1", "v1", 100)); !errors.Is(err, conversation.ErrExists) {
		t.Errorf("Create of a taken id after reopening: %v, want ErrExists", err)
	}
	if got, dup, err := s.AppendMessage(ctx, "a", "c1", msg("m1", "one again", 1700000007000)); err != nil || !dup || got.Seq != 0 || got.Text != "one" {
		t.Errorf("AppendMessage of a message id after reopening = %s, %v, %v, want Seq 0 dup", dump(got), dup, err)
	}
	if got := mustAppend(t, s, "a", "c1", msg("m3", "three", 1700000008000)); got[0].Seq != 2 {
		t.Errorf("AppendMessage after reopening: Seq %d, want 2", got[0].Seq)
	}
	if got, err := s.AddStatuses(ctx, "a", "c1", st); err != nil || len(got) != 0 {
		t.Errorf("AddStatuses of a status it has after reopening = %s, %v, want none new", dump(got), err)
	}
	if _, _, err := s.AppendMessage(ctx, "b", "b1", msg("", "late", 1)); !errors.Is(err, conversation.ErrClosed) {
		t.Errorf("AppendMessage to a closed conversation after reopening: %v, want ErrClosed", err)
	}
	var visited []string
	if err := s.EachOpen(ctx, func(c *conversation.Conversation) error {
		visited = append(visited, c.ID)
		return nil
	}); err != nil || !slices.Equal(visited, []string{"c1"}) {
		t.Errorf("EachOpen after reopening visited %v, %v, want c1", visited, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, dir)
	if ms, err := s.Messages(ctx, "a", "c1", 0, 0); err != nil || !slices.Equal(seqs(ms), []int{0, 1, 2}) {
		t.Errorf("Messages after reopening twice: seqs %v, %v, want 0 1 2", seqs(ms), err)
	}
	if got, err := s.Statuses(ctx, "a", "c1"); err != nil || !reflect.DeepEqual(got, st) {
		t.Errorf("Statuses after reopening twice = %s, %v, want %s", dump(got), err, dump(st))
	}
}

// testClose checks that calls fail after Close.
func testClose(t *testing.T, open Open) {
	s := open(t, t.TempDir())
	mustCreate(t, s, conv("a", "c1", "v1", 100))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	calls := map[string]func() error{
		"Create": func() error { return s.Create(ctx, conv("a", "c2", "v1", 100)) },
		"Get": func() error {
			_, err := s.Get(ctx, "a", "c1")
			return err
		},
		"AppendMessage": func() error {
			_, _, err := s.AppendMessage(ctx, "a", "c1", msg("m1", "one", 1))
			return err
		},
		"Update": func() error {
			_, err := s.Update(ctx, "a", "c1", func(*conversation.Conversation) error { return nil })
			return err
		},
		"List": func() error {
			_, err := s.List(ctx, "a", conversation.Query{})
			return err
		},
		"EachOpen": func() error {
			return s.EachOpen(ctx, func(*conversation.Conversation) error { return nil })
		},
	}
	for name, call := range calls {
		if call() == nil {
			t.Errorf("%s after Close succeeded", name)
		}
	}
}

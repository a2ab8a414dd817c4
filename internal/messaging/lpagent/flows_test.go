package lpagent

import (
	"slices"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/user"
)

// exChangeOf is a change of an ExConversationChangeNotification as a test
// reads it.
type exChangeOf struct {
	Type   string `json:"type"`
	Result struct {
		ConvID              string `json:"convId"`
		ConversationDetails struct {
			SkillID         string              `json:"skillId"`
			State           string              `json:"state"`
			CloseReason     string              `json:"closeReason"`
			Participants    map[string][]string `json:"participants"`
			ParticipantsPID map[string][]string `json:"participantsPId"`
			Dialogs         []struct {
				ParticipantsDetails []struct {
					ID   string `json:"id"`
					Role string `json:"role"`
				} `json:"participantsDetails"`
			} `json:"dialogs"`
		} `json:"conversationDetails"`
	} `json:"result"`
}

// exChanges returns the changes of an ExConversationChangeNotification.
func exChanges(t *testing.T, f frame) []exChangeOf {
	t.Helper()
	var n struct {
		SubscriptionID string       `json:"subscriptionId"`
		Changes        []exChangeOf `json:"changes"`
	}
	decode(t, f, &n)
	if n.SubscriptionID == "" {
		t.Errorf("notification without subscriptionId: %s", f.raw)
	}
	return n.Changes
}

// exChange waits for a change of conversation conv of type typ.
func (w *wsClient) exChange(conv, typ string) exChangeOf {
	w.t.Helper()
	var got exChangeOf
	w.next(notifyExConversations, func(f frame) bool {
		for _, c := range exChanges(w.t, f) {
			if c.Result.ConvID == conv && c.Type == typ {
				got = c
				return true
			}
		}
		return false
	})
	return got
}

// ring is a routing task notification as a test reads it.
type ring = routingNotification

// nextRing waits for a ring of conversation conv in state.
func (w *wsClient) nextRing(conv, state string) ring {
	w.t.Helper()
	var r ring
	w.next(notifyRoutingTask, func(f frame) bool {
		decode(w.t, f, &r)
		return len(r.Changes) == 1 && r.Changes[0].Result.ConversationID == conv && len(r.Changes[0].Result.RingsDetails) == 1 &&
			r.Changes[0].Result.RingsDetails[0].RingState == state
	})
	return r
}

// onlineAgent connects an agent, sets it ONLINE and subscribes it to its
// rings and its conversations.
func (e *env) onlineAgent(acct string, u user.User) *wsClient {
	e.t.Helper()
	w := e.dialAgent(acct, u.Login)
	for _, r := range []struct {
		typ  string
		body any
	}{
		{typeSetAgentState, map[string]any{"availability": "ONLINE"}},
		{typeSubscribeRouting, map[string]any{}},
		{typeSubscribeEx, map[string]any{"convState": []string{"OPEN"}, "agentIds": []string{u.PID}}},
	} {
		if f := w.request(r.typ, r.body); f.Code != 200 {
			e.t.Fatalf("%s: %s", r.typ, f.raw)
		}
	}
	return w
}

func TestRings(t *testing.T) {
	e := newEnv(t)
	ann, _ := e.addUser(acme, "ann", 0, "sales")
	bob, _ := e.addUser(acme, "bob", 0, "sales")
	wa, wb := e.onlineAgent(acme, ann), e.onlineAgent(acme, bob)
	c := e.startConversation(acme, "visitor-1", 1)

	// One of them is rung: with nothing to do, the lower user id.
	first, second, secondUser := wa, wb, bob
	if bob.ID < ann.ID {
		first, second, secondUser = wb, wa, ann
	}
	r := first.nextRing(c.conv, ringWaiting)
	res := r.Changes[0].Result
	rd := res.RingsDetails[0]
	if r.Changes[0].Type != "UPSERT" || res.TaskCompleted || res.ConsumerID != "visitor-1" || res.SkillID != "11" || res.BrandID != acme ||
		rd.RingID == "" || rd.RingExpiration <= 0 || rd.RingExpiration > 20000 || rd.RingExpirationTs < time.Now().UnixMilli() || rd.Weight != 1 || rd.ConvID != c.conv {
		t.Errorf("ring %+v", r)
	}
	if f := first.request(typeUpdateRingState, map[string]any{"ringId": rd.RingID, "ringState": "REJECTED"}); f.Code != 200 {
		t.Fatalf("reject: %s", f.raw)
	}
	first.nextRing(c.conv, ringRejected)
	r2 := second.nextRing(c.conv, ringWaiting)
	ringID := r2.Changes[0].Result.RingsDetails[0].RingID
	if f := second.request(typeUpdateRingState, map[string]any{"ringId": ringID, "ringState": "ACCEPTED"}); f.Code != 200 {
		t.Fatalf("accept: %s", f.raw)
	}
	done := second.nextRing(c.conv, ringAccepted)
	if !done.Changes[0].Result.TaskCompleted || done.Changes[0].Result.AssignedAgentID != acme+"."+secondUser.ID {
		t.Errorf("accepted ring %+v", done)
	}
	ch := second.exChange(c.conv, "UPSERT")
	d := ch.Result.ConversationDetails
	if !slices.Equal(d.Participants["ASSIGNED_AGENT"], []string{acme + "." + secondUser.ID}) ||
		!slices.Equal(d.ParticipantsPID["ASSIGNED_AGENT"], []string{secondUser.PID}) ||
		!slices.Equal(d.Participants["CONSUMER"], []string{"visitor-1"}) || !slices.Equal(d.ParticipantsPID["CONSUMER"], []string{"visitor-1"}) ||
		len(d.Dialogs) != 1 || len(d.Dialogs[0].ParticipantsDetails) != 2 {
		t.Errorf("conversation of the accepting agent: %+v", d)
	}
	if f := second.request(typeUpdateRingState, map[string]any{"ringId": ringID, "ringState": "ACCEPTED"}); f.Code != 404 {
		t.Errorf("accepting again: %s, want 404", f.raw)
	}
	if f := first.request(typeUpdateRingState, map[string]any{"ringId": ringID, "ringState": "ACCEPTED"}); f.Code != 404 {
		t.Errorf("accepting another's ring: %s, want 404", f.raw)
	}

	// A ring nobody answers expires and goes to the other agent. The
	// agent with a conversation already is the busier: the other is rung
	// first.
	c2 := e.startConversation(acme, "visitor-2", 1)
	first.nextRing(c2.conv, ringWaiting)
	e.clock.add(21 * time.Second)
	first.nextRing(c2.conv, ringExpired)
	second.nextRing(c2.conv, ringWaiting)
}

func TestTransfer(t *testing.T) {
	e := newEnv(t)
	ann, _ := e.addUser(acme, "ann", 0, "sales")
	sue, _ := e.addUser(acme, "sue", 0, "support")
	tom, _ := e.addUser(acme, "tom", 0, "support")
	wa := e.onlineAgent(acme, ann)
	c := e.startConversation(acme, "visitor-1", 1)
	r := wa.nextRing(c.conv, ringWaiting)
	if f := wa.request(typeUpdateRingState, map[string]any{"ringId": r.Changes[0].Result.RingsDetails[0].RingID, "ringState": "ACCEPTED"}); f.Code != 200 {
		t.Fatal(string(f.raw))
	}
	wa.exChange(c.conv, "UPSERT")
	ws, wt := e.onlineAgent(acme, sue), e.onlineAgent(acme, tom)

	// To the support skill, as the transfer example does it.
	f := wa.request(typeUpdateField, map[string]any{"conversationId": c.conv, "conversationField": []any{
		map[string]any{"field": "ParticipantsChange", "type": "REMOVE", "role": "ASSIGNED_AGENT", "userId": ann.PID},
		map[string]any{"field": "Skill", "type": "UPDATE", "skill": "12"},
	}})
	if f.Code != 200 {
		t.Fatalf("transfer: %s", f.raw)
	}
	del := wa.exChange(c.conv, "DELETE")
	if del.Result.ConversationDetails.State != "OPEN" || del.Result.ConversationDetails.SkillID != "12" {
		t.Errorf("DELETE for the agent who left: %+v", del.Result.ConversationDetails)
	}
	rung, other := ws, wt
	if tom.ID < sue.ID {
		rung, other = wt, ws
	}
	r = rung.nextRing(c.conv, ringWaiting)
	if r.Changes[0].Result.SkillID != "12" {
		t.Errorf("ring of the transferred conversation: skill %s", r.Changes[0].Result.SkillID)
	}
	if f := rung.request(typeUpdateRingState, map[string]any{"ringId": r.Changes[0].Result.RingsDetails[0].RingID, "ringState": "ACCEPTED"}); f.Code != 200 {
		t.Fatal(string(f.raw))
	}
	rung.exChange(c.conv, "UPSERT")

	// To an agent: SUGGEST names them.
	target := tom
	if rung == wt {
		target = sue
	}
	f = rung.request(typeUpdateField, map[string]any{"conversationId": c.conv, "conversationField": []any{
		map[string]any{"field": "ParticipantsChange", "type": "SUGGEST", "role": "ASSIGNED_AGENT", "userId": acme + "." + target.ID},
		map[string]any{"field": "ParticipantsChange", "type": "REMOVE", "role": "ASSIGNED_AGENT"},
	}})
	if f.Code != 200 {
		t.Fatalf("transfer to an agent: %s", f.raw)
	}
	other.nextRing(c.conv, ringWaiting)
	conv, err := e.store.Get(t.Context(), acme, c.conv)
	if err != nil || len(conv.Transfers) != 2 || conv.Transfers[1].TargetAgentID != target.ID || conv.Transfers[0].TargetSkillID != 12 {
		t.Errorf("transfers %+v, %v", conv.Transfers, err)
	}
}

func TestAgentStates(t *testing.T) {
	e := newEnv(t)
	ann, _ := e.addUser(acme, "ann", 0, "sales")
	bob, _ := e.addUser(acme, "bob", 0, "sales")
	wa := e.dialAgent(acme, "ann")
	wb := e.dialAgent(acme, "bob")
	if f := wa.request(typeSubscribeAgents, map[string]any{"brandId": acme, "agentId": acme + "." + ann.ID}); f.Code != 200 {
		t.Fatal(string(f.raw))
	}
	if f := wa.request(typeSubscribeAgents, map[string]any{"agentId": bob.PID}); f.Code != 200 {
		t.Fatal(string(f.raw))
	}
	type state struct {
		Changes []struct {
			Type   string `json:"type"`
			Result struct {
				AgentUserID  string   `json:"agentUserId"`
				Channels     []string `json:"channels"`
				Availability string   `json:"availability"`
			} `json:"result"`
		} `json:"changes"`
	}
	next := func(agent, availability string) {
		t.Helper()
		wa.next(notifyAgentState, func(f frame) bool {
			var s state
			decode(t, f, &s)
			return len(s.Changes) == 1 && s.Changes[0].Type == "UPSERT" && s.Changes[0].Result.AgentUserID == acme+"."+agent &&
				s.Changes[0].Result.Availability == availability && slices.Equal(s.Changes[0].Result.Channels, []string{"MESSAGING"})
		})
	}
	next(ann.ID, "OFFLINE")
	next(bob.ID, "OFFLINE")
	wa.request(typeSetAgentState, map[string]any{"availability": "ONLINE"})
	next(ann.ID, "ONLINE")
	wb.request(typeSetAgentState, map[string]any{"availability": "AWAY"})
	next(bob.ID, "AWAY")
	wb.c.CloseNow()
	next(bob.ID, "OFFLINE")
}

func TestMessagesLive(t *testing.T) {
	e := newEnv(t)
	ann, _ := e.addUser(acme, "ann", 0, "sales")
	w := e.onlineAgent(acme, ann)
	c := e.startConversation(acme, "visitor-1", 1)
	c.say("one")
	r := w.nextRing(c.conv, ringWaiting)
	w.request(typeUpdateRingState, map[string]any{"ringId": r.Changes[0].Result.RingsDetails[0].RingID, "ringState": "ACCEPTED"})
	w.exChange(c.conv, "UPSERT")
	// Messages sent while the history is read come once, after it.
	stop := make(chan struct{})
	sent := make(chan int, 100)
	go func() {
		defer close(sent)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			_, ch, err := c.trySend("ms.PublishEvent", map[string]any{"conversationId": c.conv, "event": map[string]any{"type": "ContentEvent",
				"contentType": "text/plain", "message": "more"}}, nil)
			if err != nil {
				return
			}
			select {
			case f := <-ch:
				if f.Code != 200 {
					return
				}
			case <-time.After(10 * time.Second):
				return
			}
			sent <- i
			if i == 20 {
				return
			}
		}
	}()
	h := w.request(typeQueryMessages, map[string]any{"dialogId": c.conv, "newerThanSequence": 0})
	var hist []struct {
		Sequence *int `json:"sequence"`
	}
	decode(t, h, &hist)
	close(stop)
	n := 0
	for range sent {
		n++
	}
	seqs := map[int]int{}
	for _, ev := range hist {
		if ev.Sequence != nil {
			seqs[*ev.Sequence]++
		}
	}
	total := 1 + n
	for len(seqs) < total {
		f := w.next(notifyEvent, nil)
		var ev struct {
			Sequence *int `json:"sequence"`
		}
		decode(t, f, &ev)
		if ev.Sequence != nil {
			seqs[*ev.Sequence]++
		}
	}
	for s := range total {
		if seqs[s] != 1 {
			t.Errorf("message %d told %d times, want once (history %d, live %d)", s, seqs[s], len(hist), total-len(hist))
		}
	}

	// The consumer's read receipt and typing come live too.
	c.request("ms.PublishEvent", map[string]any{"conversationId": c.conv, "event": map[string]any{"type": "ChatStateEvent", "chatState": "COMPOSING"}})
	w.next(notifyEvent, func(f frame) bool {
		var ev struct {
			OriginatorID string `json:"originatorId"`
			Event        struct {
				ChatState string `json:"chatState"`
			} `json:"event"`
		}
		decode(t, f, &ev)
		return ev.OriginatorID == "visitor-1" && ev.Event.ChatState == "COMPOSING"
	})
	w.request(typePublishEvent, map[string]any{"dialogId": c.conv, "event": map[string]any{"type": "ContentEvent", "contentType": "text/plain", "message": "yes"}})
	c.until("the agent's message", func() bool { return slices.Contains(c.agentTexts, "yes") })
	conv, _ := e.store.Get(t.Context(), acme, c.conv)
	seq := conv.Messages - 1
	c.request("ms.PublishEvent", map[string]any{"conversationId": c.conv, "event": map[string]any{"type": "AcceptStatusEvent", "status": "READ",
		"sequenceList": []int{seq}}})
	w.next(notifyEvent, func(f frame) bool {
		var ev struct {
			OriginatorPID string `json:"originatorPId"`
			Event         struct {
				Type         string `json:"type"`
				Status       string `json:"status"`
				SequenceList []int  `json:"sequenceList"`
			} `json:"event"`
		}
		decode(t, f, &ev)
		return ev.OriginatorPID == "visitor-1" && ev.Event.Type == "AcceptStatusEvent" && ev.Event.Status == "READ" &&
			slices.Equal(ev.Event.SequenceList, []int{seq})
	})

	// A socket that connects again while the agent is in the
	// conversation gets its events without asking.
	w.c.CloseNow()
	w2 := e.dialAgent(acme, "ann")
	w2.request(typeSubscribeEx, map[string]any{"convState": []string{"OPEN"}, "agentIds": []string{ann.PID}})
	w2.exChange(c.conv, "UPSERT")
	c.say("after the reconnect")
	w2.next(notifyEvent, func(f frame) bool {
		var ev struct {
			Event struct {
				Message string `json:"message"`
			} `json:"event"`
		}
		decode(t, f, &ev)
		return ev.Event.Message == "after the reconnect"
	})
}

// TestAccountIsolation: an agent of one account sees nothing of
// another's conversations and cannot act on them.
func TestAccountIsolation(t *testing.T) {
	e := newEnv(t)
	e.addUser(acme, "ann", 0, "sales")
	olga, _ := e.addUser(other, "olga", 0, "sales")
	theirs := e.startConversation(other, "their-visitor", 1)
	w := e.dialAgent(acme, "ann")
	for _, body := range []map[string]any{
		{"convState": []string{"OPEN", "CLOSE"}},
		{"convState": []string{"OPEN"}, "agentIds": []string{other + "." + olga.ID, olga.PID}},
	} {
		if f := w.request(typeSubscribeEx, body); f.Code != 200 {
			t.Fatal(string(f.raw))
		}
	}
	w.request(typeSetAgentState, map[string]any{"availability": "ONLINE"})
	w.request(typeSubscribeRouting, map[string]any{})
	mine := e.startConversation(acme, "my-visitor", 1)
	e.startConversation(other, "their-visitor-2", 1)
	// Ann's subscriptions and rings show her account's conversation only.
	seen := map[string]bool{}
	deadline := time.After(2 * time.Second)
	for done := false; !done; {
		select {
		case f := <-w.notes:
			switch f.Type {
			case notifyExConversations:
				for _, c := range exChanges(t, f) {
					seen[c.Result.ConvID] = true
				}
			case notifyRoutingTask:
				var r ring
				decode(t, f, &r)
				seen[r.Changes[0].Result.ConversationID] = true
			}
		case <-deadline:
			done = true
		}
	}
	if !seen[mine.conv] || len(seen) != 1 {
		t.Errorf("ann saw %v, want her account's %s only", seen, mine.conv)
	}
	for _, r := range []struct {
		typ  string
		body any
	}{
		{typeQueryMessages, map[string]any{"dialogId": theirs.conv}},
		{typePublishEvent, map[string]any{"dialogId": theirs.conv, "event": map[string]any{"type": "ContentEvent", "contentType": "text/plain", "message": "x"}}},
		{typeUpdateField, map[string]any{"conversationId": theirs.conv, "conversationField": []any{
			map[string]any{"field": "ParticipantsChange", "type": "ADD", "role": "MANAGER"}}}},
		{typeGetUserProfile, "their-visitor"},
	} {
		if f := w.request(r.typ, r.body); f.Code != 404 {
			t.Errorf("%s on the other account's: %s, want 404", r.typ, f.raw)
		}
	}
	msgs, _ := e.store.Messages(t.Context(), other, theirs.conv, 0, 0)
	conv, _ := e.store.Get(t.Context(), other, theirs.conv)
	if len(msgs) != 0 || len(conv.Participants) != 1 {
		t.Errorf("the other account's conversation changed: %d messages, %d participants", len(msgs), len(conv.Participants))
	}
}

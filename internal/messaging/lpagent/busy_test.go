package lpagent

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sightline/sightline/internal/conversation"
	"github.com/sightline/sightline/internal/messaging"
	"github.com/sightline/sightline/internal/messaging/wire"
)

// TestBusyBotNotClosed has a bot follow sixteen conversations whose visitors
// send it far more messages than wire.QueueFrames while it does not read
// (a hiccup of a bot that serves thousands of conversations, or of its
// machine): its connection stays open, and it then reads every message,
// in order. A chat window's limit closed it.
func TestBusyBotNotClosed(t *testing.T) {
	// The bot reads again only once the visitors have sent: 1,600 durable
	// messages, which take longer than wire's 10 s with the race detector.
	e := newEnv(t, func(cfg *Config, _ *messaging.Config) { cfg.WriteTimeout = 5 * time.Minute })
	bot, _ := e.addUser(acme, "bot", 0, "sales")
	const visitors, perVisitor = 16, 100
	var convs []*consumerClient
	for i := range visitors {
		c := e.startConversation(acme, fmt.Sprintf("visitor-%d", i), 1)
		if _, err := e.svc.Join(context.Background(), acme, c.conv, agentOf(bot), conversation.AssignedAgent); err != nil {
			t.Fatal(err)
		}
		convs = append(convs, c)
	}
	bearer, _, _ := e.login(acme, "bot")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "wss://"+e.host+"/ws_api/account/"+acme+"/messaging/brand/"+bearer+"?v=2.1",
		&websocket.DialOptions{HTTPClient: e.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	ws.SetReadLimit(1 << 20)
	for i, c := range convs {
		req := fmt.Sprintf(`{"kind":"req","id":%d,"type":%q,"body":{"dialogId":%q,"newerThanSequence":0}}`, i, typeQueryMessages, c.conv)
		if err := ws.Write(ctx, websocket.MessageText, []byte(req)); err != nil {
			t.Fatal(err)
		}
	}
	for range convs { // the histories: the dialogs are followed from then on
		if _, _, err := ws.Read(ctx); err != nil {
			t.Fatal(err)
		}
	}

	// The bot reads nothing while the visitors send.
	text := strings.Repeat("x", conversation.MaxTextLen)
	var wg sync.WaitGroup
	for _, c := range convs {
		wg.Go(func() {
			for range perVisitor {
				_, ch, err := c.trySend("ms.PublishEvent", map[string]any{"conversationId": c.conv, "event": map[string]any{
					"type": "ContentEvent", "contentType": "text/plain", "message": text}}, nil)
				if err != nil {
					t.Error(err)
					return
				}
				if f := <-ch; f.Code != 200 {
					t.Errorf("publish: %s", f.raw)
					return
				}
			}
		})
	}
	wg.Wait()
	next := map[string]int{}
	for n := 0; n < visitors*perVisitor; n++ {
		_, b, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("after %d of %d messages (more than wire's %d frames waited): %v", n, visitors*perVisitor, wire.QueueFrames, err)
		}
		var f struct {
			Type string
			Body struct {
				DialogID string
				Sequence int
			}
		}
		if err := json.Unmarshal(b, &f); err != nil || f.Type != notifyEvent {
			t.Fatalf("frame %.100s (%v), want a message", b, err)
		}
		if f.Body.Sequence != next[f.Body.DialogID] {
			t.Fatalf("dialog %s: sequence %d, want %d", f.Body.DialogID, f.Body.Sequence, next[f.Body.DialogID])
		}
		next[f.Body.DialogID]++
	}
}

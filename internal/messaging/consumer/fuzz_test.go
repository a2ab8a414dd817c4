package consumer

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/conversation"
	"github.com/sightline/sightline/internal/conversation/boltstore"
	"github.com/sightline/sightline/internal/messaging"
)

// testServer serves the consumer protocol of account "acme" on a real
// store, with one chat engagement (campaign 1, engagement 2, skill sales).
func testServer(tb testing.TB) (*httptest.Server, *messaging.Service) {
	tb.Helper()
	dir := tb.TempDir()
	store, err := boltstore.Open(filepath.Join(dir, "conversations.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	accounts, err := account.OpenStore(nil, filepath.Join(dir, "accounts"))
	if err != nil {
		tb.Fatal(err)
	}
	if err := accounts.Add(account.Account{ID: "acme", Origins: []string{account.AnyOrigin}}); err != nil {
		tb.Fatal(err)
	}
	svc := messaging.New(messaging.DefaultConfig(), nil, store, nil)
	engagements := func(ctx context.Context, acct string, campaignID, engagementID int64) (Engagement, error) {
		if campaignID != 1 || engagementID != 2 {
			return Engagement{}, errors.New("no such engagement")
		}
		return Engagement{SkillID: 7, SkillName: "sales", Campaign: conversation.Campaign{CampaignID: "1", EngagementID: "2"}}, nil
	}
	mux := http.NewServeMux()
	New(svc, accounts, engagements, nil, nil, nil).Register(mux)
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	return srv, svc
}

// FuzzRequest sends arbitrary frames after a good InitConnection: the
// connection answers each with one response (never silence, never a
// crash), and a bad one names a field.
func FuzzRequest(f *testing.F) {
	srv, _ := testServer(f)
	f.Add(`{"kind":"req","id":"2","type":"cm.ConsumerRequestConversation","body":{"campaignInfo":{"campaignId":1,"engagementId":2}}}`)
	f.Add(`{"kind":"req","id":"2","type":"ms.PublishEvent","body":{"conversationId":"x","event":{"type":"ContentEvent","message":"hi"}}}`)
	f.Add(`{"kind":"req","id":"2","type":"ms.SubscribeMessagingEvents","body":{"conversationId":"x","fromSeq":-1}}`)
	f.Add(`{"kind":"req","id":"2","type":"cm.AnswerSurvey","body":{"conversationId":"x","csat":9}}`)
	f.Add(`{"kind":"req","id":"2","type":"cm.UpdateConversationField","body":{"conversationId":"x","conversationField":[{}]}}`)
	f.Add(`{"kind":"req","id":"2","type":"nope"}`)
	f.Add(`garbage`)
	f.Fuzz(func(t *testing.T, frame string) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, _, err := websocket.Dial(ctx, "ws"+srv.URL[len("http"):]+"/messaging/account/acme/consumer", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		c.Write(ctx, websocket.MessageText, []byte(`{"kind":"req","id":"1","type":"InitConnection","body":{"visitorId":"fuzz"}}`))
		c.Write(ctx, websocket.MessageText, []byte(frame))
		c.Write(ctx, websocket.MessageText, []byte(`{"kind":"req","id":"last","type":"cm.GetConversation","body":{}}`))
		responses := 0
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				t.Fatalf("after %q: %v", frame, err)
			}
			var r struct {
				Kind  string          `json:"kind"`
				ReqID json.RawMessage `json:"reqId"`
				Code  int             `json:"code"`
				Body  struct {
					Field string `json:"field"`
				} `json:"body"`
			}
			if err := json.Unmarshal(b, &r); err != nil {
				t.Fatalf("frame %s: %v", b, err)
			}
			if r.Kind != "resp" {
				continue
			}
			responses++
			if r.Code == http.StatusBadRequest && r.Body.Field == "" {
				t.Errorf("400 naming no field for %q: %s", frame, b)
			}
			if string(r.ReqID) == `"last"` {
				break
			}
		}
		if responses != 3 {
			t.Errorf("%d responses to 3 frames (%q)", responses, frame)
		}
	})
}

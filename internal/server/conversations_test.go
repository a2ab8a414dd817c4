package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/campaign"
	"github.com/sightline/sightline/internal/conversation"
	"github.com/sightline/sightline/internal/identity/identitytest"
	"github.com/sightline/sightline/internal/messaging"
	"github.com/sightline/sightline/internal/server"
	"github.com/sightline/sightline/internal/user"
)

// chatDefinitions is a campaign with one chat engagement of skill sales
// that shows only when agents of the skill are online.
func chatDefinitions() func(d *campaign.Definitions) error {
	return func(d *campaign.Definitions) error {
		d.Goals = []campaign.Goal{{ID: 3, Name: "talk", Type: "increaseInteraction"}}
		d.Campaigns = []campaign.Campaign{{ID: 1, Name: "Chat", Status: "active", GoalID: 3, Engagements: []campaign.Engagement{{
			ID: 2, Name: "Ask us", Type: 3, Interaction: "chat", SkillID: 7, SkillName: "sales", Availability: "online",
			Content: campaign.Content{Title: "Questions?", Button: "Chat"}}}}}
		d.NextID = 10
		return nil
	}
}

// wsClient is a consumer connection of the chat window's protocol.
type wsClient struct {
	t  *testing.T
	c  *websocket.Conn
	id int
}

func dialConsumer(t *testing.T, s *testServer, account string) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws://"+s.Addr()+"/messaging/account/"+account+"/consumer", nil)
	if err != nil {
		t.Fatalf("dial consumer: %v", err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return &wsClient{t: t, c: c}
}

type frame struct {
	Kind  string          `json:"kind"`
	ReqID json.RawMessage `json:"reqId"`
	Type  string          `json:"type"`
	Code  int             `json:"code"`
	Body  json.RawMessage `json:"body"`
}

// request sends a request and returns its response, skipping
// notifications.
func (w *wsClient) request(typ string, body any) frame {
	w.t.Helper()
	w.id++
	b, _ := json.Marshal(map[string]any{"kind": "req", "id": fmt.Sprint(w.id), "type": typ, "body": body})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.c.Write(ctx, websocket.MessageText, b); err != nil {
		w.t.Fatalf("%s: %v", typ, err)
	}
	for {
		f := w.read(ctx)
		if f.Kind == "resp" && string(f.ReqID) == fmt.Sprintf("%q", fmt.Sprint(w.id)) {
			return f
		}
	}
}

func (w *wsClient) read(ctx context.Context) frame {
	w.t.Helper()
	_, b, err := w.c.Read(ctx)
	if err != nil {
		w.t.Fatalf("read: %v", err)
	}
	var f frame
	if err := json.Unmarshal(b, &f); err != nil {
		w.t.Fatalf("frame %s: %v", b, err)
	}
	return f
}

// offers posts a batch and returns the engagements the answer shows.
func offers(t *testing.T, s *testServer, account string, body []byte) []campaign.Offer {
	t.Helper()
	resp, err := s.client.Post(s.url(eventsPath(account)), "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a struct {
		Engagements []campaign.Offer `json:"engagements"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || resp.StatusCode != 200 {
		t.Fatalf("post: status %d, %v", resp.StatusCode, err)
	}
	return a.Engagements
}

type nopSink struct{}

func (nopSink) Notify(messaging.Event) {}

func TestConversationThroughServer(t *testing.T) {
	s := start(t, testConfig(t.TempDir()))
	ctx := context.Background()
	if _, err := s.Campaigns().Update(ctx, server.DemoAccountID, chatDefinitions()); err != nil {
		t.Fatal(err)
	}
	// No agent online: the chat engagement does not show.
	if got := offers(t, s, server.DemoAccountID, pageViews("v1", "e1")); len(got) != 0 {
		t.Fatalf("engagements %+v with no agent online, want none", got)
	}
	agent := s.Messaging().Connect(server.DemoAccountID, messaging.Agent{ID: "100", Name: "Ann", Skills: []string{"sales"}, MaxChats: 1}, nopSink{})
	defer agent.Close()
	agent.SetState(messaging.Online)
	if got := offers(t, s, server.DemoAccountID, pageViews("v1", "e2")); len(got) != 1 || got[0].State != 1 {
		t.Fatalf("engagements %+v with an agent online, want the chat engagement, state 1", got)
	}

	w := dialConsumer(t, s, server.DemoAccountID)
	if f := w.request("cm.GetConversation", map[string]any{}); f.Code != 401 {
		t.Errorf("request before InitConnection: code %d, want 401", f.Code)
	}
	if f := w.request("InitConnection", map[string]any{"visitorId": "v1"}); f.Code != 200 {
		t.Fatalf("InitConnection: %d %s", f.Code, f.Body)
	}
	tests := []struct {
		name  string
		body  any
		code  int
		field string
	}{
		{"unknown engagement", map[string]any{"campaignInfo": map[string]any{"campaignId": 1, "engagementId": 99}}, 400, "body.campaignInfo"},
		{"bad campaign id", map[string]any{"campaignInfo": map[string]any{"campaignId": "x", "engagementId": 2}}, 400, "body"},
		{"bad attribute", map[string]any{"campaignInfo": map[string]any{"campaignId": 1, "engagementId": 2},
			"attributes": []any{map[string]any{"type": "nope"}}}, 400, "body.attributes[0].type"},
	}
	for _, tt := range tests {
		f := w.request("cm.ConsumerRequestConversation", tt.body)
		var body struct{ Field string }
		json.Unmarshal(f.Body, &body)
		if f.Code != tt.code || body.Field != tt.field {
			t.Errorf("%s: code %d field %q (%s), want %d %q", tt.name, f.Code, body.Field, f.Body, tt.code, tt.field)
		}
	}
	f := w.request("cm.ConsumerRequestConversation", map[string]any{
		"campaignInfo": map[string]any{"campaignId": 1, "engagementId": 2},
		"context":      map[string]any{"pageUrl": "https://shop.example/tv", "device": "DESKTOP"},
		"attributes":   []any{map[string]any{"type": "cart", "total": 11.7, "numItems": 1}},
	})
	var started struct {
		ConversationID string `json:"conversationId"`
	}
	if err := json.Unmarshal(f.Body, &started); f.Code != 200 || err != nil || started.ConversationID == "" {
		t.Fatalf("ConsumerRequestConversation: %d %s", f.Code, f.Body)
	}
	c, err := s.Messaging().Get(ctx, server.DemoAccountID, started.ConversationID)
	if err != nil {
		t.Fatal(err)
	}
	if c.SkillID != 7 || c.SkillName != "sales" || c.Campaign.EngagementName != "Ask us" || c.Campaign.GoalName != "talk" ||
		c.Context.PageURL != "https://shop.example/tv" || len(c.Attributes) != 1 || c.Attributes[0].Type != "CART_STATUS" {
		t.Errorf("conversation %+v: want skill 7 sales, the engagement's names, the page and the cart", c)
	}
	// The agent is full now: the engagement shows busy and hides.
	if got := offers(t, s, server.DemoAccountID, pageViews("v2", "e3")); len(got) != 0 {
		t.Errorf("engagements %+v with the only agent ringing, want none", got)
	}

	// An attribute the page pushes while the conversation is open attaches.
	s.mustPost(t, server.DemoAccountID, []byte(fmt.Sprintf(`{"visitorId":"v1","visitId":"visit-of-v1","events":[
		{"id":"e4","time":%d,"appName":"lp_sdes","eventName":"VAR_ADDED","data":{"type":"ctmrinfo","info":{"cstatus":"gold","customerId":"c-1"}}}]}`,
		time.Now().UnixMilli())))
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err = s.Messaging().Get(ctx, server.DemoAccountID, started.ConversationID)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Attributes) == 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(c.Attributes) != 2 || c.Attributes[1].Type != "CUSTOMER_INFO" || c.Attributes[1].Authenticated {
		t.Errorf("attributes %+v, want the cart then the customer info, unauthenticated", c.Attributes)
	}

	// Another account's consumer cannot see the conversation.
	other := dialConsumer(t, s, server.DemoAccountID)
	other.request("InitConnection", map[string]any{"visitorId": "intruder"})
	if f := other.request("ms.SubscribeMessagingEvents", map[string]any{"conversationId": started.ConversationID}); f.Code != 404 {
		t.Errorf("another visitor subscribing: code %d, want 404", f.Code)
	}
	if _, err := s.Messaging().Store().Get(ctx, "nobody", started.ConversationID); err != conversation.ErrNotFound {
		t.Errorf("the conversation from another account: %v, want ErrNotFound", err)
	}
}

// TestAuthenticatedVisitor starts a conversation with the brand's JWT: the
// conversation keeps the visitor's identity and the token's attributes as
// authenticated ones, and is found by the subject.
func TestAuthenticatedVisitor(t *testing.T) {
	s := start(t, testConfig(t.TempDir()))
	ctx := context.Background()
	if _, err := s.Campaigns().Update(ctx, server.DemoAccountID, chatDefinitions()); err != nil {
		t.Fatal(err)
	}
	brand := identitytest.NewBrand(t)
	if err := s.Accounts().SetVisitorAuth(server.DemoAccountID, &account.VisitorAuth{Issuer: "https://idp.shop.example", Keys: brand.Keys()}); err != nil {
		t.Fatal(err)
	}
	token := brand.Sign(map[string]any{"iss": "https://idp.shop.example", "sub": "cust-42", "acr": "loa1",
		"exp": time.Now().Add(time.Hour).Unix(), "lp_sdes": []any{map[string]any{"type": "ctmrinfo", "info": map[string]any{"customerId": "cust-42"}}}})

	w := dialConsumer(t, s, server.DemoAccountID)
	if f := w.request("InitConnection", map[string]any{"visitorId": "v9", "jwt": token + "x"}); f.Code != 400 || !bytes.Contains(f.Body, []byte(`"field":"body.jwt"`)) {
		t.Errorf("a forged token: %d %s, want 400 naming body.jwt", f.Code, f.Body)
	}
	if f := w.request("InitConnection", map[string]any{"visitorId": "v9", "jwt": token}); f.Code != 200 {
		t.Fatalf("InitConnection: %d %s", f.Code, f.Body)
	}
	f := w.request("cm.ConsumerRequestConversation", map[string]any{"campaignInfo": map[string]any{"campaignId": 1, "engagementId": 2},
		"attributes": []any{map[string]any{"type": "ctmrinfo", "info": map[string]any{"customerId": "forged"}}}})
	if f.Code != 200 {
		t.Fatalf("ConsumerRequestConversation: %d %s", f.Code, f.Body)
	}
	found, err := s.Messaging().Store().List(ctx, server.DemoAccountID, conversation.Query{Subject: "cust-42"})
	if err != nil || len(found) != 1 {
		t.Fatalf("conversations of cust-42: %v, %v", found, err)
	}
	c := found[0]
	if c.Identity == nil || c.Identity.Issuer != "https://idp.shop.example" || c.Identity.ACR != "loa1" {
		t.Errorf("identity %+v", c.Identity)
	}
	var auth, unauth int
	for _, a := range c.Attributes {
		if a.Authenticated {
			auth++
			if !bytes.Contains(a.Data, []byte("cust-42")) {
				t.Errorf("authenticated attribute %s, want the token's", a.Data)
			}
		} else {
			unauth++
		}
	}
	if auth != 1 || unauth != 1 {
		t.Errorf("%d authenticated and %d unauthenticated attributes, want 1 and 1 (the page's stays unauthenticated)", auth, unauth)
	}
}

// TestAgentProtocolMounted checks that the assembled server answers
// LivePerson's domain discovery and login for its accounts.
func TestAgentProtocolMounted(t *testing.T) {
	s := start(t, testConfig(t.TempDir()))
	hash, err := user.HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Users().Add(server.DemoAccountID, user.User{Login: "ann", Skills: []string{"sales"}, PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	resp, err := s.client.Get(s.url("/api/account/" + server.DemoAccountID + "/service/baseURI.json?version=1.0"))
	if err != nil {
		t.Fatal(err)
	}
	var csds struct {
		BaseURIs []struct{ Service, Account, BaseURI string } `json:"baseURIs"`
	}
	err = json.NewDecoder(resp.Body).Decode(&csds)
	resp.Body.Close()
	services := map[string]string{}
	for _, b := range csds.BaseURIs {
		services[b.Service] = b.BaseURI
	}
	if err != nil || services["agentVep"] != s.Addr() || services["asyncMessagingEnt"] != s.Addr() {
		t.Fatalf("domain discovery: %v %+v, want agentVep and asyncMessagingEnt at %s", err, csds, s.Addr())
	}
	for _, tt := range []struct {
		password string
		code     int
	}{{"wrong horse", 401}, {"correct horse", 200}} {
		resp, err := s.client.Post(s.url("/api/account/"+server.DemoAccountID+"/login?v=1.3"), "application/json",
			strings.NewReader(fmt.Sprintf(`{"username":"ann","password":%q}`, tt.password)))
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Bearer string `json:"bearer"`
		}
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != tt.code || (tt.code == 200) != (body.Bearer != "") {
			t.Errorf("login with %q: %d, bearer %q; want %d", tt.password, resp.StatusCode, body.Bearer, tt.code)
		}
	}
}

package lpagent

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/conversation/boltstore"
	"github.com/sightline/sightline/internal/messaging"
	"github.com/sightline/sightline/internal/messaging/wire"
	"github.com/sightline/sightline/internal/user"
)

// recordConn is a conn that keeps the ids of the requests answered and
// checks every body it is given.
type recordConn struct {
	t       *testing.T
	mu      sync.Mutex
	answers map[string]int
	got     chan string
}

func (c *recordConn) check(what string, body any) {
	b, err := wire.EncodeBody(body)
	if err != nil || len(b) == 0 || string(b) == "null" {
		c.t.Errorf("%s body %s, %v", what, b, err)
	}
}

func (c *recordConn) Reply(req wire.Frame, code int, body any) {
	c.check("response", body)
	if code < 200 || code > 599 {
		c.t.Errorf("response code %d", code)
	}
	c.mu.Lock()
	c.answers[string(req.ID)]++
	c.mu.Unlock()
	select {
	case c.got <- string(req.ID):
	default:
	}
}

func (c *recordConn) Notify(typ string, body any) { c.check(typ, body) }
func (c *recordConn) Close(string)                {}
func (c *recordConn) CloseWith(int, string)       {}

// FuzzRequest feeds frames through an agent's session: whatever comes,
// nothing panics, and a request is answered once.
func FuzzRequest(f *testing.F) {
	dir := f.TempDir()
	accounts, err := account.OpenStore(nil, filepath.Join(dir, "accounts"))
	if err != nil {
		f.Fatal(err)
	}
	accounts.Add(account.Account{ID: acme})
	users, err := user.OpenStore(nil, filepath.Join(dir, "users"))
	if err != nil {
		f.Fatal(err)
	}
	u, err := users.Add(acme, user.User{Login: "fuzz", Skills: []string{"sales"}})
	if err != nil {
		f.Fatal(err)
	}
	store, err := boltstore.Open(filepath.Join(dir, "conversations.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { store.Close() })
	svc := messaging.New(messaging.DefaultConfig(), nil, store, nil)
	h, err := New(Config{TokenKey: testKey}, nil, nil, svc, accounts, users)
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	c, err := svc.Start(ctx, messaging.StartRequest{AccountID: acme, ConsumerID: "v1", SkillName: "sales"})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := svc.Join(ctx, acme, c.ID, agentOf(u), "ASSIGNED_AGENT"); err != nil {
		f.Fatal(err)
	}
	seed := func(typ string, body string, extra string) {
		f.Add([]byte(fmt.Sprintf(`{"kind":"req","id":"1","type":%q,"body":%s%s}`, typ, body, extra)))
	}
	conv := c.ID
	seed(typeGetClock, `{}`, "")
	seed(typeSubscribeEx, `{"convState":["OPEN","CLOSE"],"agentIds":["acme.`+u.ID+`"],"skillIds":[1,"2"],"minLastUpdatedTime":1}`, "")
	seed(typeUnsubscribeEx, `{"subscriptionId":"x"}`, "")
	seed(typeUpdateField, `{"conversationId":"`+conv+`","conversationField":[{"field":"ParticipantsChange","type":"ADD","role":"MANAGER"},{"field":"Skill","type":"UPDATE","skill":"7"}]}`, "")
	seed(typeUpdateField, `{"conversationId":"`+conv+`","conversationField":[{"field":"ParticipantsChange","type":"SUGGEST","userId":"acme.1"}]}`, "")
	seed(typePublishEvent, `{"dialogId":"`+conv+`","event":{"type":"ContentEvent","contentType":"text/plain","message":"hi"}}`, `,"metadata":[{"type":"ExternalId","id":"X"}]`)
	seed(typePublishEvent, `{"dialogId":"`+conv+`","event":{"type":"RichContentEvent","content":{"type":"vertical"}}}`, `,"headers":null`)
	seed(typePublishEvent, `{"dialogId":"`+conv+`","event":{"type":"AcceptStatusEvent","status":"READ","sequenceList":[0,1]}}`, "")
	seed(typePublishEvent, `{"dialogId":"`+conv+`","event":{"type":"ChatStateEvent","chatState":"COMPOSING"}}`, "")
	seed(typeUpdateRingState, `{"ringId":"r","ringState":"REJECTED"}`, "")
	seed(typeSubscribeRouting, `{"channelType":"MESSAGING"}`, "")
	seed(typeUpdateRoutingSub, `{}`, "")
	seed(typeGetUserProfile, `"v1"`, "")
	seed(typeSetAgentState, `{"availability":"AWAY","agentUserId":"acme.`+u.ID+`"}`, "")
	seed(typeSubscribeAgents, `{"agentId":"`+u.PID+`"}`, "")
	seed(typeQueryMessages, `{"dialogId":"`+conv+`","newerThanSequence":0,"maxQuantity":5}`, "")
	seed(typeRequestConversation, `{"consumerId":"v2","skillId":"3"}`, "")
	seed(typeUploadURL, `{"fileSize":"5020","fileType":"JPEG"}`, "")
	seed("nope", `null`, "")
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := wire.Parse(b)
		if err != nil {
			return // wire answers it (see its tests)
		}
		rc := &recordConn{t: t, answers: map[string]int{}, got: make(chan string, 10)}
		tok := token{kind: kindBearer, expiry: time.Now().Add(time.Hour), session: newSessionID(), account: acme, user: u.ID}
		s := h.newSession(rc, acme, u, tok, tok.expiry)
		s.Request(ctx, nil, req)
		select {
		case <-rc.got:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: no answer", b)
		}
		s.Closed()
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if n := rc.answers[string(req.ID)]; n != 1 {
			t.Errorf("%s: answered %d times", b, n)
		}
		var js any
		if json.Unmarshal(b, &js) != nil {
			t.Errorf("Parse took %s, which is not JSON", b)
		}
	})
}

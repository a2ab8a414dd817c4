package lpagent

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/conversation"
	"github.com/sightline/sightline/internal/conversation/boltstore"
	"github.com/sightline/sightline/internal/messaging"
	"github.com/sightline/sightline/internal/messaging/consumer"
	"github.com/sightline/sightline/internal/user"
)

// env is a server of the agent protocol and the chat window's protocol
// over TLS, with a real store, in a temporary directory.
type env struct {
	t        *testing.T
	dir      string
	srv      *httptest.Server
	host     string // 127.0.0.1:port
	caFile   string // the server certificate's PEM
	h        *Handler
	svc      *messaging.Service
	accounts *account.Store
	users    *user.Store
	store    conversation.Store
	reg      *prometheus.Registry
	clock    *testClock
}

// testClock is a clock that runs with the wall clock, and that tests can
// move ahead or stop.
type testClock struct {
	mu      sync.Mutex
	offset  time.Duration
	stopped time.Time // when not zero, the time it shows but for offset
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.stopped.IsZero() {
		return c.stopped.Add(c.offset)
	}
	return time.Now().Add(c.offset)
}

// stop stops the clock: it moves only with add from now on.
func (c *testClock) stop() {
	c.mu.Lock()
	c.stopped = time.Now()
	c.mu.Unlock()
}

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

const (
	acme  = "acme"
	other = "other"
)

// testKey is the token key of test servers.
var testKey = []byte("0123456789abcdef0123456789abcdef")

type envOption func(*Config, *messagingConfig)

type messagingConfig = messaging.Config

func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{t: t, dir: dir, reg: prometheus.NewRegistry(), clock: &testClock{}}
	var err error
	if e.accounts, err = account.OpenStore(nil, filepath.Join(dir, "accounts")); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{acme, other} {
		if err := e.accounts.Add(account.Account{ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	if e.users, err = user.OpenStore(nil, filepath.Join(dir, "users")); err != nil {
		t.Fatal(err)
	}
	if e.store, err = boltstore.Open(filepath.Join(dir, "conversations.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.store.Close() })
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg := Config{TokenKey: testKey, Now: e.clock.now}
	mc := messaging.Config{RingTimeout: 20 * time.Second, Now: e.clock.now}
	for _, o := range opts {
		o(&cfg, &mc)
	}
	e.svc = messaging.New(mc, logger, e.store, func(string) []messaging.Skill {
		return []messaging.Skill{{ID: 11, Name: "sales"}, {ID: 12, Name: "support"}}
	})
	if err := e.svc.Resume(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go e.svc.Run(ctx)
	if e.h, err = New(cfg, logger, e.reg, e.svc, e.accounts, e.users); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	e.h.Register(mux)
	consumer.New(e.svc, e.accounts, func(ctx context.Context, account string, campaignID, engagementID int64) (consumer.Engagement, error) {
		skill := "sales"
		if engagementID == 2 {
			skill = "support"
		}
		return consumer.Engagement{SkillName: skill, Campaign: conversation.Campaign{CampaignID: fmt.Sprint(campaignID),
			EngagementID: fmt.Sprint(engagementID)}}, nil
	}, nil, nil, logger).Register(mux)
	e.srv = httptest.NewUnstartedServer(mux)
	cert, pemBytes := selfSigned(t)
	e.srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	e.srv.StartTLS()
	t.Cleanup(func() {
		cancel()
		e.srv.CloseClientConnections()
		e.srv.Close()
	})
	e.host = strings.TrimPrefix(e.srv.URL, "https://")
	e.caFile = filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(e.caFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	return e
}

// testWriter writes logs to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// selfSigned returns a self-signed certificate for 127.0.0.1 and
// localhost, and its PEM.
func selfSigned(t *testing.T) (tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "sightline test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	cert, err := tls.X509KeyPair(certPEM, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	if err != nil {
		t.Fatal(err)
	}
	return cert, certPEM
}

// testPassword is every test user's password.
const testPassword = "correct horse battery"

// addUser adds a user to an account with testPassword and an API key set.
func (e *env) addUser(acct, login string, maxChats int, skills ...string) (user.User, user.Secrets) {
	e.t.Helper()
	hash, err := user.HashPassword(testPassword)
	if err != nil {
		e.t.Fatal(err)
	}
	secrets, key := user.NewKey()
	u, err := e.users.Add(acct, user.User{Login: login, Nickname: "Bot " + login, Skills: skills, MaxChats: maxChats, Bot: true,
		PasswordHash: hash, Keys: []user.Key{key}})
	if err != nil {
		e.t.Fatal(err)
	}
	return u, secrets
}

// post posts a JSON body and returns the status and the decoded answer.
func (e *env) post(path string, body any, cookies ...*http.Cookie) (int, map[string]any, *http.Response) {
	e.t.Helper()
	return e.postWith(path, body, "", cookies...)
}

// postWith is post with a bearer in an Authorization header ("": none);
// a nil body sends none.
func (e *env) postWith(path string, body any, bearer string, cookies ...*http.Cookie) (int, map[string]any, *http.Response) {
	e.t.Helper()
	var r io.Reader = http.NoBody
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, r)
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	json.NewDecoder(resp.Body).Decode(&v)
	return resp.StatusCode, v, resp
}

// login logs a user in and returns the bearer, the csrf and the session
// cookie.
func (e *env) login(acct, login string) (bearer, csrf string, cookie *http.Cookie) {
	e.t.Helper()
	code, v, resp := e.post("/api/account/"+acct+"/login?v=1.3", map[string]string{"username": login, "password": testPassword})
	if code != 200 {
		e.t.Fatalf("login %s/%s: %d %v", acct, login, code, v)
	}
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			cookie = c
		}
	}
	return v["bearer"].(string), v["csrf"].(string), cookie
}

// frame is a frame as a test client reads it.
type frame struct {
	Kind  string          `json:"kind"`
	ReqID json.RawMessage `json:"reqId"`
	Type  string          `json:"type"`
	Code  int             `json:"code"`
	Body  json.RawMessage `json:"body"`
	raw   []byte
}

// wsClient is a test client of a protocol of package wire: it sends
// requests and sorts what comes back into responses and notifications.
type wsClient struct {
	t      *testing.T
	c      *websocket.Conn
	mu     sync.Mutex
	id     int
	resps  map[string]chan frame
	notes  chan frame
	stray  chan frame // responses to no request of the client's
	closed chan error
}

func (e *env) dial(path string) (*wsClient, *http.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, "wss://"+e.host+path, &websocket.DialOptions{HTTPClient: e.srv.Client()})
	if err != nil {
		return nil, resp, err
	}
	c.SetReadLimit(16 << 20)
	w := &wsClient{t: e.t, c: c, resps: map[string]chan frame{}, notes: make(chan frame, 10000), stray: make(chan frame, 100),
		closed: make(chan error, 1)}
	go w.read()
	e.t.Cleanup(func() { c.CloseNow() })
	return w, resp, nil
}

// dialAgent logs in and opens the agent socket.
func (e *env) dialAgent(acct, login string) *wsClient {
	e.t.Helper()
	bearer, _, _ := e.login(acct, login)
	w, resp, err := e.dial("/ws_api/account/" + acct + "/messaging/brand/" + bearer + "?v=2.1")
	if err != nil {
		e.t.Fatalf("dial agent: %v (%v)", err, resp)
	}
	return w
}

func (w *wsClient) read() {
	for {
		_, b, err := w.c.Read(context.Background())
		if err != nil {
			w.closed <- err
			close(w.notes)
			return
		}
		var f frame
		if err := json.Unmarshal(b, &f); err != nil {
			w.t.Errorf("frame %s: %v", b, err)
			continue
		}
		f.raw = b
		if f.Kind == "resp" {
			w.mu.Lock()
			ch := w.resps[string(f.ReqID)]
			w.mu.Unlock()
			if ch != nil {
				ch <- f
				continue
			}
			select {
			case w.stray <- f:
			default:
				w.t.Errorf("response to no request: %s", b)
			}
			continue
		}
		w.notes <- f
	}
}

// send sends a request frame and returns the channel of its response.
func (w *wsClient) send(typ string, body any, extra map[string]any) (string, chan frame) {
	w.t.Helper()
	id, ch, err := w.trySend(typ, body, extra)
	if err != nil {
		w.t.Fatalf("%s: %v", typ, err)
	}
	return id, ch
}

// trySend is send for goroutines other than the test's: it returns its
// error.
func (w *wsClient) trySend(typ string, body any, extra map[string]any) (string, chan frame, error) {
	w.mu.Lock()
	w.id++
	id := fmt.Sprintf("req-%d", w.id)
	ch := make(chan frame, 1)
	w.resps[`"`+id+`"`] = ch
	w.mu.Unlock()
	f := map[string]any{"kind": "req", "id": id, "type": typ, "body": body}
	for k, v := range extra {
		f[k] = v
	}
	b, _ := json.Marshal(f)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return id, ch, w.c.Write(ctx, websocket.MessageText, b)
}

// request sends a request and waits for its response.
func (w *wsClient) request(typ string, body any) frame {
	w.t.Helper()
	return w.requestWith(typ, body, nil)
}

func (w *wsClient) requestWith(typ string, body any, extra map[string]any) frame {
	w.t.Helper()
	_, ch := w.send(typ, body, extra)
	select {
	case f := <-ch:
		return f
	case <-time.After(10 * time.Second):
		w.t.Fatalf("%s: no response in 10s", typ)
		return frame{}
	}
}

// next returns the next notification of type typ, skipping others, that
// satisfies ok (nil: any).
func (w *wsClient) next(typ string, ok func(frame) bool) frame {
	w.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case f, open := <-w.notes:
			if !open {
				w.t.Fatalf("connection closed waiting for %s", typ)
			}
			if f.Type == typ && (ok == nil || ok(f)) {
				return f
			}
		case <-timeout:
			w.t.Fatalf("no %s notification in 10s", typ)
			return frame{}
		}
	}
}

// quiet checks that no notification of type typ satisfying ok comes
// within d.
func (w *wsClient) quiet(typ string, ok func(frame) bool, d time.Duration) {
	w.t.Helper()
	timeout := time.After(d)
	for {
		select {
		case f, open := <-w.notes:
			if !open {
				return
			}
			if f.Type == typ && (ok == nil || ok(f)) {
				w.t.Errorf("unexpected %s: %s", typ, f.raw)
			}
		case <-timeout:
			return
		}
	}
}

// decode decodes a frame's body into v.
func decode(t *testing.T, f frame, v any) {
	t.Helper()
	if err := json.Unmarshal(f.Body, v); err != nil {
		t.Fatalf("%s body %s: %v", f.Type, f.Body, err)
	}
}

// consumerClient is a visitor of the chat window's protocol.
type consumerClient struct {
	*wsClient
	visitor string
	conv    string
	// What the visitor was told, by the notifications seen: the agents'
	// texts in order, the sequences they read, the conversation's state
	// and close reason.
	agentTexts  []string
	read        map[int]bool
	state       string
	closeReason string
}

// see notes what a notification tells the visitor.
func (c *consumerClient) see(f frame) {
	switch f.Type {
	case "cm.ConversationNotification":
		var n struct {
			Conversation struct {
				State       string `json:"state"`
				CloseReason string `json:"closeReason"`
			} `json:"conversation"`
		}
		decode(c.t, f, &n)
		c.state, c.closeReason = n.Conversation.State, n.Conversation.CloseReason
	case "ms.MessagingEventNotification":
		var n struct {
			Changes []consumerChange `json:"changes"`
		}
		decode(c.t, f, &n)
		for _, ch := range n.Changes {
			if ch.OriginatorMetadata.Role == string(conversation.Consumer) {
				continue
			}
			switch ch.Event.Type {
			case "ContentEvent":
				c.agentTexts = append(c.agentTexts, ch.Event.Message)
			case "AcceptStatusEvent":
				if ch.Event.Status == "READ" {
					for _, s := range ch.Event.SequenceList {
						c.read[s] = true
					}
				}
			}
		}
	}
}

// until reads notifications until done is true.
func (c *consumerClient) until(what string, done func() bool) {
	c.t.Helper()
	timeout := time.After(20 * time.Second)
	for !done() {
		select {
		case f, ok := <-c.notes:
			if !ok {
				c.t.Fatalf("connection closed waiting for %s", what)
			}
			c.see(f)
		case <-timeout:
			c.t.Fatalf("waiting for %s: agents said %q, read %v, state %q", what, c.agentTexts, c.read, c.state)
		}
	}
}

// waitAgentText waits for a text message of an agent.
func (c *consumerClient) waitAgentText(text string) {
	c.t.Helper()
	c.until(fmt.Sprintf("%q", text), func() bool { return slices.Contains(c.agentTexts, text) })
}

// startConversation connects a visitor and starts a conversation of the
// engagement (1: sales, 2: support), subscribed to its events.
func (e *env) startConversation(acct, visitor string, engagement int) *consumerClient {
	e.t.Helper()
	w, _, err := e.dial("/messaging/account/" + acct + "/consumer")
	if err != nil {
		e.t.Fatal(err)
	}
	if f := w.request("InitConnection", map[string]any{"visitorId": visitor}); f.Code != 200 {
		e.t.Fatalf("InitConnection: %s", f.raw)
	}
	f := w.request("cm.ConsumerRequestConversation", map[string]any{
		"campaignInfo": map[string]any{"campaignId": 1, "engagementId": engagement},
		"context":      map[string]any{"pageUrl": "https://shop.example/tv", "language": "en-US", "device": "DESKTOP"},
		"attributes": []any{
			map[string]any{"type": "personal", "personal": map[string]any{"firstname": "Ann", "lastname": "Lee",
				"contacts": []any{map[string]any{"email": "ann@example.com", "phone": "+1 555"}}}},
			map[string]any{"type": "ctmrinfo", "info": map[string]any{"customerId": "c-77", "cstatus": "gold"}},
		},
	})
	var started struct {
		ConversationID string `json:"conversationId"`
	}
	decode(e.t, f, &started)
	if f.Code != 200 || started.ConversationID == "" {
		e.t.Fatalf("ConsumerRequestConversation: %s", f.raw)
	}
	if f := w.request("ms.SubscribeMessagingEvents", map[string]any{"conversationId": started.ConversationID}); f.Code != 200 {
		e.t.Fatalf("SubscribeMessagingEvents: %s", f.raw)
	}
	return &consumerClient{wsClient: w, visitor: visitor, conv: started.ConversationID, read: map[int]bool{}}
}

// say publishes a text message and returns its sequence.
func (c *consumerClient) say(text string) int {
	c.t.Helper()
	f := c.request("ms.PublishEvent", map[string]any{"conversationId": c.conv, "event": map[string]any{"type": "ContentEvent",
		"contentType": "text/plain", "message": text}})
	var r struct {
		Sequence int `json:"sequence"`
	}
	decode(c.t, f, &r)
	if f.Code != 200 {
		c.t.Fatalf("publish %q: %s", text, f.raw)
	}
	return r.Sequence
}

// consumerChange is a change of the chat window's messaging notification.
type consumerChange struct {
	Sequence           int    `json:"sequence"`
	OriginatorID       string `json:"originatorId"`
	OriginatorMetadata struct {
		Role string `json:"role"`
		Name string `json:"name"`
	} `json:"originatorMetadata"`
	Event struct {
		Type         string `json:"type"`
		Message      string `json:"message"`
		Status       string `json:"status"`
		SequenceList []int  `json:"sequenceList"`
		ChatState    string `json:"chatState"`
	} `json:"event"`
}

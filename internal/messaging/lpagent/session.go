package lpagent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/sightline/sightline/internal/conversation"
	"github.com/sightline/sightline/internal/messaging"
	"github.com/sightline/sightline/internal/messaging/wire"
	"github.com/sightline/sightline/internal/user"
)

// Request types of the protocol: the SDK's lib/Const.js, with
// ms.SubscribeMessagingEvents as the SDK sends it (.ams.ms.QueryMessages).
const (
	typeGetClock            = ".GetClock"
	typeRequestConversation = ".ams.cm.AgentRequestConversation"
	typeSubscribeEx         = ".ams.aam.SubscribeExConversations"
	typeUnsubscribeEx       = ".ams.aam.UnsubscribeExConversations"
	typeUpdateField         = ".ams.cm.UpdateConversationField"
	typePublishEvent        = ".ams.ms.PublishEvent"
	typeUpdateRingState     = ".ams.routing.UpdateRingState"
	typeSubscribeRouting    = ".ams.routing.SubscribeRoutingTasks"
	typeUpdateRoutingSub    = ".ams.routing.UpdateRoutingTaskSubscription"
	typeGetUserProfile      = ".ams.userprofile.GetUserProfile"
	typeSetAgentState       = ".ams.routing.SetAgentState"
	typeSubscribeAgents     = ".ams.routing.SubscribeAgentsState"
	typeQueryMessages       = ".ams.ms.QueryMessages"
	typeSubscribeMessaging  = "ms.SubscribeMessagingEvents"
	typeDownloadURL         = ".ams.ms.GenerateURLForDownloadFile"
	typeUploadURL           = ".ams.ms.GenerateURLForUploadFile"
)

// Notification types.
const (
	notifyExConversations = ".ams.aam.ExConversationChangeNotification"
	notifyEvent           = ".ams.ms.OnlineEventDistribution"
	notifyRoutingTask     = ".ams.routing.RoutingTaskNotification"
	notifyAgentState      = ".ams.routing.AgentStateNotification"
)

// request is how a request type is handled: fn returns the response's
// body, or an error, and after, if not nil, runs once the response is
// queued (a subscription's first notifications). Requests with pump set
// run in the session's pump, in order with its notifications; the others
// run as they are read.
type request struct {
	fn   func(s *session, ctx context.Context, req wire.Frame) (body any, after func(), err error)
	pump bool
}

var requestTypes = map[string]request{
	typeGetClock: {fn: func(s *session, _ context.Context, _ wire.Frame) (any, func(), error) {
		return map[string]int64{"currentTime": s.h.now().UnixMilli()}, nil, nil
	}},
	typeRequestConversation: {fn: (*session).requestConversation},
	typeSubscribeEx:         {fn: (*session).subscribeEx, pump: true},
	typeUnsubscribeEx:       {fn: (*session).unsubscribeEx, pump: true},
	typeUpdateField:         {fn: (*session).updateField},
	typePublishEvent:        {fn: (*session).publish},
	typeUpdateRingState:     {fn: (*session).updateRing},
	typeSubscribeRouting:    {fn: (*session).subscribeRouting, pump: true},
	typeUpdateRoutingSub:    {fn: (*session).updateRoutingSub, pump: true},
	typeGetUserProfile:      {fn: (*session).userProfile},
	typeSetAgentState:       {fn: (*session).setState},
	typeSubscribeAgents:     {fn: (*session).subscribeAgents, pump: true},
	typeQueryMessages:       {fn: (*session).queryMessages, pump: true},
	typeSubscribeMessaging:  {fn: (*session).queryMessages, pump: true},
	typeDownloadURL:         {fn: (*session).fileSharing},
	typeUploadURL:           {fn: (*session).fileSharing},
}

// Close codes of the socket.
const (
	// CloseUnauthorized closes a socket whose session expired or logged
	// out (LivePerson's: the SDK's examples log in again on it).
	CloseUnauthorized = 4401
)

// Limits of a connection.
const (
	// QueueEvents is how many service events may wait for a connection's
	// pump before the connection is taken for too slow and closed.
	QueueEvents = 16384
	// QueueFrames is how many frames may wait to be written to an
	// agent's connection before it is taken for too slow and closed: a
	// bot that follows thousands of conversations is sent thousands of
	// messages a second, more than the chat window's wire.QueueFrames in
	// one hiccup of its own or of a busy machine's. Frames and events
	// take memory only while they wait.
	QueueFrames = 16384
	// MaxSubscriptions is the most subscriptions (of conversations and of
	// agent states) a connection holds.
	MaxSubscriptions = 100
	// MaxDialogs is the most dialogs whose events a connection receives.
	MaxDialogs = 5000
)

// conn is where a session answers: a *wire.Conn.
type conn interface {
	Reply(req wire.Frame, code int, body any)
	Notify(typ string, body any)
	Close(reason string)
	CloseWith(code int, reason string)
}

var _ conn = (*wire.Conn)(nil)

// serveSocket checks the bearer and serves the agent's WebSocket. A bad
// bearer is refused before the upgrade (401: the SDK reports "unexpected
// server response (401)" and closed); one that expires while the socket
// is open closes it with 4401.
func (h *Handler) serveSocket(w http.ResponseWriter, r *http.Request) {
	acct := r.PathValue("accountId")
	if _, ok := h.accounts.Get(acct); !ok {
		h.metrics.connectionsTotal.WithLabelValues("not_found").Inc()
		http.Error(w, "no such account", http.StatusNotFound)
		return
	}
	t, err := h.tokens.decode(r.PathValue("token"))
	if err == nil && (t.kind != kindBearer || t.account != acct) {
		err = errBadToken
	}
	var until time.Time
	if err == nil {
		until, err = h.sessions.until(t, h.now())
	}
	u, ok := user.User{}, false
	if err == nil {
		if u, ok = h.users.ByID(acct, t.user); !ok {
			err = errors.New("the token's user is gone")
		}
	}
	if err != nil {
		h.metrics.connectionsTotal.WithLabelValues("unauthorized").Inc()
		h.logger.Info("agent socket refused", "account", acct, "remote", r.RemoteAddr, "err", err)
		http.Error(w, "unauthorized: "+err.Error(), http.StatusUnauthorized)
		return
	}
	h.metrics.connectionsTotal.WithLabelValues("accepted").Inc()
	wire.Serve(w, r, wire.Options{PingInterval: h.cfg.PingInterval, QueueFrames: QueueFrames, WriteTimeout: h.cfg.WriteTimeout, Logger: h.logger}, func(c *wire.Conn) wire.Handler {
		return h.newSession(c, acct, u, t, until)
	})
}

// session is one agent connection.
type session struct {
	h       *Handler
	account string
	user    user.User
	oldID   string // {account}.{userId}
	tok     token
	out     conn
	logger  *slog.Logger
	as      *messaging.AgentSession

	ctx    context.Context
	cancel context.CancelFunc
	// queue holds the items waiting for the pump, at most QueueEvents; a
	// slice that grows as items wait rather than a channel of
	// QueueEvents slots, which would take their memory (180 bytes each)
	// from the connection's start. wake tells the pump that items came.
	queueMu  sync.Mutex
	queue    []item
	wake     chan struct{}
	pumped   chan struct{} // closed when the pump has returned
	expired  chan struct{} // closed when the expiry watch has returned
	overflow sync.Once

	// Owned by the pump:
	subs       map[string]*exSub
	dialogs    map[string]*dialog
	last       map[string]*conversation.Message // last message of each conversation seen
	rings      map[string]*ringState
	routingSub string
	agentSubs  map[string]*agentSub

	mu       sync.Mutex
	pids     map[string]string // user id -> PID
	rejected map[string]bool   // rings this connection rejected
}

// item is what the pump takes: a service event of a source (an *exSub, a
// *dialog, the *ringSink, an *agentSub), or a func to run.
type item struct {
	src any
	ev  messaging.Event
	fn  func()
}

// newSession starts the session of a connection.
func (h *Handler) newSession(c conn, acct string, u user.User, t token, until time.Time) *session {
	ctx, cancel := context.WithCancel(context.Background())
	s := &session{
		h: h, account: acct, user: u, oldID: acct + "." + u.ID, tok: t, out: c,
		logger: h.logger.With("account", acct, "user", u.ID, "login", u.Login),
		ctx:    ctx, cancel: cancel, wake: make(chan struct{}, 1), pumped: make(chan struct{}), expired: make(chan struct{}),
		subs: map[string]*exSub{}, dialogs: map[string]*dialog{}, last: map[string]*conversation.Message{},
		rings: map[string]*ringState{}, agentSubs: map[string]*agentSub{},
		pids: map[string]string{u.ID: u.PID}, rejected: map[string]bool{},
	}
	s.as = h.svc.Connect(acct, agentOf(u), &ringSink{s: s})
	go s.pump()
	go s.watchExpiry(until)
	h.metrics.connections.Inc()
	s.logger.Info("agent connected")
	return s
}

// Closed ends the session: its watches, its agent connection (the agent
// goes OFFLINE with its last one), its pump.
func (s *session) Closed() {
	s.cancel()
	<-s.pumped
	<-s.expired
	for _, x := range s.subs {
		x.cancel()
	}
	for _, d := range s.dialogs {
		d.cancel()
	}
	for _, x := range s.agentSubs {
		x.cancel()
	}
	s.as.Close()
	s.h.metrics.connections.Dec()
	s.logger.Info("agent disconnected")
}

// pump runs the queued items in order until the session ends.
func (s *session) pump() {
	defer close(s.pumped)
	var spare []item
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.wake:
		}
		// The items queued meanwhile, in order; the queue starts again
		// from the spare slice.
		s.queueMu.Lock()
		batch := s.queue
		s.queue = spare
		s.queueMu.Unlock()
		for _, it := range batch {
			if s.ctx.Err() != nil {
				return
			}
			s.run(it)
		}
		clear(batch)
		spare = nil
		if cap(batch) <= keptQueue {
			spare = batch[:0]
		}
	}
}

// keptQueue is the most items the pump's spare queue keeps room for
// between bursts.
const keptQueue = 64

// run runs an item of the pump.
func (s *session) run(it item) {
	if it.fn != nil {
		it.fn()
		return
	}
	switch src := it.src.(type) {
	case *exSub:
		s.exEvent(src, it.ev)
	case *dialog:
		s.dialogEvent(src, it.ev)
	case *ringSink:
		s.ringEvent(it.ev)
	case *agentSub:
		s.agentEvent(src, it.ev)
	}
}

// enqueue gives the pump an item; a full queue closes the connection.
func (s *session) enqueue(it item) {
	s.queueMu.Lock()
	full := len(s.queue) >= QueueEvents
	if !full {
		s.queue = append(s.queue, it)
	}
	s.queueMu.Unlock()
	if full {
		s.overflow.Do(func() {
			s.logger.Warn("agent connection too slow, closing it", "queued", QueueEvents)
			s.out.Close("too slow: too many events waiting")
		})
		return
	}
	select {
	case s.wake <- struct{}{}:
	default: // the pump has been woken already
	}
}

// watchExpiry closes the socket (4401) when its session ends: at its
// expiry (later when refreshed), or at its logout.
func (s *session) watchExpiry(until time.Time) {
	defer close(s.expired)
	kick := make(chan struct{}, 1)
	defer s.h.sessions.watch(s.tok.session, kick)()
	for {
		wait := min(until.Sub(s.h.now()), s.h.cfg.SessionCheck)
		t := time.NewTimer(max(wait, 0))
		select {
		case <-s.ctx.Done():
			t.Stop()
			return
		case <-kick:
			t.Stop()
			s.out.CloseWith(CloseUnauthorized, "logged out")
			return
		case <-t.C:
		}
		var err error
		if until, err = s.h.sessions.until(s.tok, s.h.now()); err != nil {
			s.logger.Info("agent session ended", "err", err)
			s.out.CloseWith(CloseUnauthorized, err.Error())
			return
		}
	}
}

// Request handles one request frame.
func (s *session) Request(_ context.Context, _ *wire.Conn, req wire.Frame) {
	rt, ok := requestTypes[req.Type]
	if !ok {
		s.answer(req, nil, nil, wire.Errorf("type", "%.80q is not a request type of the agent protocol", req.Type))
		return
	}
	if !rt.pump {
		body, after, err := rt.fn(s, s.ctx, req)
		s.answer(req, body, after, err)
		return
	}
	s.enqueue(item{fn: func() {
		body, after, err := rt.fn(s, s.ctx, req)
		s.answer(req, body, after, err)
	}})
}

// answer replies to req with body, or with err's code and message, then
// runs after.
func (s *session) answer(req wire.Frame, body any, after func(), err error) {
	if err != nil {
		code := statusOf(err)
		if code >= 500 && code != http.StatusNotImplemented && s.ctx.Err() == nil {
			s.logger.Error("agent request failed", "type", req.Type, "err", err)
		}
		s.h.metrics.request(req.Type, code)
		s.out.Reply(req, code, wire.ErrorBody(err))
		return
	}
	s.h.metrics.request(req.Type, http.StatusOK)
	s.out.Reply(req, http.StatusOK, body)
	if after != nil {
		after()
	}
}

// notify sends a notification.
func (s *session) notify(typ string, body any) {
	s.h.metrics.notifications.WithLabelValues(typ).Inc()
	s.out.Notify(typ, body)
}

// Errors of requests.
var (
	errUnsupported = errors.New("not supported by this server")
	errTooMany     = errors.New("too many subscriptions on this connection")
	errForbidden   = errors.New("forbidden")
)

// statusOf maps an error to a response code.
func statusOf(err error) int {
	var fe *wire.FieldError
	switch {
	case errors.Is(err, errUnsupported):
		return http.StatusNotImplemented
	case errors.As(err, &fe):
		return http.StatusBadRequest
	case errors.Is(err, conversation.ErrNotFound), errors.Is(err, messaging.ErrNoRing):
		return http.StatusNotFound
	case errors.Is(err, messaging.ErrNotParticipant), errors.Is(err, errForbidden):
		return http.StatusForbidden
	case errors.Is(err, conversation.ErrClosed), errors.Is(err, conversation.ErrExists):
		return http.StatusConflict
	case errors.Is(err, errTooMany):
		return http.StatusTooManyRequests
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// unsupported returns an error naming field that maps to 501.
func unsupported(field, format string, args ...any) error {
	return fmt.Errorf("%w: %w", wire.Errorf(field, format, args...), errUnsupported)
}

func (s *session) fileSharing(_ context.Context, req wire.Frame) (any, func(), error) {
	return nil, nil, unsupported("type", "%s: file sharing", req.Type)
}

// pidOf returns the PID of the account's user id (the id itself when the
// user is gone).
func (s *session) pidOf(id string) string {
	s.mu.Lock()
	pid, ok := s.pids[id]
	s.mu.Unlock()
	if ok {
		return pid
	}
	pid = id
	if u, ok := s.h.users.ByID(s.account, id); ok && u.PID != "" {
		pid = u.PID
	}
	s.mu.Lock()
	if len(s.pids) < 10_000 {
		s.pids[id] = pid
	}
	s.mu.Unlock()
	return pid
}

// ids returns a participant's ids in the protocol: a consumer's id is
// both; an agent's old id is {account}.{userId} and its PID its user's.
func (s *session) ids(id string, role conversation.Role) (old, pid string) {
	if role == conversation.Consumer {
		return id, id
	}
	return s.account + "." + id, s.pidOf(id)
}

// resolveUser returns the account's user a protocol id names: an old id
// ({account}.{userId}), a PID or a user id.
func (s *session) resolveUser(id string) (user.User, bool) {
	if id == "" {
		return user.User{}, false
	}
	if rest, ok := strings.CutPrefix(id, s.account+"."); ok {
		return s.h.users.ByID(s.account, rest)
	}
	if u, ok := s.h.users.ByID(s.account, id); ok {
		return u, true
	}
	for _, u := range s.h.users.List(s.account) {
		if u.PID == id {
			return u, true
		}
	}
	return user.User{}, false
}

// conversationOf returns the conversation a request names: the first of
// ids set (a conversation has one dialog, of its id: dialogId and
// conversationId are the same), or an error naming field.
func conversationOf(field string, ids ...string) (string, error) {
	for _, id := range ids {
		if id != "" {
			return id, nil
		}
	}
	return "", wire.Errorf(field, "required")
}

// agentOf returns the messaging agent of a user.
func agentOf(u user.User) messaging.Agent {
	name := u.Nickname
	if name == "" {
		name = u.Login
	}
	return messaging.Agent{ID: u.ID, Name: name, LoginName: u.Login, Skills: u.Skills, MaxChats: u.MaxChats, Bot: u.Bot}
}

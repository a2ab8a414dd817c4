// Package lpagent is the server side of the protocol that LivePerson's
// Messaging Agent SDK for Node.js (npm node-agent-sdk, 1.2.0 the
// authority) speaks, so that a bot written with it serves Sightline's
// visitors when only its csdsDomain and credentials change:
//
//	GET  /api/account/{id}/service/baseURI.json?version=1.0   domain discovery (CSDS): every service at PublicHost
//	POST /api/account/{id}/login?v=1.3                         username + password, or username + appKey, secret,
//	                                                           accessToken, accessTokenSecret -> bearer, csrf, session cookie
//	POST /api/account/{id}/refresh?v=1.3                       session cookie + csrf (or Authorization: Bearer): extends the session
//	POST /api/account/{id}/logout                              session cookie + csrf (or Authorization: Bearer): ends it
//	GET  /ws_api/account/{id}/messaging/brand/{bearer}?v=2.1   the agent WebSocket (frames of package wire)
//	GET  /api/account/{id}/agent/skills                        the agent workspace's reads (journey.go), with
//	GET  /api/account/{id}/agent/conversations/{c}/journey     Authorization: Bearer
//
// The WebSocket's requests map to the messaging.Service: subscriptions to
// the account's conversations (.ams.aam.SubscribeExConversations), to a
// dialog's messages (.ams.ms.QueryMessages, history then live
// .ams.ms.OnlineEventDistribution), to routing tasks (rings) and agent
// states; joining, leaving, transferring and closing conversations
// (.ams.cm.UpdateConversationField); publishing messages, read receipts
// and typing (.ams.ms.PublishEvent, acknowledged once durable); the
// agent's state and rings. The tests run bots written with the real SDK
// (testdata/*.js; `make agent-sdk` installs it) against it.
//
// Agents are the account's users (package user): a user's id is the
// protocol's userId, whose "old agent id" is {account}.{userId}, and its
// PID the participant id (participantsPId, originatorPId) bots compare
// with their agentId.
//
// Bearers are signed, not stored (docs/lpagent-tokens.md): HMAC-SHA256
// under the server's key over the account, the user id, a session id and
// an expiry, base64url (the SDK puts the bearer raw in the WebSocket's
// path). They survive a restart and
// cannot be made without the key; a bearer names its account, so it opens
// no other account's socket. The csrf a login returns is an HMAC of its
// session id. A refresh extends the session (and its bearer) in memory and
// renews the session cookie, so that after a restart a refreshed session
// goes on (its cookie carries the new expiry) while its bearer is good
// until its own expiry; a logout revokes the session in memory. Failed
// logins are limited per account and login (a token bucket, bounded
// memory), and at most a few Argon2id checks run at once.
package lpagent

import (
	"errors"
	"log/slog"
	"net/http"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/messaging"
	"github.com/sightline/sightline/internal/user"
)

// Config configures the handler.
type Config struct {
	// PublicHost is the host[:port] that domain discovery names for every
	// service (the bot's csdsDomain, usually); "" names each request's
	// Host.
	PublicHost string
	// TokenKey signs bearers, session cookies and csrf tokens: at least 32
	// random bytes, kept by the server (in its data directory) so that
	// sessions survive a restart.
	TokenKey []byte
	// SessionTTL is how long a login's session and bearer are good, and
	// how far a refresh extends them (the SDK refreshes every 10 minutes).
	SessionTTL time.Duration
	// FailedLogins is how many failed logins of one account and login are
	// allowed in a burst, FailedLoginRate how many a second after it.
	FailedLogins    int
	FailedLoginRate float64
	// PingInterval is how often the server pings an agent's socket.
	PingInterval time.Duration
	// WriteTimeout is how long an agent may leave a frame unread before
	// its socket is closed (0: wire.WriteTimeout).
	WriteTimeout time.Duration
	// SessionCheck is how often an open socket's session is checked again
	// (a refresh may have extended it); it closes (4401) once the session
	// has ended.
	SessionCheck time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// DefaultConfig returns the defaults: 8-hour sessions (LivePerson's
// sessionTTl), 5 failed logins in a burst then 1 a second.
func DefaultConfig() Config {
	return Config{SessionTTL: 8 * time.Hour, FailedLogins: 5, FailedLoginRate: 1, PingInterval: 30 * time.Second, SessionCheck: time.Minute}
}

// MinKeyLen is the shortest TokenKey.
const MinKeyLen = 32

// Accounts finds the accounts the server serves.
type Accounts interface {
	Get(id string) (*account.Account, bool)
}

// Users finds an account's users (agents and bots).
type Users interface {
	ByLogin(accountID, login string) (user.User, bool)
	ByID(accountID, id string) (user.User, bool)
	List(accountID string) []user.User
}

var (
	_ Accounts = (*account.Store)(nil)
	_ Users    = (*user.Store)(nil)
)

// Handler serves the agent protocol.
type Handler struct {
	cfg      Config
	logger   *slog.Logger
	metrics  *metrics
	svc      *messaging.Service
	accounts Accounts
	users    Users
	tokens   *tokens
	failed   *limiter
	// hashing bounds the Argon2id checks running at once (19 MiB each).
	hashing  chan struct{}
	sessions *sessions
	visits   Visits // nil: journeys carry no pages
}

// New returns the handler of the agent protocol over svc. reg may be nil.
func New(cfg Config, logger *slog.Logger, reg prometheus.Registerer, svc *messaging.Service, accounts Accounts, users Users) (*Handler, error) {
	if len(cfg.TokenKey) < MinKeyLen {
		return nil, errors.New("lpagent: the token key must be at least 32 bytes")
	}
	def := DefaultConfig()
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = def.SessionTTL
	}
	if cfg.FailedLogins <= 0 {
		cfg.FailedLogins = def.FailedLogins
	}
	if cfg.FailedLoginRate <= 0 {
		cfg.FailedLoginRate = def.FailedLoginRate
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = def.PingInterval
	}
	if cfg.SessionCheck <= 0 {
		cfg.SessionCheck = def.SessionCheck
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{
		cfg:      cfg,
		logger:   logger.With("component", "lpagent"),
		metrics:  newMetrics(reg),
		svc:      svc,
		accounts: accounts,
		users:    users,
		tokens:   newTokens(cfg.TokenKey),
		failed:   newLimiter(float64(cfg.FailedLogins), cfg.FailedLoginRate, maxLimiterKeys),
		hashing:  make(chan struct{}, max(2, runtime.GOMAXPROCS(0))),
		sessions: newSessions(),
	}, nil
}

// Paths of the protocol.
const (
	DomainsPath = "GET /api/account/{accountId}/service/baseURI.json"
	DomainPath  = "GET /api/account/{accountId}/service/{service}/baseURI.json"
	LoginPath   = "POST /api/account/{accountId}/login"
	RefreshPath = "POST /api/account/{accountId}/refresh"
	LogoutPath  = "POST /api/account/{accountId}/logout"
	SocketPath  = "GET /ws_api/account/{accountId}/messaging/brand/{token}"
)

// Register adds the protocol's routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc(DomainsPath, h.serveDomains)
	mux.HandleFunc(DomainPath, h.serveDomain)
	mux.HandleFunc(LoginPath, h.serveLogin)
	mux.HandleFunc(RefreshPath, h.serveRefresh)
	mux.HandleFunc(LogoutPath, h.serveLogout)
	mux.HandleFunc(SocketPath, h.serveSocket)
	mux.HandleFunc(SkillsPath, h.serveSkills)
	mux.HandleFunc(JourneyPath, h.serveJourney)
}

func (h *Handler) now() time.Time { return h.cfg.Now() }

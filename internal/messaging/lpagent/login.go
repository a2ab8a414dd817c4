package lpagent

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/sightline/sightline/internal/user"
)

// Services are the domain discovery's service names, every one at the
// server's public host: agentVep (login, refresh) and asyncMessagingEnt
// (the WebSocket) are what the 1.2.0 SDK looks up, facadeMsg the
// WebSocket of newer SDKs, msgHist what an example reads.
var Services = []string{"agentVep", "asyncMessagingEnt", "facadeMsg", "msgHist"}

// Internal codes of the login service's errors, as the SDK reports them
// (err.code).
const (
	CodeBadCredentials = 17
	CodeTooManyLogins  = 29
	CodeBadRequest     = 400
	CodeUnauthorized   = 401
	CodeBadCSRF        = 10
	CodeUnsupported    = 501
)

// loginError is the body of a failed login, refresh or logout: the SDK
// takes error as its message and internalCode as its code.
type loginError struct {
	Error        string `json:"error"`
	InternalCode int    `json:"internalCode"`
}

type baseURI struct {
	Account string `json:"account"`
	Service string `json:"service"`
	BaseURI string `json:"baseURI"`
}

// publicHost returns the host[:port] the services are at.
func (h *Handler) publicHost(r *http.Request) string {
	if h.cfg.PublicHost != "" {
		return h.cfg.PublicHost
	}
	return r.Host
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// serveDomains answers domain discovery. An unknown account gets a 404
// that still has an (empty) baseURIs array: the 1.2.0 SDK crashes on a
// body without one, and reports "could not fetch domains" on an empty one.
func (h *Handler) serveDomains(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("accountId")
	if _, ok := h.accounts.Get(id); !ok {
		h.metrics.http("domains", http.StatusNotFound)
		writeJSON(w, http.StatusNotFound, map[string]any{"baseURIs": []baseURI{}, "error": "no account " + strconv.Quote(id),
			"internalCode": http.StatusNotFound})
		return
	}
	host := h.publicHost(r)
	out := make([]baseURI, len(Services))
	for i, s := range Services {
		out[i] = baseURI{Account: id, Service: s, BaseURI: host}
	}
	h.metrics.http("domains", http.StatusOK)
	writeJSON(w, http.StatusOK, map[string]any{"baseURIs": out})
}

// serveDomain answers the domain discovery of one service.
func (h *Handler) serveDomain(w http.ResponseWriter, r *http.Request) {
	id, svc := r.PathValue("accountId"), r.PathValue("service")
	_, ok := h.accounts.Get(id)
	known := false
	for _, s := range Services {
		known = known || s == svc
	}
	if !ok || !known {
		h.metrics.http("domains", http.StatusNotFound)
		writeJSON(w, http.StatusNotFound, loginError{Error: "no service " + strconv.Quote(svc) + " for account " + strconv.Quote(id),
			InternalCode: http.StatusNotFound})
		return
	}
	h.metrics.http("domains", http.StatusOK)
	writeJSON(w, http.StatusOK, baseURI{Account: id, Service: svc, BaseURI: h.publicHost(r)})
}

// maxLoginBody is the largest login, refresh or logout body read.
const maxLoginBody = 16 << 10

type loginRequest struct {
	Username          string `json:"username"`
	Password          string `json:"password"`
	AppKey            string `json:"appKey"`
	Secret            string `json:"secret"`
	AccessToken       string `json:"accessToken"`
	AccessTokenSecret string `json:"accessTokenSecret"`
	Assertion         string `json:"assertion"`
}

// loginConfig is the config of a successful login: the SDK reads userId
// and userPid.
type loginConfig struct {
	LoginName         string   `json:"loginName"`
	UserID            string   `json:"userId"`
	UserPID           string   `json:"userPid"`
	UserPrivileges    []int    `json:"userPrivileges"`
	ServerCurrentTime int64    `json:"serverCurrentTime"`
	IsLPA             bool     `json:"isLPA"`
	AccountID         string   `json:"accountId"`
	Skills            []string `json:"skills"`
}

type loginResponse struct {
	CSRF       string      `json:"csrf"`
	Config     loginConfig `json:"config"`
	SessionTTL string      `json:"sessionTTl"`
	Bearer     string      `json:"bearer"`
}

// sessionCookie is the name of the session cookie.
const sessionCookie = "session_id"

// dummyHash is checked for unknown logins, so that they take as long as
// known ones.
var dummyHash = sync.OnceValue(func() string {
	h, _ := user.HashPassword("no user has this password, ever")
	return h
})

func (h *Handler) serveLogin(w http.ResponseWriter, r *http.Request) {
	acct := r.PathValue("accountId")
	var req loginRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxLoginBody)).Decode(&req); err != nil {
		h.loginFailed(w, "bad_request", http.StatusBadRequest, loginError{Error: "login body: " + err.Error(), InternalCode: CodeBadRequest})
		return
	}
	switch {
	case req.Assertion != "":
		h.loginFailed(w, "bad_request", http.StatusNotImplemented, loginError{Error: "SAML login is not supported", InternalCode: CodeUnsupported})
		return
	case req.Username == "" || len(req.Username) > user.MaxLoginLen:
		h.loginFailed(w, "bad_request", http.StatusBadRequest, loginError{Error: "username: required, at most 128 bytes", InternalCode: CodeBadRequest})
		return
	case req.Password == "" && (req.AppKey == "" || req.Secret == "" || req.AccessToken == "" || req.AccessTokenSecret == ""):
		h.loginFailed(w, "bad_request", http.StatusBadRequest, loginError{
			Error: "password, or appKey, secret, accessToken and accessTokenSecret: required", InternalCode: CodeBadRequest})
		return
	}
	key := acct + "\x00" + req.Username
	if !h.failed.allow(key, h.now()) {
		h.loginFailed(w, "rate_limited", http.StatusTooManyRequests, loginError{Error: "too many failed logins, retry later", InternalCode: CodeTooManyLogins})
		return
	}
	u, ok := h.checkCredentials(r.Context(), acct, req)
	if !ok {
		if r.Context().Err() != nil {
			return
		}
		h.failed.fail(key, h.now())
		h.logger.Info("failed login", "account", acct, "login", req.Username, "remote", r.RemoteAddr)
		h.loginFailed(w, "bad_credentials", http.StatusUnauthorized, loginError{Error: "Bad credentials", InternalCode: CodeBadCredentials})
		return
	}
	h.failed.succeed(key)
	now := h.now()
	id := newSessionID()
	exp := now.Add(h.cfg.SessionTTL)
	bearer := h.tokens.encode(token{kind: kindBearer, expiry: exp, session: id, account: acct, user: u.ID})
	h.setSessionCookie(w, acct, token{kind: kindSession, expiry: exp, session: id, account: acct, user: u.ID})
	skills := u.Skills
	if skills == nil {
		skills = []string{}
	}
	h.metrics.logins.WithLabelValues("ok").Inc()
	h.logger.Info("login", "account", acct, "login", u.Login, "user", u.ID)
	writeJSON(w, http.StatusOK, loginResponse{
		CSRF: h.tokens.csrfOf(id),
		Config: loginConfig{LoginName: u.Login, UserID: u.ID, UserPID: u.PID, UserPrivileges: []int{}, ServerCurrentTime: now.UnixMilli(),
			AccountID: acct, Skills: skills},
		SessionTTL: strconv.FormatInt(h.cfg.SessionTTL.Milliseconds(), 10),
		Bearer:     bearer,
	})
}

func (h *Handler) loginFailed(w http.ResponseWriter, result string, code int, body loginError) {
	h.metrics.logins.WithLabelValues(result).Inc()
	writeJSON(w, code, body)
}

// checkCredentials returns the user that req's credentials are of. An
// unknown account or login costs a password check too.
func (h *Handler) checkCredentials(ctx context.Context, acct string, req loginRequest) (user.User, bool) {
	u, found := user.User{}, false
	if _, ok := h.accounts.Get(acct); ok {
		u, found = h.users.ByLogin(acct, req.Username)
	}
	if req.Password == "" {
		// API keys are random and long: their hashes are compared, no
		// work to bound.
		return u, found && u.CheckKey(user.Secrets{AppKey: req.AppKey, Secret: req.Secret, AccessToken: req.AccessToken,
			AccessTokenSecret: req.AccessTokenSecret})
	}
	select {
	case h.hashing <- struct{}{}:
		defer func() { <-h.hashing }()
	case <-ctx.Done():
		return user.User{}, false
	}
	if !found {
		(&user.User{PasswordHash: dummyHash()}).CheckPassword(req.Password)
		return user.User{}, false
	}
	return u, u.CheckPassword(req.Password)
}

// setSessionCookie sets the session cookie of t.
func (h *Handler) setSessionCookie(w http.ResponseWriter, acct string, t token) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: h.tokens.encode(t), Path: "/api/account/" + acct,
		Expires: t.expiry, Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// session returns the session of a refresh or logout request: its bearer
// (Authorization: Bearer, as the agent workspace sends it) when bearerOK,
// or else its cookie and csrf (as the SDK sends them).
func (h *Handler) session(w http.ResponseWriter, r *http.Request, bearerOK bool) (token, *loginError) {
	acct := r.PathValue("accountId")
	var body struct {
		CSRF string `json:"csrf"`
	}
	if r.ContentLength != 0 {
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxLoginBody)).Decode(&body); err != nil {
			return token{}, &loginError{Error: "body: " + err.Error(), InternalCode: CodeBadRequest}
		}
	}
	var t token
	var err error
	if b, ok := bearerOf(r); ok && bearerOK {
		if t, err = h.tokens.decode(b); err != nil || t.kind != kindBearer {
			return token{}, &loginError{Error: "bearer is not one of this server's", InternalCode: CodeUnauthorized}
		}
	} else if c, cerr := r.Cookie(sessionCookie); cerr == nil {
		if t, err = h.tokens.decode(c.Value); err != nil || t.kind != kindSession {
			return token{}, &loginError{Error: "session cookie is not one of this server's", InternalCode: CodeUnauthorized}
		}
		if !h.tokens.checkCSRF(t.session, body.CSRF) {
			return token{}, &loginError{Error: "CSRF token invalid! The CSRF token on request does not match the CSRF token on the session",
				InternalCode: CodeBadCSRF}
		}
	} else {
		return token{}, &loginError{Error: "no session: the session cookie of the login is required", InternalCode: CodeUnauthorized}
	}
	if t.account != acct {
		return token{}, &loginError{Error: "the session is of another account", InternalCode: CodeUnauthorized}
	}
	if _, err := h.sessions.until(t, h.now()); err != nil {
		return token{}, &loginError{Error: "session: " + err.Error(), InternalCode: CodeUnauthorized}
	}
	if _, ok := h.users.ByID(acct, t.user); !ok {
		return token{}, &loginError{Error: "the session's user is gone", InternalCode: CodeUnauthorized}
	}
	return t, nil
}

// bearerOf returns the bearer of a request's Authorization header.
func bearerOf(r *http.Request) (string, bool) {
	b, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	b = strings.TrimSpace(b)
	return b, ok && b != ""
}

// sessionOrRefuse returns the session of a refresh or logout request, or
// answers 401 and returns false.
func (h *Handler) sessionOrRefuse(w http.ResponseWriter, r *http.Request, endpoint string, bearerToo bool) (token, bool) {
	t, lerr := h.session(w, r, bearerToo)
	if lerr != nil {
		h.metrics.http(endpoint, http.StatusUnauthorized)
		writeJSON(w, http.StatusUnauthorized, lerr)
		return token{}, false
	}
	return t, true
}

// serveRefresh extends a session: its bearer stays good SessionTTL from
// now, and its cookie, when the refresh came with it, is renewed. A 401
// stops the SDK's refreshes. The agent workspace refreshes with its
// bearer, which a page served over plain HTTP keeps where it cannot keep
// the (Secure) cookie.
func (h *Handler) serveRefresh(w http.ResponseWriter, r *http.Request) {
	t, ok := h.sessionOrRefuse(w, r, "refresh", true)
	if !ok {
		return
	}
	now := h.now()
	until := now.Add(h.cfg.SessionTTL)
	h.sessions.extend(t.session, until, now)
	if t.kind == kindSession {
		t.expiry = until
		h.setSessionCookie(w, t.account, t)
	}
	h.metrics.http("refresh", http.StatusOK)
	writeJSON(w, http.StatusOK, map[string]any{"sessionTTl": strconv.FormatInt(h.cfg.SessionTTL.Milliseconds(), 10)})
}

// serveLogout ends a session: its bearer opens no socket any more, and
// its sockets close (4401).
func (h *Handler) serveLogout(w http.ResponseWriter, r *http.Request) {
	t, ok := h.sessionOrRefuse(w, r, "logout", true)
	if !ok {
		return
	}
	now := h.now()
	h.sessions.revoke(t.session, t.expiry, now)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/api/account/" + t.account, MaxAge: -1, Secure: true, HttpOnly: true})
	h.logger.Info("logout", "account", t.account, "user", t.user)
	h.metrics.http("logout", http.StatusOK)
	w.WriteHeader(http.StatusOK)
}

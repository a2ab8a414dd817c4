package lpagent

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestDomains(t *testing.T) {
	e := newEnv(t)
	withHost := newEnv(t, func(c *Config, _ *messagingConfig) { c.PublicHost = "agents.example.com:8443" })
	tests := []struct {
		name string
		e    *env
		path string
		code int
		want string // the body
	}{
		{"request's host", e, "/api/account/acme/service/baseURI.json?version=1.0", 200,
			`{"baseURIs":[{"account":"acme","service":"agentVep","baseURI":"HOST"},{"account":"acme","service":"asyncMessagingEnt","baseURI":"HOST"},` +
				`{"account":"acme","service":"facadeMsg","baseURI":"HOST"},{"account":"acme","service":"msgHist","baseURI":"HOST"}]}`},
		{"public host", withHost, "/api/account/acme/service/baseURI.json?version=1.0", 200,
			`{"baseURIs":[{"account":"acme","service":"agentVep","baseURI":"agents.example.com:8443"},{"account":"acme","service":"asyncMessagingEnt","baseURI":"agents.example.com:8443"},` +
				`{"account":"acme","service":"facadeMsg","baseURI":"agents.example.com:8443"},{"account":"acme","service":"msgHist","baseURI":"agents.example.com:8443"}]}`},
		{"unknown account", e, "/api/account/nobody/service/baseURI.json?version=1.0", 404,
			`{"baseURIs":[],"error":"no account \"nobody\"","internalCode":404}`},
		{"one service", e, "/api/account/acme/service/agentVep/baseURI.json?version=1.0", 200,
			`{"account":"acme","service":"agentVep","baseURI":"HOST"}`},
		{"unknown service", e, "/api/account/acme/service/nope/baseURI.json", 404,
			`{"error":"no service \"nope\" for account \"acme\"","internalCode":404}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := tt.e.srv.Client().Get(tt.e.srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var got json.RawMessage
			json.NewDecoder(resp.Body).Decode(&got)
			want := strings.ReplaceAll(tt.want, "HOST", tt.e.host)
			if resp.StatusCode != tt.code || string(got) != want {
				t.Errorf("%d %s\nwant %d %s", resp.StatusCode, got, tt.code, want)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
}

// bearerChars is the alphabet of a bearer: it goes raw into a URL path.
var bearerChars = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func TestLogin(t *testing.T) {
	e := newEnv(t)
	u, keys := e.addUser(acme, "ann", 2, "sales")
	path := "/api/account/acme/login?v=1.3"
	tests := []struct {
		name string
		acct string
		body any
		code int
		err  string // the body's error; "" for a success
		ic   float64
	}{
		{"password", acme, map[string]string{"username": "ann", "password": testPassword}, 200, "", 0},
		{"api keys", acme, map[string]string{"username": "ann", "appKey": keys.AppKey, "secret": keys.Secret, "accessToken": keys.AccessToken,
			"accessTokenSecret": keys.AccessTokenSecret}, 200, "", 0},
		{"wrong password", acme, map[string]string{"username": "ann", "password": testPassword + "!"}, 401, "Bad credentials", 17},
		{"wrong key secret", acme, map[string]string{"username": "ann", "appKey": keys.AppKey, "secret": keys.Secret + "x",
			"accessToken": keys.AccessToken, "accessTokenSecret": keys.AccessTokenSecret}, 401, "Bad credentials", 17},
		{"unknown login", acme, map[string]string{"username": "bob", "password": testPassword}, 401, "Bad credentials", 17},
		{"another account's user", other, map[string]string{"username": "ann", "password": testPassword}, 401, "Bad credentials", 17},
		{"unknown account", "nobody", map[string]string{"username": "ann", "password": testPassword}, 401, "Bad credentials", 17},
		{"no password", acme, map[string]string{"username": "ann"}, 400,
			"password, or appKey, secret, accessToken and accessTokenSecret: required", 400},
		{"no username", acme, map[string]string{"password": testPassword}, 400, "username: required, at most 128 bytes", 400},
		{"SAML", acme, map[string]string{"jwt": "dummy", "assertion": "<saml/>"}, 501, "SAML login is not supported", 501},
		{"not JSON", acme, "username=ann", 400, "login body: json: cannot unmarshal string into Go value of type lpagent.loginRequest", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, v, resp := e.post("/api/account/"+tt.acct+"/login?v=1.3", tt.body)
			if code != tt.code {
				t.Fatalf("status %d %v, want %d", code, v, tt.code)
			}
			if tt.err != "" {
				if v["error"] != tt.err || v["internalCode"] != tt.ic || v["bearer"] != nil {
					t.Errorf("body %v, want error %q internalCode %v", v, tt.err, tt.ic)
				}
				return
			}
			cfg, _ := v["config"].(map[string]any)
			bearer, _ := v["bearer"].(string)
			csrf, _ := v["csrf"].(string)
			if cfg["userId"] != u.ID || cfg["userPid"] != u.PID || cfg["loginName"] != "ann" || !bearerChars.MatchString(bearer) ||
				len(csrf) < 32 || v["sessionTTl"] != "28800000" {
				t.Errorf("login answer %v: want userId %s, userPid %s, a URL-safe bearer, a csrf", v, u.ID, u.PID)
			}
			var cookie *http.Cookie
			for _, c := range resp.Cookies() {
				if c.Name == sessionCookie {
					cookie = c
				}
			}
			if cookie == nil || !cookie.Secure || !cookie.HttpOnly || cookie.Path != "/api/account/acme" {
				t.Errorf("session cookie %v", cookie)
			}
		})
	}

	// Failed logins are limited per account and login: a burst of 5,
	// then one a second; a good password waits too. (The table's failures
	// are forgotten once the bucket has refilled.) The clock stops, so
	// that slow password checks do not refill the bucket meanwhile.
	e.clock.stop()
	e.clock.add(10 * time.Second)
	for i := range 5 {
		if code, v, _ := e.post(path, map[string]string{"username": "ann", "password": "wrong password"}); code != 401 {
			t.Fatalf("failure %d: %d %v", i, code, v)
		}
	}
	code, v, _ := e.post(path, map[string]string{"username": "ann", "password": testPassword})
	if code != 429 || v["error"] != "too many failed logins, retry later" || v["internalCode"] != 29.0 {
		t.Errorf("after 5 failures: %d %v, want 429", code, v)
	}
	if code, _, _ := e.post("/api/account/other/login?v=1.3", map[string]string{"username": "ann", "password": "x"}); code != 401 {
		t.Errorf("another account's ann is limited too: %d", code)
	}
	e.clock.add(1100 * time.Millisecond)
	if code, v, _ := e.post(path, map[string]string{"username": "ann", "password": testPassword}); code != 200 {
		t.Errorf("a second later: %d %v, want a login", code, v)
	}
	if got := testutil.ToFloat64(e.h.metrics.logins.WithLabelValues("rate_limited")); got != 1 {
		t.Errorf("rate_limited logins %v, want 1", got)
	}
}

func TestLimiter(t *testing.T) {
	l := newLimiter(2, 1, 3)
	now := time.Unix(1000, 0)
	for _, k := range []string{"a", "a", "b", "c"} {
		l.fail(k, now)
	}
	if l.allow("a", now) || !l.allow("b", now) || !l.allow("nobody", now) {
		t.Error("a has failed twice, b once: a waits, b and others may try")
	}
	if !l.allow("a", now.Add(time.Second)) {
		t.Error("a may try a second later")
	}
	// Full: a fourth key drops the full buckets (none yet) or one.
	l.fail("d", now)
	if n := l.len(); n != 3 {
		t.Errorf("%d keys kept, want at most 3", n)
	}
	later := now.Add(time.Minute)
	l.fail("e", later) // every bucket has refilled: all go
	if n := l.len(); n != 1 {
		t.Errorf("%d keys kept after refill, want 1", n)
	}
	l.succeed("e")
	if n := l.len(); n != 0 {
		t.Errorf("%d keys after success", n)
	}
}

func TestTokens(t *testing.T) {
	e := newEnv(t, func(c *Config, _ *messagingConfig) { c.SessionTTL = time.Hour; c.SessionCheck = 50 * time.Millisecond })
	e.addUser(acme, "ann", 0)
	e.addUser(other, "ann", 0)
	bearer, csrf, cookie := e.login(acme, "ann")
	otherBearer, _, _ := e.login(other, "ann")
	socket := func(acct, tok string) int {
		_, resp, err := e.dial("/ws_api/account/" + acct + "/messaging/brand/" + tok + "?v=2.1")
		if err == nil {
			return 101
		}
		if resp == nil {
			t.Fatalf("dial: %v", err)
		}
		return resp.StatusCode
	}
	flip := []byte(bearer)
	flip[10] ^= 1
	k := newTokens([]byte("another key, another server, 32+"))
	forged := k.encode(token{kind: kindBearer, expiry: time.Now().Add(time.Hour), session: newSessionID(), account: acme, user: "1"})
	tests := []struct {
		name, acct, tok string
		code            int
	}{
		{"good", acme, bearer, 101},
		{"another account's bearer", acme, otherBearer, 401},
		{"the bearer on another account", other, bearer, 401},
		{"one bit changed", acme, string(flip), 401},
		{"signed with another key", acme, forged, 401},
		{"the session cookie", acme, cookie.Value, 401},
		{"garbage", acme, "not-a-token", 401},
		{"unknown account", "nobody", bearer, 404},
	}
	for _, tt := range tests {
		if code := socket(tt.acct, tt.tok); code != tt.code {
			t.Errorf("%s: %d, want %d", tt.name, code, tt.code)
		}
	}

	// A restarted server (same key) takes the bearer; another key does not.
	h2, err := New(Config{TokenKey: testKey}, nil, nil, e.svc, e.accounts, e.users)
	if err != nil {
		t.Fatal(err)
	}
	if tok, err := h2.tokens.decode(bearer); err != nil || tok.account != acme {
		t.Errorf("after a restart: %+v, %v", tok, err)
	}
	if _, err := New(Config{TokenKey: []byte("short")}, nil, nil, e.svc, e.accounts, e.users); err == nil {
		t.Error("a short key was taken")
	}

	// Refresh extends the session; a bad csrf or another account's path
	// is refused.
	refresh := "/api/account/acme/refresh?v=1.3"
	if code, v, _ := e.post(refresh, map[string]string{"csrf": csrf + "0"}, cookie); code != 401 || v["internalCode"] != 10.0 {
		t.Errorf("refresh with a bad csrf: %d %v", code, v)
	}
	if code, _, _ := e.post("/api/account/other/refresh?v=1.3", map[string]string{"csrf": csrf}, cookie); code != 401 {
		t.Errorf("refresh on another account: %d", code)
	}
	if code, v, _ := e.post(refresh, map[string]string{"csrf": csrf}); code != 401 {
		t.Errorf("refresh without the cookie: %d %v", code, v)
	}
	w := e.dialAgentWith(acme, bearer)
	e.clock.add(50 * time.Minute)
	code, v, resp := e.post(refresh, map[string]string{"csrf": csrf}, cookie)
	if code != 200 {
		t.Fatalf("refresh: %d %v", code, v)
	}
	var renewed *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			renewed = c
		}
	}
	if renewed == nil || renewed.Value == cookie.Value {
		t.Error("refresh did not renew the session cookie")
	}
	e.clock.add(50 * time.Minute) // past the login's hour, within the refresh's
	if code := socket(acme, bearer); code != 101 {
		t.Errorf("bearer after a refresh: %d, want it good", code)
	}
	if f := w.request(typeGetClock, map[string]any{}); f.Code != 200 {
		t.Errorf("open socket after a refresh: %s", f.raw)
	}
	if code := socket(other, otherBearer); code != 401 {
		t.Errorf("the other account's bearer an hour and 40 minutes on, without refresh: %d, want 401", code)
	}
	e.clock.add(15 * time.Minute) // past the refresh's hour
	if code := socket(acme, bearer); code != 401 {
		t.Errorf("bearer past its refresh: %d, want 401", code)
	}
	if err := w.closedWith(); websocket.CloseStatus(err) != CloseUnauthorized {
		t.Errorf("open socket past its session: %v, want close 4401", err)
	}

	// Logout ends the session and closes its sockets.
	bearer, csrf, cookie = e.login(acme, "ann")
	w = e.dialAgentWith(acme, bearer)
	if code, v, _ := e.post("/api/account/acme/logout", map[string]string{"csrf": csrf}, cookie); code != 200 {
		t.Fatalf("logout: %d %v", code, v)
	}
	if err := w.closedWith(); websocket.CloseStatus(err) != CloseUnauthorized {
		t.Errorf("socket of a logged out session: %v, want close 4401", err)
	}
	if code := socket(acme, bearer); code != 401 {
		t.Errorf("bearer after logout: %d", code)
	}
	if code, _, _ := e.post(refresh, map[string]string{"csrf": csrf}, cookie); code != 401 {
		t.Errorf("refresh after logout: %d", code)
	}
}

// closedWith waits for the socket to close and returns why.
func (w *wsClient) closedWith() error {
	select {
	case err := <-w.closed:
		return err
	case <-time.After(10 * time.Second):
		return fmt.Errorf("still open after 10s")
	}
}

// dialAgentWith opens the agent socket with a bearer.
func (e *env) dialAgentWith(acct, bearer string) *wsClient {
	e.t.Helper()
	w, resp, err := e.dial("/ws_api/account/" + acct + "/messaging/brand/" + bearer + "?v=2.1")
	if err != nil {
		e.t.Fatalf("dial agent: %v (%v)", err, resp)
	}
	return w
}

func TestTokenEncoding(t *testing.T) {
	k := newTokens(testKey)
	want := token{kind: kindBearer, expiry: time.Unix(1716000000, 0), session: newSessionID(), account: "acme", user: "1234567890"}
	s := k.encode(want)
	got, err := k.decode(s)
	if err != nil || got != want {
		t.Errorf("decode(encode(%+v)) = %+v, %v", want, got, err)
	}
	if !bearerChars.MatchString(s) {
		t.Errorf("token %q is not URL-path safe", s)
	}
	if !k.checkCSRF(want.session, k.csrfOf(want.session)) || k.checkCSRF(newSessionID(), k.csrfOf(want.session)) {
		t.Error("csrf is not tied to its session")
	}
}

func FuzzToken(f *testing.F) {
	k := newTokens(testKey)
	f.Add(k.encode(token{kind: kindBearer, expiry: time.Unix(1716000000, 0), account: "acme", user: "1"}))
	f.Add("")
	f.Add(strings.Repeat("A", 200))
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := k.decode(s)
		if err != nil {
			return
		}
		// Only a token this key signed decodes, and it says the same again.
		if k.encode(tok) != s {
			t.Fatalf("%q decoded to %+v, which encodes otherwise", s, tok)
		}
	})
}

// metricValue returns a counter's value.
func metricValue(t *testing.T, e *env, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if labels[lp.GetName()] != lp.GetValue() {
					continue metric
				}
			}
			if m.Counter != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

func TestMetrics(t *testing.T) {
	e := newEnv(t)
	e.addUser(acme, "ann", 0)
	w := e.dialAgent(acme, "ann")
	w.request(typeGetClock, map[string]any{})
	w.request("nope", map[string]any{})
	if v := metricValue(t, e, "sightline_lpagent_requests_total", map[string]string{"type": ".GetClock", "code": "200"}); v != 1 {
		t.Errorf("GetClock requests %v", v)
	}
	if v := metricValue(t, e, "sightline_lpagent_requests_total", map[string]string{"type": "other", "code": "400"}); v != 1 {
		t.Errorf("unknown requests %v", v)
	}
	if v := metricValue(t, e, "sightline_lpagent_connections", nil); v != 1 {
		t.Errorf("connections %v", v)
	}
	w.c.Close(websocket.StatusNormalClosure, "")
	deadline := time.Now().Add(5 * time.Second)
	for metricValue(t, e, "sightline_lpagent_connections", nil) != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if v := metricValue(t, e, "sightline_lpagent_connections", nil); v != 0 {
		t.Errorf("connections after close %v", v)
	}
	if v := metricValue(t, e, "sightline_lpagent_logins_total", map[string]string{"result": "ok"}); v != 1 {
		t.Errorf("logins %v", v)
	}
}

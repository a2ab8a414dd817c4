package lpagent

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"sync"
	"time"
)

// Token kinds: the bearer of the WebSocket, and the session cookie that
// refresh and logout take.
const (
	kindBearer  byte = 'b'
	kindSession byte = 's'
)

// tokenVersion is the first byte of every token's payload.
const tokenVersion = 1

// sessionID names a login's session.
type sessionID [12]byte

// token is what a bearer or a session cookie says.
//
// Its encoding, base64url without padding of payload || HMAC-SHA256(key,
// payload), the payload being: version (1 byte, 1), kind (1 byte, 'b' or
// 's'), expiry (8 bytes big-endian, Unix seconds), session id (12 bytes),
// account id length (1 byte) and bytes, user id length (1 byte) and bytes.
type token struct {
	kind    byte
	expiry  time.Time
	session sessionID
	account string
	user    string
}

// Errors of tokens.
var (
	errBadToken     = errors.New("token is not one of this server's")
	errTokenExpired = errors.New("token expired")
	errTokenRevoked = errors.New("session logged out")
)

// maxTokenLen is the longest token text read.
const maxTokenLen = 512

// tokens signs and checks tokens with a key.
type tokens struct {
	sign []byte // key of token MACs
	csrf []byte // key of csrf MACs
}

func newTokens(key []byte) *tokens {
	derive := func(label string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(label))
		return m.Sum(nil)
	}
	return &tokens{sign: derive("sightline lpagent token"), csrf: derive("sightline lpagent csrf")}
}

func newSessionID() sessionID {
	var id sessionID
	rand.Read(id[:])
	return id
}

// encode returns t signed, as text.
func (k *tokens) encode(t token) string {
	b := make([]byte, 0, 24+len(t.account)+len(t.user)+sha256.Size)
	b = append(b, tokenVersion, t.kind)
	b = binary.BigEndian.AppendUint64(b, uint64(t.expiry.Unix()))
	b = append(b, t.session[:]...)
	b = append(b, byte(len(t.account)))
	b = append(b, t.account...)
	b = append(b, byte(len(t.user)))
	b = append(b, t.user...)
	m := hmac.New(sha256.New, k.sign)
	m.Write(b)
	return base64.RawURLEncoding.EncodeToString(m.Sum(b))
}

// decode checks s's signature and returns what it says; its expiry is
// for the caller to check.
func (k *tokens) decode(s string) (token, error) {
	if len(s) > maxTokenLen {
		return token{}, errBadToken
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 2+8+len(sessionID{})+2+sha256.Size {
		return token{}, errBadToken
	}
	payload, sum := b[:len(b)-sha256.Size], b[len(b)-sha256.Size:]
	m := hmac.New(sha256.New, k.sign)
	m.Write(payload)
	if !hmac.Equal(m.Sum(nil), sum) || payload[0] != tokenVersion {
		return token{}, errBadToken
	}
	t := token{kind: payload[1], expiry: time.Unix(int64(binary.BigEndian.Uint64(payload[2:10])), 0)}
	p := payload[10:]
	copy(t.session[:], p)
	p = p[len(t.session):]
	var ok bool
	if t.account, p, ok = lengthPrefixed(p); !ok {
		return token{}, errBadToken
	}
	if t.user, p, ok = lengthPrefixed(p); !ok || len(p) != 0 {
		return token{}, errBadToken
	}
	return t, nil
}

func lengthPrefixed(p []byte) (string, []byte, bool) {
	if len(p) == 0 || len(p) < 1+int(p[0]) {
		return "", nil, false
	}
	n := int(p[0])
	return string(p[1 : 1+n]), p[1+n:], true
}

// csrfOf returns the csrf token of a session.
func (k *tokens) csrfOf(id sessionID) string {
	m := hmac.New(sha256.New, k.csrf)
	m.Write(id[:])
	return hex.EncodeToString(m.Sum(nil))
}

// checkCSRF reports whether csrf is the session's.
func (k *tokens) checkCSRF(id sessionID, csrf string) bool {
	return hmac.Equal([]byte(k.csrfOf(id)), []byte(csrf))
}

// sessions remembers in memory what happens to sessions after their
// login: refreshes extend them, logouts revoke them. Entries go once the
// session's latest expiry has passed.
type sessions struct {
	mu        sync.Mutex
	extended  map[sessionID]time.Time
	revoked   map[sessionID]time.Time
	lastSweep time.Time
	// kicks are the live sockets of each session, told of a logout.
	kicks map[sessionID]map[chan struct{}]struct{}
}

func newSessions() *sessions {
	return &sessions{extended: map[sessionID]time.Time{}, revoked: map[sessionID]time.Time{},
		kicks: map[sessionID]map[chan struct{}]struct{}{}}
}

// until returns when the session of t ends: its expiry, or later when a
// refresh extended it; an error when it has ended or was revoked.
func (s *sessions) until(t token, now time.Time) (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.revoked[t.session]; ok {
		return time.Time{}, errTokenRevoked
	}
	end := t.expiry
	if e, ok := s.extended[t.session]; ok && e.After(end) {
		end = e
	}
	if !now.Before(end) {
		return time.Time{}, errTokenExpired
	}
	return end, nil
}

// extend makes the session end at until, at the earliest.
func (s *sessions) extend(id sessionID, until, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	if until.After(s.extended[id]) {
		s.extended[id] = until
	}
}

// revoke ends the session, which would end at until at the latest, and
// tells its sockets.
func (s *sessions) revoke(id sessionID, until, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	if e, ok := s.extended[id]; ok && e.After(until) {
		until = e
	}
	s.revoked[id] = until
	delete(s.extended, id)
	for k := range s.kicks[id] {
		select {
		case k <- struct{}{}:
		default:
		}
	}
}

// watch registers a live socket of the session; kick receives a value
// when the session is revoked. Call the returned func when the socket
// ends.
func (s *sessions) watch(id sessionID, kick chan struct{}) func() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kicks[id] == nil {
		s.kicks[id] = map[chan struct{}]struct{}{}
	}
	s.kicks[id][kick] = struct{}{}
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.kicks[id], kick)
		if len(s.kicks[id]) == 0 {
			delete(s.kicks, id)
		}
	}
}

// sweep drops the entries of sessions that have ended, at most once a
// minute. s.mu is held.
func (s *sessions) sweep(now time.Time) {
	if now.Sub(s.lastSweep) < time.Minute {
		return
	}
	s.lastSweep = now
	for id, e := range s.extended {
		if !now.Before(e) {
			delete(s.extended, id)
		}
	}
	for id, e := range s.revoked {
		if !now.Before(e) {
			delete(s.revoked, id)
		}
	}
}

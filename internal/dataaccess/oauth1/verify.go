package oauth1

import (
	"crypto/hmac"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Problems, named as the OAuth Problem Reporting extension names them; an
// Error carries one, and servers send it as oauth_problem in the
// WWW-Authenticate header.
const (
	ProblemParameterAbsent    = "parameter_absent"
	ProblemParameterRejected  = "parameter_rejected"
	ProblemVersionRejected    = "version_rejected"
	ProblemMethodRejected     = "signature_method_rejected"
	ProblemTimestampRefused   = "timestamp_refused"
	ProblemNonceUsed          = "nonce_used"
	ProblemConsumerKeyUnknown = "consumer_key_unknown"
	ProblemTokenRejected      = "token_rejected"
	ProblemSignatureInvalid   = "signature_invalid"
	// ProblemTemporarilyUnavailable is not an authentication failure: the
	// nonce store is full and the request may be retried later.
	ProblemTemporarilyUnavailable = "temporarily_unavailable"
)

// Error is a request that failed verification. Status is the HTTP status
// to answer: 400 for a malformed request, 401 for one that does not
// authenticate, 503 when the server cannot remember another nonce.
type Error struct {
	Status  int
	Problem string
	Message string
}

func (e *Error) Error() string { return "oauth: " + e.Message }

func fail(status int, problem, format string, args ...any) *Error {
	return &Error{Status: status, Problem: problem, Message: fmt.Sprintf(format, args...)}
}

// Secrets returns the consumer secret of consumerKey, the one access token
// issued with it and that token's secret; ok is false for an unknown key.
type Secrets func(consumerKey string) (consumerSecret, token, tokenSecret string, ok bool)

// Verifier checks signed requests. Its zero value is not usable: Secrets
// and Nonces are required.
type Verifier struct {
	Secrets Secrets
	// Nonces remembers the nonces seen within Window.
	Nonces *NonceStore
	// Window is how far a timestamp may be from the server clock; 5
	// minutes if zero. It should equal the NonceStore's window.
	Window time.Duration
	// Now is the server clock; time.Now if nil.
	Now func() time.Time
	// Origin returns the scheme and host the client used for r; if nil,
	// https when r came over TLS, else http, and r.Host. An empty scheme
	// means it cannot be told (plain HTTP behind a proxy that may have
	// terminated TLS): a signature over either https or http is accepted.
	Origin func(r *http.Request) (scheme, host string)
}

// DefaultWindow is the timestamp window of RFC 5849 practice.
const DefaultWindow = 5 * time.Minute

// MaxNonceLen is the longest nonce accepted, so that a remembered nonce
// costs a bounded amount of memory.
const MaxNonceLen = 256

// Result is a verified request's credentials.
type Result struct {
	ConsumerKey string
	Token       string
	Timestamp   time.Time
}

var required = []string{ParamConsumerKey, ParamToken, ParamSignatureMethod, ParamSignature, ParamTimestamp, ParamNonce}

// Verify checks the OAuth signature of r. It returns an *Error when r
// does not authenticate; it does not read r's body.
func (v *Verifier) Verify(r *http.Request) (Result, error) {
	proto, fromQuery, query, err := protocolParams(r)
	if err != nil {
		return Result{}, err
	}
	var absent []string
	for _, name := range required {
		if _, ok := proto[name]; !ok {
			absent = append(absent, name)
		}
	}
	if len(absent) > 0 {
		return Result{}, fail(http.StatusUnauthorized, ProblemParameterAbsent, "missing OAuth parameters: %s", strings.Join(absent, ", "))
	}
	if ver, ok := proto[ParamVersion]; ok && ver != "1.0" {
		return Result{}, fail(http.StatusUnauthorized, ProblemVersionRejected, "oauth_version %q: only 1.0 is supported", ver)
	}
	method := proto[ParamSignatureMethod]
	if method != HMACSHA1 && method != HMACSHA256 {
		return Result{}, fail(http.StatusUnauthorized, ProblemMethodRejected, "unsupported signature method %q: use HMAC-SHA1 or HMAC-SHA256", method)
	}
	ts, err := parseTimestamp(proto[ParamTimestamp])
	if err != nil {
		return Result{}, fail(http.StatusUnauthorized, ProblemParameterRejected, "oauth_timestamp %q: not a number of seconds since 1970", proto[ParamTimestamp])
	}
	now := v.now()
	window := v.window()
	if d := now.Sub(time.Unix(ts, 0)); d > window || d < -window {
		return Result{}, fail(http.StatusUnauthorized, ProblemTimestampRefused,
			"stale timestamp: oauth_timestamp %d is %s from the server clock (%d), limit %s",
			ts, d.Abs().Round(time.Second), now.Unix(), window)
	}
	nonce := proto[ParamNonce]
	if nonce == "" || len(nonce) > MaxNonceLen {
		return Result{}, fail(http.StatusUnauthorized, ProblemParameterRejected, "oauth_nonce: want 1 to %d characters, got %d", MaxNonceLen, len(nonce))
	}
	key := proto[ParamConsumerKey]
	consumerSecret, token, tokenSecret, ok := v.Secrets(key)
	if !ok {
		return Result{}, fail(http.StatusUnauthorized, ProblemConsumerKeyUnknown, "unknown consumer key %q", key)
	}
	if subtle.ConstantTimeCompare([]byte(proto[ParamToken]), []byte(token)) != 1 {
		return Result{}, fail(http.StatusUnauthorized, ProblemTokenRejected, "oauth_token is not the access token of consumer key %q", key)
	}
	scheme, host := v.origin(r)
	// The base string covers the query, whose oauth_ parameters are the
	// protocol parameters when they came that way, and the header's
	// parameters; never the signature or the realm (§3.4.1.3.1).
	params := make([]Param, 0, len(query)+len(proto))
	for _, p := range query {
		if !(fromQuery && p.Name == ParamSignature) {
			params = append(params, p)
		}
	}
	if !fromQuery {
		for name, value := range proto {
			if name != ParamSignature && name != paramRealm {
				params = append(params, Param{name, value})
			}
		}
	}
	schemes := []string{scheme}
	if scheme == "" {
		schemes = []string{"https", "http"}
	}
	got, err := base64.StdEncoding.DecodeString(proto[ParamSignature])
	var base string
	valid := false
	for _, s := range schemes {
		base = BaseString(r.Method, BaseURI(s, host, requestPath(r)), params)
		want, _ := digest(method, consumerSecret, tokenSecret, base)
		if err == nil && hmac.Equal(got, want) {
			valid = true
			break
		}
	}
	if !valid {
		return Result{}, fail(http.StatusUnauthorized, ProblemSignatureInvalid, "bad signature: the %s signature does not match the request (signature base string %q)", method, base)
	}
	switch err := v.Nonces.Use(now, key, proto[ParamToken], nonce, ts); {
	case errors.Is(err, ErrNonceUsed):
		return Result{}, fail(http.StatusUnauthorized, ProblemNonceUsed, "reused nonce: oauth_nonce %q was already used with timestamp %d", nonce, ts)
	case err != nil:
		return Result{}, fail(http.StatusServiceUnavailable, ProblemTemporarilyUnavailable, "cannot remember another nonce: %v", err)
	}
	return Result{ConsumerKey: key, Token: proto[ParamToken], Timestamp: time.Unix(ts, 0)}, nil
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) window() time.Duration {
	if v.Window > 0 {
		return v.Window
	}
	return DefaultWindow
}

func (v *Verifier) origin(r *http.Request) (string, string) {
	if v.Origin != nil {
		return v.Origin(r)
	}
	if r.TLS != nil {
		return "https", r.Host
	}
	return "http", r.Host
}

// protocolParams returns the protocol parameters of r, from its
// Authorization header or else from its query (fromQuery), and all its
// query parameters.
func protocolParams(r *http.Request) (proto map[string]string, fromQuery bool, query []Param, err error) {
	query, err = ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, false, nil, fail(http.StatusBadRequest, ProblemParameterRejected, "malformed query: %v", err)
	}
	var header string
	for _, h := range r.Header.Values("Authorization") {
		if scheme, _, _ := strings.Cut(strings.TrimLeft(h, " \t"), " "); strings.EqualFold(scheme, "OAuth") {
			if header != "" {
				return nil, false, nil, fail(http.StatusBadRequest, ProblemParameterRejected, "more than one OAuth Authorization header")
			}
			header = h
		}
	}
	inQuery := slices.ContainsFunc(query, func(p Param) bool { return strings.HasPrefix(p.Name, "oauth_") })
	switch {
	case header != "":
		m, err := ParseAuthorization(header)
		if err != nil {
			return nil, false, nil, fail(http.StatusBadRequest, ProblemParameterRejected, "malformed Authorization header: %v", err)
		}
		if inQuery {
			return nil, false, nil, fail(http.StatusBadRequest, ProblemParameterRejected, "OAuth parameters both in the Authorization header and in the query: use one")
		}
		return m, false, query, nil
	case inQuery:
		m := map[string]string{}
		for _, p := range query {
			if !strings.HasPrefix(p.Name, "oauth_") {
				continue
			}
			if _, dup := m[p.Name]; dup {
				return nil, false, nil, fail(http.StatusBadRequest, ProblemParameterRejected, "query parameter %s given twice", p.Name)
			}
			m[p.Name] = p.Value
		}
		return m, true, query, nil
	}
	return nil, false, nil, fail(http.StatusUnauthorized, ProblemParameterAbsent, "missing Authorization: OAuth header (or oauth_ query parameters)")
}

// requestPath returns the path of r as the client sent it: from the
// request line when r is a server request, so that a handler mounted under
// http.StripPrefix still sees the whole path.
func requestPath(r *http.Request) string {
	if uri := r.RequestURI; uri != "" {
		if strings.HasPrefix(uri, "/") {
			path, _, _ := strings.Cut(uri, "?")
			return path
		}
		if u, err := url.ParseRequestURI(uri); err == nil {
			return u.EscapedPath()
		}
	}
	return r.URL.EscapedPath()
}

// parseTimestamp parses a positive decimal number of seconds.
func parseTimestamp(s string) (int64, error) {
	if s == "" || len(s) > 18 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, errors.New("not a positive decimal number")
	}
	return strconv.ParseInt(s, 10, 64)
}

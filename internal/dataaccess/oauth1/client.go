package oauth1

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Credentials are a client's token credentials. Sign and Transport sign
// requests with them.
type Credentials struct {
	ConsumerKey, ConsumerSecret string
	Token, TokenSecret          string
	// Method is HMACSHA1 (the default) or HMACSHA256.
	Method string
}

// Sign sets r's Authorization header to an OAuth one signed at time now
// with nonce (a random one if empty). The base string covers r's method,
// URL and query parameters, not its body.
func (c Credentials) Sign(r *http.Request, now time.Time, nonce string) error {
	method := c.Method
	if method == "" {
		method = HMACSHA1
	}
	if nonce == "" {
		nonce = NewNonce()
	}
	proto := map[string]string{
		ParamConsumerKey:     c.ConsumerKey,
		ParamToken:           c.Token,
		ParamSignatureMethod: method,
		ParamTimestamp:       strconv.FormatInt(now.Unix(), 10),
		ParamNonce:           nonce,
		ParamVersion:         "1.0",
	}
	params, err := ParseQuery(r.URL.RawQuery)
	if err != nil {
		return fmt.Errorf("cannot sign %s: %w", r.URL.Redacted(), err)
	}
	for name, value := range proto {
		params = append(params, Param{name, value})
	}
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	scheme := r.URL.Scheme
	if scheme == "" { // a server-side request, as tests build them
		scheme = "http"
		if r.TLS != nil {
			scheme = "https"
		}
	}
	base := BaseString(r.Method, BaseURI(scheme, host, r.URL.EscapedPath()), params)
	sig, err := Sign(method, c.ConsumerSecret, c.TokenSecret, base)
	if err != nil {
		return err
	}
	proto[ParamSignature] = sig
	r.Header.Set("Authorization", FormatAuthorization(proto))
	return nil
}

// NewNonce returns 128 random bits, URL-safe base64.
func NewNonce() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Transport signs each request with Credentials before Base sends it.
type Transport struct {
	Credentials Credentials
	// Base sends the requests; http.DefaultTransport if nil.
	Base http.RoundTripper
	// Now is the clock; time.Now if nil.
	Now func() time.Time
}

// RoundTrip signs a copy of r and sends it.
func (t *Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	r2 := r.Clone(r.Context())
	if err := t.Credentials.Sign(r2, now(), ""); err != nil {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, err
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(r2)
}

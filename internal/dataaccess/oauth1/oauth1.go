// Package oauth1 verifies and signs OAuth 1.0a requests (RFC 5849) with the
// HMAC-SHA1 and HMAC-SHA256 signature methods, for APIs whose clients hold
// token credentials issued out of band (no temporary-credential or
// authorization endpoints: a consumer key and secret plus an access token
// and secret are created by an administrator).
//
// A Verifier checks a server request: it reads the protocol parameters from
// the Authorization header or the query string (RFC 5849 §3.5.1, §3.5.3),
// rebuilds the signature base string over the request as the client sent
// it (§3.4.1), compares signatures in constant time, refuses timestamps
// outside a window around the server clock and nonces seen before within
// it. Credentials signs client requests the same way.
//
// What is not supported: form-encoded entity bodies are not part of the base
// string (the APIs using this package only answer GET), and the PLAINTEXT
// and RSA-SHA1 methods are refused.
//
// Why not a library: the well-kept Go OAuth 1.0 library,
// github.com/dghubble/oauth1, is a client only, with no verifier. It is
// used in the tests instead: it signs real requests that the Verifier must
// accept, and Credentials.Sign must produce its signatures byte for byte.
package oauth1

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"net/url"
	"slices"
	"strings"
)

// Signature methods.
const (
	HMACSHA1   = "HMAC-SHA1"
	HMACSHA256 = "HMAC-SHA256"
)

// Protocol parameter names.
const (
	ParamConsumerKey     = "oauth_consumer_key"
	ParamToken           = "oauth_token"
	ParamSignatureMethod = "oauth_signature_method"
	ParamSignature       = "oauth_signature"
	ParamTimestamp       = "oauth_timestamp"
	ParamNonce           = "oauth_nonce"
	ParamVersion         = "oauth_version"
	paramRealm           = "realm"
)

// Param is one request parameter, decoded.
type Param struct{ Name, Value string }

// Encode percent-encodes s as RFC 5849 §3.6 requires: every byte of its
// UTF-8 form except the unreserved ALPHA, DIGIT, '-', '.', '_' and '~'
// becomes %XX with uppercase hex digits.
func Encode(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hex[c>>4], hex[c&15])
	}
	return string(b)
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

// BaseURI returns the base string URI of RFC 5849 §3.4.1.2: lowercase
// scheme and host, the port only when it is not the scheme's default, and
// the path as the client sent it (escaped, without the query).
func BaseURI(scheme, host, escapedPath string) string {
	scheme = strings.ToLower(scheme)
	host = strings.ToLower(host)
	switch {
	case scheme == "http" && strings.HasSuffix(host, ":80"):
		host = strings.TrimSuffix(host, ":80")
	case scheme == "https" && strings.HasSuffix(host, ":443"):
		host = strings.TrimSuffix(host, ":443")
	}
	if escapedPath == "" {
		escapedPath = "/"
	}
	return scheme + "://" + host + escapedPath
}

// BaseString returns the signature base string of RFC 5849 §3.4.1.1:
// the uppercase method, the encoded base string URI and the encoded
// normalized parameters (§3.4.1.3.2), joined by '&'. params holds every
// query parameter and every protocol parameter except oauth_signature and
// realm, decoded; their order does not matter and names may repeat.
func BaseString(method, baseURI string, params []Param) string {
	enc := make([]Param, len(params))
	for i, p := range params {
		enc[i] = Param{Encode(p.Name), Encode(p.Value)}
	}
	slices.SortFunc(enc, func(a, b Param) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Value, b.Value)
	})
	var norm strings.Builder
	for i, p := range enc {
		if i > 0 {
			norm.WriteByte('&')
		}
		norm.WriteString(p.Name)
		norm.WriteByte('=')
		norm.WriteString(p.Value)
	}
	return strings.ToUpper(method) + "&" + Encode(baseURI) + "&" + Encode(norm.String())
}

// Sign returns the base64 signature of base with method, keyed by the
// encoded consumer and token secrets (RFC 5849 §3.4.2).
func Sign(method, consumerSecret, tokenSecret, base string) (string, error) {
	mac, err := digest(method, consumerSecret, tokenSecret, base)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(mac), nil
}

// errMethod is returned for a signature method other than HMAC-SHA1 and
// HMAC-SHA256.
var errMethod = errors.New("unsupported signature method")

func digest(method, consumerSecret, tokenSecret, base string) ([]byte, error) {
	var h func() hash.Hash
	switch method {
	case HMACSHA1:
		h = sha1.New
	case HMACSHA256:
		h = sha256.New
	default:
		return nil, fmt.Errorf("%w %q", errMethod, method)
	}
	m := hmac.New(h, []byte(Encode(consumerSecret)+"&"+Encode(tokenSecret)))
	m.Write([]byte(base))
	return m.Sum(nil), nil
}

// ParseQuery decodes a raw query string as RFC 5849 §3.4.1.3.1 reads it
// (application/x-www-form-urlencoded: '+' is a space), keeping repeated
// names and names without '='. Empty segments ("a=1&&b=2") are skipped.
// It fails on a malformed percent escape.
func ParseQuery(raw string) ([]Param, error) {
	var params []Param
	for seg := range strings.SplitSeq(raw, "&") {
		if seg == "" {
			continue
		}
		name, value, _ := strings.Cut(seg, "=")
		n, err := url.QueryUnescape(name)
		if err != nil {
			return nil, fmt.Errorf("query parameter %q: %w", seg, err)
		}
		v, err := url.QueryUnescape(value)
		if err != nil {
			return nil, fmt.Errorf("query parameter %q: %w", seg, err)
		}
		params = append(params, Param{n, v})
	}
	return params, nil
}

// ParseAuthorization parses the value of an Authorization header with the
// OAuth scheme (RFC 5849 §3.5.1): `OAuth realm="x", oauth_token="y", ...`.
// The scheme name is case-insensitive; parameters are separated by commas
// with optional white space; values are quoted strings (backslash escapes
// allowed) or tokens, and names and values are percent-decoded. A header
// of another scheme, a parameter given twice or a malformed one is an
// error. The result includes realm when present.
func ParseAuthorization(header string) (map[string]string, error) {
	scheme, rest, _ := strings.Cut(strings.TrimLeft(header, " \t"), " ")
	if !strings.EqualFold(scheme, "OAuth") {
		return nil, errors.New("not an OAuth authorization header")
	}
	params := map[string]string{}
	p := authParser{s: rest}
	for {
		p.skipSpace()
		if p.done() {
			return params, nil
		}
		if p.peek() == ',' {
			p.i++
			continue
		}
		rawName := p.token()
		if rawName == "" {
			return nil, fmt.Errorf("authorization header: expected a parameter name at offset %d", len(scheme)+1+p.i)
		}
		p.skipSpace()
		if p.done() || p.peek() != '=' {
			return nil, fmt.Errorf("authorization header: parameter %q has no value", rawName)
		}
		p.i++
		p.skipSpace()
		var rawValue string
		if !p.done() && p.peek() == '"' {
			v, ok := p.quoted()
			if !ok {
				return nil, fmt.Errorf("authorization header: parameter %q: unterminated quoted string", rawName)
			}
			rawValue = v
		} else {
			rawValue = p.token()
		}
		p.skipSpace()
		if !p.done() && p.peek() != ',' {
			return nil, fmt.Errorf("authorization header: parameter %q: expected ',' after the value", rawName)
		}
		name, err := url.PathUnescape(rawName)
		if err != nil {
			return nil, fmt.Errorf("authorization header: parameter name %q: %w", rawName, err)
		}
		value, err := url.PathUnescape(rawValue)
		if err != nil {
			return nil, fmt.Errorf("authorization header: parameter %q: %w", name, err)
		}
		if _, dup := params[name]; dup {
			return nil, fmt.Errorf("authorization header: parameter %q given twice", name)
		}
		params[name] = value
	}
}

type authParser struct {
	s string
	i int
}

func (p *authParser) done() bool { return p.i >= len(p.s) }
func (p *authParser) peek() byte { return p.s[p.i] }

func (p *authParser) skipSpace() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

// token reads an RFC 7230 token.
func (p *authParser) token() string {
	start := p.i
	for p.i < len(p.s) && tokenChar(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

func tokenChar(c byte) bool {
	if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// quoted reads a quoted string starting at '"' and returns its content.
func (p *authParser) quoted() (string, bool) {
	var b strings.Builder
	for p.i++; p.i < len(p.s); p.i++ {
		switch c := p.s[p.i]; c {
		case '"':
			p.i++
			return b.String(), true
		case '\\':
			p.i++
			if p.i == len(p.s) {
				return "", false
			}
			b.WriteByte(p.s[p.i])
		default:
			b.WriteByte(c)
		}
	}
	return "", false
}

// FormatAuthorization returns an Authorization header value carrying
// params, names sorted, values encoded and quoted (RFC 5849 §3.5.1).
func FormatAuthorization(params map[string]string) string {
	names := make([]string, 0, len(params))
	for n := range params {
		names = append(names, n)
	}
	slices.Sort(names)
	var b strings.Builder
	b.WriteString("OAuth ")
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(Encode(n))
		b.WriteString(`="`)
		b.WriteString(Encode(params[n]))
		b.WriteByte('"')
	}
	return b.String()
}

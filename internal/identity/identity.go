// Package identity verifies who an authenticated visitor is, as
// LivePerson's authenticated chat does on brands' pages: the page defines
// window.lpGetAuthenticationToken, which calls back with a JWT the brand's
// server signed (RS256) for the signed-in customer; the chat window sends
// it, and Sightline verifies it with the public keys the account has
// (account.VisitorAuth): the signature, the issuer and the expiry. Its
// subject identifies the visitor across visits and devices, and its lp_sdes
// claim carries authenticated engagement attributes (ctmrinfo, personal) in
// the page's push shape.
//
// JOSE is github.com/go-jose/go-jose/v4: well kept, it parses JSON Web Key
// Sets and verifies JWTs, with the accepted algorithms named at parse time.
package identity

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/conversation"
)

// MaxTokenLen is the longest JWT taken.
const MaxTokenLen = 16 << 10

// Leeway is the clock difference allowed with the brand's server.
const Leeway = time.Minute

// Accounts finds an account.
type Accounts interface {
	Get(id string) (*account.Account, bool)
}

// Verifier verifies authenticated visitors' JWTs.
type Verifier struct {
	accounts Accounts
	now      func() time.Time
}

// NewVerifier returns a verifier of the accounts' visitors; now nil means
// time.Now.
func NewVerifier(accounts Accounts, now func() time.Time) *Verifier {
	if now == nil {
		now = time.Now
	}
	return &Verifier{accounts: accounts, now: now}
}

// claims are what a visitor's JWT says.
type claims struct {
	jwt.Claims
	ACR  string            `json:"acr"`
	SDEs []json.RawMessage `json:"lp_sdes"`
}

// Identify verifies token for the account and returns the visitor's
// identity and the authenticated attributes the token carries.
func (v *Verifier) Identify(ctx context.Context, accountID, token string) (*conversation.Identity, []conversation.Attribute, error) {
	a, ok := v.accounts.Get(accountID)
	if !ok {
		return nil, nil, fmt.Errorf("no account %q", accountID)
	}
	if a.VisitorAuth == nil {
		return nil, nil, fmt.Errorf("account %s has no key to verify visitors' tokens with", accountID)
	}
	if len(token) > MaxTokenLen {
		return nil, nil, fmt.Errorf("token: %d bytes, limit %d", len(token), MaxTokenLen)
	}
	var keys jose.JSONWebKeySet
	if err := json.Unmarshal(a.VisitorAuth.Keys, &keys); err != nil {
		return nil, nil, fmt.Errorf("account %s's visitor keys: %w", accountID, err)
	}
	t, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, nil, fmt.Errorf("token: %w", err)
	}
	key, err := pick(keys, t)
	if err != nil {
		return nil, nil, err
	}
	var c claims
	if err := t.Claims(key, &c); err != nil {
		return nil, nil, fmt.Errorf("token: %w", err)
	}
	now := v.now()
	switch {
	case c.Expiry == nil:
		return nil, nil, errors.New("token: no exp claim")
	case c.Subject == "":
		return nil, nil, errors.New("token: no sub claim")
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Issuer: a.VisitorAuth.Issuer, Time: now}, Leeway); err != nil {
		return nil, nil, fmt.Errorf("token: %w", err)
	}
	id := &conversation.Identity{Issuer: c.Issuer, Subject: c.Subject, ACR: c.ACR}
	var attrs []conversation.Attribute
	ms := now.UnixMilli()
	for i, raw := range c.SDEs {
		a, err := conversation.NewAttribute(raw, 0, ms)
		if err != nil {
			return nil, nil, fmt.Errorf("token: lp_sdes[%d]: %w", i, err)
		}
		if a.Type != "CUSTOMER_INFO" && a.Type != "PERSONAL_INFO" {
			return nil, nil, fmt.Errorf("token: lp_sdes[%d].type: %s: only ctmrinfo and personal are authenticated attributes", i, a.Type)
		}
		a.Authenticated = true
		attrs = append(attrs, a)
	}
	return id, attrs, nil
}

// pick returns the key of keys that signed t: the one its kid names, or
// the only RSA key.
func pick(keys jose.JSONWebKeySet, t *jwt.JSONWebToken) (any, error) {
	kid := ""
	if len(t.Headers) > 0 {
		kid = t.Headers[0].KeyID
	}
	if kid != "" {
		for _, k := range keys.Key(kid) {
			if pub, ok := k.Key.(*rsa.PublicKey); ok {
				return pub, nil
			}
		}
		return nil, fmt.Errorf("token: no RSA key %q in the account's keys", kid)
	}
	var found *rsa.PublicKey
	for _, k := range keys.Keys {
		if pub, ok := k.Key.(*rsa.PublicKey); ok {
			if found != nil {
				return nil, errors.New("token: no kid header, and the account has several RSA keys")
			}
			found = pub
		}
	}
	if found == nil {
		return nil, errors.New("token: the account has no RSA key")
	}
	return found, nil
}

// ParseKeys reads a brand's public keys given as a PEM public key
// (PKIX or PKCS#1, RSA) or a JSON Web Key Set, and returns them as a JSON
// Web Key Set for account.VisitorAuth.
func ParseKeys(b []byte) (json.RawMessage, error) {
	if block, _ := pem.Decode(b); block != nil {
		var pub any
		var err error
		switch block.Type {
		case "PUBLIC KEY":
			pub, err = x509.ParsePKIXPublicKey(block.Bytes)
		case "RSA PUBLIC KEY":
			pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
		default:
			return nil, fmt.Errorf("PEM block %q: want PUBLIC KEY or RSA PUBLIC KEY", block.Type)
		}
		if err != nil {
			return nil, err
		}
		rsaPub, ok := pub.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("PEM key is %T, want an RSA public key (RS256)", pub)
		}
		return json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: rsaPub, Algorithm: string(jose.RS256), Use: "sig"}}})
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("neither a PEM public key nor a JSON Web Key Set: %w", err)
	}
	n := 0
	for _, k := range set.Keys {
		if _, ok := k.Key.(*rsa.PublicKey); ok {
			n++
		}
		if !k.IsPublic() {
			return nil, fmt.Errorf("key %q is private: give the public keys only", k.KeyID)
		}
	}
	if n == 0 {
		return nil, errors.New("the JSON Web Key Set has no RSA key (RS256)")
	}
	return json.Marshal(set)
}

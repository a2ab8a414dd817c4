// Package identitytest makes what tests of authenticated visitors need: a
// brand's RSA key, its public keys as an account keeps them, and JWTs the
// brand signs.
package identitytest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/sightline/sightline/internal/identity"
)

// Brand is a brand's signing key.
type Brand struct {
	tb  testing.TB
	Key *rsa.PrivateKey
}

// NewBrand makes a brand with a new 2048-bit RSA key.
func NewBrand(tb testing.TB) *Brand {
	tb.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	return &Brand{tb: tb, Key: k}
}

// PEM returns the brand's public key as a PEM PUBLIC KEY block.
func (b *Brand) PEM() []byte {
	der, err := x509.MarshalPKIXPublicKey(&b.Key.PublicKey)
	if err != nil {
		b.tb.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// Keys returns the brand's public keys as account.VisitorAuth keeps them.
func (b *Brand) Keys() json.RawMessage {
	keys, err := identity.ParseKeys(b.PEM())
	if err != nil {
		b.tb.Fatal(err)
	}
	return keys
}

// Sign returns a JWT of claims signed by the brand (RS256).
func (b *Brand) Sign(claims any) string {
	return Sign(b.tb, jose.RS256, b.Key, "", claims)
}

// Sign returns a JWT of claims signed with key by alg, with the key id kid
// in its header when not empty.
func Sign(tb testing.TB, alg jose.SignatureAlgorithm, key any, kid string, claims any) string {
	tb.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tok, err := jwt.Signed(s).Claims(claims).Serialize()
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

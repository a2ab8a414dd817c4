package identity_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/identity"
	"github.com/sightline/sightline/internal/identity/identitytest"
)

var now = time.Date(2026, 12, 8, 10, 0, 0, 0, time.UTC)

type accounts map[string]*account.Account

func (a accounts) Get(id string) (*account.Account, bool) { v, ok := a[id]; return v, ok }

func TestIdentify(t *testing.T) {
	b := identitytest.NewBrand(t)
	brand, other := b.Key, identitytest.NewBrand(t).Key
	keys := b.Keys()
	accts := accounts{
		"shop":   {ID: "shop", VisitorAuth: &account.VisitorAuth{Issuer: "https://idp.shop.example", Keys: keys}},
		"noauth": {ID: "noauth"},
	}
	v := identity.NewVerifier(accts, func() time.Time { return now })
	exp := jwt.NewNumericDate(now.Add(time.Hour))
	good := map[string]any{"iss": "https://idp.shop.example", "sub": "cust-42", "acr": "loa1", "exp": exp,
		"lp_sdes": []any{map[string]any{"type": "ctmrinfo", "info": map[string]any{"cstatus": "gold", "customerId": "cust-42"}},
			map[string]any{"type": "personal", "personal": map[string]any{"firstname": "Ann"}}}}
	with := func(k string, val any) map[string]any {
		c := map[string]any{}
		for kk, vv := range good {
			c[kk] = vv
		}
		if val == nil {
			delete(c, k)
		} else {
			c[k] = val
		}
		return c
	}
	hmacKey := []byte(strings.Repeat("k", 32))
	tests := []struct {
		name    string
		account string
		token   string
		want    string // in the error; "" when the token is good
	}{
		{"good", "shop", identitytest.Sign(t, jose.RS256, brand, "", good), ""},
		{"expired", "shop", identitytest.Sign(t, jose.RS256, brand, "", with("exp", jwt.NewNumericDate(now.Add(-2*time.Minute)))), "expired"},
		{"expired within leeway", "shop", identitytest.Sign(t, jose.RS256, brand, "", with("exp", jwt.NewNumericDate(now.Add(-30*time.Second)))), ""},
		{"no exp", "shop", identitytest.Sign(t, jose.RS256, brand, "", with("exp", nil)), "no exp"},
		{"no sub", "shop", identitytest.Sign(t, jose.RS256, brand, "", with("sub", nil)), "no sub"},
		{"other issuer", "shop", identitytest.Sign(t, jose.RS256, brand, "", with("iss", "https://evil.example")), "issuer"},
		{"other key", "shop", identitytest.Sign(t, jose.RS256, other, "", good), "cryptographic"},
		{"HS256", "shop", identitytest.Sign(t, jose.HS256, hmacKey, "", good), "algorithm"},
		{"unknown kid", "shop", identitytest.Sign(t, jose.RS256, brand, "k9", good), "no RSA key \"k9\""},
		{"unauthenticated attribute type", "shop", identitytest.Sign(t, jose.RS256, brand, "", with("lp_sdes", []any{map[string]any{"type": "cart"}})), "lp_sdes[0].type"},
		{"not a JWT", "shop", "abc.def", "token"},
		{"too long", "shop", strings.Repeat("a", identity.MaxTokenLen+1), "limit"},
		{"account without keys", "noauth", identitytest.Sign(t, jose.RS256, brand, "", good), "no key"},
		{"no account", "nope", identitytest.Sign(t, jose.RS256, brand, "", good), "no account"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, attrs, err := v.Identify(context.Background(), tt.account, tt.token)
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("err %v, want one saying %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id.Subject != "cust-42" || id.Issuer != "https://idp.shop.example" || id.ACR != "loa1" {
				t.Errorf("identity %+v", id)
			}
			if len(attrs) != 2 || attrs[0].Type != "CUSTOMER_INFO" || attrs[1].Type != "PERSONAL_INFO" || !attrs[0].Authenticated ||
				!strings.Contains(string(attrs[0].Data), `"cstatus":"gold"`) || attrs[0].ServerTime != now.UnixMilli() {
				t.Errorf("attributes %+v", attrs)
			}
		})
	}
}

func TestParseKeys(t *testing.T) {
	brand := identitytest.NewBrand(t).Key
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &brand.PublicKey, KeyID: "k1", Algorithm: "RS256"}}})
	private, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: brand, KeyID: "k1"}}})
	tests := []struct {
		name string
		in   []byte
		want string // in the error; "" for none
	}{
		{"PKIX PEM", (&identitytest.Brand{Key: brand}).PEM(), ""},
		{"PKCS#1 PEM", pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&brand.PublicKey)}), ""},
		{"JWKS", jwks, ""},
		{"private JWKS", private, "private"},
		{"EC PEM", pemOfEC(t, &ec.PublicKey), "RSA"},
		{"certificate PEM", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}}), "PUBLIC KEY"},
		{"garbage", []byte("hello"), "neither"},
	}
	for _, tt := range tests {
		got, err := identity.ParseKeys(tt.in)
		if tt.want != "" {
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s: err %v, want %q", tt.name, err, tt.want)
			}
			continue
		}
		var set jose.JSONWebKeySet
		if err != nil || json.Unmarshal(got, &set) != nil || len(set.Keys) != 1 {
			t.Errorf("%s: %v %s", tt.name, err, got)
		}
	}
}

func FuzzIdentify(f *testing.F) {
	b := identitytest.NewBrand(f)
	brand, keys := b.Key, b.Keys()
	v := identity.NewVerifier(accounts{"shop": {ID: "shop", VisitorAuth: &account.VisitorAuth{Issuer: "i", Keys: keys}}},
		func() time.Time { return now })
	f.Add(identitytest.Sign(f, jose.RS256, brand, "", map[string]any{"iss": "i", "sub": "s", "exp": now.Add(time.Hour).Unix()}))
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, token string) {
		id, _, err := v.Identify(context.Background(), "shop", token)
		if err == nil && (id == nil || id.Subject == "") {
			t.Fatalf("accepted %q without a subject", token)
		}
	})
}

func pemOfEC(t *testing.T, pub *ecdsa.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

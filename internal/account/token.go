package account

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
)

// AdminTokenPrefix starts every admin token, so that a leaked one is
// recognisable (by secret scanners too).
const AdminTokenPrefix = "slat_"

// NewAdminToken returns a new random admin API token (32 bytes, base64url,
// after AdminTokenPrefix) and its hash, which is all the account keeps.
func NewAdminToken() (token, hash string) {
	b := make([]byte, 32)
	rand.Read(b) // never fails
	token = AdminTokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, hashToken(token)
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// CheckAdminToken reports whether token is the account's admin token, in
// constant time. An account without a token accepts none.
func (a *Account) CheckAdminToken(token string) bool {
	if a.AdminTokenHash == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(hashToken(token)), []byte(a.AdminTokenHash)) == 1
}

// CheckAdminToken reports whether account id exists and, if so, whether
// token is its admin token: the server's admin API authenticates with it.
func (s *Store) CheckAdminToken(id, token string) (exists, ok bool) {
	a, exists := s.Get(id)
	if !exists {
		return false, false
	}
	return true, a.CheckAdminToken(token)
}

// SetAdminTokenHash replaces the admin token hash of account id (from
// NewAdminToken; "" removes the token), rewriting its file atomically.
// A server picks the change up within a second.
func (s *Store) SetAdminTokenHash(id, hash string) error {
	if hash != "" {
		if b, err := hex.DecodeString(hash); err != nil || len(b) != sha256.Size {
			return fmt.Errorf("account %s: admin token hash must be %d hex digits", id, 2*sha256.Size)
		}
	}
	return s.update(id, func(a *Account) { a.AdminTokenHash = hash })
}

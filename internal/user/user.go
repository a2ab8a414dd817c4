// Package user holds the users of an account who sign in to Sightline:
// agents and bots today (they serve conversations through LivePerson's
// agent protocol and the agent workspace), the console's users later.
//
// An account's users live in one JSON file, <account>.json, in a directory
// of the data directory (see package jsondir), so that `sightline agents
// add` can change them while a server runs. Passwords are kept as Argon2id
// hashes (golang.org/x/crypto/argon2, RFC 9106's KDF for passwords); API
// key secrets, random and long, as SHA-256 hashes.
package user

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/google/uuid"
	"golang.org/x/crypto/argon2"
)

// User is someone who signs in to an account.
type User struct {
	// ID is the user's id: digits, as LivePerson's user ids are.
	ID string `json:"id"`
	// PID is the user's participant id in the messaging protocol.
	PID      string `json:"pid"`
	Login    string `json:"login"`
	Nickname string `json:"nickname,omitempty"`
	// Skills are the names of the skills the agent serves.
	Skills []string `json:"skills,omitempty"`
	// MaxChats is the most conversations the agent is assigned at once (0:
	// no limit).
	MaxChats int  `json:"maxChats,omitempty"`
	Bot      bool `json:"bot,omitempty"`

	PasswordHash string `json:"passwordHash,omitempty"`
	// Keys are the user's API keys (appKey, secret, accessToken,
	// accessTokenSecret), the secrets hashed.
	Keys []Key `json:"keys,omitempty"`
}

// Key is an API key set of a user, as LivePerson's login takes them.
type Key struct {
	AppKey                string `json:"appKey"`
	SecretHash            string `json:"secretHash"`
	AccessToken           string `json:"accessToken"`
	AccessTokenSecretHash string `json:"accessTokenSecretHash"`
}

// Secrets is an API key set in clear, as it is shown once.
type Secrets struct {
	AppKey            string `json:"appKey"`
	Secret            string `json:"secret"`
	AccessToken       string `json:"accessToken"`
	AccessTokenSecret string `json:"accessTokenSecret"`
}

// Limits of a user's fields.
const (
	MaxLoginLen    = 128
	MaxSkills      = 100
	MaxSkillLen    = 128
	MinPasswordLen = 8
	MaxPasswordLen = 1024
)

// Validate checks u's fields, naming the first that is wrong.
func (u *User) Validate() error {
	switch {
	case u.Login == "" || len(u.Login) > MaxLoginLen:
		return fmt.Errorf("login: %d bytes, must be 1 to %d", len(u.Login), MaxLoginLen)
	case strings.ContainsAny(u.Login, " \t\r\n"):
		return fmt.Errorf("login %q: no spaces allowed", u.Login)
	case len(u.Skills) > MaxSkills:
		return fmt.Errorf("skills: %d, limit %d", len(u.Skills), MaxSkills)
	case u.MaxChats < 0:
		return fmt.Errorf("maxChats: %d, must be 0 (no limit) or more", u.MaxChats)
	}
	for _, s := range u.Skills {
		if s == "" || len(s) > MaxSkillLen {
			return fmt.Errorf("skill %.40q: must be 1 to %d bytes", s, MaxSkillLen)
		}
	}
	return nil
}

// newID returns a random 10-digit user id.
func newID() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(9_000_000_000))
	return fmt.Sprint(1_000_000_000 + n.Int64())
}

// Argon2id parameters: RFC 9106's second recommended option (64 MiB would
// be its first; 19 MiB and t=2 is OWASP's, for servers that sign in
// often).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPassword returns the Argon2id hash of password in the PHC string
// format ($argon2id$v=19$m=...,t=...,p=...$salt$hash).
func HashPassword(password string) (string, error) {
	if len(password) < MinPasswordLen || len(password) > MaxPasswordLen {
		return "", fmt.Errorf("password: %d bytes, must be %d to %d", len(password), MinPasswordLen, MaxPasswordLen)
	}
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches the user's hash.
func (u *User) CheckPassword(password string) bool {
	if u.PasswordHash == "" || len(password) > MaxPasswordLen {
		return false
	}
	parts := strings.Split(u.PasswordHash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m > 1<<20 || t > 16 || p == 0 {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 || len(want) > 64 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// NewKey returns a new API key set and what the user keeps of it.
func NewKey() (Secrets, Key) {
	s := Secrets{AppKey: randomHex(16), Secret: randomHex(16), AccessToken: randomHex(16), AccessTokenSecret: randomHex(16)}
	return s, Key{AppKey: s.AppKey, SecretHash: hashSecret(s.Secret), AccessToken: s.AccessToken,
		AccessTokenSecretHash: hashSecret(s.AccessTokenSecret)}
}

// CheckKey reports whether s is one of the user's API key sets.
func (u *User) CheckKey(s Secrets) bool {
	ok := false
	for _, k := range u.Keys {
		match := subtle.ConstantTimeCompare([]byte(k.AppKey), []byte(s.AppKey)) &
			subtle.ConstantTimeCompare([]byte(k.AccessToken), []byte(s.AccessToken)) &
			subtle.ConstantTimeCompare([]byte(k.SecretHash), []byte(hashSecret(s.Secret))) &
			subtle.ConstantTimeCompare([]byte(k.AccessTokenSecretHash), []byte(hashSecret(s.AccessTokenSecret)))
		ok = ok || match == 1
	}
	return ok
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func hashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// ErrExists is returned when adding a user whose login the account has.
var ErrExists = errors.New("user exists")

// newUser completes u with new ids.
func newUser(u User) User {
	u.ID, u.PID = newID(), uuid.NewString()
	return u
}

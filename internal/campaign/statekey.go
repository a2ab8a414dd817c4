package campaign

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
)

// StateKeySize is the length of a StateKey's secret, in bytes.
const StateKeySize = 32

// StateKey signs the states a server answers and checks the states tags
// send back, so that a visitor cannot forge the facts decisions and goal
// records rest on (a cart, a purchase, the campaigns it was eligible
// for), nor pass another visitor's state off as its own. The signature
// covers the account, the visitor and the state's content as this package
// writes it, so it survives the tag's JSON.parse and JSON.stringify.
// Every server of a deployment needs the same secret.
type StateKey struct {
	secret []byte
}

// NewStateKey returns the key of secret, StateKeySize random bytes.
func NewStateKey(secret []byte) *StateKey {
	return &StateKey{secret: append([]byte(nil), secret...)}
}

// sigLen is the length of a signature: 16 bytes of HMAC-SHA256 in
// unpadded base64url.
const sigLen = 22

// sign returns the signature of content, s written without its Sig.
func (k *StateKey) sign(account, visitor string, content []byte) string {
	m := hmac.New(sha256.New, k.secret)
	m.Write([]byte(account))
	m.Write([]byte{0})
	m.Write([]byte(visitor))
	m.Write([]byte{0})
	m.Write(content)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// AppendJSON appends s as JSON, signed for account's visitor.
func (k *StateKey) AppendJSON(dst []byte, s *State, account, visitor string) []byte {
	unsigned := *s
	unsigned.Sig = ""
	content, _ := json.Marshal(&unsigned)
	sig := k.sign(account, visitor, content)
	// Sig is the last field: the signed form is content with it added.
	if len(content) > 2 {
		dst = append(dst, content[:len(content)-1]...)
		dst = append(dst, ',')
	} else {
		dst = append(dst, '{')
	}
	dst = append(dst, `"sig":"`...)
	dst = append(dst, sig...)
	return append(dst, `"}`...)
}

// Read returns the state raw holds, as ReadState does, when k signed it
// for account's visitor. A state with no signature, or one that does not
// match, is an empty one, and refused reports it; a missing state is empty
// and not refused.
func (k *StateKey) Read(raw []byte, account, visitor string) (s State, refused bool) {
	if len(raw) == 0 {
		return State{}, false
	}
	s = ReadState(raw)
	sig := s.Sig
	s.Sig = ""
	content, _ := json.Marshal(&s)
	if len(sig) != sigLen || !hmac.Equal([]byte(sig), []byte(k.sign(account, visitor, content))) {
		return State{}, true
	}
	return s, false
}

package campaign

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash"
	"sync"
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
	macs sync.Pool // *stateMAC
}

// stateMAC is an HMAC of the key and the buffer its input is written to.
type stateMAC struct {
	h   hash.Hash
	in  []byte
	sum [sha256.Size]byte
	sig [sigLen]byte
}

// NewStateKey returns the key of secret, StateKeySize random bytes.
func NewStateKey(secret []byte) *StateKey {
	secret = append([]byte(nil), secret...)
	k := &StateKey{}
	k.macs.New = func() any { return &stateMAC{h: hmac.New(sha256.New, secret)} }
	return k
}

// sigLen is the length of a signature: 16 bytes of HMAC-SHA256 in
// unpadded base64url.
const sigLen = 22

// sign writes the signature of content, a state written without its Sig,
// to m.sig.
func (m *stateMAC) sign(account, visitor string, content []byte) []byte {
	m.in = append(append(append(append(append(m.in[:0], account...), 0), visitor...), 0), content...)
	m.h.Reset()
	m.h.Write(m.in)
	base64.RawURLEncoding.Encode(m.sig[:], m.h.Sum(m.sum[:0])[:16])
	return m.sig[:]
}

// AppendJSON appends s as JSON, signed for account's visitor. It fails,
// appending nothing, when s cannot be written as JSON (a number that is
// ±Inf or NaN), which no state Decide returns holds: the caller must then
// answer no state, so that the tag keeps the one it has, rather than an
// empty one that would lose the visit's facts.
func (k *StateKey) AppendJSON(dst []byte, s *State, account, visitor string) ([]byte, error) {
	unsigned := *s
	unsigned.Sig = ""
	content, err := json.Marshal(&unsigned)
	if err != nil {
		return dst, fmt.Errorf("cannot write campaign state: %w", err)
	}
	m := k.macs.Get().(*stateMAC)
	defer k.macs.Put(m)
	sig := m.sign(account, visitor, content)
	// Sig is the last field: the signed form is content with it added.
	if len(content) > 2 {
		dst = append(dst, content[:len(content)-1]...)
		dst = append(dst, ',')
	} else {
		dst = append(dst, '{')
	}
	dst = append(dst, `"sig":"`...)
	dst = append(dst, sig...)
	return append(dst, `"}`...), nil
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
	m := k.macs.Get().(*stateMAC)
	defer k.macs.Put(m)
	if len(sig) != sigLen || !hmac.Equal([]byte(sig), m.sign(account, visitor, content)) {
		return State{}, true
	}
	return s, false
}

package dataaccess

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/jsondir"
)

// KeysDir returns where the API keys of a data directory live.
func KeysDir(dataDir string) string { return filepath.Join(dataDir, "keys") }

// Key is one set of OAuth 1.0 credentials giving access to one account's
// data: the consumer key and secret and the access token and secret that
// a client signs its requests with.
type Key struct {
	ConsumerKey    string    `json:"consumerKey"`
	ConsumerSecret string    `json:"consumerSecret"`
	AccessToken    string    `json:"accessToken"`
	TokenSecret    string    `json:"tokenSecret"`
	Account        string    `json:"account"`
	Created        time.Time `json:"created"`
}

// ErrKeyNotFound is returned when removing a key that does not exist; it
// wraps fs.ErrNotExist.
var ErrKeyNotFound = fmt.Errorf("key not found: %w", fs.ErrNotExist)

// Keys is the set of API keys in a directory, one <consumer key>.json file
// each, created with mode 0600 in a directory of mode 0700: the secrets
// are stored in clear, since HMAC signatures are verified with them. It is
// safe for concurrent use. Keys added or removed by another process (the
// `sightline keys` commands) take effect within a second, without a
// restart (see package jsondir).
type Keys struct {
	dir *jsondir.Dir[*Key]
}

// OpenKeys opens (creating if needed) the key directory dir and loads it.
func OpenKeys(logger *slog.Logger, dir string) (*Keys, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	d, err := jsondir.Open(logger.With("component", "dataaccess-keys"), dir, "key", decodeKey)
	if err != nil {
		return nil, err
	}
	return &Keys{dir: d}, nil
}

// Path returns the file of a consumer key.
func (k *Keys) Path(consumerKey string) string { return k.dir.Path(consumerKey) }

// Get returns the key with consumerKey.
func (k *Keys) Get(consumerKey string) (Key, bool) {
	if !validConsumerKey(consumerKey) {
		return Key{}, false
	}
	key, ok := k.dir.Get(consumerKey)
	if !ok {
		return Key{}, false
	}
	return *key, true
}

// List returns the keys of acct, or every key if acct is empty, sorted by
// account and creation time.
func (k *Keys) List(acct string) []Key {
	var out []Key
	for _, key := range k.dir.All() {
		if acct == "" || key.Account == acct {
			out = append(out, *key)
		}
	}
	slices.SortFunc(out, func(a, b Key) int {
		if c := strings.Compare(a.Account, b.Account); c != 0 {
			return c
		}
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ConsumerKey, b.ConsumerKey)
	})
	return out
}

// Add creates a key for acct with fresh random credentials: consumer key
// and access token of 128 bits (hex), secrets of 256 bits (URL-safe
// base64). The caller checks that the account exists.
func (k *Keys) Add(acct string) (Key, error) {
	if err := account.ValidateID(acct); err != nil {
		return Key{}, err
	}
	key := Key{
		ConsumerKey:    randomHex(16),
		ConsumerSecret: randomBase64(32),
		AccessToken:    randomHex(16),
		TokenSecret:    randomBase64(32),
		Account:        acct,
		Created:        time.Now().UTC(),
	}
	// atomicfile writes through os.CreateTemp: the file is created 0600.
	if err := k.dir.Create(key.ConsumerKey, &key); err != nil {
		return Key{}, fmt.Errorf("cannot write key for account %s: %w", acct, err)
	}
	return key, nil
}

// Remove deletes the key with consumerKey. It returns an error wrapping
// ErrKeyNotFound when there is none.
func (k *Keys) Remove(consumerKey string) error {
	if !validConsumerKey(consumerKey) {
		return fmt.Errorf("consumer key %q: %w", consumerKey, ErrKeyNotFound)
	}
	if err := k.dir.Remove(consumerKey); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("consumer key %q: %w", consumerKey, ErrKeyNotFound)
		}
		return err
	}
	return nil
}

// Reload reads the directory again.
func (k *Keys) Reload() error { return k.dir.Reload() }

// decodeKey reads the file of consumerKey.
func decodeKey(consumerKey string, b []byte) (*Key, error) {
	var key Key
	if err := json.Unmarshal(b, &key); err != nil {
		return nil, err
	}
	if key.ConsumerKey != consumerKey {
		return nil, fmt.Errorf("consumer key %q does not match file name %q", key.ConsumerKey, consumerKey+".json")
	}
	if key.ConsumerSecret == "" || key.AccessToken == "" || key.TokenSecret == "" {
		return nil, errors.New("missing secret or token")
	}
	if err := account.ValidateID(key.Account); err != nil {
		return nil, err
	}
	return &key, nil
}

// validConsumerKey reports whether s can name a key file.
func validConsumerKey(s string) bool {
	if s == "" || len(s) > 128 || s[0] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func randomBase64(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

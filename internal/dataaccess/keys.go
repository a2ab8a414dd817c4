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
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/atomicfile"
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
// safe for concurrent use. Lookups are served from memory; the directory
// is checked again when a lookup comes more than a second after the last
// check and read again when it changed, so keys added or removed by
// another process (the `sightline keys` commands) take effect within a
// second, without a restart.
type Keys struct {
	dir    string
	logger *slog.Logger

	mu     sync.RWMutex
	keys   map[string]*Key
	dirMod time.Time // the directory's modification time when last read

	checkMu   sync.Mutex
	lastCheck time.Time
}

// OpenKeys opens (creating if needed) the key directory dir and loads it.
func OpenKeys(logger *slog.Logger, dir string) (*Keys, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create key directory: %w", err)
	}
	if err := atomicfile.RemoveTemps(dir); err != nil {
		return nil, fmt.Errorf("cannot clean key directory: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	k := &Keys{dir: dir, logger: logger.With("component", "dataaccess-keys"), keys: map[string]*Key{}}
	if err := k.Reload(); err != nil {
		return nil, err
	}
	return k, nil
}

// Dir returns the key directory.
func (k *Keys) Dir() string { return k.dir }

// Path returns the file of a consumer key.
func (k *Keys) Path(consumerKey string) string { return filepath.Join(k.dir, consumerKey+".json") }

// Get returns the key with consumerKey.
func (k *Keys) Get(consumerKey string) (Key, bool) {
	k.refresh()
	k.mu.RLock()
	defer k.mu.RUnlock()
	key, ok := k.keys[consumerKey]
	if !ok {
		return Key{}, false
	}
	return *key, true
}

// refresh reads the directory again if it changed, looking at most once a
// second. Lookups meanwhile do not wait for it: they use the keys in memory.
func (k *Keys) refresh() {
	if !k.checkMu.TryLock() {
		return
	}
	defer k.checkMu.Unlock()
	now := time.Now()
	if now.Sub(k.lastCheck) < time.Second {
		return
	}
	k.lastCheck = now
	fi, err := os.Stat(k.dir)
	k.mu.RLock()
	dirMod := k.dirMod
	k.mu.RUnlock()
	// A change within the file system's timestamp granularity of the last
	// read leaves the time as it was: read again while the time is recent.
	if err == nil && fi.ModTime().Equal(dirMod) && now.Sub(fi.ModTime()) > 2*time.Second {
		return
	}
	if err := k.Reload(); err != nil {
		k.logger.Warn("cannot reload keys", "err", err)
	}
}

// List returns the keys of acct, or every key if acct is empty, sorted by
// account and creation time.
func (k *Keys) List(acct string) []Key {
	k.refresh()
	k.mu.RLock()
	defer k.mu.RUnlock()
	var out []Key
	for _, key := range k.keys {
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
	b, err := json.MarshalIndent(key, "", "  ")
	if err != nil {
		return Key{}, err
	}
	// atomicfile writes through os.CreateTemp: the file is created 0600.
	if err := atomicfile.Create(k.Path(key.ConsumerKey), append(b, '\n')); err != nil {
		return Key{}, fmt.Errorf("cannot write key for account %s: %w", acct, err)
	}
	k.mu.Lock()
	k.keys[key.ConsumerKey] = &key
	k.mu.Unlock()
	return key, nil
}

// Remove deletes the key with consumerKey. It returns an error wrapping
// ErrKeyNotFound when there is none.
func (k *Keys) Remove(consumerKey string) error {
	if !validConsumerKey(consumerKey) {
		return fmt.Errorf("consumer key %q: %w", consumerKey, ErrKeyNotFound)
	}
	if err := os.Remove(k.Path(consumerKey)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("consumer key %q: %w", consumerKey, ErrKeyNotFound)
		}
		return fmt.Errorf("cannot remove key %s: %w", consumerKey, err)
	}
	k.mu.Lock()
	delete(k.keys, consumerKey)
	k.mu.Unlock()
	if err := atomicfile.Sync(k.dir); err != nil {
		return fmt.Errorf("cannot remove key %s: %w", consumerKey, err)
	}
	return nil
}

// Reload reads the directory again.
func (k *Keys) Reload() error {
	// The time is taken before reading, so that a change while reading is
	// seen by the next check.
	fi, err := os.Stat(k.dir)
	if err != nil {
		return fmt.Errorf("cannot read key directory: %w", err)
	}
	entries, err := os.ReadDir(k.dir)
	if err != nil {
		return fmt.Errorf("cannot read key directory: %w", err)
	}
	keys := make(map[string]*Key, len(entries))
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".json") || strings.HasPrefix(name, ".") {
			continue
		}
		key, err := readKey(filepath.Join(k.dir, name))
		if err != nil {
			k.logger.Warn("skipping unreadable key file", "file", name, "err", err)
			continue
		}
		keys[key.ConsumerKey] = key
	}
	k.mu.Lock()
	k.keys = keys
	k.dirMod = fi.ModTime()
	k.mu.Unlock()
	return nil
}

func readKey(path string) (*Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var key Key
	if err := json.Unmarshal(b, &key); err != nil {
		return nil, err
	}
	if want := strings.TrimSuffix(filepath.Base(path), ".json"); key.ConsumerKey != want {
		return nil, fmt.Errorf("consumer key %q does not match file name %q", key.ConsumerKey, want)
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

package account

import (
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

	"github.com/sightline/sightline/internal/atomicfile"
)

// Store is the set of accounts in a directory, one <id>.json file each.
// It is safe for concurrent use. Lookups are served from memory; the
// directory is read again by Reload, which a server calls periodically and
// on a lookup miss (at most once per second), so accounts added by another
// process are picked up without restart.
type Store struct {
	dir    string
	logger *slog.Logger

	mu       sync.RWMutex
	accounts map[string]*Account

	missMu   sync.Mutex
	lastMiss time.Time
}

// OpenStore opens (creating if needed) the account directory dir and loads it.
func OpenStore(logger *slog.Logger, dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create account directory: %w", err)
	}
	if err := atomicfile.RemoveTemps(dir); err != nil {
		return nil, fmt.Errorf("cannot clean account directory: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Store{dir: dir, logger: logger.With("component", "accounts"), accounts: map[string]*Account{}}
	if err := s.Reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// Get returns the account with id. On a miss it re-reads the directory,
// at most once a second, in case another process added the account.
func (s *Store) Get(id string) (*Account, bool) {
	s.mu.RLock()
	a, ok := s.accounts[id]
	s.mu.RUnlock()
	if ok || ValidateID(id) != nil {
		return a, ok
	}
	s.missMu.Lock()
	reload := time.Since(s.lastMiss) >= time.Second
	if reload {
		s.lastMiss = time.Now()
	}
	s.missMu.Unlock()
	if !reload {
		return nil, false
	}
	if err := s.Reload(); err != nil {
		s.logger.Warn("cannot reload accounts", "err", err)
	}
	s.mu.RLock()
	a, ok = s.accounts[id]
	s.mu.RUnlock()
	return a, ok
}

// List returns every account, sorted by ID.
func (s *Store) List() []Account {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Account, 0, len(s.accounts))
	for _, a := range s.accounts {
		out = append(out, *a)
	}
	slices.SortFunc(out, func(a, b Account) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Len returns the number of accounts.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.accounts)
}

// Add validates a and writes it as a new account. It returns an error
// wrapping ErrExists when the ID is taken.
func (s *Store) Add(a Account) error {
	if err := ValidateID(a.ID); err != nil {
		return err
	}
	origins := make([]string, 0, len(a.Origins))
	for _, o := range a.Origins {
		n, err := NormalizeOrigin(o)
		if err != nil {
			return err
		}
		if !slices.Contains(origins, n) {
			origins = append(origins, n)
		}
	}
	a.Origins = origins
	if a.Created.IsZero() {
		a.Created = time.Now().UTC()
	}
	b, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Create(filepath.Join(s.dir, a.ID+".json"), b); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("account %s: %w", a.ID, ErrExists)
		}
		return fmt.Errorf("cannot write account %s: %w", a.ID, err)
	}
	s.mu.Lock()
	s.accounts[a.ID] = &a
	s.mu.Unlock()
	return nil
}

// Reload reads the directory again.
func (s *Store) Reload() error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("cannot read account directory: %w", err)
	}
	accounts := make(map[string]*Account, len(entries))
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".json") {
			continue
		}
		a, err := readAccount(filepath.Join(s.dir, name))
		if err != nil {
			s.logger.Warn("skipping unreadable account file", "file", name, "err", err)
			continue
		}
		accounts[a.ID] = a
	}
	s.mu.Lock()
	s.accounts = accounts
	s.mu.Unlock()
	return nil
}

func readAccount(path string) (*Account, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var a Account
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, err
	}
	if err := ValidateID(a.ID); err != nil {
		return nil, err
	}
	if want := strings.TrimSuffix(filepath.Base(path), ".json"); a.ID != want {
		return nil, fmt.Errorf("id %q does not match file name %q", a.ID, want)
	}
	return &a, nil
}

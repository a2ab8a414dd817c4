package account

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/atomicfile"
	"github.com/sightline/sightline/internal/jsondir"
	"github.com/sightline/sightline/internal/websession"
)

// Store is the set of accounts in a directory, one <id>.json file each.
// It is safe for concurrent use. Lookups are served from memory; accounts
// another process adds (`sightline accounts add`) are picked up within a
// second, without restart (see package jsondir).
type Store struct {
	dir *jsondir.Dir[*Account]
}

// OpenStore opens (creating if needed) the account directory dir and loads it.
func OpenStore(logger *slog.Logger, dir string) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	d, err := jsondir.Open(logger.With("component", "accounts"), dir, "account", decodeAccount)
	if err != nil {
		return nil, err
	}
	return &Store{dir: d}, nil
}

// Get returns the account with id. An invalid id misses without reading
// the directory again.
func (s *Store) Get(id string) (*Account, bool) {
	if ValidateID(id) != nil {
		return nil, false
	}
	return s.dir.Get(id)
}

// List returns every account, sorted by ID.
func (s *Store) List() []Account {
	all := s.dir.All()
	out := make([]Account, len(all))
	for i, a := range all {
		out[i] = *a
	}
	slices.SortFunc(out, func(a, b Account) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Len returns the number of accounts.
func (s *Store) Len() int { return s.dir.Len() }

// Reload reads the directory again.
func (s *Store) Reload() error { return s.dir.Reload() }

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
	if err := s.dir.Create(a.ID, &a); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("account %s: %w", a.ID, ErrExists)
		}
		return err
	}
	return nil
}

// SetDocumentShape sets how account id's web-session documents are
// written and served (Account.DocumentShape), rewriting its file
// atomically. Hours written before keep their shape.
func (s *Store) SetDocumentShape(id string, shape websession.Shape) error {
	return s.update(id, func(a *Account) { a.DocumentShape = shape })
}

// SetVisitorAuth sets how account id's authenticated visitors are
// verified (nil: no visitor is authenticated).
func (s *Store) SetVisitorAuth(id string, va *VisitorAuth) error {
	return s.update(id, func(a *Account) { a.VisitorAuth = va })
}

// update changes account id with change and rewrites its file atomically;
// a server picks the change up within a second.
func (s *Store) update(id string, change func(*Account)) error {
	cur, ok := s.Get(id)
	if !ok {
		return fmt.Errorf("no account %q", id)
	}
	a := *cur // the stored one is shared with readers
	change(&a)
	b, err := json.MarshalIndent(&a, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(s.dir.Path(id), append(b, '\n')); err != nil {
		return fmt.Errorf("cannot write account %s: %w", id, err)
	}
	return s.dir.Reload()
}

// decodeAccount reads the file of account id.
func decodeAccount(id string, b []byte) (*Account, error) {
	var a Account
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, err
	}
	if err := ValidateID(a.ID); err != nil {
		return nil, err
	}
	if a.ID != id {
		return nil, fmt.Errorf("id %q does not match file name %q", a.ID, id+".json")
	}
	return &a, nil
}

package user

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"sync"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/atomicfile"
	"github.com/sightline/sightline/internal/jsondir"
)

// accountUsers is the file of an account's users.
type accountUsers struct {
	Account string `json:"account"`
	Users   []User `json:"users"`
}

// Store is the users of every account, one file per account in a
// directory. It is safe for concurrent use; users another process adds are
// picked up within a second.
type Store struct {
	dir *jsondir.Dir[*accountUsers]
	mu  sync.Mutex // orders this process's changes
}

// OpenStore opens (creating it if needed) the users directory dir.
func OpenStore(logger *slog.Logger, dir string) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	d, err := jsondir.Open(logger.With("component", "users"), dir, "users", decode)
	if err != nil {
		return nil, err
	}
	return &Store{dir: d}, nil
}

func decode(name string, b []byte) (*accountUsers, error) {
	var f accountUsers
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, err
	}
	if f.Account != name {
		return nil, fmt.Errorf("account %q does not match file name %q", f.Account, name+".json")
	}
	return &f, nil
}

// List returns the account's users.
func (s *Store) List(accountID string) []User {
	f, ok := s.get(accountID)
	if !ok {
		return nil
	}
	return slices.Clone(f.Users)
}

func (s *Store) get(accountID string) (*accountUsers, bool) {
	if account.ValidateID(accountID) != nil {
		return nil, false
	}
	return s.dir.Get(accountID)
}

// ByLogin returns the account's user with login.
func (s *Store) ByLogin(accountID, login string) (User, bool) {
	f, ok := s.get(accountID)
	if !ok {
		return User{}, false
	}
	for _, u := range f.Users {
		if u.Login == login {
			return u, true
		}
	}
	return User{}, false
}

// ByID returns the account's user with id.
func (s *Store) ByID(accountID, id string) (User, bool) {
	f, ok := s.get(accountID)
	if !ok {
		return User{}, false
	}
	for _, u := range f.Users {
		if u.ID == id {
			return u, true
		}
	}
	return User{}, false
}

// Add validates u and adds it to the account with new ids, and returns it
// as stored; an error wraps ErrExists when the login is taken.
func (s *Store) Add(accountID string, u User) (User, error) {
	if err := account.ValidateID(accountID); err != nil {
		return User{}, err
	}
	if err := u.Validate(); err != nil {
		return User{}, err
	}
	u = newUser(u)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.dir.Reload(); err != nil {
		return User{}, err
	}
	f, ok := s.dir.Get(accountID)
	if !ok {
		err := s.dir.Create(accountID, &accountUsers{Account: accountID, Users: []User{u}})
		if !errors.Is(err, fs.ErrExist) {
			return u, err
		}
		if f, ok = s.dir.Get(accountID); !ok {
			return User{}, err
		}
	}
	for _, o := range f.Users {
		if o.Login == u.Login {
			return User{}, fmt.Errorf("login %q in account %s: %w", u.Login, accountID, ErrExists)
		}
	}
	next := &accountUsers{Account: accountID, Users: append(slices.Clone(f.Users), u)}
	return u, s.write(next)
}

// write rewrites an account's file atomically and reads the directory
// again. s.mu is held.
func (s *Store) write(f *accountUsers) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(s.dir.Path(f.Account), append(b, '\n')); err != nil {
		return fmt.Errorf("cannot write users of account %s: %w", f.Account, err)
	}
	return s.dir.Reload()
}

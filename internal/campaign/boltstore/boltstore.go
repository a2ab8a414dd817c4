// Package boltstore is the embedded campaign.Store: every account's
// definitions in one bbolt file of the data directory.
//
// bbolt (go.etcd.io/bbolt) is pure Go, so the server stays one static
// binary; it keeps everything in a single file; its read-write
// transactions are ACID, which makes Save's version check and write one
// atomic step; and it is well kept, as the storage engine of etcd.
//
// The file has one bucket, "accounts", whose keys are account IDs and
// whose values are the accounts' campaign.Definitions as JSON. bbolt locks
// the file: only one process opens it at a time.
package boltstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/sightline/sightline/internal/campaign"
)

// openTimeout bounds the wait for the file lock that another process holds.
const openTimeout = time.Second

var bucket = []byte("accounts")

// Store keeps campaign definitions in a bbolt file. It is safe for
// concurrent use.
type Store struct {
	db *bolt.DB
}

var _ campaign.Store = (*Store)(nil)

// Open opens the store in the file path, creating it if needed. It fails
// after a second when another process has the file open.
func Open(path string) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: openTimeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("campaign database %s is in use by another process", path)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot open campaign database %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucket)
		return err
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("cannot initialise campaign database %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// Load returns the definitions of account; empty ones, at version 0, when
// it has none.
func (s *Store) Load(ctx context.Context, account string) (*campaign.Definitions, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d := new(campaign.Definitions)
	err := s.db.View(func(tx *bolt.Tx) error {
		return get(tx, account, d)
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// Save stores d as the definitions of account if the stored ones are at
// version d.Version-1, in one transaction; else it returns
// campaign.ErrConflict.
func (s *Store) Save(ctx context.Context, account string, d *campaign.Definitions) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if account == "" {
		return errors.New("campaign definitions: account required")
	}
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("cannot encode campaign definitions of %s: %w", account, err)
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		var cur struct {
			Version int64 `json:"version"`
		}
		if v := tx.Bucket(bucket).Get([]byte(account)); v != nil {
			if err := json.Unmarshal(v, &cur); err != nil {
				return fmt.Errorf("cannot decode campaign definitions of %s: %w", account, err)
			}
		}
		if cur.Version != d.Version-1 {
			return campaign.ErrConflict
		}
		if err := tx.Bucket(bucket).Put([]byte(account), b); err != nil {
			return fmt.Errorf("cannot store campaign definitions of %s: %w", account, err)
		}
		return nil
	})
}

// get decodes the definitions of account into d, leaving it as it is when
// there are none.
func get(tx *bolt.Tx, account string, d *campaign.Definitions) error {
	v := tx.Bucket(bucket).Get([]byte(account))
	if v == nil {
		return nil
	}
	// v is valid only within the transaction: Unmarshal copies.
	if err := json.Unmarshal(v, d); err != nil {
		return fmt.Errorf("cannot decode campaign definitions of %s: %w", account, err)
	}
	return nil
}

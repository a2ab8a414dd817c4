package campaign

import (
	"context"
	"errors"
)

// Definitions are everything an account defines for its campaigns, as one
// document: what the store keeps per account.
type Definitions struct {
	// Version grows by one on every update of the account.
	Version int64 `json:"version"`
	// NextID is the next ID to assign to a new campaign, engagement,
	// profile, behavior or goal: IDs are unique within the account.
	NextID       int64        `json:"nextId"`
	Settings     Settings     `json:"settings"`
	Availability Availability `json:"availability,omitempty"`
	Campaigns    []Campaign   `json:"campaigns"`
	Profiles     []Profile    `json:"visitorProfiles"`
	Behaviors    []Behavior   `json:"visitorBehaviors"`
	Goals        []Goal       `json:"goals"`
}

// Store keeps the definitions of every account. The embedded store
// (package campaign/boltstore) keeps them in the data directory; a
// PostgreSQL store fits the same methods.
type Store interface {
	// Load returns the definitions of account: empty ones (Version 0) for
	// an account that has none.
	Load(ctx context.Context, account string) (*Definitions, error)
	// Save stores d as the definitions of account if the stored ones are
	// still at version d.Version-1, else it returns ErrConflict.
	Save(ctx context.Context, account string, d *Definitions) error
}

// ErrConflict is returned by Store.Save when the definitions changed since
// they were loaded.
var ErrConflict = errors.New("campaign definitions changed meanwhile")

package conversation

import "context"

// Store keeps conversations durably. A call that changes something returns
// once the change is durable: it survives a crash of the process or the
// machine (kill -9, power loss) from then on, and a change whose call
// failed or did not return may or may not have been made, never half.
// Calls are safe for concurrent use; concurrent changes of one
// conversation are applied one after the other. Every call names the
// account, and a conversation of another account is ErrNotFound.
type Store interface {
	// Create stores a new conversation, which has no messages yet (its
	// Messages is 0); ErrExists when its ID is taken (in any account).
	Create(ctx context.Context, c *Conversation) error
	// Get returns a conversation; ErrNotFound when the account has none
	// with that id.
	Get(ctx context.Context, account, id string) (*Conversation, error)
	// Update changes a conversation with fn, atomically, and returns it
	// as stored. fn gets a copy it may change; when it returns an error,
	// nothing is stored and Update returns that error. fn must not change
	// ID, AccountID or Messages: Update fails, storing nothing, when it
	// does. fn must not call the Store.
	Update(ctx context.Context, account, id string, fn func(*Conversation) error) (*Conversation, error)
	// AppendMessage adds m to an open conversation (ErrClosed otherwise),
	// giving it the next Seq, and advances the conversation's Messages and
	// Updated (to m.Time). A message whose non-empty ID the conversation
	// already has is not stored again: the stored one is returned, with
	// dup true (also when the conversation has closed since).
	AppendMessage(ctx context.Context, account, id string, m Message) (stored Message, dup bool, err error)
	// Messages returns a conversation's messages from Seq from on, in
	// order, at most limit of them (all when limit is 0).
	Messages(ctx context.Context, account, id string, from, limit int) ([]Message, error)
	// AddStatuses records delivery statuses of a conversation's messages
	// and returns those that were new: a status is ignored when its
	// message does not exist or the participant already has that status
	// or a later one (Read is later than Accepted) for the message.
	AddStatuses(ctx context.Context, account, id string, st []Status) ([]Status, error)
	// Statuses returns a conversation's delivery statuses in the order
	// they were recorded.
	Statuses(ctx context.Context, account, id string) ([]Status, error)
	// List returns the account's conversations that match q, the most
	// recently started first.
	List(ctx context.Context, account string, q Query) ([]*Conversation, error)
	// EachOpen calls fn with every open conversation of every account, for
	// the messaging service to take them up again when it starts. It stops
	// at fn's first error and returns it.
	EachOpen(ctx context.Context, fn func(*Conversation) error) error
	// Close releases the store; calls after it fail.
	Close() error
}

// Query selects conversations of an account; zero fields match all.
type Query struct {
	State      State
	ConsumerID string
	// Subject is the consumer identity's sub: an authenticated visitor's
	// conversations across visits and devices.
	Subject string
	// StartFrom and StartTo bound Start: StartFrom <= Start < StartTo
	// (0: unbounded).
	StartFrom, StartTo int64
	// Limit is the most conversations returned (0: all).
	Limit int
}

// Matches reports whether c matches q (its account aside).
func (q Query) Matches(c *Conversation) bool {
	switch {
	case q.State != "" && c.State != q.State:
		return false
	case q.ConsumerID != "" && c.ConsumerID != q.ConsumerID:
		return false
	case q.Subject != "" && (c.Identity == nil || c.Identity.Subject != q.Subject):
		return false
	case q.StartFrom != 0 && c.Start < q.StartFrom:
		return false
	case q.StartTo != 0 && c.Start >= q.StartTo:
		return false
	}
	return true
}

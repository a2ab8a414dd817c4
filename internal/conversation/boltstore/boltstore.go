// Package boltstore is the embedded conversation.Store: every account's
// conversations, messages and delivery statuses in one bbolt file of the
// data directory.
//
// bbolt (go.etcd.io/bbolt) is pure Go, so the server stays one static
// binary; it keeps everything in a single file; its read-write
// transactions are ACID, durable once committed (fsync), which makes every
// change one atomic step; its readers see a snapshot without waiting for the
// writer; and it is well kept, as the storage engine of etcd. bbolt locks
// the file: only one process opens it at a time.
//
// # Group commit
//
// A bbolt commit costs two fsyncs, and bbolt has one writer at a time. So
// that many conversations can take thousands of messages a second, one
// writer goroutine takes every change queued meanwhile (up to 4096), applies
// them in one read-write transaction, commits it once and then answers each
// caller. Each change first checks everything it depends on against the
// transaction (its conversation, account, state, duplicate message id) and
// only then writes, so that a change that fails (ErrNotFound, ErrClosed,
// Update's fn failing) fails alone and leaves nothing behind, and changes
// of one conversation in one round see each other. A caller whose ctx ends
// before the writer took its change gets ctx.Err() and the change is not
// made; once taken, the call waits for the commit. A failed commit fails
// every change of its round and every change after it, until the store is
// opened again: after a failed fsync the file's state is not known.
// Update's fn runs in the writer: it must be quick and must not call the
// store, or the writer waits for itself. EachOpen calls its fn outside any
// transaction, so that one may call the store.
//
// # Layout
//
// Every conversation has a number n (8 bytes big-endian, from 1), which
// keys its data. In the index keys, account ids, consumer ids and subjects
// have their length first (uvarint), so that no id is a prefix of another;
// ^n is n's complement (8 bytes), newer conversations first among those of
// one start. Times are Unix milliseconds; a "descending" start is
// ^(uint64(start) ^ 1<<63), big-endian, so that later starts sort first.
//
//	meta      "version" -> "1" (the version of this layout)
//	ids       conversation id -> n; ids are unique across accounts
//	data      n 'c' -> the conversation, JSON; its Messages and Updated are the head's
//	          n 'm' seq (8) -> the message, JSON, without its Seq
//	          n 'n' -> the head: open flag (1 byte), messages, statuses (8 bytes
//	                   big-endian each), updated (8), account id (the rest)
//	          n 'o' message id -> seq (8 bytes): the message id index
//	          n 'r' seq (8) participant id -> the participant's best delivery
//	                   status of the message: 1 ACCEPT, 2 READ
//	          n 's' position (8) -> a status, JSON, in the order recorded
//	start     account, descending start, ^n -> nothing
//	consumer  account, consumer id, descending start, ^n -> nothing
//	subject   account, identity's subject, descending start, ^n -> nothing
//	open      n -> nothing, for every open conversation
//
// A message thus writes three keys under its conversation's number, which
// sort next to each other (message, head, id), and leaves the conversation's
// JSON alone: bbolt rewrites every page a commit changes, and the pages
// written per message bound how many messages a second it takes. JSON
// values of the model (a message's Rich and Metadata, an attribute's Data)
// are kept as base64 strings, so that they come back as given to the byte:
// encoding/json would compact them. List reads the
// subject index when the query has a subject, else the consumer index when
// it has a consumer id, else the start index, from the query's StartTo on,
// and checks the rest of the query on each conversation.
package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/sightline/sightline/internal/atomicfile"
	"github.com/sightline/sightline/internal/conversation"
)

// openTimeout bounds the wait for the file lock that another process holds.
const openTimeout = time.Second

// maxIDLen is the longest id (of an account, a conversation, a consumer, a
// participant, a message) and identity subject that the store takes: they
// are parts of bbolt keys, which are at most 32 KiB.
const maxIDLen = 4096

// eachOpenPage is how many conversations EachOpen reads in one
// transaction.
const eachOpenPage = 256

var errStoreClosed = errors.New("conversation store is closed")

// Store keeps conversations in a bbolt file. It is safe for concurrent
// use.
type Store struct {
	db       *bolt.DB
	isClosed atomic.Bool
	kick     chan struct{} // wakes the writer
	exited   chan struct{} // closed when the writer has returned
	commits  atomic.Int64  // transactions committed

	mu     sync.Mutex
	queue  []*op
	closed bool
	failed error // of a commit; changes fail with it from then on

	// Of the writer alone: the round it commits and the queue's spare
	// slice.
	round []*op
	spare []*op
}

var _ conversation.Store = (*Store)(nil)

// Open opens the store in the file path, creating it with mode
// atomicfile.FileMode if needed. It fails after a second when another
// process has the file open.
func Open(path string) (*Store, error) {
	db, err := bolt.Open(path, atomicfile.FileMode, &bolt.Options{
		Timeout: openTimeout,
		// Faster than the array freelist once the file is large, and as
		// safe.
		FreelistType: bolt.FreelistMapType,
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("conversation database %s is in use by another process", path)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot open conversation database %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		switch v := meta.Get(keyVersion); {
		case v == nil:
			return meta.Put(keyVersion, []byte(formatVersion))
		case string(v) != formatVersion:
			return fmt.Errorf("layout version %q, this program reads %q", v, formatVersion)
		}
		return nil
	})
	if err == nil {
		// bbolt fsyncs the file, not the directory that holds its name.
		err = atomicfile.Sync(filepath.Dir(path))
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("cannot initialise conversation database %s: %w", path, err)
	}
	s := &Store{db: db, kick: make(chan struct{}, 1), exited: make(chan struct{})}
	go s.run()
	return s, nil
}

// Close waits for the changes under way, then closes the file.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errStoreClosed
	}
	s.closed = true
	s.mu.Unlock()
	s.isClosed.Store(true)
	select {
	case s.kick <- struct{}{}:
	default:
	}
	<-s.exited
	return s.db.Close()
}

// view runs fn in a read-only transaction.
func (s *Store) view(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.isClosed.Load() {
		return errStoreClosed
	}
	err := s.db.View(fn)
	if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		return errStoreClosed
	}
	return err
}

// checkIDs returns an error when an id is longer than maxIDLen.
func checkIDs(ids ...string) error {
	for _, id := range ids {
		if len(id) > maxIDLen {
			return fmt.Errorf("id of %d bytes: at most %d", len(id), maxIDLen)
		}
	}
	return nil
}

// lookup returns the number and head of conversation id of account.
func lookup(tx *bolt.Tx, account, id string) (uint64, head, error) {
	v := tx.Bucket(bucketIDs).Get([]byte(id))
	if v == nil {
		return 0, head{}, conversation.ErrNotFound
	}
	if len(v) != 8 {
		return 0, head{}, fmt.Errorf("%w: number of conversation %s", errCorrupt, id)
	}
	n := binary.BigEndian.Uint64(v)
	h, err := decodeHead(tx.Bucket(bucketData).Get(dataKey(n, kindHead, 0)))
	if err != nil {
		return 0, head{}, fmt.Errorf("conversation %s: %w", id, err)
	}
	if h.account != account {
		return 0, head{}, conversation.ErrNotFound
	}
	return n, h, nil
}

// read returns conversation n with head h.
func read(tx *bolt.Tx, n uint64, h head) (*conversation.Conversation, error) {
	return decodeConversation(tx.Bucket(bucketData).Get(dataKey(n, kindConversation, 0)), h)
}

// readNumber returns conversation n.
func readNumber(tx *bolt.Tx, n uint64) (*conversation.Conversation, error) {
	h, err := decodeHead(tx.Bucket(bucketData).Get(dataKey(n, kindHead, 0)))
	if err != nil {
		return nil, fmt.Errorf("conversation number %d: %w", n, err)
	}
	return read(tx, n, h)
}

// putIndexes writes the keys of add that are not in del and deletes the
// keys of del that are not in add.
func putIndexes(tx *bolt.Tx, w *writes, del, add []indexKey) {
	in := func(k indexKey, keys []indexKey) bool {
		for _, o := range keys {
			if bytes.Equal(k.bucket, o.bucket) && k.key == o.key {
				return true
			}
		}
		return false
	}
	for _, k := range del {
		if !in(k, add) {
			w.delete(tx.Bucket(k.bucket), []byte(k.key))
		}
	}
	for _, k := range add {
		if !in(k, del) {
			w.put(tx.Bucket(k.bucket), []byte(k.key), []byte{})
		}
	}
}

// Create stores c; see conversation.Store.
func (s *Store) Create(ctx context.Context, c *conversation.Conversation) error {
	switch {
	case c.ID == "" || c.AccountID == "":
		return errors.New("cannot create a conversation without id or account")
	case c.Messages != 0:
		return fmt.Errorf("cannot create conversation %s with %d messages: a new one has none", c.ID, c.Messages)
	}
	if err := checkIDs(c.ID, c.AccountID, c.ConsumerID, subject(c)); err != nil {
		return fmt.Errorf("cannot create conversation: %w", err)
	}
	enc, err := encodeConversation(c)
	if err != nil {
		return err
	}
	h := head{open: c.State == conversation.Open, updated: c.Updated, account: c.AccountID}
	id := []byte(c.ID)
	return s.change(ctx, func(tx *bolt.Tx, w *writes) error {
		ids := tx.Bucket(bucketIDs)
		if ids.Get(id) != nil {
			return conversation.ErrExists
		}
		n, err := ids.NextSequence()
		if err != nil {
			return fmt.Errorf("cannot number conversation %s: %w", id, err)
		}
		data := tx.Bucket(bucketData)
		w.put(ids, id, binary.BigEndian.AppendUint64(nil, n))
		w.put(data, dataKey(n, kindConversation, 0), enc)
		w.put(data, dataKey(n, kindHead, 0), h.encode())
		putIndexes(tx, w, nil, indexKeys(c, n))
		return nil
	})
}

// subject returns the subject of c's identity, if it has one.
func subject(c *conversation.Conversation) string {
	if c.Identity == nil {
		return ""
	}
	return c.Identity.Subject
}

// Get returns a conversation; see conversation.Store.
func (s *Store) Get(ctx context.Context, account, id string) (*conversation.Conversation, error) {
	var c *conversation.Conversation
	err := s.view(ctx, func(tx *bolt.Tx) error {
		n, h, err := lookup(tx, account, id)
		if err != nil {
			return err
		}
		c, err = read(tx, n, h)
		return err
	})
	return c, err
}

// Update changes a conversation with fn; see conversation.Store. fn runs
// in the store's writer: it must be quick and must not call the store. A
// panic of fn is the caller's again.
func (s *Store) Update(ctx context.Context, account, id string, fn func(*conversation.Conversation) error) (*conversation.Conversation, error) {
	var (
		updated  *conversation.Conversation
		panicked any
	)
	err := s.change(ctx, func(tx *bolt.Tx, w *writes) error {
		n, h, err := lookup(tx, account, id)
		if err != nil {
			return err
		}
		c, err := read(tx, n, h)
		if err != nil {
			return err
		}
		old := indexKeys(c, n)
		if err := callUpdate(fn, c, &panicked); err != nil {
			return err
		}
		switch {
		case c.ID != id:
			return fmt.Errorf("cannot update conversation %s: fn changed its ID to %q", id, c.ID)
		case c.AccountID != account:
			return fmt.Errorf("cannot update conversation %s: fn changed its AccountID to %q", id, c.AccountID)
		case uint64(c.Messages) != h.messages:
			return fmt.Errorf("cannot update conversation %s: fn changed its Messages from %d to %d", id, h.messages, c.Messages)
		}
		if err := checkIDs(c.ConsumerID, subject(c)); err != nil {
			return fmt.Errorf("cannot update conversation %s: %w", id, err)
		}
		enc, err := encodeConversation(c)
		if err != nil {
			return err
		}
		h.open, h.updated = c.State == conversation.Open, c.Updated
		data := tx.Bucket(bucketData)
		w.put(data, dataKey(n, kindConversation, 0), enc)
		w.put(data, dataKey(n, kindHead, 0), h.encode())
		putIndexes(tx, w, old, indexKeys(c, n))
		updated = c
		return nil
	})
	if panicked != nil {
		panic(panicked)
	}
	if err != nil {
		return nil, err
	}
	return updated, nil
}

// callUpdate calls fn with c, recovering a panic into *panicked.
func callUpdate(fn func(*conversation.Conversation) error, c *conversation.Conversation, panicked *any) (err error) {
	defer func() {
		if p := recover(); p != nil {
			*panicked = p
			err = fmt.Errorf("update of conversation %s panicked: %v", c.ID, p)
		}
	}()
	return fn(c)
}

// AppendMessage adds m to a conversation; see conversation.Store.
func (s *Store) AppendMessage(ctx context.Context, account, id string, m conversation.Message) (conversation.Message, bool, error) {
	if err := checkIDs(m.ID); err != nil {
		return m, false, fmt.Errorf("cannot append message: %w", err)
	}
	m.Seq = 0
	enc, err := encodeMessage(&m)
	if err != nil {
		return m, false, err
	}
	var (
		stored conversation.Message
		dup    bool
	)
	err = s.change(ctx, func(tx *bolt.Tx, w *writes) error {
		n, h, err := lookup(tx, account, id)
		if err != nil {
			return err
		}
		data := tx.Bucket(bucketData)
		var idKey []byte
		if m.ID != "" {
			idKey = messageIDKey(n, m.ID)
			if v := data.Get(idKey); v != nil {
				if len(v) != 8 {
					return fmt.Errorf("%w: index of message %q of conversation %s", errCorrupt, m.ID, id)
				}
				seq := binary.BigEndian.Uint64(v)
				stored, err = decodeMessage(data.Get(seqKey(n, kindMessage, seq)), seq)
				dup = err == nil
				return err
			}
		}
		if !h.open {
			return conversation.ErrClosed
		}
		seq := h.messages
		h.messages++
		h.updated = m.Time
		w.put(data, seqKey(n, kindMessage, seq), enc)
		if idKey != nil {
			w.put(data, idKey, binary.BigEndian.AppendUint64(nil, seq))
		}
		w.put(data, dataKey(n, kindHead, 0), h.encode())
		stored, dup = m, false
		stored.Seq = int(seq)
		return nil
	})
	if err != nil {
		return m, false, err
	}
	return stored, dup, nil
}

// Messages returns a conversation's messages; see conversation.Store.
func (s *Store) Messages(ctx context.Context, account, id string, from, limit int) ([]conversation.Message, error) {
	if from < 0 || limit < 0 {
		return nil, fmt.Errorf("cannot read messages from %d, %d of them", from, limit)
	}
	var ms []conversation.Message
	err := s.scan(ctx, account, id, kindMessage, uint64(from), limit, func(seq uint64, v []byte) error {
		m, err := decodeMessage(v, seq)
		ms = append(ms, m)
		return err
	})
	if err != nil {
		return nil, err
	}
	return ms, nil
}

// scan calls fn with the position and value of the keys of kind of
// conversation id from position from on, at most limit of them (all when
// limit is 0).
func (s *Store) scan(ctx context.Context, account, id string, kind byte, from uint64, limit int, fn func(pos uint64, v []byte) error) error {
	return s.view(ctx, func(tx *bolt.Tx) error {
		n, _, err := lookup(tx, account, id)
		if err != nil {
			return err
		}
		prefix := dataKey(n, kind, 0)
		c := tx.Bucket(bucketData).Cursor()
		k, v := c.Seek(seqKey(n, kind, from))
		for i := 0; bytes.HasPrefix(k, prefix) && (limit == 0 || i < limit); i++ {
			if err := fn(binary.BigEndian.Uint64(k[len(prefix):]), v); err != nil {
				return fmt.Errorf("conversation %s: %w", id, err)
			}
			k, v = c.Next()
		}
		return nil
	})
}

// AddStatuses records delivery statuses; see conversation.Store.
func (s *Store) AddStatuses(ctx context.Context, account, id string, st []conversation.Status) ([]conversation.Status, error) {
	ranks := make([]byte, len(st))
	encs := make([][]byte, len(st))
	for i := range st {
		var err error
		if ranks[i], err = deliveryRank(st[i].Status); err != nil {
			return nil, fmt.Errorf("cannot add statuses to conversation %s: %w", id, err)
		}
		if err := checkIDs(st[i].Participant); err != nil {
			return nil, fmt.Errorf("cannot add statuses to conversation %s: %w", id, err)
		}
		if encs[i], err = json.Marshal(st[i]); err != nil {
			return nil, fmt.Errorf("cannot encode status: %w", err)
		}
	}
	var added []conversation.Status
	err := s.change(ctx, func(tx *bolt.Tx, w *writes) error {
		n, h, err := lookup(tx, account, id)
		if err != nil {
			return err
		}
		data := tx.Bucket(bucketData)
		added = nil
		best := map[string]byte{} // of the receipt keys this call changes
		for i, status := range st {
			if status.Seq < 0 || uint64(status.Seq) >= h.messages {
				continue
			}
			key := receiptKey(n, uint64(status.Seq), status.Participant)
			had, ok := best[string(key)]
			if !ok {
				if v := data.Get(key); len(v) > 0 {
					had = v[0]
				}
			}
			if had >= ranks[i] {
				continue
			}
			best[string(key)] = ranks[i]
			w.put(data, seqKey(n, kindStatus, h.statuses), encs[i])
			h.statuses++
			added = append(added, status)
		}
		for key, rank := range best {
			w.put(data, []byte(key), []byte{rank})
		}
		if len(added) > 0 {
			w.put(data, dataKey(n, kindHead, 0), h.encode())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return added, nil
}

// Statuses returns a conversation's delivery statuses; see
// conversation.Store.
func (s *Store) Statuses(ctx context.Context, account, id string) ([]conversation.Status, error) {
	var st []conversation.Status
	err := s.scan(ctx, account, id, kindStatus, 0, 0, func(_ uint64, v []byte) error {
		var status conversation.Status
		if err := json.Unmarshal(v, &status); err != nil {
			return fmt.Errorf("%w: status: %w", errCorrupt, err)
		}
		st = append(st, status)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// List returns the account's conversations that match q; see
// conversation.Store.
func (s *Store) List(ctx context.Context, account string, q conversation.Query) ([]*conversation.Conversation, error) {
	bucket, prefix := bucketStart, appendString(nil, account)
	switch {
	case q.Subject != "":
		bucket, prefix = bucketSubject, appendString(prefix, q.Subject)
	case q.ConsumerID != "":
		bucket, prefix = bucketConsumer, appendString(prefix, q.ConsumerID)
	}
	seek := prefix
	if q.StartTo != 0 {
		seek = appendDescending(bytes.Clone(prefix), q.StartTo-1)
	}
	var list []*conversation.Conversation
	err := s.view(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bucket).Cursor()
		for k, _ := c.Seek(seek); bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			if q.Limit > 0 && len(list) == q.Limit {
				break
			}
			if len(k) != len(prefix)+16 {
				return fmt.Errorf("%w: index key of %d bytes", errCorrupt, len(k))
			}
			conv, err := readNumber(tx, ^binary.BigEndian.Uint64(k[len(prefix)+8:]))
			if err != nil {
				return err
			}
			if q.StartFrom != 0 && conv.Start < q.StartFrom {
				break // the index holds later starts first
			}
			if q.Matches(conv) {
				list = append(list, conv)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return list, nil
}

// EachOpen calls fn with every open conversation; see conversation.Store.
// It reads them a page at a time and calls fn outside any transaction: fn
// may call the store.
func (s *Store) EachOpen(ctx context.Context, fn func(*conversation.Conversation) error) error {
	var after []byte // the last number of the page before
	for {
		var page []*conversation.Conversation
		err := s.view(ctx, func(tx *bolt.Tx) error {
			c := tx.Bucket(bucketOpen).Cursor()
			k, _ := c.Seek(after)
			if after != nil && bytes.Equal(k, after) {
				k, _ = c.Next()
			}
			for ; k != nil && len(page) < eachOpenPage; k, _ = c.Next() {
				if len(k) != 8 {
					return fmt.Errorf("%w: open key of %d bytes", errCorrupt, len(k))
				}
				conv, err := readNumber(tx, binary.BigEndian.Uint64(k))
				if err != nil {
					return err
				}
				page = append(page, conv)
				after = bytes.Clone(k)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, c := range page {
			if err := fn(c); err != nil {
				return err
			}
		}
		if len(page) < eachOpenPage {
			return nil
		}
	}
}

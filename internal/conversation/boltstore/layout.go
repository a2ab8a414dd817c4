package boltstore

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sightline/sightline/internal/conversation"
)

// formatVersion is the version of the layout that the package doc
// describes, kept in the meta bucket.
const formatVersion = "1"

// Buckets of the file; see the package doc.
var (
	bucketMeta     = []byte("meta")
	bucketIDs      = []byte("ids")
	bucketData     = []byte("data")
	bucketStart    = []byte("start")
	bucketConsumer = []byte("consumer")
	bucketSubject  = []byte("subject")
	bucketOpen     = []byte("open")
	allBuckets     = [][]byte{bucketMeta, bucketIDs, bucketData, bucketStart, bucketConsumer, bucketSubject, bucketOpen}
	keyVersion     = []byte("version")
)

// Kinds of the keys of the data bucket: the byte after the conversation's
// number. The head and the message ids sort right after the messages, so
// that a new message, its id and the head are often on one page.
const (
	kindConversation = 'c'
	kindMessage      = 'm'
	kindHead         = 'n'
	kindMessageID    = 'o'
	kindReceipt      = 'r'
	kindStatus       = 's'
)

// dataKey returns the key of kind of conversation n, with room for extra
// bytes more.
func dataKey(n uint64, kind byte, extra int) []byte {
	k := make([]byte, 9, 9+extra)
	binary.BigEndian.PutUint64(k, n)
	k[8] = kind
	return k
}

// seqKey returns the key of kind of conversation n followed by seq: a
// message or a status.
func seqKey(n uint64, kind byte, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(dataKey(n, kind, 8), seq)
}

// messageIDKey returns the key of the message id index of conversation n.
func messageIDKey(n uint64, id string) []byte {
	return append(dataKey(n, kindMessageID, len(id)), id...)
}

// receiptKey returns the key of the best delivery status of participant
// for message seq of conversation n.
func receiptKey(n uint64, seq uint64, participant string) []byte {
	k := binary.BigEndian.AppendUint64(dataKey(n, kindReceipt, 8+len(participant)), seq)
	return append(k, participant...)
}

// appendString appends s with its length before it, so that a key holding
// it sorts the keys of one s together whatever follows.
func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendDescending appends start so that later starts sort first.
func appendDescending(b []byte, start int64) []byte {
	return binary.BigEndian.AppendUint64(b, ^(uint64(start) ^ 1<<63))
}

// indexKey is a key of an index bucket.
type indexKey struct {
	bucket []byte
	key    string
}

// indexKeys returns the index keys of c, conversation number n.
func indexKeys(c *conversation.Conversation, n uint64) []indexKey {
	suffix := appendDescending(nil, c.Start)
	suffix = binary.BigEndian.AppendUint64(suffix, ^n)
	account := appendString(nil, c.AccountID)
	keys := []indexKey{{bucketStart, string(account) + string(suffix)}}
	if c.ConsumerID != "" {
		keys = append(keys, indexKey{bucketConsumer, string(appendString(account, c.ConsumerID)) + string(suffix)})
	}
	if c.Identity != nil && c.Identity.Subject != "" {
		keys = append(keys, indexKey{bucketSubject, string(appendString(account, c.Identity.Subject)) + string(suffix)})
	}
	if c.State == conversation.Open {
		keys = append(keys, indexKey{bucketOpen, string(binary.BigEndian.AppendUint64(nil, n))})
	}
	return keys
}

// head is what changes with every message and status of a conversation,
// apart from its JSON: see the package doc.
type head struct {
	open     bool
	messages uint64
	statuses uint64
	updated  int64
	account  string
}

const headSize = 1 + 8 + 8 + 8

func (h *head) encode() []byte {
	b := make([]byte, headSize, headSize+len(h.account))
	if h.open {
		b[0] = 1
	}
	binary.BigEndian.PutUint64(b[1:], h.messages)
	binary.BigEndian.PutUint64(b[9:], h.statuses)
	binary.BigEndian.PutUint64(b[17:], uint64(h.updated))
	return append(b, h.account...)
}

var errCorrupt = errors.New("corrupt conversation database")

func decodeHead(b []byte) (head, error) {
	if len(b) < headSize {
		return head{}, fmt.Errorf("%w: head of %d bytes", errCorrupt, len(b))
	}
	return head{
		open:     b[0]&1 != 0,
		messages: binary.BigEndian.Uint64(b[1:]),
		statuses: binary.BigEndian.Uint64(b[9:]),
		updated:  int64(binary.BigEndian.Uint64(b[17:])),
		account:  string(b[headSize:]),
	}, nil
}

// storedConversation is a Conversation as the file keeps it: the bytes of
// its attributes' JSON data as they are (base64 in the JSON), where
// encoding/json would compact a json.RawMessage. Its Messages and Updated
// are the head's.
type storedConversation struct {
	*conversation.Conversation
	Attributes []storedAttribute `json:"attributes,omitempty"`
}

type storedAttribute struct {
	conversation.Attribute
	Data []byte `json:"data"`
}

func encodeConversation(c *conversation.Conversation) ([]byte, error) {
	sc := *c
	sc.Messages, sc.Updated, sc.Attributes = 0, 0, nil
	stored := storedConversation{Conversation: &sc}
	if c.Attributes != nil {
		stored.Attributes = make([]storedAttribute, len(c.Attributes))
		for i, a := range c.Attributes {
			stored.Attributes[i] = storedAttribute{Attribute: a, Data: a.Data}
		}
	}
	b, err := json.Marshal(stored)
	if err != nil {
		return nil, fmt.Errorf("cannot encode conversation %s: %w", c.ID, err)
	}
	return b, nil
}

// decodeConversation decodes the JSON b, which it does not keep, with its
// head h.
func decodeConversation(b []byte, h head) (*conversation.Conversation, error) {
	stored := storedConversation{Conversation: new(conversation.Conversation)}
	if err := json.Unmarshal(b, &stored); err != nil {
		return nil, fmt.Errorf("%w: %w", errCorrupt, err)
	}
	c := stored.Conversation
	if stored.Attributes != nil {
		c.Attributes = make([]conversation.Attribute, len(stored.Attributes))
		for i, a := range stored.Attributes {
			c.Attributes[i] = a.Attribute
			c.Attributes[i].Data = a.Data
		}
	}
	c.Messages, c.Updated = int(h.messages), h.updated
	return c, nil
}

// storedMessage is a Message as the file keeps it: its JSON values' bytes
// as they are (see storedConversation). Its Seq is in the key: the zero Seq
// here hides the message's.
type storedMessage struct {
	*conversation.Message
	Seq      int    `json:"seq,omitempty"`
	Rich     []byte `json:"rich,omitempty"`
	Metadata []byte `json:"metadata,omitempty"`
}

func encodeMessage(m *conversation.Message) ([]byte, error) {
	b, err := json.Marshal(storedMessage{Message: m, Rich: m.Rich, Metadata: m.Metadata})
	if err != nil {
		return nil, fmt.Errorf("cannot encode message: %w", err)
	}
	return b, nil
}

// decodeMessage decodes message seq from b, which it does not keep.
func decodeMessage(b []byte, seq uint64) (conversation.Message, error) {
	var m conversation.Message
	stored := storedMessage{Message: &m}
	if err := json.Unmarshal(b, &stored); err != nil {
		return m, fmt.Errorf("%w: message %d: %w", errCorrupt, seq, err)
	}
	m.Seq, m.Rich, m.Metadata = int(seq), stored.Rich, stored.Metadata
	return m, nil
}

// deliveryRank orders delivery statuses: a later one has a higher rank.
func deliveryRank(d conversation.Delivery) (byte, error) {
	switch d {
	case conversation.Accepted:
		return 1, nil
	case conversation.Read:
		return 2, nil
	}
	return 0, fmt.Errorf("unknown delivery status %q", d)
}

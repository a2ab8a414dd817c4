// Package eventlog defines the durable, partitioned event log that ingest
// appends to and every downstream consumer reads from.
//
// The log is the source of truth of Sightline: ingest acknowledges an event
// only once its append's Pending.Wait has returned nil, which means the
// event is on stable storage. Records are opaque bytes; the event package defines what is in
// them. Records are partitioned by key (the visitor), so all records of one
// key land in one partition, in append order.
//
// The embedded implementation lives in eventlog/embedded; a Kafka
// implementation will satisfy the same interfaces. Consumers only see the
// interfaces below.
package eventlog

import (
	"context"
	"errors"
)

// Offset is a position in one partition. Offsets are opaque to consumers:
// they only compare them, store them and pass them back. The offset of the
// first record of a partition is not necessarily 0 once retention has
// removed old data.
type Offset int64

// Message is one record read back from the log.
type Message struct {
	Partition int
	Offset    Offset // position of this record
	Next      Offset // position of the record after it
	Value     []byte // valid only while the callback it was passed to runs
}

// Appender appends records durably.
type Appender interface {
	// Submit hands all values under key to the key's partition,
	// atomically: either every value becomes durable or none is visible to
	// readers. The values are copied before Submit returns, so the caller
	// may reuse them at once and wait with nothing of them held. It returns
	// ErrBusy when the partition cannot keep up, ErrClosed once the log is
	// closed, and an error wrapping ErrUnavailable when storage has failed.
	Submit(key []byte, values [][]byte) (Pending, error)
}

// Pending is a submitted append on its way to stable storage.
type Pending interface {
	// Wait returns nil once the values are durable, or the error that kept
	// them from being stored (wrapping ErrUnavailable when storage failed:
	// disk full). It returns ctx.Err() if ctx ends first, in which case
	// the values may still be stored.
	Wait(ctx context.Context) error
}

// Append submits values under key to a and waits until they are durable;
// see Appender.Submit and Pending.Wait.
func Append(ctx context.Context, a Appender, key []byte, values [][]byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := a.Submit(key, values)
	if err != nil {
		return err
	}
	return p.Wait(ctx)
}

// Reader reads partitions.
type Reader interface {
	// Partitions is the number of partitions.
	Partitions() int
	// Read calls fn for the records of partition p from offset from on, in
	// order, until fn returns false, the end of committed data is reached or
	// maxBytes of values have been passed (at least one record is passed;
	// maxBytes <= 0 means no limit). It returns the offset to read from
	// next: the Next of the last message passed to fn, including one for
	// which fn returned false, or from when nothing was read. A from older
	// than the oldest retained record starts at the oldest retained record.
	Read(ctx context.Context, p int, from Offset, maxBytes int, fn func(Message) bool) (Offset, error)
}

// RangeReader is a Reader that also reads again the records between two
// offsets it has passed, reading nothing past the second: a consumer that
// keeps where records are, rather than the records, fetches them at once.
type RangeReader interface {
	Reader
	// ReadRange calls fn for the records of partition p from offset from
	// up to (not including) offset to, in order, until fn returns false.
	// from and to are offsets of records (Message.Offset) or after them
	// (Message.Next) that Read passed. Records deleted by retention since
	// are not passed; others may be passed in their place, so a caller
	// checks what it gets.
	ReadRange(ctx context.Context, p int, from, to Offset, fn func(Message) bool) error
}

// Segmented is a Reader whose partitions are files of records in append
// order, each starting at a known offset: a consumer looking for the
// records of a time range can read the first record of each and start at
// the last one before the range, rather than at the oldest record.
type Segmented interface {
	// SegmentStarts returns the offsets at which the retained segments of
	// partition p start, oldest first.
	SegmentStarts(p int) ([]Offset, error)
}

// OffsetStore keeps consumers' positions.
type OffsetStore interface {
	// CommitOffset durably records that consumer group has processed
	// partition p up to (not including) off.
	CommitOffset(group string, p int, off Offset) error
	// CommittedOffset returns the offset recorded for group and p, or 0 and
	// false when none is.
	CommittedOffset(group string, p int) (Offset, bool, error)
}

var (
	// ErrBusy means the log cannot accept more data right now; retry later.
	ErrBusy = errors.New("event log busy")
	// ErrUnavailable means storage failed (disk full, I/O error); nothing of
	// the failed append is visible.
	ErrUnavailable = errors.New("event log unavailable")
	// ErrClosed means the log was closed.
	ErrClosed = errors.New("event log closed")
)

// PartitionFor returns the partition of key among n partitions. Every
// implementation uses it so that a key maps to the same partition whatever
// the back end.
func PartitionFor(key []byte, n int) int {
	// FNV-1a, 32 bits, written out so that the hot path does not allocate.
	h := uint32(2166136261)
	for _, c := range key {
		h ^= uint32(c)
		h *= 16777619
	}
	return int(h % uint32(n))
}

// readChunk is how many bytes of values ReadToEnd asks Read for at a time.
const readChunk = 4 << 20

// ReadToEnd calls fn for every record of partition p from offset from to the
// end of committed data, in order, until fn returns false. It returns the
// offset to continue from later.
func ReadToEnd(ctx context.Context, r Reader, p int, from Offset, fn func(Message) bool) (Offset, error) {
	stopped := false
	for !stopped {
		next, err := r.Read(ctx, p, from, readChunk, func(m Message) bool {
			stopped = !fn(m)
			return !stopped
		})
		if err != nil || next == from {
			return next, err
		}
		from = next
	}
	return from, nil
}

package embedded

import (
	"errors"
	"fmt"
)

var (
	// ErrRecordTooLarge is returned by Append for a value longer than
	// MaxRecordSize.
	ErrRecordTooLarge = errors.New("event log record too large")
	// ErrLocked is returned by Open when another Log has the directory open.
	ErrLocked = errors.New("event log directory locked by another writer")
)

// CorruptionError reports a record that cannot be decoded: an incomplete
// record, an impossible length or a checksum mismatch. Open repairs such
// a record at the tail of a partition by truncating it away; anywhere else
// Read returns a CorruptionError and does not skip it.
type CorruptionError struct {
	Partition int
	Segment   string // path of the segment file
	Offset    int64  // offset of the bad record in the partition
	Err       error
}

// Error implements error.
func (e *CorruptionError) Error() string {
	return fmt.Sprintf("event log corrupted: partition %d, segment %s, offset %d: %v", e.Partition, e.Segment, e.Offset, e.Err)
}

// Unwrap returns the reason of the corruption.
func (e *CorruptionError) Unwrap() error { return e.Err }

// isFrameError reports whether err is a reason of corruption found by
// frameReader.scan.
func isFrameError(err error) bool {
	return err == errTruncated || err == errBadLength || err == errChecksum
}

package embedded

import (
	"fmt"
	"time"
)

// Defaults of Options.
const (
	DefaultPartitions      = 8
	DefaultSegmentBytes    = 128 << 20
	DefaultMaxPendingBytes = 32 << 20
	DefaultRetentionAge    = 30 * 24 * time.Hour
	DefaultWALBytes        = 64 << 20
	// DefaultCommitInterval: under load, one commit (one fsync) every
	// 3 ms at most. Measured with `sightline bench ingest` on 2 cores:
	// 1 ms raised durable throughput by a fifth over committing as soon as
	// the previous fsync returned; 3 ms, in the same runs as 1 ms, raised
	// it from 40-44% to 46-47% of the no-op ceiling, since rounds of about
	// 25 batches instead of 7 take fewer writes, fsyncs and wake-ups per
	// batch. It costs up to 3 ms more latency under load and none when idle.
	DefaultCommitInterval = 3 * time.Millisecond
)

// Options configure a Log. Start from DefaultOptions; a zero Partitions,
// SegmentBytes or MaxPendingBytes takes its default.
type Options struct {
	// Partitions is the number of partitions. It is fixed when the log is
	// created: opening an existing log with another number is an error.
	Partitions int
	// SegmentBytes is the size at which the active segment of a partition
	// is closed and a new one started.
	SegmentBytes int64
	// MaxPendingBytes bounds, per partition, the framed bytes accepted by
	// Append but not yet handed to the writer. An Append that would exceed
	// it returns eventlog.ErrBusy. An Append larger than the bound on its
	// own is accepted when nothing else is pending.
	MaxPendingBytes int
	// RetentionAge deletes segments whose newest record is older than
	// this. Zero keeps segments whatever their age.
	RetentionAge time.Duration
	// RetentionBytes deletes the oldest segments of a partition while the
	// partition holds more than this many bytes. Zero means no limit.
	RetentionBytes int64
	// CommitInterval is the least time between the starts of two commits:
	// a writer that committed less than CommitInterval ago waits for the
	// rest of it, gathering more appends, so that under load one fsync
	// makes more of them durable. An append to an idle log is written at
	// once. Zero disables it (DefaultOptions sets DefaultCommitInterval).
	CommitInterval time.Duration
	// WALBytes is the size of the write-ahead file at which a checkpoint
	// fsyncs the segments and starts a new one.
	WALBytes int64
	// NoSync skips fsync. Appends are then not durable: use it only in
	// tests and benchmarks.
	NoSync bool

	// openFile opens segment files for writing; tests replace it to inject
	// failures. Nil means os.OpenFile.
	openFile func(name string, flag int) (segmentFile, error)
}

// DefaultOptions returns the options used when nothing else is configured.
func DefaultOptions() Options {
	return Options{
		Partitions:      DefaultPartitions,
		SegmentBytes:    DefaultSegmentBytes,
		MaxPendingBytes: DefaultMaxPendingBytes,
		RetentionAge:    DefaultRetentionAge,
		WALBytes:        DefaultWALBytes,
		CommitInterval:  DefaultCommitInterval,
	}
}

// withDefaults fills in zero fields and rejects impossible values.
func (o Options) withDefaults() (Options, error) {
	if o.Partitions == 0 {
		o.Partitions = DefaultPartitions
	}
	if o.SegmentBytes == 0 {
		o.SegmentBytes = DefaultSegmentBytes
	}
	if o.MaxPendingBytes == 0 {
		o.MaxPendingBytes = DefaultMaxPendingBytes
	}
	if o.WALBytes == 0 {
		o.WALBytes = DefaultWALBytes
	}
	switch {
	case o.Partitions < 0:
		return o, fmt.Errorf("invalid partitions %d: must be positive", o.Partitions)
	case o.SegmentBytes < 0:
		return o, fmt.Errorf("invalid segment bytes %d: must be positive", o.SegmentBytes)
	case o.MaxPendingBytes < 0:
		return o, fmt.Errorf("invalid max pending bytes %d: must be positive", o.MaxPendingBytes)
	case o.RetentionAge < 0:
		return o, fmt.Errorf("invalid retention age %s: must not be negative", o.RetentionAge)
	case o.WALBytes < 0:
		return o, fmt.Errorf("invalid write-ahead bytes %d: must be positive", o.WALBytes)
	case o.RetentionBytes < 0:
		return o, fmt.Errorf("invalid retention bytes %d: must not be negative", o.RetentionBytes)
	}
	if o.openFile == nil {
		o.openFile = openOSFile
	}
	return o, nil
}

package embedded

import (
	"errors"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sightline/sightline/internal/eventlog"
)

// faults injects failures into the segment files of a Log.
type faults struct {
	mu        sync.Mutex
	writeErr  error // WriteAt writes half, then fails with it
	syncErr   error // Sync fails with it, syncFails times
	syncFails int
	truncErr  error         // Truncate fails with it
	syncGate  chan struct{} // when not nil, Sync waits until it is closed
	syncing   chan struct{} // buffered; receives when a Sync starts waiting on syncGate
}

func (fs *faults) set(f func(fs *faults)) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f(fs)
}

func (fs *faults) get() faults {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return faults{writeErr: fs.writeErr, syncErr: fs.syncErr, truncErr: fs.truncErr, syncGate: fs.syncGate, syncing: fs.syncing}
}

// failSync reports whether a Sync must fail, counting the failure.
func (fs *faults) failSync() error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.syncFails == 0 {
		return nil
	}
	fs.syncFails--
	return fs.syncErr
}

// open is an Options.openFile.
func (fs *faults) open(name string, flag int) (segmentFile, error) {
	f, err := os.OpenFile(name, flag, 0o644)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: f, faults: fs}, nil
}

// faultFile is a segment file that fails as its faults say.
type faultFile struct {
	*os.File
	faults *faults
}

func (f *faultFile) WriteAt(b []byte, off int64) (int, error) {
	if err := f.faults.get().writeErr; err != nil {
		n, _ := f.File.WriteAt(b[:len(b)/2], off)
		return n, err
	}
	return f.File.WriteAt(b, off)
}

func (f *faultFile) Sync() error {
	fs := f.faults.get()
	if fs.syncGate != nil {
		select {
		case fs.syncing <- struct{}{}:
		default:
		}
		<-fs.syncGate
	}
	if err := f.faults.failSync(); err != nil {
		return err
	}
	return f.File.Sync()
}

func (f *faultFile) Truncate(size int64) error {
	if err := f.faults.get().truncErr; err != nil {
		return err
	}
	return f.File.Truncate(size)
}

func openFaulty(t *testing.T, dir string, reg prometheus.Registerer) (*Log, *faults) {
	t.Helper()
	fs := &faults{}
	opts := testOptions(1)
	opts.openFile = fs.open
	opts.MaxPendingBytes = 1000
	l, err := Open(nil, reg, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, fs
}

func TestBusy(t *testing.T) {
	reg := prometheus.NewRegistry()
	l, fs := openFaulty(t, t.TempDir(), reg)
	gate, syncing := make(chan struct{}), make(chan struct{}, 10)
	fs.set(func(fs *faults) { fs.syncGate, fs.syncing = gate, syncing })
	value := [][]byte{make([]byte, 400)}

	// The first append blocks the writer in Sync; the second waits for
	// the writer with 408 bytes pending; the third would pass 1000.
	errs := make(chan error, 2)
	go func() { errs <- eventlog.Append(t.Context(), l, []byte("k"), value) }()
	<-syncing
	go func() { errs <- eventlog.Append(t.Context(), l, []byte("k"), append(value, make([]byte, 400))) }()
	p := l.parts[0]
	for {
		p.mu.Lock()
		n := len(p.pending)
		p.mu.Unlock()
		if n > 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err := eventlog.Append(t.Context(), l, []byte("k"), value); !errors.Is(err, eventlog.ErrBusy) {
		t.Fatalf("Append with 816 bytes pending = %v, want ErrBusy", err)
	}
	close(gate)
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("Append: %v", err)
		}
	}
	if got := gather(t, reg)["sightline_eventlog_append_errors_total{reason=busy}"]; got != 1 {
		t.Fatalf("busy errors = %v, want 1", got)
	}
	if err := eventlog.Append(t.Context(), l, []byte("k"), value); err != nil {
		t.Fatalf("Append once the writer caught up: %v", err)
	}
	if n := len(readAll(t, l, 0)); n != 4 {
		t.Fatalf("%d records, want 4", n)
	}
}

// TestAppendWaitsForContext checks that an Append whose context ends while
// the writer is stuck returns the context's error.
func TestAppendWaitsForContext(t *testing.T) {
	l, fs := openFaulty(t, t.TempDir(), nil)
	gate := make(chan struct{})
	fs.set(func(fs *faults) { fs.syncGate = gate })
	ctx, cancel := contextWithTimeout(t, 20*time.Millisecond)
	defer cancel()
	if err := eventlog.Append(ctx, l, []byte("k"), [][]byte{[]byte("v")}); !errors.Is(err, ctx.Err()) || ctx.Err() == nil {
		t.Fatalf("Append = %v, want %v", err, ctx.Err())
	}
	close(gate)
}

func TestWriteFailure(t *testing.T) {
	tests := []struct {
		name   string
		inject func(fs *faults)
		cause  error
	}{
		{"disk full", func(fs *faults) { fs.writeErr = syscall.ENOSPC }, syscall.ENOSPC},
		{"write I/O error", func(fs *faults) { fs.writeErr = syscall.EIO }, syscall.EIO},
		{"sync I/O error", func(fs *faults) { fs.syncErr, fs.syncFails = syscall.EIO, 1 }, syscall.EIO},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			reg := prometheus.NewRegistry()
			l, fs := openFaulty(t, dir, reg)
			appendAll(t, l, []byte("k"), "before")
			seg := lastSegment(t, dir, 0)
			size := fileSize(t, seg)

			fs.set(tt.inject)
			err := eventlog.Append(t.Context(), l, []byte("k"), [][]byte{[]byte("lost 1"), []byte("lost 2")})
			if !errors.Is(err, eventlog.ErrUnavailable) || !errors.Is(err, tt.cause) {
				t.Fatalf("Append = %v, want ErrUnavailable and %v", err, tt.cause)
			}
			if got := fileSize(t, seg); got != size {
				t.Fatalf("segment has %d bytes after the failure, want %d", got, size)
			}
			checkValues(t, l, 0, "before")
			if got := gather(t, reg)["sightline_eventlog_append_errors_total{reason=unavailable}"]; got != 1 {
				t.Fatalf("unavailable errors = %v, want 1", got)
			}

			fs.set(func(fs *faults) { fs.writeErr, fs.syncErr, fs.truncErr = nil, nil, nil })
			appendAll(t, l, []byte("k"), "after")
			checkValues(t, l, 0, "before", "after")
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			l = openTest(t, dir, testOptions(1))
			checkValues(t, l, 0, "before", "after")
		})
	}
}

// TestRepairFailure checks that a partition whose segment cannot be
// truncated back after a failed write refuses appends until restart.
func TestRepairFailure(t *testing.T) {
	tests := []struct {
		name   string
		inject func(fs *faults)
	}{
		{"truncate fails", func(fs *faults) { fs.writeErr, fs.truncErr = syscall.EIO, syscall.EROFS }},
		{"sync keeps failing", func(fs *faults) { fs.syncErr, fs.syncFails = syscall.EIO, 2 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			l, fs := openFaulty(t, dir, nil)
			appendAll(t, l, []byte("k"), "before")
			fs.set(tt.inject)
			err := eventlog.Append(t.Context(), l, []byte("k"), [][]byte{[]byte("lost")})
			if !errors.Is(err, eventlog.ErrUnavailable) || !errors.Is(err, syscall.EIO) {
				t.Fatalf("Append = %v, want ErrUnavailable and EIO", err)
			}
			// The partition stays failed even once the disk recovers.
			fs.set(func(fs *faults) { fs.writeErr, fs.syncFails, fs.truncErr = nil, 0, nil })
			err = eventlog.Append(t.Context(), l, []byte("k"), [][]byte{[]byte("refused")})
			if !errors.Is(err, eventlog.ErrUnavailable) || !strings.Contains(err.Error(), "restart") {
				t.Fatalf("Append to failed partition = %v, want ErrUnavailable", err)
			}
			checkValues(t, l, 0, "before")
			l.Close()

			// Open cuts the half-written record, or keeps the whole one:
			// it was never acknowledged, and may survive.
			l = openTest(t, dir, testOptions(1))
			recs := values(readAll(t, l, 0))
			if len(recs) == 2 && recs[1] == "lost" {
				recs = recs[:1]
			}
			if len(recs) != 1 || recs[0] != "before" {
				t.Fatalf("records after restart %q", recs)
			}
			appendAll(t, l, []byte("k"), "after restart")
		})
	}
}

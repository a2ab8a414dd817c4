package embedded

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/eventlog"
)

// TestTornTail damages the end of the last segment as a crash can, and
// checks that Open cuts exactly the damaged record, keeps the ones before it
// and appends after them.
func TestTornTail(t *testing.T) {
	tests := []struct {
		name   string
		damage func(b []byte) []byte // of the segment holding records a, bb, ccc
		want   []string              // records left
	}{
		{"intact", func(b []byte) []byte { return b }, []string{"a", "bb", "ccc"}},
		{"last payload cut", func(b []byte) []byte { return b[:len(b)-1] }, []string{"a", "bb"}},
		{"last header cut", func(b []byte) []byte { return b[:len(b)-3-8+3] }, []string{"a", "bb"}},
		{"payload byte flipped", func(b []byte) []byte { b[len(b)-2] ^= 1; return b }, []string{"a", "bb"}},
		{"length byte flipped", func(b []byte) []byte { b[len(b)-11] ^= 1; return b }, []string{"a", "bb"}},
		{"checksum byte flipped", func(b []byte) []byte { b[len(b)-4] ^= 0x80; return b }, []string{"a", "bb"}},
		{"middle record flipped", func(b []byte) []byte { b[9+8] ^= 1; return b }, []string{"a"}},
		{"impossible length", func(b []byte) []byte { return append(b, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0) }, []string{"a", "bb", "ccc"}},
		{"garbage appended", func(b []byte) []byte { return append(b, "garbage that is not a frame"...) }, []string{"a", "bb", "ccc"}},
		{"zeros appended", func(b []byte) []byte { return append(b, make([]byte, 4096)...) }, []string{"a", "bb", "ccc"}},
		{"short zeros appended", func(b []byte) []byte { return append(b, 0, 0, 0) }, []string{"a", "bb", "ccc"}},
		{"everything cut", func(b []byte) []byte { return b[:4] }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			l := openTest(t, dir, testOptions(1))
			appendAll(t, l, nil, "a", "bb", "ccc")
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			seg := lastSegment(t, dir, 0)
			b, err := os.ReadFile(seg)
			if err != nil {
				t.Fatal(err)
			}
			damaged := tt.damage(bytes.Clone(b))
			if err := os.WriteFile(seg, damaged, 0o644); err != nil {
				t.Fatal(err)
			}

			var logs logBuffer
			l, err = Open(slog.New(slog.NewTextHandler(&logs, nil)), nil, dir, testOptions(1))
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			t.Cleanup(func() { l.Close() })
			recs := checkValues(t, l, 0, tt.want...)
			var end int64
			if len(recs) > 0 {
				end = int64(recs[len(recs)-1].Next)
			}
			if size := fileSize(t, seg); size != end {
				t.Fatalf("segment has %d bytes after Open, want %d", size, end)
			}
			if cut := len(damaged) - int(end); cut > 0 {
				for _, want := range []string{"level=WARN", "component=eventlog", "partition=0", "segment=" + seg, "bytes_cut="} {
					if !strings.Contains(logs.String(), want) {
						t.Errorf("log %q lacks %q", logs.String(), want)
					}
				}
			} else if logs.String() != "" && strings.Contains(logs.String(), "WARN") {
				t.Errorf("warning logged for an intact segment: %s", logs.String())
			}

			appendAll(t, l, nil, "after")
			recs = checkValues(t, l, 0, append(tt.want, "after")...)
			if got := recs[len(recs)-1].Offset; int64(got) != end {
				t.Fatalf("next record at %d, want %d", got, end)
			}
		})
	}
}

// TestCorruptionBeforeTail checks that damage in a segment other than the
// last is not repaired but reported by Read.
func TestCorruptionBeforeTail(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(1)
	opts.SegmentBytes = 100
	l := openTest(t, dir, opts)
	value := strings.Repeat("v", 40)
	for range 10 {
		appendAll(t, l, nil, value)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	files := segmentFiles(t, dir, 0)
	if len(files) < 3 {
		t.Fatalf("%d segments, want several", len(files))
	}
	// Flip a payload byte of the second record of the first segment.
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	b[48+8+3] ^= 1
	if err := os.WriteFile(files[0], b, 0o644); err != nil {
		t.Fatal(err)
	}

	l = openTest(t, dir, opts)
	r, err := OpenReader(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for name, reader := range map[string]eventlog.Reader{"Log": l, "Reader": r} {
		t.Run(name, func(t *testing.T) {
			var n int
			next, err := reader.Read(t.Context(), 0, 0, 1<<20, func(eventlog.Message) bool { n++; return true })
			var cerr *CorruptionError
			if !errors.As(err, &cerr) || !errors.Is(err, errChecksum) {
				t.Fatalf("Read = %v, want a checksum CorruptionError", err)
			}
			if cerr.Partition != 0 || cerr.Segment != files[0] || cerr.Offset != 48 || n != 1 || next != 48 {
				t.Fatalf("Read passed %d records, returned %d, %+v; want 1 record, offset 48 in %s", n, next, cerr, files[0])
			}
			// The records after the damaged one are readable past it.
			n = 0
			if _, err := reader.Read(t.Context(), 0, 96, 1<<20, func(eventlog.Message) bool { n++; return true }); err != nil || n != 8 {
				t.Fatalf("Read after the damage = %d records, %v; want 8", n, err)
			}
		})
	}
}

// TestSegmentGap checks that Open refuses a partition whose segments do
// not follow each other.
func TestSegmentGap(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(1)
	opts.SegmentBytes = 100
	l := openTest(t, dir, opts)
	for range 10 {
		appendAll(t, l, nil, strings.Repeat("v", 40))
	}
	l.Close()
	if err := os.Remove(segmentFiles(t, dir, 0)[1]); err != nil {
		t.Fatal(err)
	}
	var cerr *CorruptionError
	if _, err := Open(nil, nil, dir, opts); !errors.As(err, &cerr) {
		t.Fatalf("Open with a missing segment = %v, want a CorruptionError", err)
	}
}

package embedded

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/eventlog"
)

// fillSegments appends n records of 92 bytes (100 framed) to partition 0,
// one per Append, with SegmentBytes 300: 3 records per segment.
func fillSegments(t *testing.T, l *Log, n int) []string {
	t.Helper()
	var want []string
	for i := range n {
		v := fmt.Sprintf("%04d%s", i, strings.Repeat("r", 88))
		appendAll(t, l, nil, v)
		want = append(want, v)
	}
	return want
}

func retentionOptions(age time.Duration, bytes int64) Options {
	opts := testOptions(1)
	opts.SegmentBytes = 300
	opts.RetentionAge = age
	opts.RetentionBytes = bytes
	return opts
}

func TestRetention(t *testing.T) {
	now := time.Now()
	old := now.Add(-48 * time.Hour)
	tests := []struct {
		name      string
		opts      Options
		oldFiles  int   // segments whose mtime is set to two days ago
		wantFirst int64 // first offset retained
	}{
		{"age: old segments deleted", retentionOptions(24*time.Hour, 0), 3, 900},
		{"age: nothing old", retentionOptions(24*time.Hour, 0), 0, 0},
		{"age: active segment kept", retentionOptions(24*time.Hour, 0), 5, 1200},
		{"age: only a prefix is deleted", retentionOptions(24*time.Hour, 0), -1, 0},
		{"age: no retention", retentionOptions(0, 0), 5, 0},
		{"bytes", retentionOptions(0, 650), 0, 900},
		{"bytes: exactly at the limit", retentionOptions(0, 700), 0, 600},
		{"bytes: only the active segment left", retentionOptions(0, 10), 0, 1200},
		{"bytes and age", retentionOptions(24*time.Hour, 1000), 2, 600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			l := openTest(t, dir, tt.opts)
			want := fillSegments(t, l, 13) // 4 full segments and an active one
			l.Close()                      // wait for the last roll
			l = openTest(t, dir, tt.opts)
			files := segmentFiles(t, dir, 0)
			if len(files) != 5 {
				t.Fatalf("%d segments, want 5", len(files))
			}
			switch {
			case tt.oldFiles > 0:
				for _, f := range files[:tt.oldFiles] {
					if err := os.Chtimes(f, old, old); err != nil {
						t.Fatal(err)
					}
				}
			case tt.oldFiles < 0: // an old segment after a recent one
				if err := os.Chtimes(files[1], old, old); err != nil {
					t.Fatal(err)
				}
			}

			if err := l.ApplyRetention(now); err != nil {
				t.Fatal(err)
			}
			st := l.Stats()[0]
			if st.FirstOffset != eventlog.Offset(tt.wantFirst) || st.EndOffset != 1300 || st.Bytes != 1300-tt.wantFirst {
				t.Fatalf("stats %+v, want first offset %d", st, tt.wantFirst)
			}
			if files := segmentFiles(t, dir, 0); len(files) != st.Segments || filepathBase(files[0]) != segmentName(tt.wantFirst) {
				t.Fatalf("files %v after retention, stats %+v", files, st)
			}
			// Reading from 0 starts at the first retained record.
			checkValues(t, l, 0, want[tt.wantFirst/100:]...)
			from := eventlog.Offset(max(0, tt.wantFirst-50)) // in a deleted segment
			var first eventlog.Offset = -1
			next, err := l.Read(t.Context(), 0, from, 1, func(m eventlog.Message) bool { first = m.Offset; return true })
			if err != nil || first != eventlog.Offset(tt.wantFirst) || next != first+100 {
				t.Fatalf("Read from %d = first %d, next %d, %v; want %d", from, first, next, err, tt.wantFirst)
			}
			// Appends go on, and the state survives a reopen.
			appendAll(t, l, nil, "new")
			l.Close()
			l = openTest(t, dir, tt.opts)
			checkValues(t, l, 0, append(want[tt.wantFirst/100:], "new")...)
		})
	}
}

func filepathBase(path string) string { return path[strings.LastIndexByte(path, '/')+1:] }

// TestRetentionWhileReading deletes segments under concurrent readers and
// writers.
func TestRetentionWhileReading(t *testing.T) {
	dir := t.TempDir()
	opts := retentionOptions(0, 1000)
	l := openTest(t, dir, opts)
	fillSegments(t, l, 20)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				var prev eventlog.Offset = -1
				if _, err := l.Read(t.Context(), 0, 0, 1<<20, func(m eventlog.Message) bool {
					if m.Offset <= prev || len(m.Value) != 92 {
						t.Errorf("bad message at %d after %d", m.Offset, prev)
					}
					prev = m.Offset
					return true
				}); err != nil {
					t.Errorf("Read: %v", err)
					return
				}
			}
		})
	}
	for i := range 200 {
		appendAll(t, l, nil, fmt.Sprintf("%04d%s", i, strings.Repeat("w", 88)))
		if i%10 == 0 {
			if err := l.ApplyRetention(time.Now()); err != nil {
				t.Fatal(err)
			}
		}
	}
	close(stop)
	wg.Wait()
	if err := l.ApplyRetention(time.Now()); err != nil {
		t.Fatal(err)
	}
	if st := l.Stats()[0]; st.Bytes > 1000 {
		t.Fatalf("stats %+v after retention to 1000 bytes", st)
	}
}

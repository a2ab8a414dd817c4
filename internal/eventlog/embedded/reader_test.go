package embedded

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/eventlog"
)

func TestReaderFollowsWriter(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(2)
	opts.SegmentBytes = 200
	l := openTest(t, dir, opts)
	key := keyFor(1, 2)
	appendAll(t, l, key, "a", "b", "c")

	r, err := OpenReader(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Partitions() != 2 {
		t.Fatalf("Partitions() = %d, want 2", r.Partitions())
	}
	checkValues(t, r, 0)
	checkValues(t, r, 1, "a", "b", "c")

	// Follow: read on from the returned offset while the writer appends
	// and rolls segments.
	var want []string
	for i := range 300 {
		want = append(want, fmt.Sprintf("%03d%s", i, strings.Repeat("f", 40)))
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, v := range want {
			if err := eventlog.Append(t.Context(), l, key, [][]byte{[]byte(v)}); err != nil {
				t.Errorf("Append: %v", err)
				return
			}
		}
	}()
	var got []string
	var off eventlog.Offset
	for len(got) < 3+len(want) {
		off = follow(t, r, off, &got)
		select {
		case <-done:
			if len(got) < 3+len(want) {
				off = follow(t, r, off, &got)
			}
		default:
		}
	}
	<-done
	if fmt.Sprint(got[3:]) != fmt.Sprint(want) {
		t.Fatalf("followed %q, want %q", got[3:], want)
	}
	if st := l.Stats()[1]; off != st.EndOffset {
		t.Fatalf("reader at %d, writer end %d", off, st.EndOffset)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Read(t.Context(), 0, 0, 1, func(eventlog.Message) bool { return true }); !errors.Is(err, eventlog.ErrClosed) {
		t.Fatalf("Read after Close = %v, want ErrClosed", err)
	}
}

// follow reads partition 1 of r from off to the end, appending values to got.
func follow(t *testing.T, r *Reader, off eventlog.Offset, got *[]string) eventlog.Offset {
	t.Helper()
	for {
		n := 0
		next, err := r.Read(t.Context(), 1, off, 100, func(m eventlog.Message) bool {
			*got = append(*got, string(m.Value))
			n++
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return next
		}
		off = next
	}
}

// TestReaderIncompleteTail checks that the Reader does not return a record
// being written, does not repair it, and returns it once it is complete.
func TestReaderIncompleteTail(t *testing.T) {
	dir := t.TempDir()
	l := openTest(t, dir, testOptions(1))
	appendAll(t, l, nil, "a", "b")
	l.Close()
	seg := lastSegment(t, dir, 0)
	frame := appendFrame(nil, []byte("being written"))

	r, err := OpenReader(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for i, part := range [][]byte{frame[:3], frame[3:12], frame[12 : len(frame)-1]} {
		writeAppend(t, seg, part)
		size := fileSize(t, seg)
		recs := checkValues(t, r, 0, "a", "b")
		if fileSize(t, seg) != size {
			t.Fatalf("the Reader changed the segment")
		}
		next, err := r.Read(t.Context(), 0, recs[1].Next, 100, func(m eventlog.Message) bool {
			t.Errorf("incomplete record %d passed: %q", i, m.Value)
			return true
		})
		if err != nil || next != recs[1].Next {
			t.Fatalf("Read at incomplete record = %d, %v; want %d, nil", next, err, recs[1].Next)
		}
	}
	// A complete record with a bad checksum is not returned either.
	bad := append([]byte(nil), frame[len(frame)-1]^1)
	writeAppend(t, seg, bad)
	checkValues(t, r, 0, "a", "b")
	if err := os.Truncate(seg, fileSize(t, seg)-1); err != nil {
		t.Fatal(err)
	}
	writeAppend(t, seg, frame[len(frame)-1:])
	checkValues(t, r, 0, "a", "b", "being written")
}

func writeAppend(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestReaderRetention(t *testing.T) {
	dir := t.TempDir()
	opts := retentionOptions(0, 0)
	l := openTest(t, dir, opts)
	want := fillSegments(t, l, 10)
	r, err := OpenReader(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	checkValues(t, r, 0, want...) // opens every segment
	l.Close()

	opts.RetentionBytes = 500
	l = openTest(t, dir, opts)
	if err := l.ApplyRetention(time.Now()); err != nil {
		t.Fatal(err)
	}
	first := int(l.Stats()[0].FirstOffset / 100)
	if first == 0 {
		t.Fatal("retention deleted nothing")
	}
	checkValues(t, r, 0, want[first:]...)
	if n := len(r.parts[0].files); n != len(segmentFiles(t, dir, 0)) {
		t.Fatalf("reader holds %d segments open, %d exist", n, len(segmentFiles(t, dir, 0)))
	}
}

func TestOpenReaderErrors(t *testing.T) {
	if _, err := OpenReader(t.TempDir()); err == nil {
		t.Error("OpenReader of an empty directory succeeded")
	}
	if _, err := OpenReader(t.TempDir() + "/missing"); err == nil {
		t.Error("OpenReader of a missing directory succeeded")
	}
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/meta.json", []byte(`{"version":2,"partitions":8}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenReader(dir); err == nil || !strings.Contains(err.Error(), "version 2") {
		t.Errorf("OpenReader of a version 2 log = %v", err)
	}
}

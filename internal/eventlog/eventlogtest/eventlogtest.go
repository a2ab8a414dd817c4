// Package eventlogtest is the conformance suite that every event log back
// end must pass.
package eventlogtest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/eventlog"
)

// Log is what a back end provides.
type Log interface {
	eventlog.Appender
	eventlog.Reader
	eventlog.OffsetStore
	io.Closer
}

// Record is a Message whose Value has been copied, so that it outlives the
// Read that returned it.
type Record struct {
	Offset, Next eventlog.Offset
	Value        string
}

// TestLog runs the conformance suite. open must return a new, empty log
// with the given number of partitions. TestLog closes every log it opens,
// sometimes twice: Close must be safe to call again.
func TestLog(t *testing.T, open func(t *testing.T, partitions int) Log) {
	tests := []struct {
		name string
		fn   func(t *testing.T, l Log)
	}{
		{"Partitions", testPartitions},
		{"EmptyAppend", testEmptyAppend},
		{"OrderPerKey", testOrderPerKey},
		{"BatchContiguous", testBatchContiguous},
		{"ReadFromNext", testReadFromNext},
		{"StopAndResume", testStopAndResume},
		{"MaxBytes", testMaxBytes},
		{"ReadAtEnd", testReadAtEnd},
		{"ReadBadPartition", testReadBadPartition},
		{"Offsets", testOffsets},
		{"ConcurrentAppends", testConcurrentAppends},
		{"AppendAfterClose", testAppendAfterClose},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := open(t, 3)
			t.Cleanup(func() {
				if err := l.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tt.fn(t, l)
		})
	}
}

// ReadAll reads partition p from offset 0 to its end, checking that
// messages are in offset order and belong to p.
func ReadAll(t testing.TB, r eventlog.Reader, p int) []Record {
	t.Helper()
	var recs []Record
	off := eventlog.Offset(0)
	for {
		n := 0
		next, err := r.Read(t.Context(), p, off, 1<<20, func(m eventlog.Message) bool {
			if m.Partition != p {
				t.Errorf("message of partition %d read from partition %d", m.Partition, p)
			}
			if m.Next <= m.Offset {
				t.Errorf("message at %d has next offset %d", m.Offset, m.Next)
			}
			if len(recs) > 0 && m.Offset < recs[len(recs)-1].Next {
				t.Errorf("message at %d follows message at %d whose next offset is %d",
					m.Offset, recs[len(recs)-1].Offset, recs[len(recs)-1].Next)
			}
			recs = append(recs, Record{Offset: m.Offset, Next: m.Next, Value: string(m.Value)})
			n++
			return true
		})
		if err != nil {
			t.Fatalf("Read(%d, %d): %v", p, off, err)
		}
		if n == 0 {
			return recs
		}
		if want := recs[len(recs)-1].Next; next != want {
			t.Fatalf("Read(%d, %d) returned offset %d, want the next offset of its last message, %d", p, off, next, want)
		}
		off = next
	}
}

// readAllPartitions returns the values of every partition.
func readAllPartitions(t *testing.T, l Log) [][]Record {
	t.Helper()
	parts := make([][]Record, l.Partitions())
	for p := range parts {
		parts[p] = ReadAll(t, l, p)
	}
	return parts
}

func appendValues(t testing.TB, l Log, key string, values ...string) {
	t.Helper()
	vs := make([][]byte, len(values))
	for i, v := range values {
		vs[i] = []byte(v)
	}
	if err := eventlog.Append(t.Context(), l, []byte(key), vs); err != nil {
		t.Fatalf("Append(%q, %d values): %v", key, len(values), err)
	}
}

// appendRetry appends values, retrying while the log is busy, as ingest
// clients do. It may run outside the test goroutine.
func appendRetry(t testing.TB, l Log, key []byte, values [][]byte) error {
	for {
		err := eventlog.Append(t.Context(), l, key, values)
		if !errors.Is(err, eventlog.ErrBusy) {
			return err
		}
		time.Sleep(time.Millisecond)
	}
}

func testPartitions(t *testing.T, l Log) {
	if got := l.Partitions(); got != 3 {
		t.Fatalf("Partitions() = %d, want 3", got)
	}
}

func testEmptyAppend(t *testing.T, l Log) {
	for _, values := range [][][]byte{nil, {}} {
		if err := eventlog.Append(t.Context(), l, []byte("k"), values); err != nil {
			t.Fatalf("Append(%v) = %v, want nil", values, err)
		}
	}
	for p, recs := range readAllPartitions(t, l) {
		if len(recs) != 0 {
			t.Errorf("partition %d has %d records after empty appends", p, len(recs))
		}
	}
	appendValues(t, l, "k", "v")
	recs := ReadAll(t, l, eventlog.PartitionFor([]byte("k"), l.Partitions()))
	if len(recs) != 1 || recs[0].Value != "v" {
		t.Fatalf("records = %v, want one record v", recs)
	}
}

func testOrderPerKey(t *testing.T, l Log) {
	const keys, rounds = 12, 8
	want := map[string][]string{}
	for r := range rounds {
		for k := range keys {
			key := fmt.Sprintf("key%d", k)
			var values []string
			for i := range 1 + (r+k)%3 {
				values = append(values, fmt.Sprintf("%s/%d/%d", key, r, i))
			}
			appendValues(t, l, key, values...)
			want[key] = append(want[key], values...)
		}
	}
	got := map[string][]string{}
	for p, recs := range readAllPartitions(t, l) {
		for _, rec := range recs {
			key, _, _ := bytes.Cut([]byte(rec.Value), []byte("/"))
			if wantP := eventlog.PartitionFor(key, l.Partitions()); p != wantP {
				t.Errorf("record %s in partition %d, want %d", rec.Value, p, wantP)
			}
			got[string(key)] = append(got[string(key)], rec.Value)
		}
	}
	for key, values := range want {
		if fmt.Sprint(got[key]) != fmt.Sprint(values) {
			t.Errorf("records of %s = %v, want %v", key, got[key], values)
		}
	}
}

func testBatchContiguous(t *testing.T, l Log) {
	const writers, batches, size = 8, 20, 5
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for b := range batches {
				values := make([][]byte, size)
				for i := range values {
					values[i] = fmt.Appendf(nil, "%d/%d/%d", w, b, i)
				}
				if err := appendRetry(t, l, []byte("same-key"), values); err != nil {
					t.Errorf("Append: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	recs := ReadAll(t, l, eventlog.PartitionFor([]byte("same-key"), l.Partitions()))
	if len(recs) != writers*batches*size {
		t.Fatalf("read %d records, want %d", len(recs), writers*batches*size)
	}
	for j := 0; j < len(recs); j += size {
		var w, b, i int
		if _, err := fmt.Sscanf(recs[j].Value, "%d/%d/%d", &w, &b, &i); err != nil || i != 0 {
			t.Fatalf("record %d is %q, want the first value of a batch", j, recs[j].Value)
		}
		for i := 1; i < size; i++ {
			if want := fmt.Sprintf("%d/%d/%d", w, b, i); recs[j+i].Value != want {
				t.Fatalf("record %d is %q, want %q: a batch was split", j+i, recs[j+i].Value, want)
			}
		}
	}
}

func testReadFromNext(t *testing.T, l Log) {
	for i := range 30 {
		appendValues(t, l, "k", fmt.Sprintf("v%d", i), fmt.Sprintf("w%d", i))
	}
	p := eventlog.PartitionFor([]byte("k"), l.Partitions())
	recs := ReadAll(t, l, p)
	if len(recs) != 60 {
		t.Fatalf("read %d records, want 60", len(recs))
	}
	for i, rec := range recs {
		for _, from := range []eventlog.Offset{rec.Offset, rec.Next} {
			want := i
			if from == rec.Next {
				want = i + 1
			}
			var got []Record
			next, err := l.Read(t.Context(), p, from, 1, func(m eventlog.Message) bool {
				got = append(got, Record{m.Offset, m.Next, string(m.Value)})
				return true
			})
			if err != nil {
				t.Fatalf("Read from %d: %v", from, err)
			}
			if want == len(recs) {
				if len(got) != 0 || next != from {
					t.Fatalf("Read from end %d = %v, %d; want nothing, %d", from, got, next, from)
				}
				continue
			}
			if len(got) != 1 || got[0] != recs[want] {
				t.Fatalf("Read from %d = %v, want [%v]", from, got, recs[want])
			}
		}
	}
}

func testStopAndResume(t *testing.T, l Log) {
	for i := range 10 {
		appendValues(t, l, "k", fmt.Sprint(i))
	}
	p := eventlog.PartitionFor([]byte("k"), l.Partitions())
	var got []string
	var last eventlog.Message
	off := eventlog.Offset(0)
	for len(got) < 10 {
		n := 0
		next, err := l.Read(t.Context(), p, off, 1<<20, func(m eventlog.Message) bool {
			got = append(got, string(m.Value))
			last = m
			n++
			return n < 3
		})
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatalf("Read from %d passed nothing after %v", off, got)
		}
		if next != last.Next {
			t.Fatalf("Read returned %d after fn returned false, want the next offset of the last message, %d", next, last.Next)
		}
		off = next
	}
	if want := "[0 1 2 3 4 5 6 7 8 9]"; fmt.Sprint(got) != want {
		t.Fatalf("read %v, want %s", got, want)
	}
}

func testMaxBytes(t *testing.T, l Log) {
	value := string(bytes.Repeat([]byte("x"), 100))
	for range 20 {
		appendValues(t, l, "k", value)
	}
	p := eventlog.PartitionFor([]byte("k"), l.Partitions())
	for _, maxBytes := range []int{1, 100, 250, 1000} {
		total, reads := 0, 0
		off := eventlog.Offset(0)
		for {
			n, size := 0, 0
			next, err := l.Read(t.Context(), p, off, maxBytes, func(m eventlog.Message) bool {
				n++
				size += len(m.Value)
				return true
			})
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
			if n > 1 && size > maxBytes {
				t.Errorf("Read with maxBytes %d passed %d messages of %d bytes", maxBytes, n, size)
			}
			total += n
			reads++
			off = next
		}
		if total != 20 {
			t.Errorf("maxBytes %d: read %d records in all, want 20", maxBytes, total)
		}
		if maxBytes < 200 && reads != 20 {
			t.Errorf("maxBytes %d: %d reads, want 20 (one record per read)", maxBytes, reads)
		}
	}
}

func testReadAtEnd(t *testing.T, l Log) {
	p := eventlog.PartitionFor([]byte("k"), l.Partitions())
	next, err := l.Read(t.Context(), p, 0, 1<<20, func(m eventlog.Message) bool {
		t.Errorf("empty partition passed a message at %d", m.Offset)
		return true
	})
	if err != nil {
		t.Fatalf("Read of empty partition: %v", err)
	}
	appendValues(t, l, "k", "a", "b")
	recs := ReadAll(t, l, p)
	if len(recs) != 2 || recs[0].Offset < next {
		t.Fatalf("records %v after empty read returned %d", recs, next)
	}
	end := recs[1].Next
	got, err := l.Read(t.Context(), p, end, 1<<20, func(m eventlog.Message) bool {
		t.Errorf("Read at the end passed a message at %d", m.Offset)
		return true
	})
	if err != nil || got != end {
		t.Fatalf("Read at end %d = %d, %v; want %d, nil", end, got, err, end)
	}
	appendValues(t, l, "k", "c")
	var values []string
	if _, err := l.Read(t.Context(), p, end, 1<<20, func(m eventlog.Message) bool {
		values = append(values, string(m.Value))
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(values) != "[c]" {
		t.Fatalf("Read from the old end after another append = %v, want [c]", values)
	}
}

func testReadBadPartition(t *testing.T, l Log) {
	for _, p := range []int{-1, l.Partitions()} {
		if _, err := l.Read(t.Context(), p, 0, 1<<20, func(eventlog.Message) bool { return true }); err == nil {
			t.Errorf("Read of partition %d succeeded", p)
		}
	}
}

func testOffsets(t *testing.T, l Log) {
	check := func(group string, p int, want eventlog.Offset, wantOK bool) {
		t.Helper()
		got, ok, err := l.CommittedOffset(group, p)
		if err != nil || got != want || ok != wantOK {
			t.Fatalf("CommittedOffset(%q, %d) = %d, %v, %v; want %d, %v, nil", group, p, got, ok, err, want, wantOK)
		}
	}
	commit := func(group string, p int, off eventlog.Offset) {
		t.Helper()
		if err := l.CommitOffset(group, p, off); err != nil {
			t.Fatalf("CommitOffset(%q, %d, %d): %v", group, p, off, err)
		}
	}
	check("sessions", 0, 0, false)
	appendValues(t, l, "k", "a", "b")
	p := eventlog.PartitionFor([]byte("k"), l.Partitions())
	recs := ReadAll(t, l, p)
	commit("sessions", p, recs[0].Next)
	check("sessions", p, recs[0].Next, true)
	commit("sessions", p, recs[1].Next)
	check("sessions", p, recs[1].Next, true)
	check("sessions", (p+1)%l.Partitions(), 0, false)
	check("exports", p, 0, false)
	commit("exports", p, recs[0].Next)
	check("exports", p, recs[0].Next, true)
	check("sessions", p, recs[1].Next, true)
	if err := l.CommitOffset("sessions", -1, 0); err == nil {
		t.Error("CommitOffset of partition -1 succeeded")
	}
}

func testConcurrentAppends(t *testing.T, l Log) {
	const writers, appends = 16, 500
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			key := fmt.Sprintf("writer%d", w)
			for i := range appends {
				values := [][]byte{fmt.Appendf(nil, "%d/%d", w, i)}
				if err := appendRetry(t, l, []byte(key), values); err != nil {
					t.Errorf("Append: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	next := make([]int, writers)
	count := 0
	for _, recs := range readAllPartitions(t, l) {
		for _, rec := range recs {
			var w, i int
			if _, err := fmt.Sscanf(rec.Value, "%d/%d", &w, &i); err != nil || w < 0 || w >= writers {
				t.Fatalf("unexpected record %q", rec.Value)
			}
			if i != next[w] {
				t.Fatalf("writer %d: read record %d, want %d", w, i, next[w])
			}
			next[w]++
			count++
		}
	}
	if count != writers*appends {
		t.Fatalf("read %d records, want %d", count, writers*appends)
	}
}

func testAppendAfterClose(t *testing.T, l Log) {
	appendValues(t, l, "k", "a")
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := eventlog.Append(t.Context(), l, []byte("k"), [][]byte{[]byte("b")}); !errors.Is(err, eventlog.ErrClosed) {
		t.Fatalf("Append after Close = %v, want ErrClosed", err)
	}
}

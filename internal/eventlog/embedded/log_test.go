package embedded

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sightline/sightline/internal/eventlog"
	"github.com/sightline/sightline/internal/eventlog/eventlogtest"
)

func TestConformance(t *testing.T) {
	for _, noSync := range []bool{false, true} {
		t.Run(fmt.Sprintf("NoSync=%v", noSync), func(t *testing.T) {
			eventlogtest.TestLog(t, func(t *testing.T, partitions int) eventlogtest.Log {
				opts := testOptions(partitions)
				opts.NoSync = noSync
				return openTest(t, t.TempDir(), opts)
			})
		})
	}
}

func TestConformanceSmallSegments(t *testing.T) {
	eventlogtest.TestLog(t, func(t *testing.T, partitions int) eventlogtest.Log {
		opts := testOptions(partitions)
		opts.SegmentBytes = 256
		return openTest(t, t.TempDir(), opts)
	})
}

func TestReopenKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(4)
	opts.SegmentBytes = 300
	l := openTest(t, dir, opts)
	want := make([][]string, 4)
	for i := range 200 {
		key := fmt.Appendf(nil, "visitor%d", i%17)
		v := fmt.Sprintf("event %d of %s", i, key)
		appendAll(t, l, key, v)
		p := eventlog.PartitionFor(key, 4)
		want[p] = append(want[p], v)
	}
	if err := l.CommitOffset("sessions", 2, 1234); err != nil {
		t.Fatal(err)
	}
	before := l.Stats()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	l = openTest(t, dir, opts)
	if after := l.Stats(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("stats after reopen %v, before %v", after, before)
	}
	for p := range 4 {
		checkValues(t, l, p, want[p]...)
	}
	if off, ok, err := l.CommittedOffset("sessions", 2); off != 1234 || !ok || err != nil {
		t.Fatalf("committed offset after reopen = %d, %v, %v", off, ok, err)
	}
	// Appends continue after the old end.
	key := keyFor(1, 4)
	appendAll(t, l, key, "after reopen")
	recs := checkValues(t, l, 1, append(want[1], "after reopen")...)
	if got := recs[len(recs)-1].Offset; got != before[1].EndOffset {
		t.Fatalf("first record after reopen at %d, want the old end %d", got, before[1].EndOffset)
	}
}

func TestSegmentRolling(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(1)
	opts.SegmentBytes = 1000
	l := openTest(t, dir, opts)
	var want []string
	for i := range 100 {
		v := fmt.Sprintf("%03d-%s", i, strings.Repeat("x", 96))
		appendAll(t, l, nil, v)
		want = append(want, v)
	}
	recs := checkValues(t, l, 0, want...)
	// Reads that start in every position of every segment continue exactly.
	for i, rec := range recs {
		var got []string
		if _, err := l.Read(t.Context(), 0, rec.Offset, 3*100, func(m eventlog.Message) bool {
			got = append(got, string(m.Value))
			return true
		}); err != nil {
			t.Fatal(err)
		}
		if wantN := min(3, len(want)-i); fmt.Sprint(got) != fmt.Sprint(want[i:i+wantN]) {
			t.Fatalf("Read from %d = %v, want %v", rec.Offset, got, want[i:i+wantN])
		}
	}
	// The writer may still be rolling after the last Append returned:
	// Close waits for it.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	st := l.Stats()[0]
	files := segmentFiles(t, dir, 0)
	if st.Segments != 11 || st.Segments != len(files) {
		t.Fatalf("stats %+v with %d files, want 11 segments", st, len(files))
	}
	if st.FirstOffset != 0 || st.EndOffset != 100*108 || st.Bytes != 100*108 {
		t.Fatalf("stats %+v, want offsets 0 to %d", st, 100*108)
	}
	// Every segment but the last passed SegmentBytes by less than a commit,
	// and its name is the offset of its first record.
	var end int64
	for i, f := range files {
		base, ok := parseSegmentName(filepath.Base(f))
		if !ok || base != end {
			t.Fatalf("segment %d is %s, want base %d", i, f, end)
		}
		size := fileSize(t, f)
		if i < len(files)-1 && (size < opts.SegmentBytes || size >= opts.SegmentBytes+108) {
			t.Fatalf("segment %s has %d bytes", f, size)
		}
		end += size
	}
	l = openTest(t, dir, opts)
	if got := l.Stats()[0]; got != st {
		t.Fatalf("stats after reopen %+v, want %+v", got, st)
	}
	checkValues(t, l, 0, want...)
}

func TestLargeRecords(t *testing.T) {
	l := openTest(t, t.TempDir(), testOptions(1))
	big := strings.Repeat("b", readBufferSize*3+5)
	appendAll(t, l, nil, "small", big, "small again")
	checkValues(t, l, 0, "small", big, "small again")
	err := eventlog.Append(t.Context(), l, nil, [][]byte{make([]byte, MaxRecordSize+1)})
	if !errors.Is(err, ErrRecordTooLarge) {
		t.Fatalf("Append of %d bytes = %v, want ErrRecordTooLarge", MaxRecordSize+1, err)
	}
	checkValues(t, l, 0, "small", big, "small again")
}

func TestSecondOpenFails(t *testing.T) {
	dir := t.TempDir()
	l := openTest(t, dir, testOptions(2))
	if l2, err := Open(nil, nil, dir, testOptions(2)); !errors.Is(err, ErrLocked) {
		if err == nil {
			l2.Close()
		}
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l2, err := Open(nil, nil, dir, testOptions(2))
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	l2.Close()
}

func TestPartitionsMismatch(t *testing.T) {
	dir := t.TempDir()
	l := openTest(t, dir, testOptions(4))
	l.Close()
	_, err := Open(nil, nil, dir, testOptions(8))
	if err == nil || !strings.Contains(err.Error(), "4 partitions") || !strings.Contains(err.Error(), "8") {
		t.Fatalf("Open with 8 partitions of a 4-partition log = %v, want an error naming 4 and 8", err)
	}
}

func TestInvalidOptions(t *testing.T) {
	for _, opts := range []Options{
		{Partitions: -1},
		{SegmentBytes: -1},
		{MaxPendingBytes: -1},
		{RetentionAge: -1},
		{RetentionBytes: -1},
	} {
		if l, err := Open(nil, nil, t.TempDir(), opts); err == nil {
			l.Close()
			t.Errorf("Open(%+v) succeeded", opts)
		}
	}
}

func TestClose(t *testing.T) {
	l := openTest(t, t.TempDir(), testOptions(2))
	// Appends in flight when Close starts either succeed or get ErrClosed.
	var wg sync.WaitGroup
	var mu sync.Mutex
	acked := map[string]bool{}
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				v := fmt.Sprintf("%d/%d", w, i)
				err := eventlog.Append(t.Context(), l, []byte(v), [][]byte{[]byte(v)})
				if errors.Is(err, eventlog.ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("Append: %v", err)
					return
				}
				mu.Lock()
				acked[v] = true
				mu.Unlock()
			}
		})
	}
	for l.Stats()[0].EndOffset == 0 {
		time.Sleep(time.Millisecond)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := l.Read(t.Context(), 0, 0, 100, func(eventlog.Message) bool { return true }); !errors.Is(err, eventlog.ErrClosed) {
		t.Fatalf("Read after Close = %v, want ErrClosed", err)
	}
	if err := l.CommitOffset("g", 0, 0); !errors.Is(err, eventlog.ErrClosed) {
		t.Fatalf("CommitOffset after Close = %v, want ErrClosed", err)
	}

	// Everything acknowledged is there.
	l = openTest(t, l.dir, testOptions(2))
	for p := range 2 {
		for _, rec := range eventlogtest.ReadAll(t, l, p) {
			delete(acked, rec.Value)
		}
	}
	if len(acked) > 0 {
		t.Fatalf("%d acknowledged records lost across Close", len(acked))
	}
}

func TestInvalidGroups(t *testing.T) {
	l := openTest(t, t.TempDir(), testOptions(2))
	for _, group := range []string{"", "a/b", "../x", "a b", strings.Repeat("g", 65), "é"} {
		if err := l.CommitOffset(group, 0, 1); err == nil {
			t.Errorf("CommitOffset(%q) succeeded", group)
		}
		if _, _, err := l.CommittedOffset(group, 0); err == nil {
			t.Errorf("CommittedOffset(%q) succeeded", group)
		}
	}
	for _, group := range []string{"a", "sessions-v2.1_x", strings.Repeat("g", 64)} {
		if err := l.CommitOffset(group, 1, 5); err != nil {
			t.Errorf("CommitOffset(%q): %v", group, err)
		}
	}
}

func TestMetrics(t *testing.T) {
	dir := t.TempDir()
	reg := prometheus.NewRegistry()
	for range 2 { // registering again after Close works
		l, err := Open(nil, reg, dir, testOptions(2))
		if err != nil {
			t.Fatal(err)
		}
		if err := eventlog.Append(t.Context(), l, []byte("k"), [][]byte{[]byte("abc"), []byte("de")}); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(nil, reg, t.TempDir(), testOptions(2)); err == nil {
			t.Fatal("second Log registered the same metrics")
		}
		got := gather(t, reg)
		for name, want := range map[string]float64{
			"sightline_eventlog_appended_records_total":           2,
			"sightline_eventlog_appended_bytes_total":             21,
			"sightline_eventlog_commit_records":                   1, // sample count
			"sightline_eventlog_fsync_duration_seconds":           1,
			`sightline_eventlog_append_errors_total{reason=busy}`: 0,
		} {
			if got[name] != want {
				t.Errorf("%s = %v, want %v", name, got[name], want)
			}
		}
		p := eventlog.PartitionFor([]byte("k"), 2)
		if b := got[fmt.Sprintf("sightline_eventlog_bytes{partition=%d}", p)]; b != float64(l.Stats()[p].Bytes) {
			t.Errorf("bytes gauge = %v, want %d", b, l.Stats()[p].Bytes)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		dir = t.TempDir()
	}
}

// gather returns the values of the metrics of reg, by name and labels;
// histograms give their sample count.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			for _, lp := range m.GetLabel() {
				name += fmt.Sprintf("{%s=%s}", lp.GetName(), lp.GetValue())
			}
			switch {
			case m.GetCounter() != nil:
				values[name] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				values[name] = m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				values[name] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return values
}

func TestEndOffset(t *testing.T) {
	l := openTest(t, t.TempDir(), testOptions(2))
	key := keyFor(1, 2)
	if end, err := l.EndOffset(1); end != 0 || err != nil {
		t.Fatalf("EndOffset of an empty partition = %d, %v", end, err)
	}
	appendAll(t, l, key, "a", "bc")
	end, err := l.EndOffset(1)
	if err != nil || end != 8+1+8+2 {
		t.Fatalf("EndOffset = %d, %v; want %d", end, err, 8+1+8+2)
	}
	appendAll(t, l, key, "d")
	var got []string
	if _, err := l.Read(t.Context(), 1, end, 100, func(m eventlog.Message) bool {
		got = append(got, string(m.Value))
		return true
	}); err != nil || fmt.Sprint(got) != "[d]" {
		t.Fatalf("Read from the old end = %v, %v; want [d]", got, err)
	}
	if _, err := l.EndOffset(2); err == nil {
		t.Fatal("EndOffset of partition 2 of 2 succeeded")
	}
	l.Close()
	if _, err := l.EndOffset(0); !errors.Is(err, eventlog.ErrClosed) {
		t.Fatalf("EndOffset after Close = %v, want ErrClosed", err)
	}
}

// Under CommitInterval, appends that arrive while the writer waits share
// one commit, and a commit never starts sooner than the interval after the
// previous one.
func TestCommitInterval(t *testing.T) {
	opts := testOptions(1)
	opts.CommitInterval = 500 * time.Millisecond // ample time for ten goroutines to enqueue
	l := openTest(t, t.TempDir(), opts)
	key := keyFor(0, 1)
	start := time.Now()
	appendAll(t, l, key, "first")
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if err := eventlog.Append(context.Background(), l, key, [][]byte{[]byte(fmt.Sprint("v", i))}); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	if elapsed := time.Since(start); elapsed < opts.CommitInterval {
		t.Fatalf("second commit after %s, before the interval %s", elapsed, opts.CommitInterval)
	}
	if n := l.parts[0].commits.Load(); n != 2 {
		t.Fatalf("%d commits, want 2 (the ten appends grouped)", n)
	}
	if got := len(readAll(t, l, 0)); got != 11 {
		t.Fatalf("%d records, want 11", got)
	}
}

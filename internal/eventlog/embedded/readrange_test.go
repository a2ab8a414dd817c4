package embedded

import (
	"fmt"
	"slices"
	"testing"

	"github.com/sightline/sightline/internal/eventlog"
)

// TestReadRange reads records again between offsets Read passed, across
// segments, through the writer's Log and a separate Reader.
func TestReadRange(t *testing.T) {
	opts := testOptions(1)
	opts.SegmentBytes = 200 // a few records a segment
	dir := t.TempDir()
	l := openTest(t, dir, opts)
	var all []string
	for i := range 30 {
		all = append(all, fmt.Sprintf("record %02d", i))
	}
	appendAll(t, l, keyFor(0, 1), all...)
	var offs []eventlog.Offset
	end, err := eventlog.ReadToEnd(t.Context(), l, 0, 0, func(m eventlog.Message) bool {
		offs = append(offs, m.Offset)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	offs = append(offs, end)
	r, err := OpenReader(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, rr := range []struct {
		name string
		eventlog.RangeReader
	}{{"log", l}, {"reader", r}} {
		for _, tc := range []struct{ from, to int }{{0, 30}, {2, 5}, {7, 8}, {5, 5}, {3, 27}, {29, 30}} {
			var got []string
			err := rr.ReadRange(t.Context(), 0, offs[tc.from], offs[tc.to], func(m eventlog.Message) bool {
				got = append(got, string(m.Value))
				return true
			})
			if err != nil {
				t.Fatalf("%s [%d, %d): %v", rr.name, tc.from, tc.to, err)
			}
			if want := all[tc.from:tc.to]; !slices.Equal(got, want) {
				t.Errorf("%s [%d, %d): %q, want %q", rr.name, tc.from, tc.to, got, want)
			}
		}
	}
}

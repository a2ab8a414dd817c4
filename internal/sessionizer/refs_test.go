package sessionizer

import (
	"slices"
	"testing"

	"github.com/sightline/sightline/internal/eventlog"
)

// TestRefs notes records in runs, through a checkpoint's round trip in
// the middle: adjacent records make one run, and a record noted after the
// round trip extends the last run or starts one after it.
func TestRefs(t *testing.T) {
	type rec struct{ off, next eventlog.Offset }
	for _, tc := range []struct {
		name          string
		before, after []rec
		want          [][2]eventlog.Offset
	}{
		{"none", nil, nil, nil},
		{"one run", []rec{{0, 10}, {10, 25}}, []rec{{25, 30}}, [][2]eventlog.Offset{{0, 30}}},
		{"runs", []rec{{5, 10}, {40, 50}, {50, 60}}, []rec{{100, 110}, {200, 210}, {210, 220}},
			[][2]eventlog.Offset{{5, 10}, {40, 60}, {100, 110}, {200, 220}}},
		{"after a round trip only", nil, []rec{{1 << 40, 1<<40 + 9}}, [][2]eventlog.Offset{{1 << 40, 1<<40 + 9}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r refs
			for _, x := range tc.before {
				r.add(x.off, x.next)
			}
			d := decoder{b: appendRefs(nil, &r)}
			var back refs
			d.refs(&back)
			if d.err != nil || len(d.b) != 0 {
				t.Fatalf("round trip: %v, %d bytes left", d.err, len(d.b))
			}
			for _, x := range tc.after {
				back.add(x.off, x.next)
			}
			var got [][2]eventlog.Offset
			back.each(func(start, end eventlog.Offset) bool {
				got = append(got, [2]eventlog.Offset{start, end})
				return true
			})
			if !slices.Equal(got, tc.want) {
				t.Fatalf("runs %v, want %v", got, tc.want)
			}
		})
	}
}

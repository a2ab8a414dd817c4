package sessionizer

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sightline/sightline/internal/atomicfile"
	"github.com/sightline/sightline/internal/websession"
)

// TestVisitLimitsSplitAVisit sends one visit more events than a visit may
// hold: the event past a limit closes it and starts a continuation, and
// every event is written once.
func TestVisitLimitsSplitAVisit(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tune   func(*Config)
		reason string
		sizes  []int // events in each document
	}{
		{"events", func(c *Config) { c.MaxVisitEvents = 3 }, splitEvents, []int{3, 3, 1}},
		{"bytes", func(c *Config) { c.MaxVisitBytes = 70 }, splitBytes, []int{2, 2, 2, 1}}, // 30 bytes an event
		{"none", nil, "", []int{7}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			r.tune = tc.tune
			r.restart()
			m := func(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }
			for i := range 7 {
				r.send("acme", "u1", "v1", m(i), m(i))
			}
			r.step(t0.Add(2 * time.Hour))
			r.checkpoint()
			docs := r.allDocs("acme")
			var sizes []int
			for i, d := range docs {
				if !strings.HasPrefix(d, fmt.Sprintf("acme/u1/v1#%d:", i)) {
					t.Errorf("document %d is %s", i, d)
				}
				sizes = append(sizes, strings.Count(d, ",")+1)
			}
			if !slices.Equal(sizes, tc.sizes) {
				t.Fatalf("documents of %v events (%v), want %v", sizes, docs, tc.sizes)
			}
			if tc.reason != "" {
				if n := testutil.ToFloat64(r.s.metrics.splitVisits.WithLabelValues(tc.reason)); n != float64(len(tc.sizes)-1) {
					t.Errorf("%v splits counted, want %d", n, len(tc.sizes)-1)
				}
			}
		})
	}
}

// TestOpenVisitsMemoryIsBounded opens more visits than the memory of open
// visits allows: the visits due to close first are closed early, every
// partition stays within its share, and every event is written once.
func TestOpenVisitsMemoryIsBounded(t *testing.T) {
	r := newRig(t)
	// About two visits a partition; the rig's log has 2 partitions.
	const share = 1200
	r.tune = func(c *Config) { c.MaxOpenBytes = share * 2 }
	r.restart()
	var want []string
	for i := range 20 {
		at := t0.Add(time.Duration(i) * time.Second)
		visitor := fmt.Sprintf("u%02d", i)
		r.send("acme", visitor, "v", at, at)
		r.send("acme", visitor, "v", at.Add(10*time.Minute), at.Add(10*time.Minute))
		want = append(want, ms(at), ms(at.Add(10*time.Minute)))
		r.step(at)
		for _, p := range r.s.parts {
			if p.openBytes > share {
				t.Fatalf("partition %d: open visits take %d bytes, its share is %d", p.id, p.openBytes, share)
			}
		}
	}
	r.step(t0.Add(3 * time.Hour))
	r.checkpoint()
	var got []string
	for _, d := range r.allDocs("acme") {
		_, times, _ := strings.Cut(d, ":")
		got = append(got, strings.Split(times, ",")...)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("event times written %v\nwant %v", got, want)
	}
	if n := testutil.ToFloat64(r.s.metrics.splitVisits.WithLabelValues(splitMemory)); n == 0 {
		t.Error("no visit counted as closed early for memory")
	}
}

// TestCheckpointHoldsNoEventData checkpoints a visit of a megabyte of
// events: the checkpoint holds where they are, not what they are, and a
// restart from it writes them all.
func TestCheckpointHoldsNoEventData(t *testing.T) {
	r := newRig(t)
	data := `{"url":"https://shop.example/?` + strings.Repeat("x", 10_000) + `"}`
	for i := range 100 {
		at := t0.Add(time.Duration(i) * time.Second)
		r.sendData("acme", "u1", "v1", at, at, data)
	}
	r.step(t0.Add(time.Minute))
	r.checkpoint()
	fi, err := os.Stat(r.s.checkpointPath())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > 4<<10 {
		t.Fatalf("checkpoint of one open visit of 1 MB of events is %d bytes", fi.Size())
	}
	r.restart()
	r.step(t0.Add(2 * time.Hour))
	r.checkpoint()
	docs := r.allDocs("acme")
	if len(docs) != 1 || strings.Count(docs[0], ",") != 99 {
		t.Fatalf("documents %v, want one of 100 events", docs)
	}
}

// TestVersion2CheckpointIsRead starts from a checkpoint of the version
// before, whose open visits held their events: they are kept, and the
// visit's later events join them.
func TestVersion2CheckpointIsRead(t *testing.T) {
	r := newRig(t)
	r.s.Close()
	m := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	v := &trackedVisit{first: m(1).UnixMilli(), last: m(1).UnixMilli(), closeAt: m(31).UnixMilli()}
	v.AccountID, v.VisitorID, v.VisitID, v.IP, v.UserAgent = "acme", "u1", "v1", "203.0.113.7", "UA"
	v.Events = []websession.Event{{Time: m(1).UnixMilli(), ServerTime: m(1).UnixMilli(), App: "LP_MONITORING", Name: "PAGE_VIEW", Data: []byte(`{}`)}}
	// The log read to its end (nothing in it yet) with one visit open.
	b := []byte(checkpointMagicV2)
	b = binary.AppendVarint(b, 0)
	b = binary.AppendUvarint(b, uint64(len(r.s.parts)))
	for i := range r.s.parts {
		b = binary.AppendVarint(b, 0)
		b = binary.AppendVarint(b, m(1).UnixMilli())
		var vb []byte
		if i == 0 {
			vb = appendVisit(nil, v)
			b = binary.AppendUvarint(b, 1)
			b = binary.AppendUvarint(b, uint64(len(vb)))
			b = append(b, vb...)
		} else {
			b = binary.AppendUvarint(b, 0)
		}
		b = binary.AppendUvarint(b, 0) // no closed visits
	}
	b = binary.AppendUvarint(b, 0) // no spool
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, crcTable))
	if err := os.MkdirAll(r.config().Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.Write(r.s.checkpointPath(), b); err != nil {
		t.Fatal(err)
	}
	r.restart()
	if n := r.s.OpenVisits(); n != 1 {
		t.Fatalf("%d open visits from the version 2 checkpoint", n)
	}
	r.send("acme", "u1", "v1", m(5), m(5))
	r.step(m(6))
	r.checkpoint() // as version 3, with the visit's first event still held
	r.restart()
	r.step(m(120))
	r.checkpoint()
	if got, want := r.allDocs("acme"), []string{"acme/u1/v1#0:" + ms(m(1)) + "," + ms(m(5))}; !slices.Equal(got, want) {
		t.Fatalf("documents %v, want %v", got, want)
	}
}

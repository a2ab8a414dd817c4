package loadtest

import (
	"testing"
	"time"

	"github.com/sightline/sightline/internal/event"
)

// The load is only meaningful if every event of it is valid and about 400
// bytes, as the benchmark claims.
func TestBatchesAreValidAndRealistic(t *testing.T) {
	w := NewBatchWriter("t")
	var d event.Decoder
	var b event.Batch
	now := time.Now()
	for i := 0; i < 3; i++ {
		body := w.Append(nil, 25, now)
		if err := d.Decode(body, now, &b); err != nil {
			t.Fatal(err)
		}
		for _, r := range b.Rejected {
			t.Errorf("event %d rejected: %v", r.Index, r.Err)
		}
		if len(b.Events) != 25 {
			t.Fatalf("%d events, want 25", len(b.Events))
		}
		if per := len(body) / 25; per < 350 || per > 450 {
			t.Errorf("%d bytes an event, want about 400", per)
		}
	}
}

// A visit's batches all carry its visitor and visit, and every event of
// them a new id.
func TestAppendVisit(t *testing.T) {
	w := NewBatchWriter("t")
	var d event.Decoder
	var b event.Batch
	now := time.Now()
	ids := map[string]bool{}
	for i := 0; i < 3; i++ {
		if err := d.Decode(w.AppendVisit(nil, "one", 10, now), now, &b); err != nil {
			t.Fatal(err)
		}
		if len(b.Events) != 10 || len(b.Rejected) != 0 {
			t.Fatalf("%d events, %d rejected, want 10 and 0", len(b.Events), len(b.Rejected))
		}
		if b.VisitorID != "v-one" || b.VisitID != "s-one" {
			t.Errorf("visitor, visit = %q, %q, want v-one, s-one", b.VisitorID, b.VisitID)
		}
		for _, e := range b.Events {
			if ids[e.ID] {
				t.Errorf("event id %s repeated", e.ID)
			}
			ids[e.ID] = true
		}
	}
}

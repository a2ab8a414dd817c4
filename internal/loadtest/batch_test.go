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

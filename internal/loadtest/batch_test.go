package loadtest

import (
	"encoding/json"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/event"
)

// The load is only meaningful if every event of it is valid and about 400
// bytes, as the benchmark claims, whatever the workload.
func TestBatchesAreValidAndRealistic(t *testing.T) {
	for _, workload := range []Workload{Realistic, Simple} {
		t.Run(workload.String(), func(t *testing.T) {
			w := (&Config{Workload: workload}).NewWriter(0)
			var d event.Decoder
			var b event.Batch
			now := time.Now()
			size, events := 0, 0
			for i := 0; i < 200; i++ {
				body := w.Append(nil, 25, now)
				if err := d.Decode(body, now, &b); err != nil {
					t.Fatalf("%v\n%s", err, body)
				}
				for _, r := range b.Rejected {
					t.Errorf("event %d rejected: %v", r.Index, r.Err)
				}
				if len(b.Events) != 25 {
					t.Fatalf("%d events, want 25", len(b.Events))
				}
				size += len(body)
				events += len(b.Events)
			}
			if per := size / events; per < 350 || per > 450 {
				t.Errorf("%d bytes an event, want about 400", per)
			}
		})
	}
}

// A realistic load is a busy site's: event ids are UUIDs of version 4,
// never repeated; batches come from many visitors, each keeping its visit;
// pages, products and campaigns vary.
func TestRealisticLoadVaries(t *testing.T) {
	w := (&Config{Workload: Realistic}).NewWriter(0)
	var d event.Decoder
	var b event.Batch
	now := time.Now()
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	ids := map[string]bool{}
	visits := map[string]string{}
	urls, campaigns := map[string]bool{}, map[string]bool{}
	direct := 0 // page views without a referrer
	const batches = 2000
	for i := 0; i < batches; i++ {
		if err := d.Decode(w.Append(nil, 25, now), now, &b); err != nil {
			t.Fatal(err)
		}
		if v, ok := visits[b.VisitorID]; ok && v != b.VisitID {
			t.Errorf("visitor %s in visits %s and %s", b.VisitorID, v, b.VisitID)
		}
		visits[b.VisitorID] = b.VisitID
		for _, e := range b.Events {
			if !uuid.MatchString(e.ID) {
				t.Fatalf("event id %q is not a version 4 UUID", e.ID)
			}
			if ids[e.ID] {
				t.Errorf("event id %s repeated", e.ID)
			}
			ids[e.ID] = true
			var data struct {
				URL        string          `json:"url"`
				Referrer   *string         `json:"referrer"`
				CampaignID json.RawMessage `json:"campaignId"`
				Type       string          `json:"type"`
				Total      float64         `json:"total"`
				Products   []struct {
					Product struct {
						Price float64 `json:"price"`
					} `json:"product"`
					Quantity float64 `json:"quantity"`
				} `json:"products"`
			}
			if err := json.Unmarshal(e.Data, &data); err != nil {
				t.Fatal(err)
			}
			if data.Type == "cart" {
				sum := 0.0
				for _, p := range data.Products {
					sum += p.Product.Price * p.Quantity
				}
				if math.Abs(sum-data.Total) > 0.005 {
					t.Errorf("cart total %v, its lines add up to %v: %s", data.Total, sum, e.Data)
				}
			}
			if data.URL != "" {
				urls[data.URL] = true
				switch ref := *data.Referrer; {
				case ref == "":
					direct++
				case !strings.HasPrefix(ref, "https://"):
					t.Errorf("referrer %q is not a URL", ref)
				}
			}
			if data.CampaignID != nil {
				campaigns[string(data.CampaignID)] = true
			}
		}
	}
	// 2,000 draws from 100,000 visitors: a few repeat.
	if len(visits) < batches*95/100 {
		t.Errorf("%d visitors in %d batches, want nearly one a batch", len(visits), batches)
	}
	if direct == 0 || direct == len(urls) {
		t.Errorf("%d page views of %d without a referrer, want some", direct, len(urls))
	}
	if len(urls) < 1000 || len(campaigns) < 15 {
		t.Errorf("%d distinct URLs and %d campaigns, want many", len(urls), len(campaigns))
	}
}

func TestWorkloadText(t *testing.T) {
	for _, want := range []Workload{Realistic, Simple} {
		var got Workload
		if err := got.UnmarshalText([]byte(want.String())); err != nil || got != want {
			t.Errorf("UnmarshalText(%q) = %v, %v", want, got, err)
		}
	}
	var w Workload
	if err := w.UnmarshalText([]byte("heavy")); err == nil || !strings.Contains(err.Error(), "heavy") {
		t.Errorf("UnmarshalText(heavy) = %v, want an error naming it", err)
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

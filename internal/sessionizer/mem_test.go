package sessionizer

import (
	"fmt"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/eventlog"
)

// BenchmarkOpenVisitMemory measures the heap an open visit of 10 page views
// takes (the target: a million of them in 4 GiB, 4,295 bytes each), with
// its events in memory (cached) and with only where they are in the log.
func BenchmarkOpenVisitMemory(b *testing.B) {
	for _, bc := range []struct {
		name  string
		cache int64
	}{{"cached", 1 << 40}, {"refs", -1}} {
		b.Run(bc.name, func(b *testing.B) { benchOpenVisitMemory(b, bc.cache) })
	}
}

func benchOpenVisitMemory(b *testing.B, cache int64) {
	const visits = 100_000
	ua := "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	for b.Loop() {
		p := &partition{open: map[string]*trackedVisit{}, closed: map[uint64]closedEntry{}}
		cfg := Config{MaxOpenBytes: 1 << 40, CacheBytes: cache}.WithDefaults()
		s := &Sessionizer{cfg: cfg, logger: slog.New(slog.DiscardHandler), parts: []*partition{p}}
		records := make([][]byte, 10)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC).UnixMilli()
		var off eventlog.Offset // the records of a visit's events are apart, as when many visits are open
		for v := range visits {
			for i := range records {
				rec := event.Stored{
					ID: fmt.Sprintf("4b1f0c2e-9d3a-4e8b-b6a1-%012d", v*10+i), AccountID: "75555851",
					VisitorID: fmt.Sprintf("pKytlMTwSPCwpJS-%06d", v), VisitID: fmt.Sprintf("AjvT6hLKTEi3AXgGnYu_%06d", v),
					Time: at + int64(i)*30_000, ServerTime: at + int64(i)*30_000, IP: "203.0.113.7", UserAgent: ua,
					AppName: "LP_MONITORING", EventName: "PAGE_VIEW",
					Data: fmt.Appendf(nil, `{"url":"https://shop.example.com/tv/oled/lg-oled55c3-55-inch-4k-smart-tv?item=%d","referrer":"https://shop.example.com/tv/oled?page=%d","title":"LG OLED55C3 55 inch 4K Smart TV | Shop Example","sections":["electronics","tv"],"contextId":"%d"}`, i, i, 1738225948+i),
				}
				records[i] = event.AppendRecord(records[i][:0], &rec)
				s.add(p, eventlog.Message{Value: records[i], Offset: off, Next: off + eventlog.Offset(len(records[i]))})
				off += 100 * eventlog.Offset(len(records[i]))
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if len(p.open) != visits {
			b.Fatalf("%d open visits", len(p.open))
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/visits, "bytes/visit")
		runtime.KeepAlive(p)
	}
}

package dedup

import (
	"context"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// BenchmarkMemoryPerKey reports the heap an Index holds per remembered id.
func BenchmarkMemoryPerKey(b *testing.B) {
	const n = 2_000_000
	for i := 0; i < b.N; i++ {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		now := time.Now()
		ix := New(time.Hour, now)
		keys := make([]Key, 25)
		dup := make([]bool, 25)
		for j := 0; j < n; j += 25 {
			for k := range keys {
				keys[k] = ix.Key("acct", strconv.Itoa(j+k))
			}
			ix.Reserve(context.Background(), now, keys, dup)
			ix.Settle(keys, dup, true)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/key")
		runtime.KeepAlive(ix)
	}
}

package ingest

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/dedup"
	"github.com/sightline/sightline/internal/eventlog/embedded"
	"github.com/sightline/sightline/internal/loadtest"
)

// BenchmarkHandler measures the collector without the network: decode,
// validation, dedup, records and the durable append (fsync on), from 64
// concurrent requests, each a realistic batch of 25 events.
func BenchmarkHandler(b *testing.B) {
	for _, sync := range []bool{true, false} {
		b.Run("fsync="+strconv.FormatBool(sync), func(b *testing.B) {
			dir := b.TempDir()
			accounts, _ := account.OpenStore(nil, filepath.Join(dir, "accounts"))
			accounts.Add(account.Account{ID: "bench"})
			opts := embedded.DefaultOptions()
			opts.NoSync = !sync
			log, err := embedded.Open(nil, nil, filepath.Join(dir, "log"), opts)
			if err != nil {
				b.Fatal(err)
			}
			defer log.Close()
			cfg := DefaultConfig()
			cfg.BodyTimeout = 0 // a recorder has no connection to set deadlines on
			mux := http.NewServeMux()
			New(cfg, nil, nil, accounts, log, dedup.New(24*time.Hour, time.Now())).Register(mux)
			var seq atomic.Int64
			b.SetParallelism(32)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				w := loadtest.NewBatchWriter("b" + strconv.FormatInt(seq.Add(1), 10))
				var body []byte
				for pb.Next() {
					body = w.Append(body[:0], 25, time.Now())
					req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/api/account/bench/events", bytes.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					rec := httptest.NewRecorder()
					mux.ServeHTTP(rec, req)
					if rec.Code != 200 {
						b.Fatalf("status %d: %s", rec.Code, rec.Body)
					}
				}
			})
			b.ReportMetric(float64(b.N*25)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

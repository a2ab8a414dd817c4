package embedded

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/eventlog"
)

// BenchmarkAppendParallel appends batches of 25 values of 450 bytes from
// many goroutines, as concurrent ingest requests do, with fsync on.
func BenchmarkAppendParallel(b *testing.B) {
	const batch, size = 25, 450
	l, err := Open(nil, nil, b.TempDir(), DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	values := make([][]byte, batch)
	for i := range values {
		values[i] = make([]byte, size)
		for j := range values[i] {
			values[i][j] = byte(rand.N(256))
		}
	}
	var goroutines, busy atomic.Int64
	b.SetBytes(batch * size)
	b.ReportAllocs()
	b.SetParallelism(16) // 16 per CPU: many HTTP handlers waiting on fsync
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		key := binary.LittleEndian.AppendUint64(nil, uint64(goroutines.Add(1)))
		key = append(key, 0, 0, 0, 0)
		for i := uint32(0); pb.Next(); i++ {
			binary.LittleEndian.PutUint32(key[8:], i) // a new visitor each time
			for {
				err := eventlog.Append(b.Context(), l, key, values)
				if errors.Is(err, eventlog.ErrBusy) {
					busy.Add(1)
					time.Sleep(100 * time.Microsecond)
					continue
				}
				if err != nil {
					b.Error(err)
					return
				}
				break
			}
		}
	})
	b.StopTimer()
	var commits int64
	for _, p := range l.parts {
		commits += p.commits.Load()
	}
	records := float64(b.N) * batch
	b.ReportMetric(records/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(records/float64(commits), "records/commit")
	b.ReportMetric(float64(busy.Load()), "busy")
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkRead reads records of 450 bytes from one partition.
func BenchmarkRead(b *testing.B) {
	const records, size = 20000, 450
	opts := DefaultOptions()
	opts.Partitions = 1
	opts.NoSync = true
	l, err := Open(nil, nil, b.TempDir(), opts)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	values := make([][]byte, 100)
	for i := range values {
		values[i] = make([]byte, size)
	}
	for range records / len(values) {
		if err := eventlog.Append(b.Context(), l, nil, values); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	var off eventlog.Offset
	var sum int
	for n := 0; n < b.N; {
		next, err := l.Read(b.Context(), 0, off, 1<<20, func(m eventlog.Message) bool {
			sum += len(m.Value)
			n++
			return n < b.N
		})
		if err != nil {
			b.Fatal(err)
		}
		off = next
		if off == l.Stats()[0].EndOffset {
			off = 0
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	if sum != b.N*size {
		b.Fatalf("read %d bytes, want %d", sum, b.N*size)
	}
}

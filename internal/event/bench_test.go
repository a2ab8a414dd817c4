package event

import (
	"sync"
	"testing"

	"github.com/sightline/sightline/internal/loadtest"
)

// BenchmarkDecode decodes testdata/batch.json: 25 events of about 400 bytes,
// page views, LP_OFFERS events, attributes of six types and a chat event.
func BenchmarkDecode(b *testing.B) {
	body := readFile(b, "batch.json")
	var d Decoder
	var batch Batch
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := d.Decode(body, testNow, &batch); err != nil || len(batch.Events) != 25 {
			b.Fatalf("err %v, %d events", err, len(batch.Events))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch.Events)), "ns/event")
}

// BenchmarkDecodeParallel decodes the batch on every CPU, with Decoders from a
// pool as the ingest handler keeps them.
func BenchmarkDecodeParallel(b *testing.B) {
	body := readFile(b, "batch.json")
	pool := sync.Pool{New: func() any { return new(Decoder) }}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var batch Batch
		for pb.Next() {
			d := pool.Get().(*Decoder)
			if err := d.Decode(body, testNow, &batch); err != nil {
				b.Error(err)
			}
			pool.Put(d)
		}
	})
	b.ReportMetric(float64(b.N*25)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkAppendRecord writes the record of a page view.
func BenchmarkAppendRecord(b *testing.B) {
	s := storedFixture()
	buf := AppendRecord(nil, &s)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendRecord(buf[:0], &s)
	}
}

// BenchmarkParseRecord reads the record of a page view back.
func BenchmarkParseRecord(b *testing.B) {
	s := storedFixture()
	rec := AppendRecord(nil, &s)
	b.SetBytes(int64(len(rec)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseRecord(rec); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDecodeDoesNotAllocate checks that a reused Decoder decodes a batch
// without allocating, but for the string chunk it takes every few batches.
func TestDecodeDoesNotAllocate(t *testing.T) {
	body := readFile(t, "batch.json")
	var d Decoder
	var batch Batch
	decode := func() {
		if err := d.Decode(body, testNow, &batch); err != nil {
			t.Fatal(err)
		}
	}
	decode()
	// About 1 KiB of ids a batch: a 16 KiB chunk lasts for 15 batches.
	if n := testing.AllocsPerRun(150, decode); n > 0.1 {
		t.Errorf("%v allocations per Decode", n)
	}
}

// BenchmarkDecodeRealistic decodes the batches of `sightline bench
// ingest`'s realistic load: UUID ids, content varied from batch to batch.
func BenchmarkDecodeRealistic(b *testing.B) {
	w := (&loadtest.Config{Workload: loadtest.Realistic}).NewWriter(0)
	bodies := make([][]byte, 1000)
	size := 0
	for i := range bodies {
		bodies[i] = w.Append(nil, 25, testNow)
		size += len(bodies[i])
	}
	var d Decoder
	var batch Batch
	b.SetBytes(int64(size / len(bodies)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := d.Decode(bodies[i%len(bodies)], testNow, &batch); err != nil || len(batch.Events) != 25 {
			b.Fatalf("err %v, %d events", err, len(batch.Events))
		}
		i++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*25), "ns/event")
}

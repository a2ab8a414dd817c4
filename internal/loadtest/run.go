package loadtest

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Config describes one load run.
type Config struct {
	URL         string        // the events endpoint
	Clients     int           // concurrent clients (closed loop) or in-flight bound (open loop)
	BatchEvents int           // events per batch
	Duration    time.Duration // measured time
	Warmup      time.Duration // time run before measuring
	// Rate, when positive, sends this many batches a second on a fixed
	// schedule (open loop) instead of as fast as the clients can.
	Rate float64
	// Workload is what the batches hold (Realistic by default).
	Workload Workload
	// Visit, when not "", makes every batch of every client one of this
	// one visit's (BatchWriter.AppendVisit), whatever the Workload: the
	// load of a visitor that never stops.
	Visit string
}

// Workload is what a load's batches hold.
type Workload int

const (
	// Realistic batches are a busy site's: each one of 100,000 visitors
	// picked at random, its events with UUID version 4 ids and content
	// drawn from a catalog of pages, products and campaigns.
	Realistic Workload = iota
	// Simple batches are each a new visitor's, with short sequential event
	// ids and five fixed event templates: cheaper to check and to
	// deduplicate than Realistic.
	Simple
)

var workloadNames = [...]string{Realistic: "realistic", Simple: "simple"}

// String returns the workload's name.
func (w Workload) String() string { return workloadNames[w] }

// MarshalText returns the workload's name.
func (w Workload) MarshalText() ([]byte, error) { return []byte(w.String()), nil }

// UnmarshalText sets w to the workload named text.
func (w *Workload) UnmarshalText(text []byte) error {
	for i, name := range workloadNames {
		if string(text) == name {
			*w = Workload(i)
			return nil
		}
	}
	return fmt.Errorf("workload %q is not realistic or simple", text)
}

// Writer writes the batch bodies of one client of a load.
type Writer interface {
	Append(dst []byte, n int, now time.Time) []byte
}

// realisticSite is the site every realistic writer of the process draws
// from.
var realisticSite = sync.OnceValue(newSite)

// NewWriter returns the writer of client c of a run of cfg.
func (cfg *Config) NewWriter(c int) Writer {
	bw := NewBatchWriter(strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + strconv.Itoa(c))
	switch {
	case cfg.Visit != "":
		return visitWriter{bw, cfg.Visit}
	case cfg.Workload == Realistic:
		return newRealisticWriter(realisticSite(), uint64(c))
	}
	return bw
}

// visitWriter writes every batch for one visit.
type visitWriter struct {
	*BatchWriter
	visit string
}

func (w visitWriter) Append(dst []byte, n int, now time.Time) []byte {
	return w.AppendVisit(dst, w.visit, n, now)
}

// Result is what a run measured.
type Result struct {
	Batches   int
	Events    int
	Errors    int
	Elapsed   time.Duration
	Latencies []time.Duration // one a batch, sorted
	// CPU is the CPU time this process (clients and, in a benchmark that
	// runs it in process, the server) used while measuring; 0 if unknown.
	CPU time.Duration
}

// CPUPerBatch is the process's CPU time per acknowledged batch. Unlike
// throughput it does not depend on how much of the machine the run got,
// so it compares targets more steadily on a shared machine.
func (r Result) CPUPerBatch() time.Duration {
	if r.Batches == 0 {
		return 0
	}
	return r.CPU / time.Duration(r.Batches)
}

// EventsPerSecond is the throughput of acknowledged events.
func (r Result) EventsPerSecond() float64 { return float64(r.Events) / r.Elapsed.Seconds() }

// BatchesPerSecond is the throughput of acknowledged batches.
func (r Result) BatchesPerSecond() float64 { return float64(r.Batches) / r.Elapsed.Seconds() }

// Quantile returns the q-quantile of the batch latencies.
func (r Result) Quantile(q float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	return r.Latencies[min(int(q*float64(len(r.Latencies))), len(r.Latencies)-1)]
}

// Run drives the endpoint as cfg says.
func Run(ctx context.Context, cfg Config) (Result, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: cfg.Clients, MaxConnsPerHost: cfg.Clients, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}

	var (
		mu      sync.Mutex
		res     Result
		measure bool
	)
	record := func(lat time.Duration, events int, err error) {
		mu.Lock()
		defer mu.Unlock()
		if !measure {
			return
		}
		if err != nil {
			res.Errors++
			return
		}
		res.Batches++
		res.Events += events
		res.Latencies = append(res.Latencies, lat)
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()

	// The writers are made before the clock starts: the first realistic
	// one builds the site.
	writers := make([]Writer, cfg.Clients)
	for c := range writers {
		writers[c] = cfg.NewWriter(c)
	}
	var wg sync.WaitGroup
	work := make(chan time.Time, cfg.Clients) // open loop: scheduled send times
	for c := 0; c < cfg.Clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			w := writers[c]
			var body []byte
			for {
				var sched time.Time
				if cfg.Rate > 0 {
					select {
					case sched = <-work:
					case <-runCtx.Done():
						return
					}
				} else if runCtx.Err() != nil {
					return
				}
				body = w.Append(body[:0], cfg.BatchEvents, time.Now())
				start := time.Now()
				if cfg.Rate > 0 {
					start = sched // latency from when it should have been sent
				}
				err := post(runCtx, client, cfg.URL, body)
				if runCtx.Err() != nil {
					return
				}
				record(time.Since(start), cfg.BatchEvents, err)
			}
		}(c)
	}
	if cfg.Rate > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			schedule(runCtx, cfg.Rate, work)
		}()
	}

	sleep(ctx, cfg.Warmup)
	mu.Lock()
	measure = true
	begin, cpu := time.Now(), ProcessCPU()
	mu.Unlock()
	sleep(ctx, cfg.Duration)
	mu.Lock()
	measure = false
	res.Elapsed, res.CPU = time.Since(begin), ProcessCPU()-cpu
	mu.Unlock()
	cancel()
	wg.Wait()
	slices.Sort(res.Latencies)
	if res.Batches == 0 {
		return res, fmt.Errorf("no batch acknowledged (%d errors)", res.Errors)
	}
	return res, ctx.Err()
}

// schedule puts one send time on work every 1/rate seconds until ctx ends.
// When every client is busy the send waits, and its latency counts the wait.
func schedule(ctx context.Context, rate float64, work chan<- time.Time) {
	interval := time.Duration(float64(time.Second) / rate)
	next := time.Now()
	for {
		next = next.Add(interval)
		if d := time.Until(next); d > 0 {
			sleep(ctx, d)
		}
		select {
		case work <- next:
		case <-ctx.Done():
			return
		}
	}
}

func post(ctx context.Context, client *http.Client, url string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// Median returns the run with the median throughput of rs.
func Median(rs []Result) Result {
	s := slices.Clone(rs)
	slices.SortFunc(s, func(a, b Result) int { return cmp.Compare(a.EventsPerSecond(), b.EventsPerSecond()) })
	return s[len(s)/2]
}

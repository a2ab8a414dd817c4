package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/loadtest"
	"github.com/sightline/sightline/internal/server"
)

// runBenchIngest measures Sightline's durable ingest over loopback against
// a ceiling handler on the same machine that reads the body and answers 200
// without parsing or storing, both at full load and at half of it.
func runBenchIngest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench ingest", stderr)
	cfg := server.DefaultConfig()
	clients := fs.Int("clients", 256, "concurrent clients (a site's visitors are many independent clients: enough of them keep the server busy while a group commit is fsynced)")
	batch := fs.Int("batch", 25, "events per batch")
	duration := fs.Duration("duration", time.Second, "measured time of each full-load run")
	warmup := fs.Duration("warmup", 300*time.Millisecond, "unmeasured time before each run")
	halfDuration := fs.Duration("half-duration", 10*time.Second, "measured time of each run at half of the full load (its p99 is the latency figure)")
	fs.IntVar(&cfg.Log.Partitions, "partitions", cfg.Log.Partitions, "event log partitions")
	fs.DurationVar(&cfg.Log.CommitInterval, "commit-interval", cfg.Log.CommitInterval, "least time between two group commits under load (see serve --commit-interval)")
	fs.IntVar(&cfg.Ingest.MaxConcurrent, "max-concurrent", cfg.Ingest.MaxConcurrent, "batch bodies processed at once (see serve --max-concurrent)")
	fs.BoolVar(&cfg.Log.NoSync, "nosync", false, "skip fsync (not durable; for comparison only)")
	webSessions := fs.Bool("websessions", false, "also run the sessionizer, as serve does (the load makes every batch a new visit: far more open visits than real traffic)")
	data := fs.String("data", "", "data directory for the server (default: a new temporary directory, removed after)")
	rounds := fs.Int("rounds", 20, "full-load runs of each target, alternating; medians are reported. Many short rounds let both targets see the same machine: a shared machine's speed drifts over seconds")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of Sightline's first full-load run to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir := *data
	if dir == "" {
		tmp, err := os.MkdirTemp(".", "bench-data-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	cfg.Addr, cfg.DataDir, cfg.DemoAccount = "127.0.0.1:0", dir, false
	// The clients stand for many visitors but all come from 127.0.0.1.
	cfg.Ingest.MaxPerClient = max(cfg.Ingest.MaxPerClient, *clients)
	cfg.NoWebSessions = !*webSessions
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := server.Start(ctx, logger, cfg)
	if err != nil {
		return err
	}
	defer srv.Shutdown()
	if err := srv.Accounts().Add(account.Account{ID: "bench"}); err != nil && !errors.Is(err, account.ErrExists) {
		return err
	}
	ceiling, err := startCeiling()
	if err != nil {
		return err
	}
	defer ceiling.Close()

	targets := []struct{ name, url string }{
		{"ceiling (read body, answer 200)", "http://" + ceiling.Addr + "/api/account/bench/events"},
		{fmt.Sprintf("sightline (durable=%v)", !cfg.Log.NoSync), "http://" + srv.Addr() + "/api/account/bench/events"},
	}
	fmt.Fprintf(stdout, "bench ingest: %d clients, %d events a batch, %d rounds of %s a target, GOMAXPROCS=%d\n\n",
		*clients, *batch, *rounds, *duration, runtime.GOMAXPROCS(0))
	fmt.Fprintf(stdout, "%-34s %-12s %12s %10s %10s %10s %7s %10s %5s\n", "target", "load", "events/s", "batches/s", "p50", "p99", "errors", "cpu/batch", "busy")
	// Full load, the targets alternating round by round so that both see
	// the same machine; the medians are compared.
	max := make([][]loadtest.Result, len(targets))
	for r := 0; r < *rounds; r++ {
		for i, t := range targets {
			lc := loadtest.Config{URL: t.url, Clients: *clients, BatchEvents: *batch, Duration: *duration, Warmup: *warmup}
			stop := func() {}
			if i == 1 && r == 0 && *cpuProfile != "" {
				if stop, err = startCPUProfile(*cpuProfile); err != nil {
					return err
				}
			}
			res, err := loadtest.Run(ctx, lc)
			stop()
			if err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
			max[i] = append(max[i], res)
			printResult(stdout, t.name, fmt.Sprintf("max #%d", r+1), res)
		}
	}
	med := make([]loadtest.Result, len(targets))
	for i, t := range targets {
		med[i] = loadtest.Median(max[i])
		printResult(stdout, t.name, "max median", med[i])
	}
	// Half of the median full load, on a fixed schedule.
	for i, t := range targets {
		lc := loadtest.Config{URL: t.url, Clients: *clients, BatchEvents: *batch, Duration: *halfDuration, Warmup: *warmup,
			Rate: med[i].BatchesPerSecond() / 2}
		half, err := loadtest.Run(ctx, lc)
		if err != nil {
			return fmt.Errorf("%s at 50%%: %w", t.name, err)
		}
		printResult(stdout, t.name, "50% of max", half)
	}
	// Each round's pair ran a minute or less apart; the median of their
	// ratios is steadier on a shared machine than the ratio of the medians.
	ratios := make([]float64, *rounds)
	for r := range ratios {
		ratios[r] = 100 * max[1][r].EventsPerSecond() / max[0][r].EventsPerSecond()
	}
	slices.Sort(ratios)
	fmt.Fprintf(stdout, "\nsightline / ceiling (medians): %.1f%% of the ceiling's events/s\n", 100*med[1].EventsPerSecond()/med[0].EventsPerSecond())
	fmt.Fprintf(stdout, "sightline / ceiling, round by round: median %.1f%%, from %.1f%% to %.1f%%\n", ratios[len(ratios)/2], ratios[0], ratios[len(ratios)-1])
	if cpu := [2]time.Duration{medianCPUPerBatch(max[0]), medianCPUPerBatch(max[1])}; cpu[1] > 0 {
		fmt.Fprintf(stdout, "CPU per batch, clients included (medians): ceiling %s, sightline %s: the ceiling needs %.1f%% of sightline's\n",
			cpu[0].Round(100*time.Nanosecond), cpu[1].Round(100*time.Nanosecond), 100*float64(cpu[0])/float64(cpu[1]))
	}
	return nil
}

// medianCPUPerBatch is the median of the runs' CPU time per batch: the
// cost of a batch, which a machine shared with other work changes less
// than throughput.
func medianCPUPerBatch(rs []loadtest.Result) time.Duration {
	cpu := make([]time.Duration, len(rs))
	for i, r := range rs {
		cpu[i] = r.CPUPerBatch()
	}
	slices.Sort(cpu)
	return cpu[len(cpu)/2]
}

func printResult(w io.Writer, name, load string, r loadtest.Result) {
	busy := float64(r.CPU) / float64(r.Elapsed) / float64(runtime.GOMAXPROCS(0))
	fmt.Fprintf(w, "%-34s %-12s %12.0f %10.0f %10s %10s %7d %10s %4.0f%%\n", name, load, r.EventsPerSecond(), r.BatchesPerSecond(),
		r.Quantile(0.5).Round(10*time.Microsecond), r.Quantile(0.99).Round(10*time.Microsecond), r.Errors,
		r.CPUPerBatch().Round(100*time.Nanosecond), 100*busy)
}

func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// startCeiling starts the no-op handler: read the body, answer 200 with an
// answer shaped like the real one.
func startCeiling() (*http.Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	answer := []byte(`{"accepted":25,"duplicates":0,"rejected":[]}` + "\n")
	s := &http.Server{Addr: ln.Addr().String(), Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
	})}
	go s.Serve(ln)
	return s, nil
}

package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
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
	clients := fs.Int("clients", 64, "concurrent clients, each with its keep-alive connection (a site's visitors are many independent clients: enough of them keep the server busy while a group commit is fsynced)")
	workload := loadtest.Realistic
	fs.TextVar(&workload, "workload", workload, "what the batches hold: realistic (each a random one of 100,000 visitors', UUID event ids, content drawn from a catalog of pages, products and campaigns) or simple (each a new visitor's, short sequential ids, five fixed events)")
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
	dir, cleanup, err := dirOrTemp(*data, "bench-data-")
	if err != nil {
		return err
	}
	defer cleanup()
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
	fmt.Fprintf(stdout, "bench ingest: %s workload, %d clients, %d events a batch, %d rounds of %s a target, GOMAXPROCS=%d\n\n",
		workload, *clients, *batch, *rounds, *duration, runtime.GOMAXPROCS(0))
	fmt.Fprintf(stdout, "%-34s %-12s %12s %10s %10s %10s %7s %10s %5s\n", "target", "load", "events/s", "batches/s", "p50", "p99", "errors", "cpu/batch", "busy")
	// Full load, the targets alternating round by round so that both see
	// the same machine; the medians are compared.
	max := make([][]loadtest.Result, len(targets))
	for r := 0; r < *rounds; r++ {
		for i, t := range targets {
			lc := loadtest.Config{URL: t.url, Clients: *clients, BatchEvents: *batch, Duration: *duration, Warmup: *warmup, Workload: workload}
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
			Workload: workload, Rate: med[i].BatchesPerSecond() / 2}
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
		// Not the "max median" rows' figure: those are the runs of median
		// throughput, and CPU per batch has a median of its own.
		fmt.Fprintf(stdout, "CPU per batch, clients included, median of the %d rounds (the max median rows are the runs of median events/s): ceiling %s, sightline %s: the ceiling needs %.1f%% of sightline's\n",
			*rounds, cpu[0].Round(100*time.Nanosecond), cpu[1].Round(100*time.Nanosecond), 100*float64(cpu[0])/float64(cpu[1]))
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

// dirOrTemp returns dir, or if it is "" a new directory named prefix and
// some digits in the working directory, which cleanup removes: on the
// disk, where a temporary file system may live in memory.
func dirOrTemp(dir, prefix string) (_ string, cleanup func(), err error) {
	if dir != "" {
		return dir, func() {}, nil
	}
	tmp, err := os.MkdirTemp(".", prefix)
	if err != nil {
		return "", nil, err
	}
	return tmp, func() { os.RemoveAll(tmp) }, nil
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

// benchAccount is the account the servers of bench memory take events for.
const benchAccount = "bench"

// runBenchMemory measures what an attack does to a server binary's memory
// and to its restart: it runs `BINARY serve` as a child process on a new
// data directory, attacks it for --duration while watching its RSS, stops
// it, measures the sessionizer state left on disk, and times the start of
// the binary on it. Several --binary run alternately, --rounds times each,
// so that a before and an after are one run of it. The child's memory is
// read from /proc: Linux only.
func runBenchMemory(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench memory", stderr)
	var binaries stringList
	fs.Var(&binaries, "binary", "sightline binary to run as the server, optionally with serve flags after it (\"bin/sightline --max-per-client 4000\"); repeat it to compare binaries, which then run alternately (default: this one)")
	attack := fs.String("attack", "visitor", "visitor: one client sends batch after batch of one visitor's one visit; clients: --clients clients send batches of new visits, as bench ingest's")
	events := fs.Int("events", 0, "events a batch (default: 1000 for --attack visitor, 25 for --attack clients)")
	clients := fs.Int("clients", 3000, "concurrent clients of --attack clients")
	duration := fs.Duration("duration", 30*time.Second, "time of each attack")
	rounds := fs.Int("rounds", 1, "runs of each binary; medians are reported when more than one")
	kill := fs.Bool("kill", false, "stop the server with SIGKILL after the attack instead of SIGTERM (which writes a last checkpoint)")
	maxRSS := fs.Int64("max-rss", 8192, "stop the attack early once the server's RSS passes this many MB")
	data := fs.String("data", "", "directory that keeps each run's data directory, run-N, after (default: a new directory in the working one, removed after)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench memory: unexpected argument %q", fs.Arg(0))
	}
	if len(binaries) == 0 {
		self, err := os.Executable()
		if err != nil {
			return err
		}
		binaries = stringList{self}
	}
	b := memoryBench{
		load:   loadtest.Config{Clients: *clients, BatchEvents: *events, Duration: *duration, Workload: loadtest.Simple},
		maxRSS: *maxRSS << 20,
		signal: syscall.SIGTERM,
		stderr: stderr,
	}
	signalName := "SIGTERM"
	var shape string
	switch *attack {
	case "visitor":
		b.load.Clients, b.load.Visit = 1, "bench-memory"
		b.load.BatchEvents = cmp.Or(b.load.BatchEvents, 1000)
		shape = fmt.Sprintf("1 client, batches of %d events of one visit", b.load.BatchEvents)
	case "clients":
		b.load.BatchEvents = cmp.Or(b.load.BatchEvents, 25)
		shape = fmt.Sprintf("%d clients, batches of %d events of a new visit each", b.load.Clients, b.load.BatchEvents)
	default:
		return fmt.Errorf("bench memory: --attack %q is not visitor or clients", *attack)
	}
	if *kill {
		b.signal, signalName = syscall.SIGKILL, "SIGKILL"
	}
	root, cleanup, err := dirOrTemp(*data, "bench-memory-")
	if err != nil {
		return err
	}
	defer cleanup()

	fmt.Fprintf(stdout, "bench memory: attack %s (%s), %s a run, %d round(s), stopped by %s\n", *attack, shape, *duration, *rounds, signalName)
	fmt.Fprintf(stdout, "peak RSS: VmHWM at the end of the attack; end RSS: VmRSS then; heap: go_memstats_heap_alloc_bytes then;\n"+
		"open visits: sightline_sessionizer_open_visits (at the last checkpoint); stop: from the signal to the exit;\n"+
		"checkpoint, spool: bytes in websessions/state after the stop; restart: from exec to the first 200 from /readyz;\n"+
		"restart RSS, restart peak: VmRSS and VmHWM then. MB are 2^20 bytes, KB 2^10.\n\n")
	width := len("binary")
	for _, bin := range binaries {
		width = max(width, len(bin))
	}
	fmt.Fprintf(stdout, "%-*s %-6s", width, "binary", "run")
	for _, c := range memoryColumns {
		fmt.Fprintf(stdout, " %*s", columnWidth(c.name), c.name)
	}
	fmt.Fprintln(stdout)
	runs := make([][]memoryRun, len(binaries))
	for r := 0; r < *rounds; r++ {
		for i, bin := range binaries {
			dir := filepath.Join(root, fmt.Sprintf("run-%d", r*len(binaries)+i+1))
			if err := os.Mkdir(dir, 0o755); err != nil {
				return err
			}
			m, err := b.measure(ctx, bin, dir)
			if err != nil {
				return fmt.Errorf("%s, round %d: %w", bin, r+1, err)
			}
			runs[i] = append(runs[i], m)
			printMemoryRow(stdout, width, bin, fmt.Sprintf("#%d", r+1), m.figures())
			if m.stoppedEarly {
				fmt.Fprintf(stdout, "  the attack stopped after %.1f s: the server's RSS passed --max-rss %d MB\n", m.load.Elapsed.Seconds(), *maxRSS)
			}
		}
	}
	if *rounds > 1 {
		for i, bin := range binaries {
			printMemoryRow(stdout, width, bin, "median", medianFigures(runs[i]))
		}
	}
	return nil
}

// memoryBench is how bench memory attacks and measures a server.
type memoryBench struct {
	load   loadtest.Config // the attack, without its URL
	maxRSS int64           // bytes of RSS that stop the attack
	signal syscall.Signal  // what stops the server after the attack
	stderr io.Writer       // where the servers log
}

// memoryRun is what one run of bench memory measured. Sizes are in bytes.
type memoryRun struct {
	load              loadtest.Result
	stoppedEarly      bool // by the RSS guard
	peakRSS, endRSS   int64
	heap, openVisits  float64 // NaN when the server's /metrics lacks them
	stop              time.Duration
	checkpoint, spool int64
	restart           time.Duration
	restartRSS        int64
	restartPeak       int64
}

// memoryColumn is a figure of bench memory's table.
type memoryColumn struct {
	name  string
	prec  int // decimals
	value func(*memoryRun) float64
}

// memoryColumns are the figures of a run, in the order of the table.
var memoryColumns = []memoryColumn{
	{"acked", 0, func(m *memoryRun) float64 { return float64(m.load.Events) }},
	{"events/s", 0, func(m *memoryRun) float64 { return m.load.EventsPerSecond() }},
	{"errors", 0, func(m *memoryRun) float64 { return float64(m.load.Errors) }},
	{"attack s", 1, func(m *memoryRun) float64 { return m.load.Elapsed.Seconds() }},
	{"peak RSS MB", 0, func(m *memoryRun) float64 { return mb(m.peakRSS) }},
	{"end RSS MB", 0, func(m *memoryRun) float64 { return mb(m.endRSS) }},
	{"heap MB", 0, func(m *memoryRun) float64 { return m.heap / (1 << 20) }},
	{"open visits", 0, func(m *memoryRun) float64 { return m.openVisits }},
	{"stop s", 2, func(m *memoryRun) float64 { return m.stop.Seconds() }},
	{"checkpoint KB", 1, func(m *memoryRun) float64 { return float64(m.checkpoint) / (1 << 10) }},
	{"spool MB", 1, func(m *memoryRun) float64 { return mb(m.spool) }},
	{"restart s", 2, func(m *memoryRun) float64 { return m.restart.Seconds() }},
	{"restart RSS MB", 0, func(m *memoryRun) float64 { return mb(m.restartRSS) }},
	{"restart peak MB", 0, func(m *memoryRun) float64 { return mb(m.restartPeak) }},
}

func mb(bytes int64) float64 { return float64(bytes) / (1 << 20) }

// figures returns m's figures in the order of memoryColumns.
func (m *memoryRun) figures() []float64 {
	f := make([]float64, len(memoryColumns))
	for i, c := range memoryColumns {
		f[i] = c.value(m)
	}
	return f
}

// medianFigures returns the median of each figure of runs (of an even
// number, the mean of the middle two), those the servers did not report
// left out.
func medianFigures(runs []memoryRun) []float64 {
	med := make([]float64, len(memoryColumns))
	for i, c := range memoryColumns {
		var vs []float64
		for j := range runs {
			if v := c.value(&runs[j]); !math.IsNaN(v) {
				vs = append(vs, v)
			}
		}
		med[i] = math.NaN()
		if n := len(vs); n > 0 {
			slices.Sort(vs)
			med[i] = (vs[(n-1)/2] + vs[n/2]) / 2
		}
	}
	return med
}

func columnWidth(name string) int { return max(len(name), 8) }

// printMemoryRow prints one row of the table; a NaN figure is "-".
func printMemoryRow(w io.Writer, width int, binary, run string, figures []float64) {
	fmt.Fprintf(w, "%-*s %-6s", width, binary, run)
	for i, c := range memoryColumns {
		if math.IsNaN(figures[i]) {
			fmt.Fprintf(w, " %*s", columnWidth(c.name), "-")
		} else {
			fmt.Fprintf(w, " %*.*f", columnWidth(c.name), c.prec, figures[i])
		}
	}
	fmt.Fprintln(w)
}

// measure adds the bench account to the new data directory dataDir, runs
// binary's server on it, attacks it, stops it, and starts it again.
func (b memoryBench) measure(ctx context.Context, binary, dataDir string) (memoryRun, error) {
	var m memoryRun
	// A binary may be given with serve flags after it: "bin/sightline --max-per-client 4000".
	serveFlags := strings.Fields(binary)
	binary, serveFlags = serveFlags[0], serveFlags[1:]
	if out, err := exec.CommandContext(ctx, binary, "accounts", "add", benchAccount, "--data", dataDir).CombinedOutput(); err != nil {
		return m, fmt.Errorf("cannot add the %s account: %w\n%s", benchAccount, err, out)
	}
	addr, err := freeLoopbackAddr()
	if err != nil {
		return m, err
	}
	srv, err := startChild(ctx, binary, serveFlags, dataDir, addr, b.stderr)
	if err != nil {
		return m, err
	}
	defer srv.kill()

	load := b.load
	load.URL = "http://" + addr + "/api/account/" + benchAccount + "/events"
	attackCtx, stopAttack := context.WithCancel(ctx)
	guard := make(chan bool)
	go func() { guard <- srv.watchRSS(attackCtx, b.maxRSS, stopAttack) }()
	m.load, err = loadtest.Run(attackCtx, load)
	stopAttack()
	// An attack the guard stopped counts what was acknowledged until then,
	// if anything.
	if m.stoppedEarly = <-guard; err != nil && (!m.stoppedEarly || ctx.Err() != nil) {
		return m, fmt.Errorf("attack: %w", err)
	}
	if m.endRSS, m.peakRSS, err = srv.memory(); err != nil {
		return m, err
	}
	if m.heap, m.openVisits, err = srv.metrics(ctx); err != nil {
		return m, err
	}
	if m.stop, err = srv.stop(b.signal); err != nil {
		return m, err
	}
	if m.checkpoint, m.spool, err = stateSize(server.WebSessionStateDir(dataDir)); err != nil {
		return m, err
	}

	start := time.Now()
	if srv, err = startChild(ctx, binary, serveFlags, dataDir, addr, b.stderr); err != nil {
		return m, fmt.Errorf("restart: %w", err)
	}
	defer srv.kill()
	m.restart = time.Since(start)
	if m.restartRSS, m.restartPeak, err = srv.memory(); err != nil {
		return m, err
	}
	_, err = srv.stop(syscall.SIGTERM)
	return m, err
}

// stateSize returns the bytes of a sessionizer state directory: those of
// its spool, and the rest, its checkpoint.
func stateSize(dir string) (checkpoint, spool int64, err error) {
	spoolDir := filepath.Join(dir, "spool") + string(filepath.Separator)
	err = filepath.WalkDir(dir, func(path string, d iofs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if strings.HasPrefix(path, spoolDir) {
			spool += info.Size()
		} else {
			checkpoint += info.Size()
		}
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("cannot measure the sessionizer state: %w", err)
	}
	return checkpoint, spool, nil
}

// freeLoopbackAddr returns a loopback address whose port is free now, for
// another process to listen on.
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// child is a sightline server that bench memory runs as a child process.
type child struct {
	cmd     *exec.Cmd
	addr    string
	done    chan struct{} // closed once it has exited
	waitErr error         // how it exited, once done is closed
}

// startChild runs `binary serve` with flags on dataDir and addr, logging
// warnings and errors to stderr, and returns once it answers /readyz with
// 200.
func startChild(ctx context.Context, binary string, flags []string, dataDir, addr string, stderr io.Writer) (*child, error) {
	args := append([]string{"serve", "--addr", addr, "--data", dataDir, "--log-level", "warn"}, flags...)
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, addr: addr, done: make(chan struct{})}
	go func() {
		c.waitErr = cmd.Wait()
		close(c.done)
	}()
	client := &http.Client{Timeout: time.Second}
	for {
		if resp, err := client.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return c, nil
			}
		}
		select {
		case <-c.done:
			return nil, fmt.Errorf("%s serve exited before it was ready: %v", binary, c.waitErr)
		case <-ctx.Done():
			c.kill()
			return nil, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// memory returns the child's resident set size and its peak so far
// (VmRSS and VmHWM of /proc/PID/status), in bytes.
func (c *child) memory() (rss, peak int64, err error) {
	select {
	case <-c.done:
		return 0, 0, fmt.Errorf("the server exited: %v", c.waitErr)
	default:
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		return 0, 0, fmt.Errorf("cannot read the server's memory: %w", err)
	}
	for line := range strings.Lines(string(status)) {
		name, value, _ := strings.Cut(line, ":")
		var v *int64
		switch name {
		case "VmRSS":
			v = &rss
		case "VmHWM":
			v = &peak
		default:
			continue
		}
		kB, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("cannot read the server's memory: %s: %w", name, err)
		}
		*v = kB << 10
	}
	return rss, peak, nil
}

// watchRSS reads the child's RSS every 200 ms until ctx ends. Once it has
// passed limit bytes it calls stop and reports true.
func (c *child) watchRSS(ctx context.Context, limit int64, stop func()) bool {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
		if rss, _, err := c.memory(); err == nil && rss > limit {
			stop()
			return true
		}
	}
}

// metrics reads the child's heap in use (go_memstats_heap_alloc_bytes)
// and open visits (sightline_sessionizer_open_visits) from its /metrics;
// each is NaN if missing.
func (c *child) metrics(ctx context.Context) (heap, openVisits float64, err error) {
	v, err := c.metricValues(ctx, "go_memstats_heap_alloc_bytes", "sightline_sessionizer_open_visits")
	if err != nil {
		return 0, 0, err
	}
	return v[0], v[1], nil
}

// metricValues reads the values of the unlabelled metrics names from the
// child's /metrics, in their order; each is NaN if missing.
func (c *child) metricValues(ctx context.Context, names ...string) ([]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.addr+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot read the server's metrics: %w", err)
	}
	defer resp.Body.Close()
	values := make([]float64, len(names))
	for i := range values {
		values[i] = math.NaN()
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, _ := strings.Cut(sc.Text(), " ")
		if i := slices.Index(names, name); i >= 0 {
			if values[i], err = strconv.ParseFloat(value, 64); err != nil {
				return nil, fmt.Errorf("cannot read the server's metrics: %s: %w", name, err)
			}
		}
	}
	return values, sc.Err()
}

// clockTicks is the unit of the CPU times of /proc/PID/stat: USER_HZ,
// 100 on Linux.
const clockTicks = 100

// cpu returns the CPU time, user and system, the child has used (from
// /proc: Linux only).
func (c *child) cpu() (time.Duration, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("cannot read the server's CPU time: %w", err)
	}
	// The command's name, in parentheses, may hold spaces: the fields
	// counted are those after it, utime and stime the 12th and 13th.
	i := bytes.LastIndexByte(stat, ')')
	var fields []string
	if i >= 0 {
		fields = strings.Fields(string(stat[i+1:]))
	}
	if len(fields) < 13 {
		return 0, fmt.Errorf("cannot read the server's CPU time: %.100q", stat)
	}
	var ticks int64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("cannot read the server's CPU time: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// openFiles returns the child's limit of open files (its soft limit, from
// /proc: Linux only).
func (c *child) openFiles() (int64, error) {
	limits, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", c.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("cannot read the server's limits: %w", err)
	}
	for line := range strings.Lines(string(limits)) {
		if rest, ok := strings.CutPrefix(line, "Max open files"); ok {
			if f := strings.Fields(rest); len(f) > 0 {
				return strconv.ParseInt(f[0], 10, 64)
			}
		}
	}
	return 0, errors.New("cannot read the server's limit of open files")
}

// stop sends sig to the child and waits for it to exit, and returns how
// long that took. After SIGTERM the exit must be a clean one.
func (c *child) stop(sig syscall.Signal) (time.Duration, error) {
	start := time.Now()
	if err := c.cmd.Process.Signal(sig); err != nil {
		return 0, fmt.Errorf("cannot stop the server: %w", err)
	}
	<-c.done
	took := time.Since(start)
	if sig == syscall.SIGTERM && c.waitErr != nil {
		return took, fmt.Errorf("the server failed to stop on SIGTERM: %w", c.waitErr)
	}
	return took, nil
}

// shutdown stops the child with SIGTERM, as an operator does (a
// --cpuprofile of it is then written), and kills it if it has not exited
// after timeout.
func (c *child) shutdown(timeout time.Duration) {
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(timeout):
		c.kill()
	}
}

// kill kills the child unless it has exited, and waits for its exit.
func (c *child) kill() {
	c.cmd.Process.Kill()
	<-c.done
}

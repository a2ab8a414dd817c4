package sessionizer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/enrich"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/eventlog"
	"github.com/sightline/sightline/internal/eventlog/embedded"
	"github.com/sightline/sightline/internal/filestore"
	"github.com/sightline/sightline/internal/websession"
)

// The log the replay benchmarks share: benchLogVisits visits of the 20
// events of benchVisit (10 page views), of benchLogAccounts accounts in
// turn, starting evenly over benchLogSpan from t0, appended in server-time
// order to an embedded log of 4 partitions.
const (
	benchLogVisits     = 100_000 // 2,000,000 events
	benchLogAccounts   = 3
	benchLogSpan       = 6 * time.Hour
	benchLogPartitions = 4
)

// The replay the benchmarks make: the first account's hours 3 to 5 of the
// log. Lookback (about 50 hours) reaches before the log's start, so that
// the whole log is read.
var (
	benchReplayFrom = t0.Add(3 * time.Hour)
	benchReplayTo   = t0.Add(6 * time.Hour)
	// benchReplayNow is the replay's clock: past every visit's close.
	benchReplayNow = t0.Add(8 * time.Hour)
)

func benchAccount(visit int) string { return fmt.Sprintf("7555585%d", visit%benchLogAccounts) }

// benchLog is the shared log, built by the first benchmark that needs it
// in a directory of its own that TestMain removes (a benchmark's TempDir
// goes with the benchmark).
var benchLog struct {
	once   sync.Once
	dir    string
	reader *embedded.Reader
	events int64 // records in the log
	bytes  int64 // of record values
	err    error
}

// TestMain removes the log of the replay benchmarks, if one was built.
func TestMain(m *testing.M) {
	code := m.Run()
	if benchLog.reader != nil {
		benchLog.reader.Close()
	}
	if benchLog.dir != "" {
		os.RemoveAll(benchLog.dir)
	}
	os.Exit(code)
}

// replayBenchLog returns the shared log, read as the rebuild command reads
// it (embedded.OpenReader), and its number of records, building it the
// first time.
func replayBenchLog(b *testing.B) (*embedded.Reader, int64) {
	b.Helper()
	benchLog.once.Do(func() {
		start := time.Now()
		benchLog.dir, benchLog.err = os.MkdirTemp("", "sightline-replay-bench-")
		if benchLog.err == nil {
			benchLog.events, benchLog.bytes, benchLog.err = writeBenchLog(benchLog.dir)
		}
		if benchLog.err == nil {
			benchLog.reader, benchLog.err = embedded.OpenReader(benchLog.dir)
		}
		b.Logf("built a log of %d events, %.0f MB of records, in %s", benchLog.events, float64(benchLog.bytes)/1e6, time.Since(start).Round(time.Millisecond))
	})
	if benchLog.err != nil {
		b.Fatalf("cannot build the benchmark log: %v", benchLog.err)
	}
	return benchLog.reader, benchLog.events
}

// writeBenchLog writes the benchmarks' log in dir, and returns its number
// of records and their bytes.
func writeBenchLog(dir string) (events, size int64, err error) {
	opts := embedded.DefaultOptions()
	opts.Partitions, opts.NoSync, opts.RetentionAge = benchLogPartitions, true, 0
	l, err := embedded.Open(slog.New(slog.DiscardHandler), nil, dir, opts)
	if err != nil {
		return 0, 0, err
	}
	defer func() {
		if cerr := l.Close(); err == nil {
			err = cerr
		}
	}()

	// A visit's events are benchVisit's, spaced by 20 to 100 seconds (the
	// visits last 6 to 32 minutes) and shifted to the visit's start; the
	// clients' clocks are a few seconds off the server's.
	template := benchVisit(0, 0)
	type visitIDs struct{ account, visitor, visit string }
	ids := make([]visitIDs, benchLogVisits)
	type slot struct {
		at       int64 // server time, epoch ms
		visit, e int32
	}
	slots := make([]slot, 0, benchLogVisits*len(template.Events))
	step := benchLogSpan.Milliseconds() / benchLogVisits
	for i := range benchLogVisits {
		v := benchVisit(i, 0)
		ids[i] = visitIDs{benchAccount(i), v.VisitorID, v.VisitID}
		begin := t0.UnixMilli() + int64(i)*step + int64(i*7919%int(step))
		gap := int64(1+i%5) * 20_000
		for e := range template.Events {
			slots = append(slots, slot{begin + int64(e)*gap + int64(i*31+e*17)%1000, int32(i), int32(e)})
		}
	}
	slices.SortFunc(slots, func(a, b slot) int {
		return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.visit, b.visit), cmp.Compare(a.e, b.e))
	})

	// Appended in server-time order, in batches of a partition's records
	// (a key only chooses the partition).
	const batch = 500
	type pending struct {
		key    []byte
		values [][]byte
	}
	parts := make([]pending, benchLogPartitions)
	var waits []eventlog.Pending
	wait := func() error {
		for _, w := range waits {
			if err := w.Wait(context.Background()); err != nil {
				return err
			}
		}
		waits = waits[:0]
		return nil
	}
	submit := func(p *pending) error {
		for {
			w, err := l.Submit(p.key, p.values)
			if errors.Is(err, eventlog.ErrBusy) {
				if err := wait(); err != nil {
					return err
				}
				continue
			}
			if err != nil {
				return err
			}
			waits = append(waits, w)
			p.values = p.values[:0]
			return nil
		}
	}
	for _, s := range slots {
		id, tev := ids[s.visit], template.Events[s.e]
		rec := event.Stored{
			ID:        fmt.Sprintf("4b1f0c2e-9d3a-4e8b-b6a1-%012d", int64(s.visit)*int64(len(template.Events))+int64(s.e)),
			AccountID: id.account, VisitorID: id.visitor, VisitID: id.visit,
			Time: s.at - int64(s.visit%7-3)*1000, ServerTime: s.at,
			IP: template.IP, UserAgent: template.UserAgent,
			AppName: tev.App, EventName: tev.Name, Data: tev.Data,
		}
		key := []byte(id.account + "/" + id.visitor)
		p := &parts[eventlog.PartitionFor(key, benchLogPartitions)]
		value := event.AppendRecord(nil, &rec)
		p.key, p.values = key, append(p.values, value)
		events, size = events+1, size+int64(len(value))
		if len(p.values) == batch {
			if err := submit(p); err != nil {
				return events, size, err
			}
		}
	}
	for i := range parts {
		if len(parts[i].values) > 0 {
			if err := submit(&parts[i]); err != nil {
				return events, size, err
			}
		}
	}
	return events, size, wait()
}

// benchReplayConfig is the replay's configuration, its spool under dir.
func benchReplayConfig(dir string) Config {
	return Config{Dir: dir, Now: func() time.Time { return benchReplayNow }}
}

// BenchmarkReadLog reads every record of the log and parses it, what any
// consumer of the log does at least: the ceiling of a replay.
func BenchmarkReadLog(b *testing.B) {
	log, events := replayBenchLog(b)
	ctx := context.Background()
	var read int64
	b.ResetTimer()
	for b.Loop() {
		n := int64(0)
		var last int64
		for p := range log.Partitions() {
			var perr error
			_, err := eventlog.ReadToEnd(ctx, log, p, 0, func(m eventlog.Message) bool {
				rec, err := event.ParseRecordView(m.Value)
				if err != nil {
					perr = err
					return false
				}
				last = max(last, rec.ServerTime)
				n++
				return true
			})
			if err == nil {
				err = perr
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		if n != events || last == 0 {
			b.Fatalf("read %d events, want %d", n, events)
		}
		read += n
	}
	b.ReportMetric(float64(read)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(benchLog.bytes)*float64(b.N)/1e6/b.Elapsed().Seconds(), "MB/s")
}

// benchReplay replays the benchmark account's three hours of log, which
// holds events in all, as cfg says, and checks what it read.
func benchReplay(b *testing.B, log eventlog.RangeReader, events int64, cfg Config) ReplayResult {
	b.Helper()
	res, err := Replay(context.Background(), slog.New(slog.DiscardHandler), log, cfg, benchAccount(0), benchReplayFrom, benchReplayTo, nil)
	if err != nil {
		b.Fatal(err)
	}
	// The replay stops where the watermarks pass the range's end: the
	// events after it (the ends of the last visits) are not read.
	if res.Events < events*9/10 || res.Events > events || res.Visits == 0 || len(res.Hours) != 3 {
		b.Fatalf("replay read %d events of %d, spooled %d visits in hours %v", res.Events, events, res.Visits, res.Hours)
	}
	return res
}

// BenchmarkReplay replays one account's three hours into a new spool.
func BenchmarkReplay(b *testing.B) {
	log, events := replayBenchLog(b)
	benchReplayRuns(b, func(dir string) ReplayResult {
		return benchReplay(b, log, events, benchReplayConfig(dir))
	})
}

// benchReplayRuns runs run, which replays into dir, once per iteration,
// each in a new directory removed untimed after it, and reports the
// events and visits replayed per second and the visits per run.
func benchReplayRuns(b *testing.B, run func(dir string) ReplayResult) {
	base := b.TempDir()
	var read, visits int64
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		dir := filepath.Join(base, strconv.Itoa(i))
		res := run(dir)
		read, visits = read+res.Events, visits+res.Visits
		b.StopTimer()
		if err := os.RemoveAll(dir); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(read)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(visits)/b.Elapsed().Seconds(), "visits/s")
	b.ReportMetric(float64(visits)/float64(b.N), "visits")
}

// BenchmarkRebuild rebuilds one account's three hours as the rebuild
// command does: the replay, then each hour's files, with the server's
// document renderer, into a new file store.
func BenchmarkRebuild(b *testing.B) {
	log, events := replayBenchLog(b)
	ctx := context.Background()
	logger := slog.New(slog.DiscardHandler)
	en, err := enrich.New(enrich.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer en.Close()
	render := func(dst []byte, v *websession.Visit) []byte { return websession.AppendDocument(dst, v, en) }
	benchReplayRuns(b, func(dir string) ReplayResult {
		cfg := benchReplayConfig(filepath.Join(dir, "state"))
		res := benchReplay(b, log, events, cfg)
		store, err := filestore.NewDir(filepath.Join(dir, "files"))
		if err != nil {
			b.Fatal(err)
		}
		hours := NewHours(logger, store, HoursConfig{Dir: cfg.Dir}, nil, render)
		written := 0
		for _, h := range res.Hours {
			hr, err := hours.WriteHour(ctx, h+time.Hour.Milliseconds())
			if err != nil {
				b.Fatal(err)
			}
			written += hr.Total()
		}
		if int64(written) != res.Visits {
			b.Fatalf("wrote %d visits, want the %d replayed", written, res.Visits)
		}
		return res
	})
}

package sessionizer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/eventlog"
	"github.com/sightline/sightline/internal/eventlog/embedded"
	"github.com/sightline/sightline/internal/filestore"
	"github.com/sightline/sightline/internal/hourfiles"
	"github.com/sightline/sightline/internal/websession"
)

// t0 is the start of an hour.
var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// rig is a log, a sessionizer over it with a controlled clock, and the
// hourly job writing to a file store.
type rig struct {
	t        *testing.T
	dir      string
	log      *embedded.Log
	now      time.Time
	s        *Sessionizer
	hours    *Hours
	store    *filestore.Dir
	complete []int64
	maxDur   time.Duration // Config.MaxDuration; 0 for the default
	tune     func(*Config) // if set, changes config()'s
	// render writes a document; nil for renderIDs.
	render func(dst []byte, v *websession.Visit) []byte
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{t: t, dir: t.TempDir(), now: t0}
	opts := embedded.DefaultOptions()
	opts.Partitions, opts.NoSync = 2, true
	opts.SegmentBytes = 16 << 10 // many segments, for replays to seek in
	var err error
	if r.log, err = embedded.Open(slog.New(slog.DiscardHandler), nil, filepath.Join(r.dir, "log"), opts); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.log.Close() })
	if r.store, err = filestore.NewDir(filepath.Join(r.dir, "files")); err != nil {
		t.Fatal(err)
	}
	r.restart()
	return r
}

func (r *rig) config() Config {
	c := Config{Dir: filepath.Join(r.dir, "state"), Lag: time.Second, MaxDuration: r.maxDur, Now: func() time.Time { return r.now }}
	if r.tune != nil {
		r.tune(&c)
	}
	return c
}

// restart makes a new sessionizer from the state on disk, as a process
// restarted after a crash would.
func (r *rig) restart() {
	r.t.Helper()
	logger := slog.New(slog.DiscardHandler)
	render := r.render
	if render == nil {
		render = renderIDs
	}
	r.hours = NewHours(logger, r.store, HoursConfig{Dir: r.config().Dir, PartBytes: 300, Now: func() time.Time { return r.now }}, nil, render)
	var err error
	r.complete = nil
	if r.s != nil {
		r.s.Close() // as a crash would: no checkpoint
	}
	r.s, err = New(logger, r.log, r.config(), nil, func(end int64) { r.complete = append(r.complete, end) })
	if err != nil {
		r.t.Fatal(err)
	}
}

// running replaces r's sessionizer with one on cfg, its clock at now,
// whose Run runs until stop, which returns Run's error. The sessionizer
// is closed when the test ends.
func (r *rig) running(cfg Config, now time.Time) (s *Sessionizer, ctx context.Context, stop func() error) {
	r.t.Helper()
	r.s.Close()
	r.now = now
	s, err := New(slog.New(slog.DiscardHandler), r.log, cfg, nil, func(int64) {})
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { s.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- s.Run(ctx) }()
	return s, ctx, func() error {
		cancel()
		return <-ran
	}
}

// renderIDs writes a visit as its ids, continuation and event times.
func renderIDs(dst []byte, v *websession.Visit) []byte {
	dst = fmt.Appendf(dst, "%s/%s/%s#%d:", v.AccountID, v.VisitorID, v.VisitID, v.Continuation)
	for i, e := range v.Events {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = fmt.Appendf(dst, "%d", e.Time)
	}
	return dst
}

// send appends an event of visit visitor/visit received at server time at
// with client time clientAt.
func (r *rig) send(account, visitor, visit string, at, clientAt time.Time) {
	r.t.Helper()
	r.sendData(account, visitor, visit, at, clientAt, `{"url":"https://shop.example/"}`)
}

// sendData is send with the event's data.
func (r *rig) sendData(account, visitor, visit string, at, clientAt time.Time, data string) {
	r.t.Helper()
	s := event.Stored{
		ID: fmt.Sprintf("%s-%d", visit, clientAt.UnixNano()), AccountID: account, VisitorID: visitor, VisitID: visit,
		Time: clientAt.UnixMilli(), ServerTime: at.UnixMilli(), IP: "203.0.113.7", UserAgent: "UA",
		AppName: "LP_MONITORING", EventName: "PAGE_VIEW", Data: []byte(data),
	}
	if err := eventlog.Append(context.Background(), r.log, []byte(account+"/"+visitor), [][]byte{event.AppendRecord(nil, &s)}); err != nil {
		r.t.Fatal(err)
	}
}

// step moves the clock to now and runs the sessionizer until it has read
// everything.
func (r *rig) step(now time.Time) {
	r.t.Helper()
	r.now = now
	for {
		progressed, err := r.s.Step(context.Background())
		if err != nil {
			r.t.Fatal(err)
		}
		if !progressed {
			return
		}
	}
}

// checkpoint checkpoints and writes the hours it completed.
func (r *rig) checkpoint() {
	r.t.Helper()
	if err := r.s.Checkpoint(); err != nil {
		r.t.Fatal(err)
	}
	for _, end := range r.complete {
		if _, err := r.hours.WriteHour(context.Background(), end); err != nil {
			r.t.Fatal(err)
		}
	}
	r.complete = nil
}

// files returns the documents of every visible file of account, by file
// name.
func (r *rig) files(account string) map[string][]string {
	r.t.Helper()
	infos, err := r.store.List(context.Background(), account)
	if err != nil {
		r.t.Fatal(err)
	}
	out := map[string][]string{}
	for _, info := range hourfiles.Visible(infos) {
		f, _, err := r.store.Open(context.Background(), account, info.Name)
		if err != nil {
			r.t.Fatal(err)
		}
		err = websession.ForEachDocument(f, func(_ int, doc []byte) error {
			out[info.Name] = append(out[info.Name], string(doc))
			return nil
		})
		f.Close()
		if err != nil {
			r.t.Fatal(err)
		}
	}
	return out
}

// allDocs returns every document of account, sorted.
func (r *rig) allDocs(account string) []string {
	var docs []string
	for _, d := range r.files(account) {
		docs = append(docs, d...)
	}
	slices.Sort(docs)
	return docs
}

func hourFile(start time.Time, part int) string {
	return websession.FileName{ScopeStart: start, ScopeEnd: start.Add(time.Hour), Part: part, Generation: 1}.String()
}

func TestVisitsCloseAndLandInTheirHour(t *testing.T) {
	r := newRig(t)
	m := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	// v1: two page views, the second sent first by its client's clock.
	r.send("acme", "u1", "v1", m(1), m(2))
	r.send("acme", "u1", "v1", m(3), m(1))
	// v2 goes on past the hour.
	r.send("acme", "u2", "v2", m(40), m(40))
	r.send("acme", "u2", "v2", m(55), m(55))
	// Another account.
	r.send("beta", "u3", "v3", m(5), m(5))
	r.step(m(59))
	r.checkpoint()
	// The watermark is 10:58:59: v1 (closing at 10:33) and v3 (10:35) are closed, v2 (11:25) is not.
	if n := r.s.OpenVisits(); n != 1 {
		t.Fatalf("%d open visits at 10:59, want 1", n)
	}
	if files := r.files("acme"); len(files) != 0 {
		t.Fatalf("files before the hour is complete: %v", files)
	}
	r.step(m(90))
	r.checkpoint()
	// v1 closed at 10:33, v3 at 10:35: the 10:00 hour is complete at 11:30.
	if got, want := r.files("acme"), map[string][]string{
		hourFile(t0, 0): {"acme/u1/v1#0:" + ms(m(1)) + "," + ms(m(2))},
	}; !equalFiles(got, want) {
		t.Fatalf("acme files %v, want %v", got, want)
	}
	if got := r.allDocs("beta"); !slices.Equal(got, []string{"beta/u3/v3#0:" + ms(m(5))}) {
		t.Fatalf("beta documents %v", got)
	}
	// v2 closes at 11:25, in the 11:00 hour, written once 12:00 has passed.
	r.step(m(121))
	r.checkpoint()
	if got := r.files("acme")[hourFile(t0.Add(time.Hour), 0)]; !slices.Equal(got, []string{"acme/u2/v2#0:" + ms(m(40)) + "," + ms(m(55))}) {
		t.Fatalf("11:00 file %v", got)
	}
}

func TestLateEventStartsAContinuation(t *testing.T) {
	r := newRig(t)
	m := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	r.send("acme", "u1", "v1", m(1), m(1))
	r.step(m(70))
	r.checkpoint() // v1 closed at 10:31 and written in the 10:00 file
	// An offline tag catches up: its event belongs to v1 by client time, but arrives after v1 was written.
	r.send("acme", "u1", "v1", m(80), m(5))
	r.step(m(200))
	r.checkpoint()
	want := []string{"acme/u1/v1#0:" + ms(m(1)), "acme/u1/v1#1:" + ms(m(5))}
	if got := r.allDocs("acme"); !slices.Equal(got, want) {
		t.Fatalf("documents %v, want %v", got, want)
	}
	if got := r.files("acme")[hourFile(t0.Add(time.Hour), 0)]; len(got) != 1 || !strings.Contains(got[0], "#1:") {
		t.Fatalf("the continuation is not in the 11:00 file: %v", r.files("acme"))
	}
}

// TestVisitClosingInAWrittenHour sends a visit stamped in an hour whose
// files are written already: it lands in the next hour's file, which does
// not replace the first.
func TestVisitClosingInAWrittenHour(t *testing.T) {
	r := newRig(t)
	m := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	r.send("acme", "u1", "v1", m(1), m(1))
	r.step(m(100))
	r.checkpoint() // 10:00 is complete and written
	r.send("acme", "u2", "v2", m(5), m(5))
	r.step(m(101))
	r.step(m(130))
	r.checkpoint()
	want := map[string][]string{
		hourFile(t0, 0):                {"acme/u1/v1#0:" + ms(m(1))},
		hourFile(t0.Add(time.Hour), 0): {"acme/u2/v2#0:" + ms(m(5))},
	}
	if got := r.files("acme"); !equalFiles(got, want) {
		t.Fatalf("files %v\nwant %v", got, want)
	}
}

func TestMaxDurationSplitsAVisit(t *testing.T) {
	r := newRig(t)
	// One event every 20 minutes for 25 hours: never idle for 30 minutes.
	start := t0
	var times []time.Time
	for at := start; at.Before(start.Add(25 * time.Hour)); at = at.Add(20 * time.Minute) {
		r.send("acme", "u1", "v1", at, at)
		times = append(times, at)
		r.step(at)
	}
	r.step(start.Add(30 * time.Hour))
	r.checkpoint()
	docs := r.allDocs("acme")
	if len(docs) != 2 || !strings.Contains(docs[0], "#0:") || !strings.Contains(docs[1], "#1:") {
		t.Fatalf("documents %v, want the visit and one continuation", docs)
	}
	if n := strings.Count(docs[0], ",") + strings.Count(docs[1], ",") + 2; n != len(times) {
		t.Fatalf("%d events in the documents, want %d", n, len(times))
	}
}

func TestLargeHourSplitsIntoParts(t *testing.T) {
	r := newRig(t)
	for i := range 20 {
		at := t0.Add(time.Duration(i) * time.Second)
		r.send("acme", fmt.Sprintf("u%02d", i), "v", at, at)
	}
	r.step(t0.Add(2 * time.Hour))
	r.checkpoint()
	files := r.files("acme")
	if len(files) < 2 {
		t.Fatalf("%d files, want the hour split in parts of 300 bytes", len(files))
	}
	n := 0
	for part := range len(files) {
		docs, ok := files[hourFile(t0, part)]
		if !ok {
			t.Fatalf("no part %d in %v", part, files)
		}
		n += len(docs)
	}
	if n != 20 {
		t.Fatalf("%d documents, want 20", n)
	}
}

// TestRestartWritesEachVisitOnce stops the sessionizer without a
// checkpoint at every step of a run, restarts it from disk, and checks
// that the files end up with every visit exactly once.
func TestRestartWritesEachVisitOnce(t *testing.T) {
	for crashAfter := range 6 {
		t.Run(fmt.Sprint(crashAfter), func(t *testing.T) {
			r := newRig(t)
			var want []string
			step := 0
			for i := range 6 {
				at := t0.Add(time.Duration(i*20) * time.Minute)
				visit := fmt.Sprintf("v%d", i)
				r.send("acme", "u"+visit, visit, at, at)
				want = append(want, "acme/u"+visit+"/"+visit+"#0:"+ms(at))
				r.step(at.Add(time.Minute))
				if step == crashAfter {
					r.restart() // what was spooled since the last checkpoint is cut and spooled again
				} else {
					r.checkpoint()
				}
				step++
			}
			r.step(t0.Add(5 * time.Hour))
			r.checkpoint()
			slices.Sort(want)
			if got := r.allDocs("acme"); !slices.Equal(got, want) {
				t.Fatalf("documents %v\nwant %v", got, want)
			}
			if hours, _ := r.s.spool.hours(); len(hours) != 0 {
				t.Fatalf("spool hours %v left", hours)
			}
		})
	}
}

// TestRestartBeforeTheHourIsWritten restarts after a checkpoint declared an
// hour complete, and after another checkpoint, but before the hour's files
// were written: the restarted sessionizer has them written.
func TestRestartBeforeTheHourIsWritten(t *testing.T) {
	r := newRig(t)
	r.send("acme", "u1", "v1", t0, t0)
	r.step(t0.Add(2 * time.Hour))
	for range 2 {
		if err := r.s.Checkpoint(); err != nil {
			t.Fatal(err)
		}
	}
	r.restart()
	r.step(t0.Add(2*time.Hour + time.Minute))
	r.checkpoint()
	if got, want := r.allDocs("acme"), []string{"acme/u1/v1#0:" + ms(t0)}; !slices.Equal(got, want) {
		t.Fatalf("documents %v, want %v", got, want)
	}
}

// TestRestartKeepsUntouchedSpool restarts twice with a checkpoint between
// that appended nothing to the spool file of an open hour: the file must
// survive both.
func TestRestartKeepsUntouchedSpool(t *testing.T) {
	r := newRig(t)
	r.send("acme", "u1", "v1", t0, t0)
	r.step(t0.Add(40 * time.Minute)) // v1 closed at 10:30, the hour still open
	r.checkpoint()
	r.restart()
	r.step(t0.Add(41 * time.Minute))
	r.checkpoint() // lists the file this run never appended to
	r.restart()
	r.step(t0.Add(2 * time.Hour))
	r.checkpoint()
	if got, want := r.allDocs("acme"), []string{"acme/u1/v1#0:" + ms(t0)}; !slices.Equal(got, want) {
		t.Fatalf("documents %v, want %v", got, want)
	}
}

// TestHourWrittenTwiceIsTheSame writes an hour, puts its spool back and
// writes it again, as after a crash between the files and the spool's
// deletion.
func TestHourWrittenTwiceIsTheSame(t *testing.T) {
	r := newRig(t)
	for i := range 5 {
		at := t0.Add(time.Duration(i) * time.Minute)
		r.send("acme", fmt.Sprintf("u%d", i), "v", at, at)
	}
	r.step(t0.Add(2 * time.Hour))
	if err := r.s.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	spoolDir := filepath.Join(r.config().Dir, "spool", fmt.Sprint(t0.UnixMilli()))
	saved := copyDir(t, spoolDir)
	for _, end := range r.complete {
		if _, err := r.hours.WriteHour(context.Background(), end); err != nil {
			t.Fatal(err)
		}
	}
	first := r.files("acme")
	restoreDir(t, spoolDir, saved)
	if _, err := r.hours.WriteHour(context.Background(), t0.Add(time.Hour).UnixMilli()); err != nil {
		t.Fatal(err)
	}
	if second := r.files("acme"); !equalFiles(first, second) || len(first) == 0 {
		t.Fatalf("first %v\nsecond %v", first, second)
	}
}

func TestExpiredFilesAreDeleted(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	old, recent := hourFile(t0.Add(-31*24*time.Hour), 0), hourFile(t0.Add(-2*time.Hour), 0)
	for _, name := range []string{old, recent} {
		if err := r.store.Put(ctx, "acme", name, func(io.Writer) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.hours.expire(ctx); err != nil {
		t.Fatal(err)
	}
	infos, _ := r.store.List(ctx, "acme")
	if len(infos) != 1 || infos[0].Name != recent {
		t.Fatalf("files after expiry %+v, want only %s", infos, recent)
	}
}

func TestAnonymizeIPBeforeStoring(t *testing.T) {
	r := newRig(t)
	cfg := r.config()
	cfg.AnonymizeIP = true
	r.s.Close()
	var err error
	if r.s, err = New(slog.New(slog.DiscardHandler), r.log, cfg, nil, func(int64) {}); err != nil {
		t.Fatal(err)
	}
	r.send("acme", "u1", "v1", t0, t0) // open at the checkpoint
	r.send("acme", "u2", "v2", t0, t0) // closed and spooled
	r.send("acme", "u2", "v2", t0.Add(time.Hour), t0.Add(time.Hour))
	r.step(t0.Add(time.Hour))
	if err := r.s.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(cfg.Dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "LOCK" {
			return err
		}
		b, err := os.ReadFile(path)
		if strings.Contains(string(b), "203.0.113.7") {
			t.Errorf("%s holds the full IP address", path)
		}
		if !strings.Contains(string(b), "203.0.113.0") {
			t.Errorf("%s lacks the anonymised IP address", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func ms(t time.Time) string { return fmt.Sprint(t.UnixMilli()) }

func equalFiles(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

func copyDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = b
	}
	return files
}

func restoreDir(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDocumentOrderIsFixed checks that an hour's file does not depend on
// the order in which visits closed: two logs with the same visits, sent in
// opposite orders and read in chunks of different sizes, give the same
// bytes.
func TestDocumentOrderIsFixed(t *testing.T) {
	var got [2][]string
	for run := range got {
		r := newRig(t)
		for i := range 12 {
			n := i
			if run == 1 {
				n = 11 - i
			}
			// Visits closing at three distinct times, several at each.
			at := t0.Add(time.Duration(n%3) * time.Minute)
			r.send("acme", fmt.Sprintf("u%02d", n), "v", at, at)
			if run == 1 {
				r.step(at) // read as it comes: other chunks, other close order
			}
		}
		r.step(t0.Add(2 * time.Hour))
		r.checkpoint()
		for _, docs := range r.files("acme") {
			got[run] = append(got[run], docs...)
		}
	}
	if !slices.Equal(got[0], got[1]) || len(got[0]) != 12 {
		t.Fatalf("documents depend on the order visits closed in:\n%v\n%v", got[0], got[1])
	}
}

// TestReplayGivesTheLiveFiles replays hours of a log the live sessionizer
// read chunk by chunk, with continuations, visits over the longest
// duration and another account's events, and checks that the files
// written from the replay are byte for byte the live ones.
func TestReplayGivesTheLiveFiles(t *testing.T) {
	r := newRig(t)
	r.maxDur = 90 * time.Minute // the visitors below, active all along, reach it
	r.restart()
	// Events over five hours, read as they come.
	for i := range 300 {
		at := t0.Add(time.Duration(i) * time.Minute)
		for _, account := range []string{"acme", "other"} {
			r.send(account, fmt.Sprintf("u%d", i%7), fmt.Sprintf("v%d", i%3), at, at.Add(-time.Duration(i%5)*time.Second))
		}
		if i%10 == 0 {
			r.step(at)
			r.checkpoint()
		}
	}
	r.step(t0.Add(7 * time.Hour))
	r.checkpoint()
	if docs := strings.Join(r.allDocs("acme"), "\n"); !strings.Contains(docs, "#2:") {
		t.Fatalf("no visit reached the longest duration twice:\n%s", docs)
	}
	if live := rawFiles(t, r.store, "acme"); len(live) < 4 {
		t.Fatalf("live files %v", slices.Collect(maps.Keys(live)))
	}

	cfg := r.config()
	cfg.Dir = t.TempDir()
	// From the third hour: the replay must find where the visits open then
	// began, before the range.
	replayed, res, err := replayFiles(t, context.Background(), r.log, cfg, t0.Add(2*time.Hour), t0.Add(6*time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}
	if live := liveFiles(t, r, t0.Add(2*time.Hour), t0.Add(6*time.Hour)); !maps.EqualFunc(live, replayed, bytes.Equal) {
		t.Fatalf("replayed files differ:\nlive     %v\nreplayed %v", slices.Sorted(maps.Keys(live)), slices.Sorted(maps.Keys(replayed)))
	}
	if res.Visits == 0 || res.AgedOut != 0 {
		t.Fatalf("result %+v", res)
	}
	cfg.Dir = t.TempDir()
	// Into the live store: the same bytes, so no new generation.
	res, err = Replay(context.Background(), slog.New(slog.DiscardHandler), r.log, cfg, "acme", t0.Add(2*time.Hour), t0.Add(6*time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}
	hours := NewHours(slog.New(slog.DiscardHandler), r.store, HoursConfig{Dir: cfg.Dir, PartBytes: 300}, nil, renderIDs)
	for _, h := range res.Hours {
		if hr, err := hours.WriteHour(context.Background(), h+time.Hour.Milliseconds()); err != nil || hr.Unchanged != 1 {
			t.Fatalf("rebuilding hour %d in place: %+v, %v", h, hr, err)
		}
	}
}

// longLog fills r's log with ten hours of events of two accounts, read as
// they come, and returns their number. Visits last at most 30 minutes: a
// replay looks back 3.5 hours.
func longLog(r *rig) int64 {
	r.maxDur = 30 * time.Minute
	r.restart()
	var total int64
	for i := range 600 {
		at := t0.Add(time.Duration(i) * time.Minute)
		for _, account := range []string{"acme", "other"} {
			r.send(account, fmt.Sprintf("u%d", i%7), fmt.Sprintf("v%d", i/20), at, at)
			total++
		}
		if i%10 == 0 {
			r.step(at)
			r.checkpoint()
		}
	}
	r.step(t0.Add(12 * time.Hour))
	r.checkpoint()
	return total
}

// replayFiles replays acme's hours [from, to) of log into cfg.Dir and
// returns the files written from the replay, by name.
func replayFiles(t *testing.T, ctx context.Context, log eventlog.RangeReader, cfg Config, from, to time.Time, progress func(ReplayProgress)) (map[string][]byte, ReplayResult, error) {
	t.Helper()
	res, err := Replay(ctx, slog.New(slog.DiscardHandler), log, cfg, "acme", from, to, progress)
	if err != nil {
		return nil, res, err
	}
	store, err := filestore.NewDir(filepath.Join(cfg.Dir, "files"))
	if err != nil {
		t.Fatal(err)
	}
	hours := NewHours(slog.New(slog.DiscardHandler), store, HoursConfig{Dir: cfg.Dir, PartBytes: 300}, nil, renderIDs)
	for _, h := range res.Hours {
		if _, err := hours.WriteHour(context.Background(), h+time.Hour.Milliseconds()); err != nil {
			t.Fatal(err)
		}
	}
	return rawFiles(t, store, "acme"), res, nil
}

// liveFiles returns the files of acme's hours [from, to) r wrote live.
func liveFiles(t *testing.T, r *rig, from, to time.Time) map[string][]byte {
	t.Helper()
	live := rawFiles(t, r.store, "acme")
	maps.DeleteFunc(live, func(name string, _ []byte) bool {
		f, _ := websession.ParseFileName(name)
		return f.ScopeStart.Before(from) || !f.ScopeStart.Before(to)
	})
	if len(live) == 0 {
		t.Fatal("no live files in the range")
	}
	return live
}

// TestReplaySeeks replays the last hours of a long log: it starts reading
// at the segments that hold the lookback before them, and gives the live
// files.
func TestReplaySeeks(t *testing.T) {
	r := newRig(t)
	total := longLog(r)
	from, to := t0.Add(8*time.Hour), t0.Add(10*time.Hour)
	cfg := r.config()
	cfg.Dir = t.TempDir()
	replayed, res, err := replayFiles(t, context.Background(), r.log, cfg, from, to, nil)
	if err != nil {
		t.Fatal(err)
	}
	// From 4.5 hours in, of 10 (and a segment before): about 60% of the
	// log, where reading from the start would read it all.
	if res.Events > total*7/10 || res.AgedOut != 0 {
		t.Fatalf("replay read %d events of %d (aged out %d): it did not seek", res.Events, total, res.AgedOut)
	}
	if live := liveFiles(t, r, from, to); !maps.EqualFunc(live, replayed, bytes.Equal) {
		t.Fatalf("replayed files differ:\nlive     %v\nreplayed %v", slices.Sorted(maps.Keys(live)), slices.Sorted(maps.Keys(replayed)))
	}

	// Retention deletes the oldest segments: a replay says from when the
	// log holds events.
	for p := range r.log.Partitions() {
		segs, _ := filepath.Glob(filepath.Join(r.dir, "log", fmt.Sprintf("p%03d", p), "*.seg"))
		for _, seg := range segs[:3] {
			os.Remove(seg)
		}
	}
	reader, err := embedded.OpenReader(filepath.Join(r.dir, "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	cfg.Dir = t.TempDir()
	res, err = Replay(context.Background(), slog.New(slog.DiscardHandler), reader, cfg, "acme", t0.Add(2*time.Hour), to, nil)
	if err != nil {
		t.Fatal(err)
	}
	if oldest := time.UnixMilli(res.AgedOut); !oldest.After(t0) || !oldest.Before(t0.Add(3*time.Hour)) {
		t.Fatalf("aged out %s, want the first event kept, a little after %s", oldest, t0)
	}
}

// TestReplayResumes interrupts a replay after a few chunks, with visits
// open, and runs it again: it goes on from its checkpoint and gives the
// files of an uninterrupted replay.
func TestReplayResumes(t *testing.T) {
	r := newRig(t)
	longLog(r)
	from, to := t0.Add(5*time.Hour), t0.Add(10*time.Hour)
	cfg := r.config()
	cfg.Dir = t.TempDir()
	whole, full, err := replayFiles(t, context.Background(), r.log, cfg, from, to, nil)
	if err != nil {
		t.Fatal(err)
	}

	defer func(chunk int) { replayChunk = chunk }(replayChunk)
	replayChunk = 2 << 10
	cfg.Dir, cfg.CheckpointInterval = t.TempDir(), time.Nanosecond
	ctx, cancel := context.WithCancel(context.Background())
	chunks := 0
	_, first, err := replayFiles(t, ctx, r.log, cfg, from, to, func(ReplayProgress) {
		if chunks++; chunks == 5 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted replay: %v", err)
	}
	resumed, second, err := replayFiles(t, context.Background(), r.log, cfg, from, to, nil)
	if err != nil {
		t.Fatal(err)
	}
	if first.Events == 0 || second.Events >= full.Events {
		t.Fatalf("read %d events, then %d; %d at once: the second did not go on from the first", first.Events, second.Events, full.Events)
	}
	if !maps.EqualFunc(whole, resumed, bytes.Equal) {
		t.Fatalf("files of the resumed replay differ:\nwhole   %v\nresumed %v", slices.Sorted(maps.Keys(whole)), slices.Sorted(maps.Keys(resumed)))
	}
}

// rawFiles returns the bytes of every visible file of account, by name.
func rawFiles(t *testing.T, store *filestore.Dir, account string) map[string][]byte {
	t.Helper()
	infos, err := store.List(context.Background(), account)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, info := range hourfiles.Visible(infos) {
		f, _, err := store.Open(context.Background(), account, info.Name)
		if err != nil {
			t.Fatal(err)
		}
		out[info.Name], err = io.ReadAll(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

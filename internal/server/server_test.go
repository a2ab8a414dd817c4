package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/ingest"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/eventlog"
	"github.com/sightline/sightline/internal/eventlog/embedded"
	"github.com/sightline/sightline/internal/server"
)

// pollTimeout bounds the wait for something the server does in the
// background (picking up an account); the machine may be slow and busy.
const pollTimeout = 5 * time.Second

// testConfig is the default configuration on a free port of 127.0.0.1 and
// the data directory dir.
func testConfig(dir string) server.Config {
	cfg := server.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = dir
	cfg.Log.Partitions = 4
	return cfg
}

// testServer is a server started by a test. It is shut down when the test
// ends unless the test did it.
type testServer struct {
	*server.Server
	client *http.Client

	once sync.Once
	err  error
}

func start(t *testing.T, cfg server.Config) *testServer {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := server.Start(context.Background(), logger, cfg)
	if err != nil {
		t.Fatalf("start server on %s: %v", cfg.DataDir, err)
	}
	ts := &testServer{Server: s, client: &http.Client{Timeout: 30 * time.Second}}
	t.Cleanup(func() {
		if err := ts.shutdown(); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return ts
}

// shutdown shuts the server down once and returns what Shutdown returned.
func (s *testServer) shutdown() error {
	s.once.Do(func() {
		s.err = s.Shutdown()
		s.client.CloseIdleConnections()
	})
	return s.err
}

func (s *testServer) url(path string) string { return "http://" + s.Addr() + path }

func eventsPath(accountID string) string { return "/api/account/" + accountID + "/events" }

type answer = ingest.Answer

// post sends a batch and returns the status and, for a 200, the answer.
// origin, when not empty, is sent as the Origin header.
func post(client *http.Client, url string, body []byte, origin string) (int, answer, error) {
	var a answer
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, a, err
	}
	req.Header.Set("Content-Type", "application/json")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, a, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, a, err
	}
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, &a); err != nil {
			return resp.StatusCode, a, fmt.Errorf("answer %q: %w", b, err)
		}
	}
	return resp.StatusCode, a, nil
}

// mustPost posts a batch the server must accept and returns the answer.
func (s *testServer) mustPost(t *testing.T, accountID string, body []byte) answer {
	t.Helper()
	code, a, err := post(s.client, s.url(eventsPath(accountID)), body, "")
	if err != nil {
		t.Fatalf("post to %s: %v", accountID, err)
	}
	if code != http.StatusOK {
		t.Fatalf("post to %s: status %d, want 200", accountID, code)
	}
	return a
}

// pageViews is a batch of valid PAGE_VIEW events of visitor, one per id.
func pageViews(visitor string, ids ...string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"visitorId":%q,"visitId":"visit-of-%s","events":[`, visitor, visitor)
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%q,"time":%d,"appName":"LP_MONITORING","eventName":"PAGE_VIEW","data":{"url":"https://shop.example/p/%d","title":"Page"}}`,
			id, time.Now().UnixMilli(), i)
	}
	b.WriteString("]}")
	return []byte(b.String())
}

// storedIDs reads every partition of the log of dataDir, read-only, and
// counts the records of each "account/id".
func storedIDs(t *testing.T, dataDir string) map[string]int {
	t.Helper()
	r, err := embedded.OpenReader(server.LogDir(dataDir))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ids := map[string]int{}
	for p := range r.Partitions() {
		_, err := eventlog.ReadToEnd(context.Background(), r, p, 0, func(m eventlog.Message) bool {
			rec, err := event.ParseRecord(m.Value)
			if err != nil {
				t.Errorf("partition %d offset %d: %v", p, m.Offset, err)
				return true
			}
			ids[rec.AccountID+"/"+rec.ID]++
			return true
		})
		if err != nil {
			t.Fatalf("read partition %d: %v", p, err)
		}
	}
	return ids
}

func TestStartCreatesDemoAccountOnlyInNewDataDir(t *testing.T) {
	tests := []struct {
		name        string
		dataDir     func(t *testing.T) string
		demo        bool // Config.DemoAccount
		wantCreated bool
	}{
		{
			name:        "empty directory",
			dataDir:     func(t *testing.T) string { return t.TempDir() },
			demo:        true,
			wantCreated: true,
		},
		{
			name:        "directory not there yet",
			dataDir:     func(t *testing.T) string { return filepath.Join(t.TempDir(), "srv", "data") },
			demo:        true,
			wantCreated: true,
		},
		{
			name: "directory holding other files",
			dataDir: func(t *testing.T) string {
				dir := t.TempDir()
				if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				return dir
			},
			demo:        true,
			wantCreated: false,
		},
		{
			// What a first start that failed (say, its port was taken)
			// leaves: the data directory is still new.
			name: "directory with only an empty accounts directory",
			dataDir: func(t *testing.T) string {
				dir := t.TempDir()
				if err := os.Mkdir(server.AccountsDir(dir), 0o755); err != nil {
					t.Fatal(err)
				}
				return dir
			},
			demo:        true,
			wantCreated: true,
		},
		{
			name:        "demo account disabled",
			dataDir:     func(t *testing.T) string { return t.TempDir() },
			demo:        false,
			wantCreated: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tt.dataDir(t)
			cfg := testConfig(dir)
			cfg.DemoAccount = tt.demo

			s := start(t, cfg)
			if s.Created != tt.wantCreated {
				t.Errorf("first start: Created = %v, want %v", s.Created, tt.wantCreated)
			}
			checkDemo(t, s, tt.wantCreated)
			if err := s.shutdown(); err != nil {
				t.Fatalf("shutdown: %v", err)
			}

			// The directory is not new any more: a second start creates nothing.
			s = start(t, cfg)
			if s.Created {
				t.Error("second start: Created = true, want false")
			}
			checkDemo(t, s, tt.wantCreated)
		})
	}
}

// checkDemo checks that the server's only account is the demo account,
// open to every origin, when want, and that it has no account otherwise.
func checkDemo(t *testing.T, s *testServer, want bool) {
	t.Helper()
	list := s.Accounts().List()
	code, _, err := post(s.client, s.url(eventsPath(server.DemoAccountID)), pageViews("v1", "demo-check-1"), "https://any.example")
	if err != nil {
		t.Fatal(err)
	}
	if !want {
		if len(list) != 0 {
			t.Errorf("accounts = %+v, want none", list)
		}
		if code != http.StatusNotFound {
			t.Errorf("post to demo: status %d, want 404", code)
		}
		return
	}
	if len(list) != 1 || list[0].ID != server.DemoAccountID || !slices.Equal(list[0].Origins, []string{account.AnyOrigin}) {
		t.Errorf("accounts = %+v, want only %q with origins [*]", list, server.DemoAccountID)
	}
	if code != http.StatusOK {
		t.Errorf("post to demo from any origin: status %d, want 200", code)
	}
}

func TestSecondServerOnOneDataDirFails(t *testing.T) {
	dir := t.TempDir()
	s := start(t, testConfig(dir))

	s2, err := server.Start(context.Background(), nil, testConfig(dir))
	if err == nil {
		s2.Shutdown()
		t.Fatal("a second server started on a data directory in use")
	}
	if !errors.Is(err, embedded.ErrLocked) {
		t.Errorf("second start: %v, want an error wrapping embedded.ErrLocked", err)
	}
	// The first one is unharmed.
	if a := s.mustPost(t, server.DemoAccountID, pageViews("v1", "e1")); a.Accepted != 1 {
		t.Errorf("answer %+v, want 1 accepted", a)
	}
}

func TestFailedStartReleasesDataDir(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.Addr = busy.Addr().String()
	if s, err := server.Start(context.Background(), nil, cfg); err == nil {
		s.Shutdown()
		t.Fatalf("started on %s, which is in use", cfg.Addr)
	} else if !strings.Contains(err.Error(), "cannot listen") {
		t.Errorf("start on a busy address: %v, want \"cannot listen\"", err)
	}
	// The failed start must have closed the log, releasing its lock, and
	// the next start is still the first one that creates the demo account.
	s := start(t, testConfig(dir))
	if !s.Created {
		t.Error("the start after a failed first start did not create the demo account")
	}
	if a := s.mustPost(t, server.DemoAccountID, pageViews("v1", "e1")); a.Accepted != 1 {
		t.Errorf("answer %+v, want 1 accepted", a)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	s := start(t, testConfig(t.TempDir()))
	for _, tt := range []struct {
		path, body string
	}{
		{"/healthz", "ok\n"},
		{"/readyz", "ready\n"},
	} {
		if code, b := getBody(t, s, tt.path); code != http.StatusOK || b != tt.body {
			t.Errorf("GET %s: %d %q, want 200 %q", tt.path, code, b, tt.body)
		}
	}
}

func TestMetrics(t *testing.T) {
	cfg := testConfig(t.TempDir())
	s := start(t, cfg)

	// One batch with two valid events and one of an unknown app, then the
	// first event again.
	now := time.Now().UnixMilli()
	body := fmt.Sprintf(`{"visitorId":"v1","visitId":"s1","events":[
		{"id":"m1","time":%d,"appName":"LP_MONITORING","eventName":"PAGE_VIEW","data":{"url":"https://shop.example/a","title":"A"}},
		{"id":"m2","time":%d,"appName":"LP_MONITORING","eventName":"PAGE_VIEW","data":{"url":"https://shop.example/b","title":"B"}},
		{"id":"m3","time":%d,"appName":"NO_SUCH_APP","eventName":"PAGE_VIEW","data":{}}]}`, now, now, now)
	a := s.mustPost(t, server.DemoAccountID, []byte(body))
	if a.Accepted != 2 || a.Duplicates != 0 || len(a.Rejected) != 1 || a.Rejected[0].Index != 2 {
		t.Fatalf("first batch: %+v, want 2 accepted, event 2 rejected", a)
	}
	a = s.mustPost(t, server.DemoAccountID, pageViews("v1", "m1"))
	if a.Accepted != 0 || a.Duplicates != 1 {
		t.Fatalf("second batch: %+v, want 1 duplicate", a)
	}

	fams := s.scrape(t)
	tests := []struct {
		name   string
		labels map[string]string
		value  func(*dto.Metric) float64
		want   float64
	}{
		{"sightline_ingest_events_accepted_total", nil, counter, 2},
		{"sightline_ingest_events_rejected_total", map[string]string{"reason": string(event.ReasonUnknownApp)}, counter, 1},
		{"sightline_ingest_events_duplicate_total", nil, counter, 1},
		{"sightline_ingest_requests_total", map[string]string{"code": "200"}, counter, 2},
		{"sightline_ingest_batch_events", nil, histogramCount, 2},
		{"sightline_ingest_batch_events", nil, histogramSum, 4}, // 3 events, then 1
		{"sightline_dedup_keys", nil, gauge, 2},
	}
	for _, tt := range tests {
		if got := tt.value(series(t, fams, tt.name, tt.labels)); got != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}

	// One append means at least one fsync.
	if n := histogramCount(series(t, fams, "sightline_eventlog_fsync_duration_seconds", nil)); n < 1 {
		t.Errorf("sightline_eventlog_fsync_duration_seconds count = %v, want at least 1", n)
	}
	// A series per partition; together they hold the two records.
	var total float64
	perPartition := fams["sightline_eventlog_bytes"].GetMetric()
	for _, m := range perPartition {
		if v := gauge(m); v < 0 {
			t.Errorf("sightline_eventlog_bytes%v = %v", m.GetLabel(), v)
		} else {
			total += v
		}
	}
	if len(perPartition) != cfg.Log.Partitions {
		t.Errorf("sightline_eventlog_bytes has %d series, want one per partition (%d)", len(perPartition), cfg.Log.Partitions)
	}
	if total < 2*200 { // each record holds over 200 bytes of JSON
		t.Errorf("sightline_eventlog_bytes sum to %v, want at least two records", total)
	}
}

// scrape reads the server's /metrics.
func (s *testServer) scrape(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := s.client.Get(s.url("/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: status %d", resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// series returns the series of name with labels (nil: its only one) in
// fams, a scrape of /metrics.
func series(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string) *dto.Metric {
	t.Helper()
	var found []*dto.Metric
	for _, m := range fams[name].GetMetric() {
		if hasLabels(m, labels) {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		t.Fatalf("/metrics has %d series of %s%v, want 1", len(found), name, labels)
	}
	return found[0]
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	n := 0
	for _, l := range m.GetLabel() {
		if v, ok := want[l.GetName()]; ok {
			if v != l.GetValue() {
				return false
			}
			n++
		}
	}
	return n == len(want)
}

func counter(m *dto.Metric) float64        { return m.GetCounter().GetValue() }
func gauge(m *dto.Metric) float64          { return m.GetGauge().GetValue() }
func histogramCount(m *dto.Metric) float64 { return float64(m.GetHistogram().GetSampleCount()) }
func histogramSum(m *dto.Metric) float64   { return m.GetHistogram().GetSampleSum() }

// TestShutdownFinishesInFlightBatches has clients post batches without
// pause, shuts the server down under them, and checks that every batch
// answered 200 is in the log, and that nothing is accepted once Shutdown has
// returned.
func TestShutdownFinishesInFlightBatches(t *testing.T) {
	dir := t.TempDir()
	s := start(t, testConfig(dir))
	url := s.url(eventsPath(server.DemoAccountID))

	const clients, perBatch = 16, 5
	var (
		started, stopped atomic.Bool // Shutdown called, Shutdown returned
		batchesOK        atomic.Int64
		okInShutdown     atomic.Int64 // answered 200 while Shutdown ran
		mu               sync.Mutex
		acked            []string // event ids of batches answered 200
		wg               sync.WaitGroup
	)
	for c := range clients {
		wg.Go(func() {
			client := &http.Client{Timeout: 30 * time.Second}
			defer client.CloseIdleConnections()
			for seq := 0; ; seq++ {
				after := stopped.Load()
				ids := make([]string, perBatch)
				for i := range ids {
					ids[i] = fmt.Sprintf("c%d-b%d-e%d", c, seq, i)
				}
				code, a, err := post(client, url, pageViews(fmt.Sprintf("visitor-%d", c), ids...), "")
				switch {
				case err != nil || code == http.StatusServiceUnavailable:
					// Refused connection, closed connection or 503: nothing stored.
					if after {
						return
					}
					if !started.Load() {
						t.Errorf("client %d before shutdown: status %d, %v", c, code, err)
						return
					}
					time.Sleep(5 * time.Millisecond)
				case code == http.StatusOK:
					if after {
						t.Errorf("client %d: batch accepted after Shutdown returned", c)
						return
					}
					if a.Accepted != perBatch {
						t.Errorf("client %d batch %d: %+v, want %d accepted", c, seq, a, perBatch)
					}
					mu.Lock()
					acked = append(acked, ids...)
					mu.Unlock()
					batchesOK.Add(1)
					if started.Load() {
						okInShutdown.Add(1)
					}
				default:
					t.Errorf("client %d: status %d", c, code)
					return
				}
			}
		})
	}

	// Shut down once every client has had a few batches through.
	deadline := time.Now().Add(time.Minute)
	for batchesOK.Load() < 3*clients && time.Now().Before(deadline) && !t.Failed() {
		time.Sleep(10 * time.Millisecond)
	}
	started.Store(true)
	err := s.shutdown()
	stopped.Store(true)
	wg.Wait()
	if err != nil {
		t.Errorf("Shutdown: %v", err)
	}

	// A new client cannot get a batch in either.
	code, _, err := post(&http.Client{Timeout: 10 * time.Second}, url, pageViews("late", "late-1"), "")
	if err == nil && code != http.StatusServiceUnavailable {
		t.Errorf("post after shutdown: status %d, want a connection error or 503", code)
	}

	stored := storedIDs(t, dir)
	for _, id := range acked {
		if n := stored[server.DemoAccountID+"/"+id]; n != 1 {
			t.Errorf("acknowledged event %s stored %d times, want once", id, n)
		}
	}
	for id, n := range stored {
		if n > 1 {
			t.Errorf("event %s stored %d times", id, n)
		}
	}
	if batchesOK.Load() < 3*clients {
		t.Fatalf("only %d batches acknowledged; the test did not exercise the server", batchesOK.Load())
	}
	t.Logf("%d events acknowledged (%d batches answered while Shutdown ran), %d stored", len(acked), okInShutdown.Load(), len(stored))
}

// TestDedupAcrossRestart posts a batch, restarts the server on the same
// data directory, and posts it again: its events are duplicates, with the
// dedup marks as Shutdown left them, without them, and with them unreadable.
func TestDedupAcrossRestart(t *testing.T) {
	marksFile := func(dir string) string { return filepath.Join(dir, "dedup-marks.json") }
	tests := []struct {
		name   string
		damage func(t *testing.T, dir string) // between the two runs
	}{
		{"marks kept", func(t *testing.T, dir string) {}},
		{"marks deleted", func(t *testing.T, dir string) {
			if err := os.Remove(marksFile(dir)); err != nil {
				t.Fatal(err)
			}
		}},
		{"marks unreadable", func(t *testing.T, dir string) {
			if err := os.WriteFile(marksFile(dir), []byte("{not json"), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := testConfig(dir)
			ids := []string{"d1", "d2", "d3", "d4", "d5"}
			batch := pageViews("v1", ids...)

			s := start(t, cfg)
			if err := s.Accounts().Add(account.Account{ID: "other"}); err != nil {
				t.Fatal(err)
			}
			if a := s.mustPost(t, server.DemoAccountID, batch); a.Accepted != len(ids) || a.Duplicates != 0 {
				t.Fatalf("first post: %+v, want %d accepted", a, len(ids))
			}
			if err := s.shutdown(); err != nil {
				t.Fatalf("shutdown: %v", err)
			}
			if _, err := os.Stat(marksFile(dir)); err != nil {
				t.Fatalf("Shutdown left no dedup marks: %v", err)
			}
			tt.damage(t, dir)

			s = start(t, cfg)
			if a := s.mustPost(t, server.DemoAccountID, batch); a.Accepted != 0 || a.Duplicates != len(ids) {
				t.Errorf("same batch after restart: %+v, want %d duplicates", a, len(ids))
			}
			// Ids are remembered per account.
			if a := s.mustPost(t, "other", batch); a.Accepted != len(ids) || a.Duplicates != 0 {
				t.Errorf("same ids for another account: %+v, want %d accepted", a, len(ids))
			}
			if a := s.mustPost(t, server.DemoAccountID, pageViews("v1", "d5", "d6")); a.Accepted != 1 || a.Duplicates != 1 {
				t.Errorf("one old and one new id: %+v, want 1 accepted and 1 duplicate", a)
			}
			if err := s.shutdown(); err != nil {
				t.Fatalf("shutdown: %v", err)
			}
			stored := storedIDs(t, dir)
			for _, id := range append(ids, "d6") {
				if n := stored[server.DemoAccountID+"/"+id]; n != 1 {
					t.Errorf("event %s stored %d times, want once", id, n)
				}
			}
		})
	}
}

func TestServerPicksUpAccountAddedByAnotherStore(t *testing.T) {
	dir := t.TempDir()
	s := start(t, testConfig(dir))
	const id, origin = "late42", "https://late.example"
	url := s.url(eventsPath(id))
	batch := pageViews("v1", "l1")

	if code, _, err := post(s.client, url, batch, ""); err != nil || code != http.StatusNotFound {
		t.Fatalf("post before the account exists: status %d, %v; want 404", code, err)
	}
	other, err := account.OpenStore(nil, server.AccountsDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Add(account.Account{ID: id, Origins: []string{origin}}); err != nil {
		t.Fatal(err)
	}

	deadline := time.Now().Add(pollTimeout)
	for {
		code, a, err := post(s.client, url, batch, origin)
		if err != nil {
			t.Fatal(err)
		}
		if code == http.StatusOK {
			if a.Accepted != 1 {
				t.Errorf("answer %+v, want 1 accepted", a)
			}
			break
		}
		if code != http.StatusNotFound || time.Now().After(deadline) {
			t.Fatalf("post to an account added %v ago: status %d, want 200", pollTimeout, code)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The server has the account's origins too.
	if code, _, err := post(s.client, url, pageViews("v1", "l2"), "https://elsewhere.example"); err != nil || code != http.StatusForbidden {
		t.Errorf("post from an origin the account does not allow: status %d, %v; want 403", code, err)
	}
}

func TestLogRetentionFor(t *testing.T) {
	for _, tc := range []struct {
		name      string
		retention time.Duration
		timeout   time.Duration
		want      time.Duration
	}{
		// Files' retention + 2×24 h + the timeout + 2 h of continuation
		// memory, rounded up to whole hours.
		{"default", server.DefaultWebSessionRetention, 0, 771 * time.Hour},
		{"a week, 10-minute visits", 7 * 24 * time.Hour, 10 * time.Minute, 7*24*time.Hour + 51*time.Hour},
		{"whole hours stay", 24 * time.Hour, time.Hour, 24*time.Hour + 51*time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := server.DefaultConfig()
			c.Hours.Retention, c.Sessionizer.Timeout = tc.retention, tc.timeout
			if got := server.LogRetentionFor(c); got != tc.want {
				t.Errorf("LogRetentionFor = %s, want %s", got, tc.want)
			}
		})
	}
	if got := server.DefaultConfig().Log.RetentionAge; got != 771*time.Hour {
		t.Errorf("the default event log retention is %s, want 771h", got)
	}
}

package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/campaign"
	"github.com/sightline/sightline/internal/dedup"
	"github.com/sightline/sightline/internal/enrich"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/eventlog"
	"github.com/sightline/sightline/internal/eventlog/embedded"
)

// env is a collector on a real listener with a real event log.
type env struct {
	t        *testing.T
	dir      string
	accounts *account.Store
	log      *embedded.Log
	h        *Handler
	srv      *httptest.Server
	cfg      Config
	// campaigns, when set, decide for the accounts it has engines of.
	campaigns engines
}

// engines are fixed campaign engines by account.
type engines map[string]*campaign.Engine

func (e engines) Engine(_ context.Context, account string) (*campaign.Engine, error) {
	return e[account], nil
}

func newEnv(t *testing.T, cfg Config) *env { return newEnvWith(t, cfg, nil) }

// newEnvWith is newEnv whose collector decides with the campaigns' engines.
func newEnvWith(t *testing.T, cfg Config, campaigns engines) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), cfg: cfg, campaigns: campaigns}
	var err error
	e.accounts, err = account.OpenStore(nil, filepath.Join(e.dir, "accounts"))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []account.Account{
		{ID: "shop", Origins: []string{"https://shop.example"}},
		{ID: "other"},
	} {
		if err := e.accounts.Add(a); err != nil {
			t.Fatal(err)
		}
	}
	e.start()
	t.Cleanup(e.stop)
	return e
}

// start opens the log, rebuilds the dedup index from it, and serves.
func (e *env) start() {
	opts := embedded.DefaultOptions()
	opts.Partitions = 4
	var err error
	e.log, err = embedded.Open(nil, nil, filepath.Join(e.dir, "log"), opts)
	if err != nil {
		e.t.Fatal(err)
	}
	state, err := OpenDedupState(nil, filepath.Join(e.dir, "dedup.json"), 24*time.Hour, e.log)
	if err != nil {
		e.t.Fatal(err)
	}
	ix, err := state.Rebuild(context.Background(), time.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	mux := http.NewServeMux()
	e.h = New(e.cfg, nil, nil, e.accounts, e.log, ix)
	if e.campaigns != nil {
		en, err := enrich.New(enrich.Config{})
		if err != nil {
			e.t.Fatal(err)
		}
		e.h.UseCampaigns(e.campaigns, en, campaign.NewStateKey(make([]byte, campaign.StateKeySize)))
	}
	e.h.Register(mux)
	e.srv = httptest.NewServer(mux)
}

func (e *env) stop() {
	if e.srv != nil {
		e.srv.Close()
		e.log.Close()
		e.srv = nil
	}
}

func (e *env) restart() { e.stop(); e.start() }

func (e *env) post(acct string, body []byte, hdr map[string]string) (int, http.Header, []byte) {
	e.t.Helper()
	return e.postWith(http.DefaultClient, acct, body, hdr)
}

// postWith is post with client.
func (e *env) postWith(client *http.Client, acct string, body []byte, hdr map[string]string) (int, http.Header, []byte) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/api/account/"+acct+"/events", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// stored returns every record of the log.
func (e *env) stored() []event.Stored {
	e.t.Helper()
	var out []event.Stored
	for p := 0; p < e.log.Partitions(); p++ {
		_, err := eventlog.ReadToEnd(context.Background(), e.log, p, 0, func(m eventlog.Message) bool {
			s, err := event.ParseRecord(m.Value)
			if err != nil {
				e.t.Fatalf("stored record unreadable: %v", err)
			}
			out = append(out, s)
			return true
		})
		if err != nil {
			e.t.Fatal(err)
		}
	}
	return out
}

func pageView(id string, t int64) string {
	return fmt.Sprintf(`{"id":%q,"time":%d,"appName":"LP_MONITORING","eventName":"PAGE_VIEW","data":{"url":"https://shop.example/tv","sections":["tv"]}}`, id, t)
}

func batch(events ...string) []byte {
	return []byte(`{"visitorId":"pKytlMTwSPCwpJS-RQqtlQ","visitId":"AjvT6hLKTEi3AXgGnYu_mQ","events":[` + strings.Join(events, ",") + `]}`)
}

func decodeAnswer(t *testing.T, b []byte) answer {
	t.Helper()
	var a answer
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatalf("answer %q: %v", b, err)
	}
	return a
}

// answer is a 200 or an error answer.
type answer struct {
	Answer
	Failure
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func TestStatuses(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	now := time.Now().UnixMilli()
	good := batch(pageView("a1", now))
	bomb := gz(bytes.Repeat([]byte(" "), 8<<20)) // 8 MiB of spaces: ~8 KiB compressed
	for _, tc := range []struct {
		name    string
		acct    string
		body    []byte
		hdr     map[string]string
		code    int
		errPart string
	}{
		{"ok", "shop", good, nil, 200, ""},
		{"unknown account", "nobody", good, nil, 404, `unknown account "nobody"`},
		{"allowed origin", "shop", batch(pageView("a2", now)), map[string]string{"Origin": "https://shop.example"}, 200, ""},
		{"forbidden origin", "shop", good, map[string]string{"Origin": "https://evil.example"}, 403, "not allowed"},
		{"account without origins refuses browsers", "other", good, map[string]string{"Origin": "https://shop.example"}, 403, "not allowed"},
		{"not JSON", "shop", []byte("hello"), nil, 400, "body"},
		{"missing visitorId", "shop", []byte(`{"visitId":"x","events":[]}`), nil, 400, "visitorId"},
		{"events not array", "shop", []byte(`{"visitorId":"v","visitId":"x","events":{}}`), nil, 400, "events"},
		{"text/plain as sendBeacon sends", "shop", batch(pageView("a3", now)), map[string]string{"Content-Type": "text/plain;charset=UTF-8"}, 200, ""},
		{"form content type", "shop", good, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415, "Content-Type"},
		{"gzip", "shop", gz(batch(pageView("a4", now))), map[string]string{"Content-Encoding": "gzip"}, 200, ""},
		{"bad gzip", "shop", []byte("not gzip"), map[string]string{"Content-Encoding": "gzip"}, 400, "gzip"},
		{"brotli refused", "shop", good, map[string]string{"Content-Encoding": "br"}, 415, "Content-Encoding"},
		{"too large", "shop", batch(strings.Repeat(pageView("x", now)+",", 12000) + pageView("y", now)), nil, 413, "1048576"},
		{"gzip bomb", "shop", bomb, map[string]string{"Content-Encoding": "gzip"}, 413, "1048576"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, body := e.post(tc.acct, tc.body, tc.hdr)
			if code != tc.code {
				t.Fatalf("status %d, want %d: %s", code, tc.code, body)
			}
			if tc.errPart != "" && !strings.Contains(decodeAnswer(t, body).Error, tc.errPart) {
				t.Fatalf("error %s does not name %q", body, tc.errPart)
			}
		})
	}
	if n := len(e.stored()); n != 4 {
		t.Fatalf("%d events stored, want 4", n)
	}
}

func TestBadEventRejectedAlone(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	now := time.Now().UnixMilli()
	offer := `{"id":"bad1","time":%d,"appName":"LP_OFFERS","eventName":"OFFER_IMPRESSION","data":{"campaignId":1,"engagementId":2,"engagementType":4}}`
	code, _, body := e.post("shop", batch(
		pageView("ok1", now),
		fmt.Sprintf(offer, now),
		`{"id":"bad2","time":1,"appName":"NOPE","eventName":"X"}`,
		pageView("ok2", now),
	), nil)
	if code != 200 {
		t.Fatalf("status %d: %s", code, body)
	}
	a := decodeAnswer(t, body)
	if a.Accepted != 2 || a.Duplicates != 0 || len(a.Rejected) != 2 {
		t.Fatalf("answer %s", body)
	}
	if r := a.Rejected[0]; r.Index != 1 || r.ID != "bad1" || r.Error != "data.engagementType: 4 is not one of 0,1,2,3,5,6" {
		t.Fatalf("first rejection %+v", r)
	}
	if r := a.Rejected[1]; r.Index != 2 || !strings.HasPrefix(r.Error, "appName:") {
		t.Fatalf("second rejection %+v", r)
	}
	got := e.stored()
	if len(got) != 2 || got[0].ID != "ok1" || got[1].ID != "ok2" {
		t.Fatalf("stored %+v", got)
	}
}

// TestBadValueRejectedAlone posts batches with one event whose value is
// out of bounds (a number beyond a float64, a negative count, a nesting
// 10,000 deep) between two good ones: the good ones are stored, the bad
// one is rejected naming its field and the limit.
func TestBadValueRejectedAlone(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	now := time.Now().UnixMilli()
	bad := func(app, name, data string) string {
		return fmt.Sprintf(`{"id":"bad","time":%d,"appName":%q,"eventName":%q,"data":%s}`, now, app, name, data)
	}
	deep := strings.Repeat(`{"a":`, 10_000) + "0" + strings.Repeat("}", 10_000)
	for i, tc := range []struct {
		name  string
		event string
		err   string
	}{
		{"total beyond a float64", bad("lp_sdes", "VAR_ADDED", `{"type":"cart","total":1e309,"numItems":2}`),
			"data.total: 1e309 is out of range of a 64-bit float"},
		{"total below a float64", bad("lp_sdes", "VAR_ADDED", `{"type":"purchase","total":-1e400}`),
			"data.total: -1e400 is out of range of a 64-bit float"},
		{"negative count", bad("lp_sdes", "VAR_ADDED", `{"type":"cart","total":11.7,"numItems":-5}`),
			"data.numItems: -5 is negative"},
		{"negative quantity", bad("lp_sdes", "VAR_ADDED", `{"type":"cart","products":[{"product":{"price":7.8},"quantity":"-1"}]}`),
			"data.products[0].quantity: -1 is negative"},
		{"negative price", bad("lp_sdes", "VAR_ADDED", `{"type":"prodView","products":[{"product":{"price":-7.8}}]}`),
			"data.products[0].product.price: -7.8 is negative"},
		{"nesting 10,000 deep", bad("CHAT", "my_event", deep),
			"data" + strings.Repeat(".a", event.MaxDataDepth) + ": nested deeper than 32 levels"},
		{"nesting 10,000 deep in an attribute", bad("lp_sdes", "VAR_ADDED", `{"type":"cart","products":`+deep+`}`),
			"data.products: must be an array, got object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			first, last := fmt.Sprintf("g%da", i), fmt.Sprintf("g%db", i)
			code, _, body := e.post("shop", batch(pageView(first, now), tc.event, pageView(last, now)), nil)
			if code != 200 {
				t.Fatalf("status %d: %.200s", code, body)
			}
			a := decodeAnswer(t, body)
			if a.Accepted != 2 || len(a.Rejected) != 1 {
				t.Fatalf("answer %s", body)
			}
			if r := a.Rejected[0]; r.Index != 1 || r.ID != "bad" || r.Error != tc.err {
				t.Errorf("rejection %+v, want #1 bad: %s", r, tc.err)
			}
			var ids []string
			for _, s := range e.stored() {
				if strings.HasPrefix(s.ID, fmt.Sprintf("g%d", i)) {
					ids = append(ids, s.ID)
				}
			}
			if slices.Sort(ids); !slices.Equal(ids, []string{first, last}) {
				t.Errorf("stored %v, want %s and %s", ids, first, last)
			}
		})
	}
}

// TestInvalidUTF8Replaced checks that bytes of event data that are not
// UTF-8 are stored as U+FFFD, the event kept, and counted.
func TestInvalidUTF8Replaced(t *testing.T) {
	accounts, err := account.OpenStore(nil, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	accounts.Add(account.Account{ID: "shop"})
	reg := prometheus.NewRegistry()
	log := &memLog{}
	mux := http.NewServeMux()
	New(DefaultConfig(), nil, reg, accounts, log, dedup.New(time.Hour, time.Now())).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	now := time.Now().UnixMilli()
	body := batch(fmt.Sprintf("{\"id\":\"u1\",\"time\":%d,\"appName\":\"CHAT\",\"eventName\":\"my_event\",\"data\":{\"s\":\"caf\xe9 \xff\"}}", now))
	resp, err := http.Post(srv.URL+"/api/account/shop/events", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if a := decodeAnswer(t, answer); a.Accepted != 1 || len(log.values) != 1 {
		t.Fatalf("answer %s, %d stored", answer, len(log.values))
	}
	s, err := event.ParseRecord(log.values[0])
	if err != nil || string(s.Data) != "{\"s\":\"caf\uFFFD \uFFFD\"}" {
		t.Errorf("stored data %q, %v", s.Data, err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	replaced := -1.0
	for _, mf := range families {
		if mf.GetName() == "sightline_ingest_invalid_utf8_bytes_total" {
			replaced = mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	if replaced != 2 {
		t.Errorf("sightline_ingest_invalid_utf8_bytes_total = %v, want 2", replaced)
	}
}

func TestServerStamps(t *testing.T) {
	cfg := DefaultConfig()
	cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	e := newEnv(t, cfg)
	before := time.Now().UnixMilli()
	noID := `{"time":1467291704525,"appName":"CHAT","eventName":"session_started","data":{"process_id":7}}`
	code, _, body := e.post("shop", batch(noID), map[string]string{
		"User-Agent":      "Mozilla/5.0 (test)",
		"X-Forwarded-For": "198.51.100.23",
	})
	if code != 200 {
		t.Fatalf("status %d: %s", code, body)
	}
	got := e.stored()
	if len(got) != 1 {
		t.Fatalf("stored %d", len(got))
	}
	s := got[0]
	if s.ID == "" || s.AccountID != "shop" || s.VisitorID != "pKytlMTwSPCwpJS-RQqtlQ" || s.VisitID != "AjvT6hLKTEi3AXgGnYu_mQ" {
		t.Fatalf("record %+v", s)
	}
	if s.ServerTime < before || s.ServerTime > time.Now().UnixMilli() || s.Time != 1467291704525 {
		t.Fatalf("times %d %d", s.Time, s.ServerTime)
	}
	if s.IP != "198.51.100.23" || s.UserAgent != "Mozilla/5.0 (test)" {
		t.Fatalf("ip %q ua %q", s.IP, s.UserAgent)
	}
	if string(s.Data) != `{"process_id":7}` {
		t.Fatalf("data %s", s.Data)
	}
}

func TestDuplicates(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	now := time.Now().UnixMilli()
	check := func(body []byte, accepted, dups int) {
		t.Helper()
		code, _, b := e.post("shop", body, nil)
		if code != 200 {
			t.Fatalf("status %d: %s", code, b)
		}
		if a := decodeAnswer(t, b); a.Accepted != accepted || a.Duplicates != dups {
			t.Fatalf("answer %s, want accepted %d duplicates %d", b, accepted, dups)
		}
	}
	check(batch(pageView("d1", now), pageView("d2", now), pageView("d1", now)), 2, 1) // repeated inside the batch
	check(batch(pageView("d1", now), pageView("d3", now)), 1, 1)                      // retried
	e.restart()
	check(batch(pageView("d1", now), pageView("d2", now), pageView("d3", now)), 0, 3) // across a restart
	// The same id in another account is another event.
	code, _, b := e.post("other", batch(pageView("d1", now)), nil)
	if code != 200 || decodeAnswer(t, b).Accepted != 1 {
		t.Fatalf("other account: %d %s", code, b)
	}
	if n := len(e.stored()); n != 4 {
		t.Fatalf("%d stored, want 4", n)
	}
}

func TestCORSPreflight(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	for _, tc := range []struct {
		name, acct, origin string
		code               int
	}{
		{"allowed", "shop", "https://shop.example", 204},
		{"forbidden", "shop", "https://evil.example", 403},
		{"unknown account", "nobody", "https://shop.example", 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodOptions, e.srv.URL+"/api/account/"+tc.acct+"/events", nil)
			req.Header.Set("Origin", tc.origin)
			req.Header.Set("Access-Control-Request-Method", "POST")
			req.Header.Set("Access-Control-Request-Headers", "content-type")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.code {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.code)
			}
			if tc.code == 204 {
				h := resp.Header
				if h.Get("Access-Control-Allow-Origin") != tc.origin || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
					!strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "content-type") {
					t.Fatalf("preflight headers %v", h)
				}
			}
		})
	}
	// The POST itself carries the CORS answer too.
	_, h, _ := e.post("shop", batch(pageView("c1", time.Now().UnixMilli())), map[string]string{"Origin": "https://shop.example"})
	if h.Get("Access-Control-Allow-Origin") != "https://shop.example" {
		t.Fatalf("POST without Access-Control-Allow-Origin: %v", h)
	}
}

// failingLog refuses every append with err, when it is submitted or, with
// atWait, when the caller waits for it to be durable.
type failingLog struct {
	err    error
	atWait bool
}

func (f failingLog) Submit([]byte, [][]byte) (eventlog.Pending, error) {
	if f.atWait {
		return outcome{f.err}, nil
	}
	return nil, f.err
}

// outcome is a Pending whose outcome is known.
type outcome struct{ err error }

func (o outcome) Wait(context.Context) error { return o.err }

func TestAppendFailures(t *testing.T) {
	accounts, err := account.OpenStore(nil, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	accounts.Add(account.Account{ID: "shop"})
	diskFull := fmt.Errorf("%w: %w", eventlog.ErrUnavailable, errors.New("no space left on device"))
	for _, tc := range []struct {
		name string
		log  failingLog
		code int
	}{
		{"busy", failingLog{err: eventlog.ErrBusy}, 429},
		{"unavailable", failingLog{err: diskFull}, 503},
		{"closed", failingLog{err: eventlog.ErrClosed}, 503},
		{"write failed", failingLog{err: diskFull, atWait: true}, 503},
		{"closed while waiting", failingLog{err: eventlog.ErrClosed, atWait: true}, 503},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ix := dedup.New(24*time.Hour, time.Now())
			mux := http.NewServeMux()
			New(DefaultConfig(), nil, nil, accounts, tc.log, ix).Register(mux)
			srv := httptest.NewServer(mux)
			defer srv.Close()
			body := batch(pageView("f1", time.Now().UnixMilli()))
			resp, err := http.Post(srv.URL+"/api/account/shop/events", "application/json", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.code || resp.Header.Get("Retry-After") == "" {
				t.Fatalf("status %d Retry-After %q, want %d with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"), tc.code)
			}
			// The failed events are not remembered as stored: a retry to a
			// working log stores them.
			mux2 := http.NewServeMux()
			good := &memLog{}
			New(DefaultConfig(), nil, nil, accounts, good, ix).Register(mux2)
			srv2 := httptest.NewServer(mux2)
			defer srv2.Close()
			resp, err = http.Post(srv2.URL+"/api/account/shop/events", "application/json", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if a := decodeAnswer(t, b); a.Accepted != 1 || len(good.values) != 1 {
				t.Fatalf("retry after failure: %s", b)
			}
		})
	}
}

type memLog struct{ values [][]byte }

func (m *memLog) Submit(_ []byte, v [][]byte) (eventlog.Pending, error) {
	for _, x := range v {
		m.values = append(m.values, bytes.Clone(x))
	}
	return outcome{}, nil
}

func TestBusyWhenNoSlot(t *testing.T) {
	accounts, err := account.OpenStore(nil, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	accounts.Add(account.Account{ID: "shop"})
	// The first request to take the only slot holds it in Submit, until
	// the test takes its submission; the other gets 429 meanwhile.
	log := heldLog{submitted: make(chan struct{}), release: make(chan struct{})}
	close(log.release)
	cfg := DefaultConfig()
	cfg.MaxConcurrent, cfg.QueueTimeout = 1, 10*time.Millisecond
	mux := http.NewServeMux()
	New(cfg, nil, nil, accounts, log, dedup.New(24*time.Hour, time.Now())).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	type result struct {
		code       int
		retryAfter string
	}
	results := make(chan result, 2)
	for _, id := range []string{"b1", "b2"} {
		go func() {
			resp, err := http.Post(srv.URL+"/api/account/shop/events", "application/json", bytes.NewReader(batch(pageView(id, time.Now().UnixMilli()))))
			if err != nil {
				results <- result{}
				return
			}
			resp.Body.Close()
			results <- result{resp.StatusCode, resp.Header.Get("Retry-After")}
		}()
	}
	if r := <-results; r.code != 429 || r.retryAfter == "" {
		t.Fatalf("first answer %d with Retry-After %q, want 429 with Retry-After while the only slot was taken", r.code, r.retryAfter)
	}
	<-log.submitted
	if r := <-results; r.code != 200 {
		t.Fatalf("the request holding the slot: %d, want 200", r.code)
	}
}

// heldLog is a log whose appends become durable when release is closed;
// submitted receives a value at each Submit (unbuffered, it holds Submit
// until the value is taken).
type heldLog struct {
	submitted chan struct{}
	release   chan struct{}
}

func (l heldLog) Submit([]byte, [][]byte) (eventlog.Pending, error) {
	l.submitted <- struct{}{}
	return l, nil
}

func (l heldLog) Wait(ctx context.Context) error {
	select {
	case <-l.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestBarrierWaitsForStampedEvents(t *testing.T) {
	accounts, err := account.OpenStore(nil, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	accounts.Add(account.Account{ID: "shop"})
	log := heldLog{submitted: make(chan struct{}, 2), release: make(chan struct{})}
	var stamp atomic.Int64
	cfg := DefaultConfig()
	cfg.Now = func() time.Time { return time.UnixMilli(stamp.Add(1)) } // every reading later than the last
	stamp.Store(time.Now().UnixMilli())
	h := New(cfg, nil, nil, accounts, log, dedup.New(24*time.Hour, time.Now()))
	mux := http.NewServeMux()
	h.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	post := func(id string) {
		resp, err := http.Post(srv.URL+"/api/account/shop/events", "application/json", bytes.NewReader(batch(pageView(id, time.Now().UnixMilli()))))
		if err == nil {
			resp.Body.Close()
		}
	}
	go post("b1")
	<-log.submitted // b1 is stamped and submitted, not yet durable
	barrier := make(chan time.Time)
	go func() { barrier <- h.Barrier() }()
	select {
	case <-barrier:
		t.Fatal("Barrier returned before the stamped event was durable")
	case <-time.After(50 * time.Millisecond):
	}
	stampedBefore := stamp.Load()
	close(log.release)
	at := <-barrier
	if at.UnixMilli() <= stampedBefore-1 {
		t.Fatalf("barrier %d not after the stamp %d", at.UnixMilli(), stampedBefore-1)
	}
	post("b2") // stamped after the barrier
	<-log.submitted
	if got := stamp.Load(); got <= at.UnixMilli() {
		t.Fatalf("event after the barrier stamped %d, not after %d", got, at.UnixMilli())
	}
}

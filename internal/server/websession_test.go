package server_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/linkedin/goavro/v2"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/dataaccess"
	"github.com/sightline/sightline/internal/dataaccess/oauth1"
	"github.com/sightline/sightline/internal/server"
	"github.com/sightline/sightline/internal/websession"
)

// TestWebSessionsEndToEnd sends a visit through ingest, moves the clock past
// the end of its hour, and pulls the hour's file through the Data Access
// API with OAuth: the file lists, downloads and decodes with the schema.
func TestWebSessionsEndToEnd(t *testing.T) {
	cfg, offset := aheadConfig(t.TempDir())
	s := start(t, cfg)
	if err := s.Accounts().Add(account.Account{ID: "acme"}); err != nil {
		t.Fatal(err)
	}
	creds := dataAccessKey(t, cfg.DataDir, "acme")

	sent := time.Now()
	body := fmt.Sprintf(`{"visitorId":"pKytlMTwSPCwpJS-RQqtlQ","visitId":"AjvT6hLKTEi3AXgGnYu_mQ","events":[
		{"id":"e1","time":%[1]d,"appName":"LP_MONITORING","eventName":"PAGE_VIEW","data":{"url":"https://shop.example/tv","referrer":"https://www.google.com/search?q=oled+tv","title":"TVs","sections":["tv"]}},
		{"id":"e2","time":%[1]d,"appName":"lp_sdes","eventName":"VAR_ADDED","data":{"type":"cart","total":"11.7","currency":"USD","numItems":6,"products":[{"product":{"name":"tv","category":"tv","sku":"s1","price":7.8},"quantity":1}]}},
		{"id":"e3","time":%[1]d,"appName":"LP_OFFERS","eventName":"OFFER_IMPRESSION","data":{"campaignId":1,"engagementId":2,"engagementRevision":3,"engagementType":3,"contextId":"1","zoneId":4,"state":1,"confKey":"1_2_3","engagementName":"Chat"}}
	]}`, sent.UnixMilli())
	if code, a, err := post(s.client, s.url(eventsPath("acme")), []byte(body), ""); err != nil || code != http.StatusOK || a.Accepted != 3 {
		t.Fatalf("post: %d %+v %v", code, a, err)
	}

	// Two hours later the visit has closed and its hour is complete.
	offset.Store(int64(2 * time.Hour))
	listing := waitForFiles(t, s, "acme", creds, sent.Add(-time.Hour), sent.Add(3*time.Hour))
	if len(listing.DataAccessFiles.File) != 1 {
		t.Fatalf("listing %+v, want one file", listing)
	}
	f := listing.DataAccessFiles.File[0]
	// The visit closed 30 minutes after its last event: it is in that hour's file.
	closed := sent.Add(30 * time.Minute)
	name, err := websession.ParseFileName(f.Name)
	if err != nil || name.ScopeStart.After(closed) || !name.ScopeEnd.After(closed) {
		t.Fatalf("file %q is not of the hour the visit closed in, %s: %v", f.Name, closed, err)
	}
	resp := signedGet(t, s, creds, f.Href)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/gzip" {
		t.Fatalf("download: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	codec, err := goavro.NewCodec(string(websession.Schema))
	if err != nil {
		t.Fatal(err)
	}
	gz, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(gz)
	sc.Buffer(nil, 16<<20)
	docs := 0
	for sc.Scan() {
		docs++
		if _, _, err := codec.NativeFromTextual(sc.Bytes()); err != nil {
			t.Fatalf("document does not decode with the schema: %v\n%s", err, sc.Text())
		}
		for _, want := range []string{`"AjvT6hLKTEi3AXgGnYu_mQ"`, `"https://shop.example/tv"`, `CartStatus`, `"Show"`, `"Google"`, `"oled tv"`} {
			if !strings.Contains(sc.Text(), want) {
				t.Errorf("document lacks %s:\n%s", want, sc.Text())
			}
		}
	}
	if err := sc.Err(); err != nil || docs != 1 {
		t.Fatalf("%d documents, %v", docs, err)
	}
	// Another account's key does not see acme's files (the server picks
	// a new key up within a second).
	if err := s.Accounts().Add(account.Account{ID: "beta"}); err != nil {
		t.Fatal(err)
	}
	otherCreds := dataAccessKey(t, cfg.DataDir, "beta")
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		resp := signedGet(t, s, otherCreds, f.Href)
		resp.Body.Close()
		if resp.StatusCode == http.StatusForbidden {
			break
		}
		if resp.StatusCode != http.StatusUnauthorized || time.Now().After(deadline) {
			t.Fatalf("another account's key: %d, want 403", resp.StatusCode)
		}
	}
}

// TestSpecVisitThroughIngest sends the page views and attributes of the
// Data Access API's example visit through ingest, and checks that the
// document of the file written for it carries the example's header,
// engagement attributes and navigation records exactly as the golden
// document of package websession (which also holds the eligibility and
// goal records that the campaign engine will feed, not ingest).
func TestSpecVisitThroughIngest(t *testing.T) {
	cfg, offset := aheadConfig(t.TempDir())
	s := start(t, cfg)
	if err := s.Accounts().Add(account.Account{ID: "75555851"}); err != nil {
		t.Fatal(err)
	}
	creds := dataAccessKey(t, cfg.DataDir, "75555851")
	body := `{"visitorId":"pKytlMTwSPCwpJS-RQqtlQ","visitId":"AjvT6hLKTEi3AXgGnYu_mQ.606c99c686cbe0d422d558a5005b3ec2275dc20a","events":[
		{"id":"pv1","time":1467291704525,"appName":"LP_MONITORING","eventName":"PAGE_VIEW","data":{"url":"https://authentication.liveperson.net/login.html","referrer":"","title":"Login","sections":["loginPages"]}},
		{"id":"pv2","time":1467291714765,"appName":"LP_MONITORING","eventName":"PAGE_VIEW","data":{"url":"https://z1.le.liveperson.net/a/89995382/#wa!webagent","referrer":"https://authentication.liveperson.net/login.html","sections":[]}},
		{"id":"sd1","time":1467291718263,"appName":"lp_sdes","eventName":"VAR_ADDED","data":{"type":"ctmrinfo","info":{"cstatus":"agentManager","customerId":"Account: 89995382"}}},
		{"id":"sd2","time":1467291718494,"appName":"lp_sdes","eventName":"VAR_ADDED","data":{"type":"personal","personal":{"lastname":"BrookeR@blinds.com","contacts":[{}]}}},
		{"id":"pv3","time":1467308703041,"appName":"LP_MONITORING","eventName":"PAGE_VIEW","data":{"url":"https://authentication.liveperson.net/login.html?lpservice=liveEngage&servicepath=a%2F%7E%7Eaccountid%7E%7E%2F%23%2C%7E%7Essokey%7E%7E","referrer":"https://z1.le.liveperson.net/a/89995382/","sections":["loginPages"]}}
	]}`
	sent := time.Now()
	if code, a, err := post(s.client, s.url(eventsPath("75555851")), []byte(body), ""); err != nil || code != http.StatusOK || a.Accepted != 5 {
		t.Fatalf("post: %d %+v %v", code, a, err)
	}
	offset.Store(int64(2 * time.Hour))
	listing := waitForFiles(t, s, "75555851", creds, sent.Add(-time.Hour), sent.Add(3*time.Hour))
	resp := signedGet(t, s, creds, listing.DataAccessFiles.File[0].Href)
	defer resp.Body.Close()
	gz, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := io.ReadAll(gz)
	if err != nil {
		t.Fatal(err)
	}
	golden, err := os.ReadFile("../websession/testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	got, want := records(t, doc), records(t, golden)
	for _, typ := range []string{"com.liveperson.dataaccess.WebSessionEngAttrsData", "com.liveperson.dataaccess.WebSessionNavigationData"} {
		if got[typ] == nil || !reflect.DeepEqual(got[typ], want[typ]) {
			t.Errorf("%s record\n got %v\nwant %v", typ, got[typ], want[typ])
		}
	}
}

// records returns the body records of a web-session document by type.
func records(t *testing.T, doc []byte) map[string]any {
	t.Helper()
	var d struct {
		RecordCollection []struct {
			Body map[string]any `json:"body"`
		} `json:"recordCollection"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(doc), &d); err != nil {
		t.Fatalf("document %.200s: %v", doc, err)
	}
	byType := map[string]any{}
	for _, r := range d.RecordCollection {
		for typ, body := range r.Body {
			byType[typ] = body
		}
	}
	return byType
}

// waitForFiles lists account's files in [from, to] until there is one.
func waitForFiles(t *testing.T, s *testServer, account string, creds oauth1.Credentials, from, to time.Time) dataaccess.Listing {
	t.Helper()
	u := s.url(fmt.Sprintf("/data_access_le/account/%s/le/webSession?startTime=%d&endTime=%d", account, from.UnixMilli(), to.UnixMilli()))
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp := signedGet(t, s, creds, u)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("listing: %d %s", resp.StatusCode, b)
		}
		var l dataaccess.Listing
		if err := json.Unmarshal(b, &l); err != nil {
			t.Fatalf("listing %s: %v", b, err)
		}
		if len(l.DataAccessFiles.File) > 0 {
			return l
		}
		if time.Now().After(deadline) {
			t.Fatalf("no file listed after 10s: %s", b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// signedGet gets rawURL with a request signed with creds.
func signedGet(t *testing.T, s *testServer, creds oauth1.Credentials, rawURL string) *http.Response {
	t.Helper()
	if _, err := url.Parse(rawURL); err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := creds.Sign(req, time.Now(), ""); err != nil {
		t.Fatal(err)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestStalledWebSessionsRecover fails the sessionizer's write of a closed
// visit, as a full disk would: readiness and the metrics say the
// sessionizer is stalled, and once the write can succeed it carries on and
// the visit's hour is written.
func TestStalledWebSessionsRecover(t *testing.T) {
	cfg, offset := aheadConfig(t.TempDir())
	s := start(t, cfg)
	if err := s.Accounts().Add(account.Account{ID: "acme"}); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	s.mustPost(t, "acme", fmt.Appendf(nil, `{"visitorId":"u1","visitId":"v1","events":[
		{"id":"e1","time":%d,"appName":"LP_MONITORING","eventName":"PAGE_VIEW","data":{"url":"https://shop.example/"}}]}`, sent.UnixMilli()))
	// The visit closes 30 minutes after its event; the spool's folder of
	// that hour is a file, so the closed visit cannot be spooled.
	hour := sent.Add(30 * time.Minute).Truncate(time.Hour)
	block := filepath.Join(server.WebSessionStateDir(cfg.DataDir), "spool", strconv.FormatInt(hour.UnixMilli(), 10))
	if err := os.MkdirAll(filepath.Dir(block), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(block, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	offset.Store(int64(2 * time.Hour))

	waitFor(t, "readiness to report the stall", func() bool {
		code, body := getBody(t, s, "/readyz")
		return code == http.StatusServiceUnavailable && strings.Contains(body, "web sessions stalled")
	})
	stalled := map[string]string{"consumer": "sessionizer"}
	if v := s.value(t, "sightline_consumer_stalled", stalled); v != 1 {
		t.Errorf("sightline_consumer_stalled%v = %v while stalled, want 1", stalled, v)
	}
	// The lag goes on growing while nothing is checkpointed.
	lag := s.value(t, "sightline_sessionizer_watermark_lag_seconds", nil)
	time.Sleep(50 * time.Millisecond)
	if later := s.value(t, "sightline_sessionizer_watermark_lag_seconds", nil); later <= lag {
		t.Errorf("sightline_sessionizer_watermark_lag_seconds %v, then %v: frozen while stalled", lag, later)
	}
	if err := os.Remove(block); err != nil { // space freed
		t.Fatal(err)
	}
	waitFor(t, "readiness after the spool became writable", func() bool {
		code, _ := getBody(t, s, "/readyz")
		return code == http.StatusOK
	})
	waitFor(t, "the visit's hour file", func() bool {
		files, _ := filepath.Glob(filepath.Join(server.WebSessionFilesDir(cfg.DataDir), "acme", "*"))
		return len(files) > 0
	})
	if v := s.value(t, "sightline_consumer_stalled", stalled); v != 0 {
		t.Errorf("sightline_consumer_stalled%v = %v once recovered, want 0", stalled, v)
	}
}

// dataAccessKey adds a Data Access API key of account to the data
// directory dataDir (a running server picks it up within a second) and
// returns its credentials.
func dataAccessKey(t *testing.T, dataDir, account string) oauth1.Credentials {
	t.Helper()
	keys, err := dataaccess.OpenKeys(slog.New(slog.DiscardHandler), dataaccess.KeysDir(dataDir))
	if err != nil {
		t.Fatal(err)
	}
	key, err := keys.Add(account)
	if err != nil {
		t.Fatal(err)
	}
	return oauth1.Credentials{ConsumerKey: key.ConsumerKey, ConsumerSecret: key.ConsumerSecret, Token: key.AccessToken, TokenSecret: key.TokenSecret}
}

// aheadConfig returns the configuration of a test server on dir whose
// clock runs offset ahead of the wall clock (tests move it to close visits
// and hours), with its sessionizer checkpointing and polling often.
func aheadConfig(dir string) (cfg server.Config, offset *atomic.Int64) {
	offset = new(atomic.Int64)
	cfg = testConfig(dir)
	cfg.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	cfg.Sessionizer.CheckpointInterval = 50 * time.Millisecond
	cfg.Sessionizer.Poll = 20 * time.Millisecond
	return cfg, offset
}

// waitFor polls cond for up to 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// getBody GETs path from s and returns the status and body.
func getBody(t *testing.T, s *testServer, path string) (int, string) {
	t.Helper()
	resp, err := s.client.Get(s.url(path))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

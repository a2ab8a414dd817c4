package dataaccess

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dghubble "github.com/dghubble/oauth1"

	"github.com/sightline/sightline/internal/dataaccess/oauth1"
	"github.com/sightline/sightline/internal/filestore"
	"github.com/sightline/sightline/internal/hourfiles"
)

// memFiles is a Files in memory: account → name → file.
type memFiles struct {
	mu    sync.Mutex
	files map[string]map[string]memFile
}

type memFile struct {
	data []byte
	mod  time.Time
}

func (m *memFiles) put(account, name string, data []byte, mod time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.files == nil {
		m.files = map[string]map[string]memFile{}
	}
	if m.files[account] == nil {
		m.files[account] = map[string]memFile{}
	}
	m.files[account][name] = memFile{data, mod}
}

func (m *memFiles) List(ctx context.Context, account string) ([]FileInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []FileInfo
	for name, f := range m.files[account] {
		out = append(out, FileInfo{Name: name, Size: int64(len(f.data)), ModTime: f.mod})
	}
	return out, nil
}

func (m *memFiles) Open(ctx context.Context, account, name string) (io.ReadSeekCloser, FileInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.files[account][name]
	if !ok {
		return nil, FileInfo{}, fmt.Errorf("file %s/%s: %w", account, name, fs.ErrNotExist)
	}
	return nopCloser{bytes.NewReader(f.data)}, FileInfo{Name: name, Size: int64(len(f.data)), ModTime: f.mod}, nil
}

type nopCloser struct{ io.ReadSeeker }

func (nopCloser) Close() error { return nil }

// The spec's example: account 75555851, two files, dates at -04:00.
const (
	specAccount = "75555851"
	specFile1   = "WebSession.1464778800000.1464782400000.part-00000-0.gz"
	specFile2   = "WebSession.1467043200000.1467046800000.part-00000-0.gz"
	specListing = `{
"dataAccessFiles": {
"@id": "75555851",
"link": {
"@href":
"https://va-a.da.liveperson.net/data_access_le/account/75555851/le/webSession",
"@rel": "self"
},
"file": [
{
"@name": "WebSession.1464778800000.1464782400000.part-00000-0.gz",
"@scopeStartDate": "2016-06-01T07:00:00-04:00",
"@scopeEndDate": "2016-06-01T08:00:00-04:00",
"@href": "https://va-a.da.liveperson.net/data_access_le/account/75555851/le/webSession/WebSession.1464778800000.1464782400000.part-00000-0.gz"
},
{
"@name": "WebSession.1467043200000.1467046800000.part-00000-0.gz",
"@scopeStartDate": "2016-06-27T12:00:00-04:00",
"@scopeEndDate": "2016-06-27T13:00:00-04:00",
"@href": "https://va-a.da.liveperson.net/data_access_le/account/75555851/le/webSession/WebSession.1467043200000.1467046800000.part-00000-0.gz"
}
]
}
}`
	publicURL = "https://va-a.da.liveperson.net"
)

var (
	edt      = time.FixedZone("EDT", -4*3600)
	testNow  = time.Date(2016, 6, 28, 9, 0, 0, 0, time.UTC)
	fileMod  = time.Date(2016, 6, 27, 18, 5, 0, 0, time.UTC)
	schema   = []byte(`{"type":"record","name":"WebSession","fields":[]}`)
	nonceSeq atomic.Int64
)

// fixture is a handler over memFiles with a key for specAccount and one
// for "other".
type fixture struct {
	h             http.Handler
	keys          *Keys
	files         *memFiles
	key, otherKey Key
	now           time.Time
}

func newFixture(t testing.TB, cfg Config) *fixture {
	t.Helper()
	keys, err := OpenKeys(nil, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{keys: keys, files: &memFiles{}, now: testNow}
	if f.key, err = keys.Add(specAccount); err != nil {
		t.Fatal(err)
	}
	if f.otherKey, err = keys.Add("other"); err != nil {
		t.Fatal(err)
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return f.now }
	}
	f.h = NewHandler(cfg, keys, f.files)
	return f
}

func creds(k Key) oauth1.Credentials {
	return oauth1.Credentials{ConsumerKey: k.ConsumerKey, ConsumerSecret: k.ConsumerSecret, Token: k.AccessToken, TokenSecret: k.TokenSecret}
}

// do sends a request signed with k at the fixture's clock.
func (f *fixture) do(t *testing.T, method, target string, k Key, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, target, nil)
	for name, vs := range header {
		r.Header[name] = vs
	}
	if k.ConsumerKey != "" {
		if err := creds(k).Sign(r, f.now, fmt.Sprint("nonce-", nonceSeq.Add(1))); err != nil {
			t.Fatal(err)
		}
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w
}

func specConfig() Config {
	return Config{PublicURL: publicURL, Location: edt, Schema: func(string) []byte { return schema }}
}

func compact(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatalf("%v in %s", err, s)
	}
	return b.String()
}

// TestListingSpecExample answers the spec's example request with the
// spec's example document, byte for byte once white space is removed.
func TestListingSpecExample(t *testing.T) {
	f := newFixture(t, specConfig())
	f.files.put(specAccount, specFile1, []byte("1"), fileMod)
	f.files.put(specAccount, specFile2, []byte("2"), fileMod)
	w := f.do(t, "GET", "http://va-a.da.liveperson.net/data_access_le/account/75555851/le/webSession?startTime=1464778800000&endTime=1467043200000", f.key, nil)
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if got, want := compact(t, w.Body.String()), compact(t, specListing); got != want {
		t.Errorf("listing\n got %s\nwant %s", got, want)
	}
}

func TestListing(t *testing.T) {
	const hour = int64(3600_000)
	h0 := int64(1464778800000) // 2016-06-01T07:00-04:00
	name := func(hr int64, part, gen int) string {
		return fmt.Sprintf("WebSession.%d.%d.part-%05d-%d.gz", h0+hr*hour, h0+(hr+1)*hour, part, gen)
	}
	manifest := func(hr int64, gen, parts int) string {
		return fmt.Sprintf("WebSession.%d.%d.gen-%d.parts-%d.manifest.json", h0+hr*hour, h0+(hr+1)*hour, gen, parts)
	}
	f := newFixture(t, specConfig())
	for _, n := range []string{
		name(0, 0, 0),
		// Hour 1 was rebuilt: generation 1 has two parts, generation 0 one.
		name(1, 0, 0), name(1, 0, 1), name(1, 1, 1), manifest(1, 1, 2),
		// Hour 2: generations 0 and 2, part 0 of each, and generation 3
		// being written.
		name(2, 0, 2), name(2, 0, 0), manifest(2, 2, 1), name(2, 0, 3),
		name(3, 0, 0),
		"README", "WebSession.1.2.gz", ".WebSession.tmp", "WebSession.1464778800000.1464782400000.part-0-0.gz",
	} {
		f.files.put(specAccount, n, []byte(n), fileMod)
	}
	f.files.put("other", name(0, 0, 5), []byte("other's"), fileMod)
	tests := []struct {
		name       string
		query      string
		wantFiles  []string
		wantStatus int
		wantMsg    string
	}{
		{name: "everything", query: fmt.Sprintf("startTime=%d&endTime=%d", h0-24*hour, h0+10*hour),
			wantFiles: []string{name(0, 0, 0), name(1, 0, 1), name(1, 1, 1), name(2, 0, 2), name(3, 0, 0)}},
		{name: "bounds are inclusive", query: fmt.Sprintf("startTime=%d&endTime=%d", h0+hour, h0+2*hour),
			wantFiles: []string{name(1, 0, 1), name(1, 1, 1), name(2, 0, 2)}},
		{name: "one instant", query: fmt.Sprintf("startTime=%d&endTime=%d", h0+3*hour, h0+3*hour),
			wantFiles: []string{name(3, 0, 0)}},
		{name: "scope start just outside", query: fmt.Sprintf("startTime=%d&endTime=%d", h0+1, h0+hour-1),
			wantFiles: []string{}},
		{name: "nothing", query: "startTime=0&endTime=1000",
			wantFiles: []string{}, wantMsg: NoAvailableFiles},
		{name: "exactly the retention", query: fmt.Sprintf("startTime=%d&endTime=%d", h0+3*hour-DefaultRetention.Milliseconds(), h0+3*hour),
			wantFiles: []string{name(0, 0, 0), name(1, 0, 1), name(1, 1, 1), name(2, 0, 2), name(3, 0, 0)}},
		{name: "longer than the retention", query: fmt.Sprintf("startTime=0&endTime=%d", DefaultRetention.Milliseconds()+1),
			wantStatus: 400, wantMsg: "longer than the retention of 30 days (2592000000 ms)"},
		{name: "no startTime", query: "endTime=5", wantStatus: 400, wantMsg: "startTime: missing"},
		{name: "no endTime", query: "startTime=5", wantStatus: 400, wantMsg: "endTime: missing"},
		{name: "no query", query: "", wantStatus: 400, wantMsg: "startTime: missing"},
		{name: "startTime not a number", query: "startTime=yesterday&endTime=5", wantStatus: 400, wantMsg: `startTime "yesterday": not epoch milliseconds`},
		{name: "endTime in seconds with a fraction", query: "startTime=0&endTime=1464778800.5", wantStatus: 400, wantMsg: `endTime "1464778800.5"`},
		{name: "negative", query: "startTime=-1&endTime=5", wantStatus: 400, wantMsg: `startTime "-1"`},
		{name: "plus sign", query: "startTime=%2B1&endTime=5", wantStatus: 400, wantMsg: `startTime "+1"`},
		{name: "empty", query: "startTime=&endTime=5", wantStatus: 400, wantMsg: `startTime ""`},
		{name: "twice", query: "startTime=1&startTime=2&endTime=5", wantStatus: 400, wantMsg: "startTime: given 2 times"},
		{name: "endTime before startTime", query: "startTime=10&endTime=9", wantStatus: 400, wantMsg: "endTime 9 is before startTime 10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := f.do(t, "GET", "/data_access_le/account/75555851/le/webSession?"+tt.query, f.key, nil)
			if tt.wantStatus != 0 {
				var fl Failure
				json.Unmarshal(w.Body.Bytes(), &fl)
				if w.Code != tt.wantStatus || !strings.Contains(fl.Error.Message, tt.wantMsg) {
					t.Errorf("status %d, body %s; want %d with %q", w.Code, w.Body, tt.wantStatus, tt.wantMsg)
				}
				return
			}
			if w.Code != 200 {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			var l Listing
			if err := json.Unmarshal(w.Body.Bytes(), &l); err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, lf := range l.DataAccessFiles.File {
				got = append(got, lf.Name)
				if want := publicURL + "/data_access_le/account/75555851/le/webSession/" + lf.Name; lf.Href != want {
					t.Errorf("@href %s, want %s", lf.Href, want)
				}
			}
			if strings.Join(got, " ") != strings.Join(tt.wantFiles, " ") {
				t.Errorf("files\n got %v\nwant %v", got, tt.wantFiles)
			}
			if want := map[bool]string{true: NoAvailableFiles}[len(got) == 0]; l.DataAccessFiles.Message != want {
				t.Errorf("message %q, want %q", l.DataAccessFiles.Message, want)
			}
			if len(got) == 0 && !strings.Contains(w.Body.String(), `"file": []`) {
				t.Errorf("no empty file array in %s", w.Body)
			}
		})
	}
}

// TestGenerations serves a store in which hours are being rebuilt: the
// listing has the newest committed generation of each hour, and neither
// half-written generations nor manifests, while superseded generations stay
// downloadable.
func TestGenerations(t *testing.T) {
	ctx := context.Background()
	const hour = int64(3600_000)
	h0 := int64(1464778800000)
	name := func(hr int64, part, gen int) string {
		return fmt.Sprintf("WebSession.%d.%d.part-%05d-%d.gz", h0+hr*hour, h0+(hr+1)*hour, part, gen)
	}
	dir, err := filestore.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	put := func(w io.Writer, content string) error {
		_, err := io.WriteString(w, content)
		return err
	}
	// write writes generation parts of hour hr, each part's content its
	// name, and commits it if commit.
	write := func(hr int64, parts int, commit bool) *hourfiles.Generation {
		g, err := hourfiles.Begin(ctx, dir, specAccount, time.UnixMilli(h0+hr*hour), time.UnixMilli(h0+(hr+1)*hour))
		if err != nil {
			t.Fatal(err)
		}
		for n := range parts {
			if err := g.PutPart(ctx, n, func(w io.Writer) error { return put(w, name(hr, n, g.Number())) }); err != nil {
				t.Fatal(err)
			}
		}
		if commit {
			if err := g.Commit(ctx, 1); err != nil {
				t.Fatal(err)
			}
		}
		return g
	}
	// Hours 0 and 1 have files from before generations had manifests.
	for _, n := range []string{name(0, 0, 0), name(1, 0, 0)} {
		if err := dir.Put(ctx, specAccount, n, func(w io.Writer) error { return put(w, n) }); err != nil {
			t.Fatal(err)
		}
	}
	write(0, 2, true)        // hour 0 rebuilt
	g1 := write(1, 1, false) // hour 1 being rebuilt
	write(2, 1, false)       // hour 2 being written for the first time
	all, err := dir.List(ctx, specAccount)
	if err != nil {
		t.Fatal(err)
	}
	var manifest, marker string
	for _, info := range all {
		switch {
		case strings.HasSuffix(info.Name, ".manifest.json"):
			manifest = info.Name
		case strings.HasSuffix(info.Name, ".pending"):
			marker = info.Name
		}
	}
	if manifest == "" || marker == "" {
		t.Fatalf("no manifest or no pending marker in %v", all)
	}

	f := newFixture(t, specConfig())
	cfg := specConfig()
	cfg.Now = func() time.Time { return f.now }
	f.h = NewHandler(cfg, f.keys, dir)
	base := "/data_access_le/account/75555851/le/webSession"
	w := f.do(t, "GET", fmt.Sprintf("%s?startTime=%d&endTime=%d", base, h0, h0+10*hour), f.key, nil)
	var l Listing
	if err := json.Unmarshal(w.Body.Bytes(), &l); err != nil || w.Code != 200 {
		t.Fatalf("listing: status %d, %s: %v", w.Code, w.Body, err)
	}
	var got []string
	for _, lf := range l.DataAccessFiles.File {
		got = append(got, lf.Name)
	}
	if want := []string{name(0, 0, 1), name(0, 1, 1), name(1, 0, 0)}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("listed %v\nwant %v", got, want)
	}

	for _, tt := range []struct {
		name   string
		status int
	}{
		{name(0, 0, 1), 200},
		{name(0, 0, 0), 200}, // superseded, within the grace
		{name(1, 0, g1.Number()), 200},
		{manifest, 404},
		{marker, 404},
	} {
		w := f.do(t, "GET", base+"/"+tt.name, f.key, nil)
		if w.Code != tt.status || tt.status == 200 && w.Body.String() != tt.name {
			t.Errorf("GET %s: status %d, %s; want %d", tt.name, w.Code, w.Body, tt.status)
		}
	}
}

func TestEndpoints(t *testing.T) {
	f := newFixture(t, specConfig())
	content := []byte("0123456789abcdefghij")
	f.files.put(specAccount, specFile1, content, fileMod)
	f.files.put("other", specFile2, []byte("other's"), fileMod)
	base := "/data_access_le/account/75555851/le"
	etag := fileETag(specFile1, FileInfo{Name: specFile1, Size: int64(len(content)), ModTime: fileMod})
	tests := []struct {
		name       string
		method     string
		target     string
		key        *Key // nil: the account's key
		header     http.Header
		wantStatus int
		wantHeader map[string]string
		wantBody   string // exact, or a part of it for error answers
	}{
		{name: "data types", target: base, wantStatus: 200, wantHeader: map[string]string{"Content-Type": "application/json"},
			wantBody: `{"dataAccessDataTypes":{"@id":"75555851","link":[` +
				`{"@href":"https://va-a.da.liveperson.net/data_access_le/account/75555851/le","@rel":"self"},` +
				`{"@href":"https://va-a.da.liveperson.net/data_access_le/account/75555851/le/webSession","@rel":"webSession"},` +
				`{"@href":"https://va-a.da.liveperson.net/data_access_le/account/75555851/le/schema","@rel":"schema"}]}}`},
		{name: "data types, trailing slash", target: base + "/", wantStatus: 200},
		{name: "file", target: base + "/webSession/" + specFile1, wantStatus: 200, wantBody: string(content),
			wantHeader: map[string]string{"Content-Type": "application/gzip", "ETag": etag, "Last-Modified": "Mon, 27 Jun 2016 18:05:00 GMT", "Accept-Ranges": "bytes", "Content-Length": "20"}},
		{name: "file HEAD", method: "HEAD", target: base + "/webSession/" + specFile1, wantStatus: 200, wantBody: "",
			wantHeader: map[string]string{"Content-Type": "application/gzip", "Content-Length": "20"}},
		{name: "file range", target: base + "/webSession/" + specFile1, header: http.Header{"Range": {"bytes=10-"}}, wantStatus: 206,
			wantBody: "abcdefghij", wantHeader: map[string]string{"Content-Range": "bytes 10-19/20", "Content-Length": "10"}},
		{name: "file first bytes", target: base + "/webSession/" + specFile1, header: http.Header{"Range": {"bytes=0-3"}}, wantStatus: 206, wantBody: "0123"},
		{name: "file range past the end", target: base + "/webSession/" + specFile1, header: http.Header{"Range": {"bytes=20-"}}, wantStatus: 416},
		{name: "file If-Range current", target: base + "/webSession/" + specFile1, header: http.Header{"Range": {"bytes=18-"}, "If-Range": {etag}}, wantStatus: 206, wantBody: "ij"},
		{name: "file If-Range stale", target: base + "/webSession/" + specFile1, header: http.Header{"Range": {"bytes=18-"}, "If-Range": {`"old"`}}, wantStatus: 200, wantBody: string(content)},
		{name: "file not modified", target: base + "/webSession/" + specFile1, header: http.Header{"If-None-Match": {etag}}, wantStatus: 304},
		{name: "unknown file", target: base + "/webSession/WebSession.1464778800000.1464782400000.part-00000-1.gz", wantStatus: 404, wantBody: "no file"},
		{name: "other account's file", target: base + "/webSession/" + specFile2, wantStatus: 404, wantBody: "no file"},
		{name: "malformed file name", target: base + "/webSession/..%2Fsecret", wantStatus: 404, wantBody: "not a web-session file name"},
		{name: "non-canonical file name", target: base + "/webSession/WebSession.1464778800000.1464782400000.part-00000-00.gz", wantStatus: 404},
		{name: "schema latest", target: base + "/schema?schemaId=latest", wantStatus: 200, wantBody: string(schema), wantHeader: map[string]string{"Content-Type": "application/json"}},
		{name: "schema without id", target: base + "/schema", wantStatus: 200, wantBody: string(schema)},
		{name: "schema other id", target: base + "/schema?schemaId=1.0.0.22", wantStatus: 404, wantBody: `no schema \"1.0.0.22\"`},
		{name: "unknown data type", target: base + "/conversations", wantStatus: 404},
		{name: "outside the API", target: "/data_access_le/whatever", wantStatus: 404},
		{name: "POST", method: "POST", target: base + "/webSession?startTime=0&endTime=1", wantStatus: 405},

		// Authentication and the account check, on every endpoint.
		{name: "no signature", target: base, key: &Key{}, wantStatus: 401, wantBody: "parameter_absent",
			wantHeader: map[string]string{"WWW-Authenticate": `OAuth realm="https://va-a.da.liveperson.net", oauth_problem="parameter_absent"`}},
		{name: "bad signature", target: base + "/webSession?startTime=0&endTime=1", key: &Key{ConsumerKey: "", ConsumerSecret: "x"}, wantStatus: 401, wantBody: "signature_invalid"},
		{name: "another account's key: data types", target: base, key: &f.otherKey, wantStatus: 403, wantBody: "gives no access to account 75555851"},
		{name: "another account's key: listing", target: base + "/webSession?startTime=0&endTime=1", key: &f.otherKey, wantStatus: 403},
		{name: "another account's key: file", target: base + "/webSession/" + specFile1, key: &f.otherKey, wantStatus: 403},
		{name: "another account's key: schema", target: base + "/schema", key: &f.otherKey, wantStatus: 403},
		{name: "key of the account, other account's URL", target: "/data_access_le/account/other/le/webSession/" + specFile2, wantStatus: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = "GET"
			}
			k := f.key
			if tt.key != nil {
				k = *tt.key
				if k.ConsumerKey == "" && k.ConsumerSecret != "" { // a bad signature
					k = f.key
					k.ConsumerSecret = tt.key.ConsumerSecret
				}
			}
			w := f.do(t, method, tt.target, k, tt.header)
			if w.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.wantStatus, w.Body)
			}
			for name, want := range tt.wantHeader {
				if got := w.Header().Get(name); got != want {
					t.Errorf("%s: %q, want %q", name, got, want)
				}
			}
			switch body := w.Body.String(); {
			case w.Code == 405 || w.Code == 416: // answered by net/http
			case w.Code >= 400:
				if !strings.Contains(body, tt.wantBody) {
					t.Errorf("body %s, want it to contain %s", body, tt.wantBody)
				}
				var fl Failure
				if err := json.Unmarshal(w.Body.Bytes(), &fl); err != nil || fl.Error.Status != w.Code || fl.Error.Message == "" {
					t.Errorf("error body %s: %v", body, err)
				}
			case tt.wantBody != "" && strings.HasPrefix(tt.wantBody, "{"):
				if got := compact(t, body); got != tt.wantBody {
					t.Errorf("body\n got %s\nwant %s", got, tt.wantBody)
				}
			case tt.wantBody != "" || method == "HEAD":
				if body != tt.wantBody {
					t.Errorf("body %q, want %q", body, tt.wantBody)
				}
			}
		})
	}
}

func TestNoSchema(t *testing.T) {
	f := newFixture(t, Config{})
	if w := f.do(t, "GET", "/data_access_le/account/75555851/le/schema?schemaId=latest", f.key, nil); w.Code != 404 {
		t.Errorf("status %d: %s", w.Code, w.Body)
	}
}

// TestAuthFailures sends requests that must not authenticate.
func TestAuthFailures(t *testing.T) {
	const target = "http://da.example.com/data_access_le/account/75555851/le/webSession?startTime=0&endTime=1"
	tests := []struct {
		name        string
		send        func(f *fixture) *httptest.ResponseRecorder
		wantStatus  int
		wantProblem string
	}{
		{"stale timestamp", func(f *fixture) *httptest.ResponseRecorder {
			r := httptest.NewRequest("GET", target, nil)
			creds(f.key).Sign(r, f.now.Add(-6*time.Minute), "n")
			return serve(f.h, r)
		}, 401, oauth1.ProblemTimestampRefused},
		{"reused nonce", func(f *fixture) *httptest.ResponseRecorder {
			r := httptest.NewRequest("GET", target, nil)
			creds(f.key).Sign(r, f.now, "n")
			if w := serve(f.h, r); w.Code != 200 {
				t.Fatalf("first request: %d %s", w.Code, w.Body)
			}
			return serve(f.h, r)
		}, 401, oauth1.ProblemNonceUsed},
		{"tampered query", func(f *fixture) *httptest.ResponseRecorder {
			r := httptest.NewRequest("GET", target, nil)
			creds(f.key).Sign(r, f.now, "n")
			r2 := httptest.NewRequest("GET", strings.Replace(target, "endTime=1", "endTime=2", 1), nil)
			r2.Header = r.Header
			return serve(f.h, r2)
		}, 401, oauth1.ProblemSignatureInvalid},
		{"signed for another host", func(f *fixture) *httptest.ResponseRecorder {
			r := httptest.NewRequest("GET", target, nil)
			creds(f.key).Sign(r, f.now, "n")
			r.Host = "evil.example.com"
			return serve(f.h, r)
		}, 401, oauth1.ProblemSignatureInvalid},
		{"signed for http, sent over https", func(f *fixture) *httptest.ResponseRecorder {
			r := httptest.NewRequest("GET", target, nil)
			creds(f.key).Sign(r, f.now, "n")
			r.Header.Set("X-Forwarded-Proto", "https")
			return serve(f.h, r)
		}, 401, oauth1.ProblemSignatureInvalid},
		{"removed key", func(f *fixture) *httptest.ResponseRecorder {
			if err := f.keys.Remove(f.key.ConsumerKey); err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest("GET", target, nil)
			creds(f.key).Sign(r, f.now, "n")
			return serve(f.h, r)
		}, 401, oauth1.ProblemConsumerKeyUnknown},
		{"token of another key", func(f *fixture) *httptest.ResponseRecorder {
			c := creds(f.key)
			c.Token, c.TokenSecret = f.otherKey.AccessToken, f.otherKey.TokenSecret
			r := httptest.NewRequest("GET", target, nil)
			c.Sign(r, f.now, "n")
			return serve(f.h, r)
		}, 401, oauth1.ProblemTokenRejected},
		{"signed for https, behind a proxy that says so", func(f *fixture) *httptest.ResponseRecorder {
			r := httptest.NewRequest("GET", strings.Replace(target, "http:", "https:", 1), nil)
			creds(f.key).Sign(r, f.now, "n")
			r.TLS = nil
			r.Header.Set("X-Forwarded-Proto", "https")
			return serve(f.h, r)
		}, 200, ""},
		{"signed for https, behind a proxy that does not say so", func(f *fixture) *httptest.ResponseRecorder {
			r := httptest.NewRequest("GET", strings.Replace(target, "http:", "https:", 1), nil)
			creds(f.key).Sign(r, f.now, "n")
			r.TLS = nil
			return serve(f.h, r)
		}, 200, ""},
		{"signed for the public host, forwarded to another", func(f *fixture) *httptest.ResponseRecorder {
			r := httptest.NewRequest("GET", target, nil)
			creds(f.key).Sign(r, f.now, "n")
			r.Host = "10.0.0.7:8080"
			r.Header.Set("X-Forwarded-Host", "da.example.com")
			return serve(f.h, r)
		}, 200, ""},
		{"HMAC-SHA256 is accepted", func(f *fixture) *httptest.ResponseRecorder {
			c := creds(f.key)
			c.Method = oauth1.HMACSHA256
			r := httptest.NewRequest("GET", target, nil)
			c.Sign(r, f.now, "n")
			return serve(f.h, r)
		}, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Config{})
			w := tt.send(f)
			if w.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.wantStatus, w.Body)
			}
			if tt.wantStatus != 401 {
				return
			}
			var fl Failure
			json.Unmarshal(w.Body.Bytes(), &fl)
			if fl.Error.Code != tt.wantProblem {
				t.Errorf("code %q, want %q: %s", fl.Error.Code, tt.wantProblem, w.Body)
			}
			if got := w.Header().Get("WWW-Authenticate"); !strings.HasPrefix(got, `OAuth realm="`) || !strings.HasSuffix(got, `", oauth_problem="`+tt.wantProblem+`"`) {
				t.Errorf("WWW-Authenticate %q, want a realm and oauth_problem=%q", got, tt.wantProblem)
			}
		})
	}
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// TestDghubbleAgainstHandler lists and downloads through a real server
// with requests signed by an independent OAuth library.
func TestDghubbleAgainstHandler(t *testing.T) {
	keys, err := OpenKeys(nil, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	key, err := keys.Add(specAccount)
	if err != nil {
		t.Fatal(err)
	}
	files := &memFiles{}
	content := bytes.Repeat([]byte("web session "), 1000)
	files.put(specAccount, specFile1, content, fileMod)
	srv := httptest.NewServer(NewHandler(Config{Location: edt}, keys, files))
	defer srv.Close()
	for _, signer := range []dghubble.Signer{
		&dghubble.HMACSigner{ConsumerSecret: key.ConsumerSecret},
		&dghubble.HMAC256Signer{ConsumerSecret: key.ConsumerSecret},
	} {
		cfg := &dghubble.Config{ConsumerKey: key.ConsumerKey, ConsumerSecret: key.ConsumerSecret, Signer: signer}
		client := cfg.Client(context.Background(), dghubble.NewToken(key.AccessToken, key.TokenSecret))
		t.Run(signer.Name(), func(t *testing.T) {
			resp, err := client.Get(srv.URL + "/data_access_le/account/75555851/le/webSession?startTime=1464778800000&endTime=1464782400000")
			if err != nil {
				t.Fatal(err)
			}
			var l Listing
			err = json.NewDecoder(resp.Body).Decode(&l)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 || len(l.DataAccessFiles.File) != 1 {
				t.Fatalf("status %d, %+v, %v", resp.StatusCode, l, err)
			}
			lf := l.DataAccessFiles.File[0]
			if lf.Href != srv.URL+"/data_access_le/account/75555851/le/webSession/"+specFile1 || lf.ScopeStartDate != "2016-06-01T07:00:00-04:00" {
				t.Errorf("listed %+v", lf)
			}
			req, _ := http.NewRequest("GET", lf.Href, nil)
			req.Header.Set("Range", "bytes=100-")
			resp, err = client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 206 || !bytes.Equal(body, content[100:]) {
				t.Errorf("range: status %d, %d bytes", resp.StatusCode, len(body))
			}
			resp, err = client.Get(srv.URL + "/data_access_le/account/other/le")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 403 {
				t.Errorf("other account: status %d", resp.StatusCode)
			}
		})
	}
}

func TestFilesError(t *testing.T) {
	keys, _ := OpenKeys(nil, t.TempDir())
	key, _ := keys.Add(specAccount)
	h := NewHandler(Config{}, keys, failingFiles{})
	for _, target := range []string{"/data_access_le/account/75555851/le/webSession?startTime=0&endTime=1", "/data_access_le/account/75555851/le/webSession/" + specFile1} {
		r := httptest.NewRequest("GET", target, nil)
		creds(key).Sign(r, time.Now(), "")
		w := serve(h, r)
		if w.Code != 500 || strings.Contains(w.Body.String(), "disk on fire") {
			t.Errorf("%s: status %d, body %s; want 500 without details", target, w.Code, w.Body)
		}
	}
}

type failingFiles struct{}

func (failingFiles) List(context.Context, string) ([]FileInfo, error) {
	return nil, errors.New("disk on fire")
}

func (failingFiles) Open(context.Context, string, string) (io.ReadSeekCloser, FileInfo, error) {
	return nil, FileInfo{}, errors.New("disk on fire")
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		cfg Config
		ok  bool
	}{
		{Config{}, true},
		{Config{PublicURL: "https://da.example.com"}, true},
		{Config{PublicURL: "http://localhost:8080/prefix/"}, true},
		{Config{PublicURL: "da.example.com"}, false},
		{Config{PublicURL: "ftp://da.example.com"}, false},
		{Config{PublicURL: "https://da.example.com?x=1"}, false},
		{Config{Retention: -time.Hour}, false},
		{Config{MaxNonces: -1}, false},
	}
	for _, tt := range tests {
		if err := tt.cfg.Validate(); (err == nil) != tt.ok {
			t.Errorf("Validate(%+v) = %v", tt.cfg, err)
		}
	}
}

// TestPublicURLPrefix checks the links of a server published under a path.
func TestPublicURLPrefix(t *testing.T) {
	f := newFixture(t, Config{PublicURL: "https://example.com/sightline/"})
	w := f.do(t, "GET", "/data_access_le/account/75555851/le", f.key, nil)
	if !strings.Contains(w.Body.String(), `"https://example.com/sightline/data_access_le/account/75555851/le/webSession"`) {
		t.Errorf("links: %s", w.Body)
	}
}

// slowFiles serves one file whose reads take a while, like a slow disk.
type slowFiles struct {
	memFiles
	delay time.Duration
}

type slowReader struct {
	io.ReadSeekCloser
	delay time.Duration
}

func (s slowReader) Read(p []byte) (int, error) {
	time.Sleep(s.delay)
	return s.ReadSeekCloser.Read(p[:min(len(p), 4096)])
}

func (s *slowFiles) Open(ctx context.Context, account, name string) (io.ReadSeekCloser, FileInfo, error) {
	f, info, err := s.memFiles.Open(ctx, account, name)
	if err != nil {
		return nil, info, err
	}
	return slowReader{f, s.delay}, info, nil
}

// TestDownloadOutlastsWriteTimeout serves a file for longer than the
// server's write timeout: the download completes.
func TestDownloadOutlastsWriteTimeout(t *testing.T) {
	keys, _ := OpenKeys(nil, t.TempDir())
	key, _ := keys.Add(specAccount)
	files := &slowFiles{delay: 20 * time.Millisecond}
	content := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 16 reads of 4 KiB: 320 ms
	files.put(specAccount, specFile1, content, fileMod)
	srv := httptest.NewUnstartedServer(NewHandler(Config{}, keys, files))
	srv.Config.WriteTimeout = 100 * time.Millisecond
	srv.Start()
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/data_access_le/account/75555851/le/webSession/"+specFile1, nil)
	if err := creds(key).Sign(req, time.Now(), ""); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil || !bytes.Equal(got, content) {
		t.Errorf("got %d of %d bytes: %v", len(got), len(content), err)
	}
}

package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/dataaccess"
	"github.com/sightline/sightline/internal/filestore"
	"github.com/sightline/sightline/internal/hourfiles"
	"github.com/sightline/sightline/internal/websession"
)

// pullAPI is a Data Access API server over a temporary file store, with
// the requests it received and faults to inject.
type pullAPI struct {
	srv   *httptest.Server
	store *filestore.Dir
	data  string
	creds map[string]string // the account's key, as `keys add` printed it

	mu       sync.Mutex
	requests []*http.Request
	cutAfter map[string]int // file name → bytes sent before the connection drops, once
}

const pullAccount = "75555851"

func newPullAPI(t *testing.T) *pullAPI {
	t.Helper()
	a := &pullAPI{data: t.TempDir(), cutAfter: map[string]int{}}
	addAccount(t, a.data, pullAccount)
	addAccount(t, a.data, "other")
	out, _, err := runInProcess(t, "keys", "add", "--account", pullAccount, "--data", a.data)
	if err != nil {
		t.Fatal(err)
	}
	a.creds = parseKeyOutput(t, out)
	keys, err := dataaccess.OpenKeys(nil, dataaccess.KeysDir(a.data))
	if err != nil {
		t.Fatal(err)
	}
	if a.store, err = filestore.NewDir(filepath.Join(a.data, "files")); err != nil {
		t.Fatal(err)
	}
	h := dataaccess.NewHandler(dataaccess.Config{}, keys, a.store)
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.requests = append(a.requests, r.Clone(context.Background()))
		name := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
		n, cut := a.cutAfter[name]
		delete(a.cutAfter, name)
		a.mu.Unlock()
		if cut {
			w = &cuttingWriter{ResponseWriter: w, left: n}
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(a.srv.Close)
	return a
}

// cuttingWriter drops the connection after left bytes of the body.
type cuttingWriter struct {
	http.ResponseWriter
	left int
}

func (c *cuttingWriter) Write(p []byte) (int, error) {
	if len(p) > c.left {
		c.ResponseWriter.Write(p[:c.left])
		c.ResponseWriter.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}
	c.left -= len(p)
	return c.ResponseWriter.Write(p)
}

func (a *pullAPI) put(t *testing.T, name string, content []byte) {
	t.Helper()
	err := a.store.Put(context.Background(), pullAccount, name, func(w io.Writer) error {
		_, err := w.Write(content)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// listings returns the startTime and endTime of the listings received
// since the last call.
func (a *pullAPI) listings() [][2]int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out [][2]int64
	for _, r := range a.requests {
		if strings.HasSuffix(r.URL.Path, "/webSession") {
			s, _ := strconv.ParseInt(r.URL.Query().Get("startTime"), 10, 64)
			e, _ := strconv.ParseInt(r.URL.Query().Get("endTime"), 10, 64)
			out = append(out, [2]int64{s, e})
		}
	}
	a.requests = nil
	return out
}

// ranges returns the Range headers of the file requests received.
func (a *pullAPI) ranges() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, r := range a.requests {
		if !strings.HasSuffix(r.URL.Path, "/webSession") {
			out = append(out, r.Header.Get("Range"))
		}
	}
	return out
}

// pull runs `sightline pull` with the API's credentials in flags.
func (a *pullAPI) pull(t *testing.T, dir string, extra ...string) (string, string, error) {
	t.Helper()
	args := []string{"pull", "--account", pullAccount, "--url", a.srv.URL, "--dir", dir,
		"--key", a.creds[envConsumerKey], "--secret", a.creds[envConsumerSecret],
		"--token", a.creds[envToken], "--token-secret", a.creds[envTokenSecret]}
	return runInProcess(t, append(args, extra...)...)
}

// gzLines returns a gzip stream of n JSON lines.
func gzLines(t *testing.T, n int, tag string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	for i := range n {
		fmt.Fprintf(zw, `{"visit":"%s-%d","pad":"%s"}`+"\n", tag, i, strings.Repeat("x", i%300))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// hourFile names generation gen of the hour starting h hours after start.
func hourFile(start time.Time, h, gen int) string {
	s := start.Add(time.Duration(h) * time.Hour)
	return websession.FileName{ScopeStart: s, ScopeEnd: s.Add(time.Hour), Generation: gen}.String()
}

func pulled(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func readState(t *testing.T, dir string) pullState {
	t.Helper()
	var st pullState
	b, err := os.ReadFile(filepath.Join(dir, pullStateFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestPull(t *testing.T) {
	a := newPullAPI(t)
	start := time.Now().Truncate(time.Hour).Add(-10 * time.Hour)
	contents := map[string][]byte{}
	for h := range 4 {
		name := hourFile(start, h, 0)
		contents[name] = gzLines(t, 200*(h+1), name)
		a.put(t, name, contents[name])
	}
	dir := filepath.Join(t.TempDir(), "pulled")

	// 1. From --since: every file, complete, in order.
	out, errOut, err := a.pull(t, dir, "--since", start.Format(time.RFC3339))
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	if !strings.HasPrefix(out, "pulled 4 files, ") || !strings.Contains(out, "0 already there") {
		t.Errorf("summary %q", out)
	}
	for i, name := range []string{hourFile(start, 0, 0), hourFile(start, 3, 0)} {
		if !strings.Contains(errOut, fmt.Sprintf("[%d/4] %s", []int{1, 4}[i], name)) {
			t.Errorf("progress %q lacks %s", errOut, name)
		}
	}
	for name, want := range contents {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes, %v; want %d bytes", name, len(got), err, len(want))
		}
	}
	if st := readState(t, dir); st.Position != start.Add(3*time.Hour).UnixMilli() || st.Account != pullAccount || st.Partial != nil {
		t.Errorf("state %+v", st)
	}
	if got := a.listings(); len(got) != 1 || got[0][0] != start.UnixMilli() {
		t.Errorf("listings %v, want one from %d", got, start.UnixMilli())
	}

	// 2. Again: nothing new, listed from the position.
	out, _, err = a.pull(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "pulled 0 files") {
		t.Errorf("summary %q", out)
	}
	if got := a.listings(); len(got) != 1 || got[0][0] != start.Add(3*time.Hour).UnixMilli() {
		t.Errorf("listings %v, want one from the position", got)
	}

	// 3. A new generation of the position's hour, committed as a rebuild
	// does, and a new hour.
	gen, err := hourfiles.Begin(context.Background(), a.store, pullAccount, start.Add(3*time.Hour), start.Add(4*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	err = gen.PutPart(context.Background(), 0, func(w io.Writer) error {
		_, err := w.Write(gzLines(t, 10, hourFile(start, 3, 1)))
		return err
	})
	if err != nil || gen.Number() != 1 {
		t.Fatalf("generation %d: %v", gen.Number(), err)
	}
	if err := gen.Commit(context.Background(), 10); err != nil {
		t.Fatal(err)
	}
	a.put(t, hourFile(start, 4, 0), gzLines(t, 10, hourFile(start, 4, 0)))
	out, _, err = a.pull(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "pulled 2 files") {
		t.Errorf("summary %q", out)
	}
	want := []string{pullStateFile, hourFile(start, 0, 0), hourFile(start, 1, 0), hourFile(start, 2, 0), hourFile(start, 3, 0), hourFile(start, 3, 1), hourFile(start, 4, 0)}
	slices.Sort(want)
	if got := pulled(t, dir); !slices.Equal(got, want) {
		t.Errorf("directory\n got %v\nwant %v", got, want)
	}

	// 4. A file processed and deleted is not pulled again.
	os.Remove(filepath.Join(dir, hourFile(start, 4, 0)))
	out, _, _ = a.pull(t, dir)
	if !strings.HasPrefix(out, "pulled 0 files") || !strings.Contains(out, "1 already there") {
		t.Errorf("summary %q", out)
	}
	if slices.Contains(pulled(t, dir), hourFile(start, 4, 0)) {
		t.Error("a deleted file was pulled again")
	}

	// 5. A file already in the directory, as a crash after its rename
	// leaves it, is not downloaded but moves the position.
	name := hourFile(start, 5, 0)
	a.put(t, name, gzLines(t, 3, name))
	os.WriteFile(filepath.Join(dir, name), gzLines(t, 3, name), 0o644)
	out, _, _ = a.pull(t, dir)
	if !strings.HasPrefix(out, "pulled 0 files") || !strings.Contains(out, "2 already there") {
		t.Errorf("summary %q", out)
	}
	if st := readState(t, dir); st.Position != start.Add(5*time.Hour).UnixMilli() {
		t.Errorf("position %d, want hour 5", st.Position)
	}
}

// TestPullResume interrupts a download and checks that the next run
// resumes it with a Range request, or starts over when the file changed.
func TestPullResume(t *testing.T) {
	for _, changed := range []bool{false, true} {
		t.Run(fmt.Sprintf("changed=%v", changed), func(t *testing.T) {
			a := newPullAPI(t)
			start := time.Now().Truncate(time.Hour).Add(-3 * time.Hour)
			first, second := hourFile(start, 0, 0), hourFile(start, 1, 0)
			a.put(t, first, gzLines(t, 50, "first"))
			content := gzLines(t, 5000, "second")
			a.put(t, second, content)
			a.cutAfter[second] = 10_000
			dir := t.TempDir()
			_, _, err := a.pull(t, dir, "--since", strconv.FormatInt(start.UnixMilli(), 10))
			if err == nil || !strings.Contains(err.Error(), "interrupted after") {
				t.Fatalf("error %v, want an interruption", err)
			}
			if got := pulled(t, dir); !slices.Contains(got, first) || slices.Contains(got, second) || !slices.Contains(got, "."+second+".part") {
				t.Fatalf("after the interruption: %v", got)
			}
			if st := readState(t, dir); st.Partial == nil || st.Partial.Name != second || st.Position != start.UnixMilli() {
				t.Fatalf("state %+v", st)
			}
			if changed {
				time.Sleep(10 * time.Millisecond) // a new modification time, so a new ETag
				content = gzLines(t, 4000, "second, rebuilt")
				a.put(t, second, content)
			}
			out, _, err := a.pull(t, dir)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(out, "pulled 1 files") {
				t.Errorf("summary %q", out)
			}
			got, _ := os.ReadFile(filepath.Join(dir, second))
			if !bytes.Equal(got, content) {
				t.Errorf("resumed file: %d bytes, want %d", len(got), len(content))
			}
			if r := a.ranges(); r[len(r)-1] != "bytes=10000-" {
				t.Errorf("Range headers %q, want the last to be bytes=10000-", r)
			}
			if slices.Contains(pulled(t, dir), "."+second+".part") {
				t.Error("partial file left behind")
			}
		})
	}
}

func TestPullCorruptFile(t *testing.T) {
	good := gzLines(t, 100, "good")
	var notJSON bytes.Buffer
	zw := gzip.NewWriter(&notJSON)
	zw.Write([]byte("{\"a\":1}\nnot json\n"))
	zw.Close()
	tests := []struct {
		name    string
		content []byte
	}{
		{"not gzip", []byte("hello")},
		{"truncated gzip", good[:len(good)-10]},
		{"bad checksum", append(append([]byte{}, good[:len(good)-8]...), 0, 0, 0, 0, 0, 0, 0, 0)},
		{"a line that is not JSON", notJSON.Bytes()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newPullAPI(t)
			start := time.Now().Truncate(time.Hour).Add(-3 * time.Hour)
			a.put(t, hourFile(start, 0, 0), good)
			a.put(t, hourFile(start, 1, 0), tt.content)
			dir := t.TempDir()
			_, _, err := a.pull(t, dir)
			if err == nil || !strings.Contains(err.Error(), "not a complete gzip stream of JSON lines") {
				t.Fatalf("error %v", err)
			}
			want := []string{pullStateFile, hourFile(start, 0, 0)}
			slices.Sort(want)
			if got := pulled(t, dir); !slices.Equal(got, want) {
				t.Errorf("directory %v, want %v", got, want)
			}
			if st := readState(t, dir); st.Position != start.UnixMilli() {
				t.Errorf("position %d, want %d", st.Position, start.UnixMilli())
			}
		})
	}
}

// TestPullWindows pulls from long ago: the listings cover the time since
// then without gaps or overlaps, none longer than the window.
func TestPullWindows(t *testing.T) {
	a := newPullAPI(t)
	since := time.Now().Add(-70 * 24 * time.Hour).Truncate(time.Hour)
	a.put(t, hourFile(since, 0, 0), gzLines(t, 1, "old"))
	a.put(t, hourFile(since, 24*45, 0), gzLines(t, 1, "middle"))
	dir := t.TempDir()
	out, _, err := a.pull(t, dir, "--since", since.Format(time.RFC3339))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "pulled 2 files") {
		t.Errorf("summary %q", out)
	}
	got := a.listings()
	if len(got) != 3 || got[0][0] != since.UnixMilli() {
		t.Fatalf("listings %v, want 3 from %d", got, since.UnixMilli())
	}
	for i, l := range got {
		if l[1]-l[0] > dataaccess.DefaultRetention.Milliseconds() {
			t.Errorf("listing %d spans %d ms", i, l[1]-l[0])
		}
		if i > 0 && l[0] != got[i-1][1]+1 {
			t.Errorf("listing %d starts at %d, the one before ended at %d", i, l[0], got[i-1][1])
		}
	}
	// A window longer than the server's retention is refused by the server.
	_, _, err = a.pull(t, t.TempDir(), "--window", "1000h", "--since", since.Format(time.RFC3339))
	if err == nil || !strings.Contains(err.Error(), "longer than the retention") {
		t.Errorf("error %v", err)
	}
}

func TestPullCredentials(t *testing.T) {
	a := newPullAPI(t)
	out, _, err := runInProcess(t, "keys", "add", "--account", "other", "--data", a.data)
	if err != nil {
		t.Fatal(err)
	}
	other := parseKeyOutput(t, out)
	base := []string{"pull", "--account", pullAccount, "--url", a.srv.URL}
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		wantErr string
	}{
		{name: "from the environment", env: a.creds},
		{name: "flags override the environment", env: map[string]string{envConsumerKey: "wrong", envConsumerSecret: "wrong", envToken: "wrong", envTokenSecret: "wrong"},
			args: []string{"--key", a.creds[envConsumerKey], "--secret", a.creds[envConsumerSecret], "--token", a.creds[envToken], "--token-secret", a.creds[envTokenSecret]}},
		{name: "HMAC-SHA256", env: a.creds, args: []string{"--signature-method", "HMAC-SHA256"}},
		{name: "wrong secret", env: a.creds, args: []string{"--secret", "wrong"}, wantErr: "401 Unauthorized: signature_invalid"},
		{name: "unknown key", env: a.creds, args: []string{"--key", "nope"}, wantErr: "consumer_key_unknown"},
		{name: "another account's key", env: other, wantErr: "403 Forbidden"},
		{name: "no credentials", wantErr: "missing --key or $SIGHTLINE_OAUTH_CONSUMER_KEY, --secret or $SIGHTLINE_OAUTH_CONSUMER_SECRET"},
		{name: "PLAINTEXT", env: a.creds, args: []string{"--signature-method", "PLAINTEXT"}, wantErr: "want HMAC-SHA1 or HMAC-SHA256"},
		{name: "bad --since", env: a.creds, args: []string{"--since", "yesterday"}, wantErr: "neither RFC 3339"},
		{name: "bad --url", env: a.creds, args: []string{"--url", "ftp://x"}, wantErr: "--url"},
		{name: "bad --account", env: a.creds, args: []string{"--account", "a/b"}, wantErr: "not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, name := range []string{envConsumerKey, envConsumerSecret, envToken, envTokenSecret} {
				t.Setenv(name, tt.env[name])
			}
			args := append(append(slices.Clone(base), "--dir", t.TempDir()), tt.args...)
			_, errOut, err := runInProcess(t, args...)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("%v\n%s", err, errOut)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %v, want one with %q", err, tt.wantErr)
			}
		})
	}
}

func TestPullOtherAccountsDir(t *testing.T) {
	a := newPullAPI(t)
	dir := t.TempDir()
	if err := writePullState(dir, pullState{Account: "other", Position: 1}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.pull(t, dir); err == nil || !strings.Contains(err.Error(), "holds the files of account other") {
		t.Errorf("error %v", err)
	}
}

func TestParsePullSince(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1464778800000", 1464778800000, true},
		{"0", 0, true},
		{"2016-06-01T07:00:00-04:00", 1464778800000, true},
		{"2016-06-01T11:00:00Z", 1464778800000, true},
		{"2016-06-01T11:00:00.5Z", 1464778800500, true},
		{"2016-06-01", 0, false},
		{"-5", 0, false},
		{"1969-12-31T23:59:59Z", 0, false},
		{"99999999999999999999", 0, false},
	}
	for _, tt := range tests {
		got, err := parseSince(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseSince(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

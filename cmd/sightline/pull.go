package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/atomicfile"
	"github.com/sightline/sightline/internal/dataaccess"
	"github.com/sightline/sightline/internal/dataaccess/oauth1"
	"github.com/sightline/sightline/internal/websession"
)

// pullStateFile keeps a pull directory's position.
const pullStateFile = ".sightline-pull.json"

// pullState is what `sightline pull` remembers in its directory, written
// atomically after each file.
type pullState struct {
	Account string `json:"account"`
	// Position is the scope start (epoch ms) of the newest file pulled: the
	// next listing starts there, so that parts and generations of that
	// hour published later are pulled too.
	Position int64 `json:"position"`
	// Done lists the files pulled whose scope starts at Position.
	Done []string `json:"done"`
	// Partial is the file being downloaded into .<name>.part, with the ETag
	// of its version, to resume with a Range request.
	Partial *partialFile `json:"partial,omitempty"`
}

type partialFile struct {
	Name string `json:"name"`
	ETag string `json:"etag"`
}

type pullConfig struct {
	account string
	base    *url.URL // the API's scheme, host and optional path prefix
	dir     string
	since   int64 // epoch ms; -1 without --since
	window  time.Duration
	client  *http.Client
	now     func() time.Time
	stderr  io.Writer
}

// runPull downloads the web-session files published since the last run
// into a directory. Credentials come from flags or from the environment
// variables SIGHTLINE_OAUTH_CONSUMER_KEY, SIGHTLINE_OAUTH_CONSUMER_SECRET,
// SIGHTLINE_OAUTH_TOKEN and SIGHTLINE_OAUTH_TOKEN_SECRET (preferred: flags
// show in the process list).
func runPull(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("pull", stderr)
	acct := fs.String("account", "", "account whose files to pull (required)")
	base := fs.String("url", "", "Data Access API server, scheme://host[:port][/prefix] (required)")
	dir := fs.String("dir", "", "directory the files go to; it also keeps the position, "+pullStateFile+" (required)")
	since := fs.String("since", "", "pull files whose hour starts at or after this time, RFC 3339 or epoch ms (default: from the last position, or the last --window)")
	window := fs.Duration("window", dataaccess.DefaultRetention, "longest time range of one listing request: at most the server's retention")
	key := fs.String("key", "", "consumer key (env "+envConsumerKey+")")
	secret := fs.String("secret", "", "consumer secret (env "+envConsumerSecret+")")
	token := fs.String("token", "", "access token (env "+envToken+")")
	tokenSecret := fs.String("token-secret", "", "token secret (env "+envTokenSecret+")")
	method := fs.String("signature-method", oauth1.HMACSHA1, "HMAC-SHA1 or HMAC-SHA256")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("pull: unexpected argument %q", pos[0])
	}
	creds := oauth1.Credentials{
		ConsumerKey:    flagOrEnv(fs, "key", *key, envConsumerKey),
		ConsumerSecret: flagOrEnv(fs, "secret", *secret, envConsumerSecret),
		Token:          flagOrEnv(fs, "token", *token, envToken),
		TokenSecret:    flagOrEnv(fs, "token-secret", *tokenSecret, envTokenSecret),
		Method:         *method,
	}
	var missing []string
	for _, m := range []struct{ flag, value string }{
		{"--account", *acct}, {"--url", *base}, {"--dir", *dir},
		{"--key or $" + envConsumerKey, creds.ConsumerKey}, {"--secret or $" + envConsumerSecret, creds.ConsumerSecret},
		{"--token or $" + envToken, creds.Token}, {"--token-secret or $" + envTokenSecret, creds.TokenSecret},
	} {
		if m.value == "" {
			missing = append(missing, m.flag)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("pull: missing %s", strings.Join(missing, ", "))
	}
	if err := account.ValidateID(*acct); err != nil {
		return fmt.Errorf("pull: %w", err)
	}
	if creds.Method != oauth1.HMACSHA1 && creds.Method != oauth1.HMACSHA256 {
		return fmt.Errorf("pull: --signature-method %q: want HMAC-SHA1 or HMAC-SHA256", creds.Method)
	}
	u, err := url.Parse(strings.TrimSuffix(*base, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return fmt.Errorf("pull: --url %q: want scheme://host[:port][/prefix]", *base)
	}
	if *window < time.Hour {
		return fmt.Errorf("pull: --window %s: want at least 1h", *window)
	}
	cfg := pullConfig{account: *acct, base: u, dir: *dir, since: -1, window: *window, now: time.Now, stderr: stderr}
	if *since != "" {
		if cfg.since, err = parseSince(*since); err != nil {
			return fmt.Errorf("pull: --since: %w", err)
		}
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.ResponseHeaderTimeout = time.Minute
	cfg.client = &http.Client{Transport: &oauth1.Transport{Credentials: creds, Base: transport}}
	return pull(ctx, cfg, stdout)
}

// flagOrEnv returns the flag's value if it was set, else the variable's.
func flagOrEnv(fs *flag.FlagSet, name, value, env string) string {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	if set {
		return value
	}
	return os.Getenv(env)
}

// parseSince reads an RFC 3339 time or epoch milliseconds.
func parseSince(s string) (int64, error) {
	if strings.Trim(s, "0123456789") == "" {
		ms, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q: %w", s, err)
		}
		return ms, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, fmt.Errorf("%q is neither RFC 3339 (2016-06-01T07:00:00-04:00) nor epoch milliseconds", s)
	}
	if t.UnixMilli() < 0 {
		return 0, fmt.Errorf("%q is before 1970", s)
	}
	return t.UnixMilli(), nil
}

// pullStats counts a run's work.
type pullStats struct {
	files, skipped int
	bytes          int64
	start          time.Time
}

func pull(ctx context.Context, cfg pullConfig, stdout io.Writer) error {
	if err := os.MkdirAll(cfg.dir, 0o755); err != nil {
		return fmt.Errorf("pull: %w", err)
	}
	st, err := readPullState(cfg.dir)
	if err != nil {
		return err
	}
	if st.Account != "" && st.Account != cfg.account {
		return fmt.Errorf("pull: %s holds the files of account %s, not %s: use another --dir", cfg.dir, st.Account, cfg.account)
	}
	st.Account = cfg.account
	now := cfg.now().UnixMilli()
	from := st.Position
	switch {
	case cfg.since >= 0:
		from = cfg.since
	case st.Position == 0 && len(st.Done) == 0:
		from = max(0, now-cfg.window.Milliseconds())
	}

	// List every window first, so that progress can show a total.
	var todo []dataaccess.ListedFile
	for lo := from; lo <= now; {
		hi := min(lo+cfg.window.Milliseconds(), now)
		files, err := listFiles(ctx, cfg, lo, hi)
		if err != nil {
			return err
		}
		todo = append(todo, files...)
		if hi == now {
			break
		}
		lo = hi + 1
	}

	stats := pullStats{start: time.Now()}
	for i, lf := range todo {
		f, err := websession.ParseFileName(lf.Name)
		if err != nil {
			return fmt.Errorf("pull: the listing names a file %q: %w", lf.Name, err)
		}
		scope := f.ScopeStart.UnixMilli()
		if scope == st.Position && slices.Contains(st.Done, lf.Name) {
			stats.skipped++
			continue
		}
		// A file in the directory is complete: it was renamed there once
		// checked (a crash may have come before the position was saved).
		if _, err := os.Stat(filepath.Join(cfg.dir, lf.Name)); err == nil {
			stats.skipped++
			st.advance(scope, lf.Name)
			continue
		}
		began := time.Now()
		n, err := download(ctx, cfg, &st, lf.Name)
		stats.bytes += n
		if err != nil {
			return fmt.Errorf("pull: %s: %w", lf.Name, err)
		}
		stats.files++
		st.advance(scope, lf.Name)
		st.Partial = nil
		if err := writePullState(cfg.dir, st); err != nil {
			return err
		}
		fmt.Fprintf(cfg.stderr, "[%d/%d] %s  %s  %s/s  (%s in all)\n",
			i+1, len(todo), lf.Name, sizeText(n), sizeText(rate(n, time.Since(began))), sizeText(stats.bytes))
	}
	if err := writePullState(cfg.dir, st); err != nil {
		return err
	}
	removeStaleParts(cfg.dir, st)
	elapsed := time.Since(stats.start)
	fmt.Fprintf(stdout, "pulled %d files, %s in %s (%s/s); %d already there; position %s\n",
		stats.files, sizeText(stats.bytes), elapsed.Round(time.Millisecond), sizeText(rate(stats.bytes, elapsed)), stats.skipped, positionText(st.Position))
	return nil
}

// advance records a file pulled (or found in the directory) whose scope
// starts at scope; the position never goes back.
func (st *pullState) advance(scope int64, name string) {
	switch {
	case scope > st.Position:
		st.Position, st.Done = scope, []string{name}
	case scope == st.Position && !slices.Contains(st.Done, name):
		st.Done = append(st.Done, name)
	}
}

// removeStaleParts removes the partial downloads of files other than the
// one the state means to resume.
func removeStaleParts(dir string, st pullState) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") && strings.HasSuffix(name, ".part") &&
			(st.Partial == nil || name != "."+st.Partial.Name+".part") {
			os.Remove(filepath.Join(dir, name))
		}
	}
}

func positionText(ms int64) string {
	if ms == 0 {
		return "none"
	}
	return time.UnixMilli(ms).UTC().Format(time.RFC3339)
}

// apiURL returns the URL of an API path under the base.
func (c pullConfig) apiURL(path string) string {
	return c.base.String() + "/data_access_le/account/" + url.PathEscape(c.account) + "/le" + path
}

// listFiles lists the files whose scope starts in [from, to].
func listFiles(ctx context.Context, cfg pullConfig, from, to int64) ([]dataaccess.ListedFile, error) {
	u := cfg.apiURL("/webSession") + "?startTime=" + strconv.FormatInt(from, 10) + "&endTime=" + strconv.FormatInt(to, 10)
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := cfg.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("pull: cannot list files: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("pull: cannot list files from %s to %s: %w", positionText(from), positionText(to), answerError(resp))
	}
	var l dataaccess.Listing
	if err := json.NewDecoder(resp.Body).Decode(&l); err != nil {
		return nil, fmt.Errorf("pull: cannot read the listing: %w", err)
	}
	return l.DataAccessFiles.File, nil
}

// answerError describes an error answer of the API.
func answerError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var f dataaccess.Failure
	if json.Unmarshal(b, &f) == nil && f.Error.Message != "" {
		return fmt.Errorf("%s: %s: %s", resp.Status, f.Error.Code, f.Error.Message)
	}
	return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(b)))
}

// download fetches one file into .<name>.part, resuming a partial one of
// the same version, checks it and renames it into place. It returns the
// bytes received.
func download(ctx context.Context, cfg pullConfig, st *pullState, name string) (int64, error) {
	part := filepath.Join(cfg.dir, "."+name+".part")
	var have int64
	var etag string
	if st.Partial != nil && st.Partial.Name == name && st.Partial.ETag != "" {
		if fi, err := os.Stat(part); err == nil {
			have, etag = fi.Size(), st.Partial.ETag
		}
	}
	req, err := http.NewRequestWithContext(ctx, "GET", cfg.apiURL("/webSession/"+name), nil)
	if err != nil {
		return 0, err
	}
	if have > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", have))
		req.Header.Set("If-Range", etag)
	}
	resp, err := cfg.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	flags := os.O_WRONLY | os.O_CREATE
	switch resp.StatusCode {
	case http.StatusPartialContent:
		if !strings.HasPrefix(resp.Header.Get("Content-Range"), fmt.Sprintf("bytes %d-", have)) {
			return 0, fmt.Errorf("asked for bytes %d-, got %q", have, resp.Header.Get("Content-Range"))
		}
		flags |= os.O_APPEND
	case http.StatusOK:
		flags |= os.O_TRUNC
		have = 0
	case http.StatusRequestedRangeNotSatisfiable:
		// The part holds the whole file: a crash came before the rename.
		if resp.Header.Get("Content-Range") != fmt.Sprintf("bytes */%d", have) {
			os.Remove(part)
			return 0, fmt.Errorf("resuming at byte %d: %s; starting over next time", have, resp.Status)
		}
		return 0, finish(part, filepath.Join(cfg.dir, name))
	default:
		return 0, answerError(resp)
	}
	st.Partial = &partialFile{Name: name, ETag: resp.Header.Get("ETag")}
	if err := writePullState(cfg.dir, *st); err != nil {
		return 0, err
	}
	f, err := os.OpenFile(part, flags, 0o644)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(f, resp.Body)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("interrupted after %d of its bytes (the next run resumes): %w", have+n, err)
	}
	return n, finish(part, filepath.Join(cfg.dir, name))
}

// finish checks a downloaded file and renames it into place.
func finish(part, path string) error {
	if err := checkJSONLinesGzip(part); err != nil {
		os.Remove(part)
		return fmt.Errorf("not a complete gzip stream of JSON lines (removed; the next run downloads it again): %w", err)
	}
	if err := os.Rename(part, path); err != nil {
		return err
	}
	return atomicfile.Sync(filepath.Dir(path))
}

// checkJSONLinesGzip checks that path is a complete gzip stream (every
// member's checksum and length) whose content is JSON documents, one per
// line.
func checkJSONLinesGzip(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return websession.ForEachDocument(f, func(line int, doc []byte) error {
		if !json.Valid(doc) {
			return fmt.Errorf("line %d is not a JSON document", line)
		}
		return nil
	})
}

func readPullState(dir string) (pullState, error) {
	var st pullState
	b, err := os.ReadFile(filepath.Join(dir, pullStateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("pull: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("pull: %s: %w", filepath.Join(dir, pullStateFile), err)
	}
	return st, nil
}

func writePullState(dir string, st pullState) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, pullStateFile), append(b, '\n')); err != nil {
		return fmt.Errorf("pull: cannot save the position: %w", err)
	}
	return nil
}

func rate(n int64, d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64(float64(n) / d.Seconds())
}

func sizeText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

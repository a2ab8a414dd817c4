package dataaccess

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/dataaccess/oauth1"
	"github.com/sightline/sightline/internal/filestore"
	"github.com/sightline/sightline/internal/hourfiles"
	"github.com/sightline/sightline/internal/websession"
)

// PathPrefix is where the handler must be mounted, without stripping it:
// mux.Handle(dataaccess.PathPrefix, h).
const PathPrefix = "/data_access_le/"

// DefaultRetention is how long web-session files are kept: the longest
// range a listing may ask for.
const DefaultRetention = 30 * 24 * time.Hour

// NoAvailableFiles is the message of a listing without files.
const NoAvailableFiles = "No Available Files"

// FileInfo describes a stored web-session file: a file store's Info, so
// that a filestore.Dir is Files as it is.
type FileInfo = filestore.Info

// Files is where the web-session files of the accounts are kept
// (filestore.Dir).
type Files interface {
	// List returns the files of account, in any order; none if it has none.
	List(ctx context.Context, account string) ([]FileInfo, error)
	// Open opens one file of account. An unknown name is an error
	// wrapping fs.ErrNotExist.
	Open(ctx context.Context, account, name string) (io.ReadSeekCloser, FileInfo, error)
}

// Config configures the Data Access API. Zero fields take their defaults.
type Config struct {
	// PublicURL is the scheme and host clients reach the API at, e.g.
	// https://da.example.com, for the absolute @href links. If empty, the
	// links use the scheme and host of each request.
	PublicURL string
	// Retention is how long files are kept, the longest range a listing
	// may ask for; DefaultRetention if zero.
	Retention time.Duration
	// Schema returns the Avro schema document of an account's records,
	// served as is; none is served if it is nil or returns nothing.
	Schema func(account string) []byte
	// Location is the time zone of the @scopeStartDate and @scopeEndDate
	// offsets; time.Local if nil.
	Location *time.Location
	// Now is the clock the OAuth timestamps are checked against; time.Now
	// if nil.
	Now func() time.Time
	// Logger logs refused requests (Info) and failures (Error); none if nil.
	Logger *slog.Logger
	// MaxNonces bounds the nonces remembered for the 5-minute timestamp
	// window; oauth1.DefaultMaxNonces if zero.
	MaxNonces int
}

type handler struct {
	cfg    Config
	public *url.URL // nil without PublicURL
	keys   *Keys
	files  Files
	oauth  *oauth1.Verifier
	logger *slog.Logger
	mux    *http.ServeMux
}

// Validate reports a PublicURL that is not an absolute http or https URL
// and a negative Retention or MaxNonces.
func (c Config) Validate() error {
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("data access public URL %q: want scheme://host[:port][/prefix]", c.PublicURL)
		}
	}
	if c.Retention < 0 || c.MaxNonces < 0 {
		return fmt.Errorf("data access: negative retention %s or nonce limit %d", c.Retention, c.MaxNonces)
	}
	return nil
}

// NewHandler returns the Data Access API over files, authenticating every
// request with the OAuth keys of keys. Mount it at PathPrefix without
// stripping the prefix. It panics if cfg does not Validate.
func NewHandler(cfg Config, keys *Keys, files Files) http.Handler {
	if err := cfg.Validate(); err != nil {
		panic("dataaccess: " + err.Error())
	}
	if cfg.Retention <= 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	h := &handler{cfg: cfg, keys: keys, files: files, logger: cfg.Logger.With("component", "dataaccess")}
	if cfg.PublicURL != "" {
		h.public, _ = url.Parse(strings.TrimSuffix(cfg.PublicURL, "/"))
	}
	h.oauth = &oauth1.Verifier{
		Secrets: func(consumerKey string) (string, string, string, bool) {
			k, ok := keys.Get(consumerKey)
			return k.ConsumerSecret, k.AccessToken, k.TokenSecret, ok
		},
		Nonces: oauth1.NewNonceStore(oauth1.DefaultWindow, cfg.MaxNonces),
		Window: oauth1.DefaultWindow,
		Now:    cfg.Now,
		Origin: h.origin,
	}
	const base = "GET " + PathPrefix + "account/{account}/le"
	h.mux = http.NewServeMux()
	h.mux.HandleFunc(base, h.auth(h.serveDataTypes))
	h.mux.HandleFunc(base+"/{$}", h.auth(h.serveDataTypes))
	h.mux.HandleFunc(base+"/webSession", h.auth(h.serveList))
	h.mux.HandleFunc(base+"/webSession/{name}", h.auth(h.serveFile))
	h.mux.HandleFunc(base+"/schema", h.auth(h.serveSchema))
	h.mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, &apiError{http.StatusNotFound, "no such resource: " + r.URL.Path})
	})
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// origin returns the scheme and host the client used, which its signature
// covers: the host from X-Forwarded-Host or the Host header; the scheme
// https over TLS, else the one of X-Forwarded-Proto, else unknown (a
// signature over https or http is accepted). Forwarding headers a client
// sets itself only change what its signature must cover.
func (h *handler) origin(r *http.Request) (scheme, host string) {
	host = r.Host
	if fh, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Host"), ","); strings.TrimSpace(fh) != "" {
		host = strings.TrimSpace(fh)
	}
	fp, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	fp = strings.ToLower(strings.TrimSpace(fp))
	switch {
	case r.TLS != nil:
		scheme = "https"
	case fp == "http" || fp == "https":
		scheme = fp
	}
	return scheme, host
}

// baseURL returns PublicURL, or the scheme and host of r.
func (h *handler) baseURL(r *http.Request) string {
	if h.public != nil {
		return h.public.String()
	}
	scheme, host := h.origin(r)
	if scheme == "" {
		scheme = "http"
	}
	return scheme + "://" + host
}

// accountURL returns the absolute URL of the account's data types.
func (h *handler) accountURL(r *http.Request, account string) string {
	return h.baseURL(r) + PathPrefix + "account/" + url.PathEscape(account) + "/le"
}

// auth verifies the request's signature and that its key is the
// account's before calling next.
func (h *handler) auth(next func(w http.ResponseWriter, r *http.Request, account string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		account := r.PathValue("account")
		res, err := h.oauth.Verify(r)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		key, ok := h.keys.Get(res.ConsumerKey)
		if !ok { // removed since Verify looked it up
			h.fail(w, r, &oauth1.Error{Status: http.StatusUnauthorized, Problem: oauth1.ProblemConsumerKeyUnknown, Message: fmt.Sprintf("unknown consumer key %q", res.ConsumerKey)})
			return
		}
		if key.Account != account {
			h.fail(w, r, &apiError{http.StatusForbidden, fmt.Sprintf("consumer key %s gives no access to account %s", res.ConsumerKey, account)})
			return
		}
		next(w, r, account)
	}
}

// Link is a link of the API's JSON documents.
type Link struct {
	Href string `json:"@href"`
	Rel  string `json:"@rel"`
}

// DataTypes is the answer of .../account/{id}/le: a link to itself and to
// each data type.
type DataTypes struct {
	DataAccessDataTypes struct {
		ID   string `json:"@id"`
		Link []Link `json:"link"`
	} `json:"dataAccessDataTypes"`
}

func (h *handler) serveDataTypes(w http.ResponseWriter, r *http.Request, account string) {
	base := h.accountURL(r, account)
	var d DataTypes
	d.DataAccessDataTypes.ID = account
	d.DataAccessDataTypes.Link = []Link{
		{Href: base, Rel: "self"},
		{Href: base + "/webSession", Rel: "webSession"},
		{Href: base + "/schema", Rel: "schema"},
	}
	writeJSON(w, http.StatusOK, d)
}

// Listing is the answer of .../le/webSession: the spec's dataAccessFiles
// document. Without files, File is empty and Message is NoAvailableFiles.
type Listing struct {
	DataAccessFiles struct {
		ID      string       `json:"@id"`
		Link    Link         `json:"link"`
		File    []ListedFile `json:"file"`
		Message string       `json:"message,omitempty"`
	} `json:"dataAccessFiles"`
}

// ListedFile is one file of a Listing.
type ListedFile struct {
	Name           string `json:"@name"`
	ScopeStartDate string `json:"@scopeStartDate"`
	ScopeEndDate   string `json:"@scopeEndDate"`
	Href           string `json:"@href"`
}

// ScopeDateLayout is the layout of @scopeStartDate and @scopeEndDate:
// ISO 8601 with a numeric offset, also for UTC.
const ScopeDateLayout = "2006-01-02T15:04:05-07:00"

func (h *handler) serveList(w http.ResponseWriter, r *http.Request, account string) {
	start, end, err := parseRange(r.URL.RawQuery, h.cfg.Retention)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	// Of each hour, only the parts of its newest complete generation:
	// older ones stay downloadable for a while, but are not listed.
	infos, err := h.files.List(r.Context(), account)
	if err != nil {
		h.fail(w, r, fmt.Errorf("cannot list the files of account %s: %w", account, err))
		return
	}
	self := h.accountURL(r, account) + "/webSession"
	var l Listing
	l.DataAccessFiles.ID = account
	l.DataAccessFiles.Link = Link{Href: self, Rel: "self"}
	l.DataAccessFiles.File = []ListedFile{}
	for _, f := range inRange(hourfiles.Visible(infos), start, end) {
		name := f.String()
		l.DataAccessFiles.File = append(l.DataAccessFiles.File, ListedFile{
			Name:           name,
			ScopeStartDate: f.ScopeStart.In(h.cfg.Location).Format(ScopeDateLayout),
			ScopeEndDate:   f.ScopeEnd.In(h.cfg.Location).Format(ScopeDateLayout),
			Href:           self + "/" + name,
		})
	}
	if len(l.DataAccessFiles.File) == 0 {
		l.DataAccessFiles.Message = NoAvailableFiles
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, l)
}

// parseRange reads startTime and endTime (epoch milliseconds) from a raw
// query and checks them.
func parseRange(rawQuery string, retention time.Duration) (start, end int64, err error) {
	q, qerr := url.ParseQuery(rawQuery)
	if qerr != nil {
		return 0, 0, &apiError{http.StatusBadRequest, fmt.Sprintf("malformed query: %v", qerr)}
	}
	param := func(name string) (int64, error) {
		vs := q[name]
		switch {
		case len(vs) == 0:
			return 0, &apiError{http.StatusBadRequest, fmt.Sprintf("%s: missing; want epoch milliseconds, e.g. %s=1464778800000", name, name)}
		case len(vs) > 1:
			return 0, &apiError{http.StatusBadRequest, fmt.Sprintf("%s: given %d times; want it once", name, len(vs))}
		}
		n, perr := strconv.ParseInt(vs[0], 10, 64)
		if perr != nil || n < 0 || vs[0][0] == '+' {
			return 0, &apiError{http.StatusBadRequest, fmt.Sprintf("%s %q: not epoch milliseconds (a whole number, 0 or more)", name, vs[0])}
		}
		return n, nil
	}
	if start, err = param("startTime"); err != nil {
		return 0, 0, err
	}
	if end, err = param("endTime"); err != nil {
		return 0, 0, err
	}
	if end < start {
		return 0, 0, &apiError{http.StatusBadRequest, fmt.Sprintf("endTime %d is before startTime %d", end, start)}
	}
	if limit := retention.Milliseconds(); end-start > limit {
		return 0, 0, &apiError{http.StatusBadRequest, fmt.Sprintf(
			"endTime - startTime is %d ms, longer than the retention of %s (%d ms): ask for at most %d ms at a time",
			end-start, days(retention), limit, limit)}
	}
	return start, end, nil
}

func days(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d == day:
		return "1 day"
	case d%day == 0:
		return fmt.Sprintf("%d days", d/day)
	}
	return d.String()
}

// inRange returns the web-session files whose scope starts within [start,
// end] (epoch ms), sorted by scope start and part. Names that are not
// web-session files are ignored.
func inRange(infos []FileInfo, start, end int64) []websession.FileName {
	var names []websession.FileName
	for _, info := range infos {
		f, err := websession.ParseFileName(info.Name)
		if err != nil {
			continue
		}
		if s := f.ScopeStart.UnixMilli(); s < start || s > end {
			continue
		}
		names = append(names, f)
	}
	slices.SortFunc(names, func(a, b websession.FileName) int {
		if c := a.ScopeStart.Compare(b.ScopeStart); c != 0 {
			return c
		}
		if c := a.ScopeEnd.Compare(b.ScopeEnd); c != 0 {
			return c
		}
		return a.Part - b.Part
	})
	return names
}

func (h *handler) serveFile(w http.ResponseWriter, r *http.Request, account string) {
	name := r.PathValue("name")
	if _, err := websession.ParseFileName(name); err != nil {
		h.fail(w, r, &apiError{http.StatusNotFound, fmt.Sprintf("no file %q: not a web-session file name (WebSession.<startMs>.<endMs>.part-<NNNNN>-<n>.gz)", name)})
		return
	}
	f, info, err := h.files.Open(r.Context(), account, name)
	if errors.Is(err, fs.ErrNotExist) {
		h.fail(w, r, &apiError{http.StatusNotFound, fmt.Sprintf("no file %q for account %s", name, account)})
		return
	}
	if err != nil {
		h.fail(w, r, fmt.Errorf("cannot open file %s of account %s: %w", name, account, err))
		return
	}
	defer f.Close()
	// A large file takes longer than a server's write timeout: the
	// transfer goes on as long as the client takes bytes.
	rc := http.NewResponseController(w)
	if rc.SetWriteDeadline(time.Now().Add(WriteIdleTimeout)) == nil {
		w = &deadlineWriter{ResponseWriter: w, rc: rc, extended: time.Now()}
	}
	w.Header().Set("Content-Type", "application/gzip")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("ETag", fileETag(name, info))
	http.ServeContent(w, r, name, info.ModTime, f)
}

// WriteIdleTimeout is how long a file download may wait for the client to
// take more bytes; it replaces the server's write timeout for downloads.
const WriteIdleTimeout = time.Minute

// deadlineWriter moves the write deadline forward as the body goes out,
// at most once a second.
type deadlineWriter struct {
	http.ResponseWriter
	rc       *http.ResponseController
	extended time.Time
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	if now := time.Now(); now.Sub(d.extended) >= time.Second {
		d.rc.SetWriteDeadline(now.Add(WriteIdleTimeout))
		d.extended = now
	}
	return d.ResponseWriter.Write(p)
}

func (d *deadlineWriter) Unwrap() http.ResponseWriter { return d.ResponseWriter }

// fileETag is a strong validator of a file's version: its name, size and
// modification time.
func fileETag(name string, info FileInfo) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%d\x00%d", name, info.Size, info.ModTime.UnixNano()))
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

func (h *handler) serveSchema(w http.ResponseWriter, r *http.Request, account string) {
	if id := r.URL.Query().Get("schemaId"); id != "" && id != "latest" {
		h.fail(w, r, &apiError{http.StatusNotFound, fmt.Sprintf("no schema %q: only schemaId=latest is served", id)})
		return
	}
	var schema []byte
	if h.cfg.Schema != nil {
		schema = h.cfg.Schema(account)
	}
	if len(schema) == 0 {
		h.fail(w, r, &apiError{http.StatusNotFound, "no schema configured"})
		return
	}
	sum := sha256.Sum256(schema)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:16])+`"`)
	http.ServeContent(w, r, "schema.json", time.Time{}, bytes.NewReader(schema))
}

// apiError is a request the API refuses, other than for authentication.
type apiError struct {
	status  int
	message string
}

func (e *apiError) Error() string { return e.message }

// Failure is the body of every error answer.
type Failure struct {
	Error struct {
		Status int `json:"status"`
		// Code is the oauth_problem of an authentication failure, else
		// bad_request, forbidden, not_found or internal_error.
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

var codes = map[int]string{
	http.StatusBadRequest:          "bad_request",
	http.StatusUnauthorized:        "unauthorized",
	http.StatusForbidden:           "forbidden",
	http.StatusNotFound:            "not_found",
	http.StatusServiceUnavailable:  "temporarily_unavailable",
	http.StatusInternalServerError: "internal_error",
}

// fail answers err: the one place errors become HTTP statuses.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var f Failure
	var oe *oauth1.Error
	var ae *apiError
	switch {
	case errors.As(err, &oe):
		f.Error.Status, f.Error.Code, f.Error.Message = oe.Status, oe.Problem, oe.Message
		if oe.Status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`OAuth realm="%s", oauth_problem="%s"`, h.baseURL(r), oe.Problem))
		}
		if oe.Status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "1")
		}
		h.logger.Info("request refused", "path", r.URL.Path, "status", oe.Status, "problem", oe.Problem, "err", oe.Message)
	case errors.As(err, &ae):
		f.Error.Status, f.Error.Code, f.Error.Message = ae.status, codes[ae.status], ae.message
		if ae.status == http.StatusForbidden {
			h.logger.Info("request refused", "path", r.URL.Path, "status", ae.status, "err", ae.message)
		}
	default:
		f.Error.Status, f.Error.Code, f.Error.Message = http.StatusInternalServerError, codes[http.StatusInternalServerError], "internal error"
		h.logger.Error("request failed", "path", r.URL.Path, "err", err)
	}
	writeJSON(w, f.Error.Status, f)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

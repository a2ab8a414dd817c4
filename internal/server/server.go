// Package server assembles a Sightline server from its parts: the account
// store, the event log, the dedup index and the collector, behind one HTTP
// listener with health and metrics endpoints. `sightline serve` runs it; tests
// and `sightline bench` start it in process.
package server

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/atomicfile"
	"github.com/sightline/sightline/internal/campaign"
	"github.com/sightline/sightline/internal/campaign/admin"
	"github.com/sightline/sightline/internal/campaign/boltstore"
	"github.com/sightline/sightline/internal/dataaccess"
	"github.com/sightline/sightline/internal/enrich"
	"github.com/sightline/sightline/internal/eventlog/embedded"
	"github.com/sightline/sightline/internal/filestore"
	"github.com/sightline/sightline/internal/ingest"
	"github.com/sightline/sightline/internal/messaging"
	"github.com/sightline/sightline/internal/messaging/lpagent"
	"github.com/sightline/sightline/internal/sessionizer"
	"github.com/sightline/sightline/internal/user"
	"github.com/sightline/sightline/internal/websession"
	"github.com/sightline/sightline/web/chat"
	"github.com/sightline/sightline/web/console"
	"github.com/sightline/sightline/web/demo"
	"github.com/sightline/sightline/web/start"
	"github.com/sightline/sightline/web/tag"
)

// Config is everything a server needs; `sightline serve` fills it from flags
// and the environment.
type Config struct {
	Addr    string // listen address, "127.0.0.1:8080"
	DataDir string // data directory, "./data"

	Ingest ingest.Config
	Log    embedded.Options

	// DedupWindow is how long an event id is remembered (at least).
	DedupWindow time.Duration
	// DedupMarkInterval is how often the dedup restart marks are written.
	DedupMarkInterval time.Duration
	// ShutdownTimeout bounds the wait for in-flight requests on shutdown.
	ShutdownTimeout time.Duration
	// DemoAccount creates the `demo` account when the data directory is new.
	DemoAccount bool

	// NoWebSessions leaves out the sessionizer and the hourly files (the
	// Data Access API still serves the files there are): for benchmarks of
	// ingest alone.
	NoWebSessions bool
	// Sessionizer configures how visits are built (Dir is set from DataDir).
	Sessionizer sessionizer.Config
	// Hours configures the hourly web-session files (Dir is set from DataDir).
	Hours sessionizer.HoursConfig
	// Enrich configures geo, user-agent and search engine enrichment.
	Enrich enrich.Config
	// TLSCertFile and TLSKeyFile, both set, make the server speak HTTPS
	// only, with that certificate (PEM) and key; LivePerson's agent SDK
	// speaks https and wss only.
	TLSCertFile, TLSKeyFile string
	// Messaging configures the messaging service (Now is set from Now).
	Messaging messaging.Config
	// PublicURL is the scheme and host the Data Access API's links name
	// (https://da.example.com); "" uses each request's.
	PublicURL string
	// Now is the clock events are stamped with and visits and hours are
	// closed by; nil means time.Now. Tests move it to close visits and
	// hours. (OAuth timestamps and the dedup window use the wall clock.)
	Now func() time.Time
}

// DefaultConfig returns the embedded default: the event log keeps events
// long enough to rebuild every hour of web-session files still kept
// (LogRetentionFor).
func DefaultConfig() Config {
	c := Config{
		Addr:              "127.0.0.1:8080",
		DataDir:           "data",
		Ingest:            ingest.DefaultConfig(),
		Log:               embedded.DefaultOptions(),
		Hours:             sessionizer.HoursConfig{Retention: DefaultWebSessionRetention},
		DedupWindow:       24 * time.Hour,
		DedupMarkInterval: 5 * time.Minute,
		ShutdownTimeout:   30 * time.Second,
		DemoAccount:       true,
		Messaging:         messaging.DefaultConfig(),
	}
	c.Log.RetentionAge = LogRetentionFor(c)
	return c
}

// DefaultWebSessionRetention is how long web-session files are kept.
const DefaultWebSessionRetention = 30 * 24 * time.Hour

// LogRetentionFor returns how long the event log must keep events for
// every hour of web-session files c keeps to be rebuilt from it: the
// files' retention plus what a rebuild reads before its first hour
// (sessionizer.Lookback), in whole hours.
func LogRetentionFor(c Config) time.Duration {
	d := c.Hours.Retention + sessionizer.Lookback(c.Sessionizer)
	if r := d % time.Hour; r != 0 {
		d += time.Hour - r
	}
	return d
}

// DemoAccountID is the account created on first start, whose pages the
// demo shop (/demo/) holds.
const DemoAccountID = demo.Account

// Paths inside the data directory.
const (
	accountsDir    = "accounts"
	logDir         = "log"
	dedupFile      = "dedup-marks.json"
	campaignsFile  = "campaigns.db"
	stateKeyFile   = "campaign-state.key"
	webSessionsDir = "websessions"
)

// WebSessionStateDir returns where the sessionizer of a data directory
// keeps its checkpoint and spool.
func WebSessionStateDir(dataDir string) string {
	return filepath.Join(dataDir, webSessionsDir, "state")
}

// WebSessionFilesDir returns where the web-session files of a data
// directory are kept, one folder per account.
func WebSessionFilesDir(dataDir string) string {
	return filepath.Join(dataDir, webSessionsDir, "files")
}

// WebSessionRebuildDir returns where rebuilds of web-session hours of a
// data directory keep their work until it is done.
func WebSessionRebuildDir(dataDir string) string {
	return filepath.Join(dataDir, webSessionsDir, "rebuild")
}

// WebSessionHoursLock returns the file that writers of web-session hours
// of a data directory (the server's hourly job, rebuilds) lock in turn.
func WebSessionHoursLock(dataDir string) string {
	return filepath.Join(dataDir, webSessionsDir, "hours.lock")
}

// CampaignsFile returns the embedded database of a data directory's
// campaign definitions.
func CampaignsFile(dataDir string) string { return filepath.Join(dataDir, campaignsFile) }

// AccountsDir returns where the accounts of a data directory live.
func AccountsDir(dataDir string) string { return filepath.Join(dataDir, accountsDir) }

// LogDir returns where the event log of a data directory lives.
func LogDir(dataDir string) string { return filepath.Join(dataDir, logDir) }

// Server is a running Sightline server.
type Server struct {
	cfg        Config
	logger     *slog.Logger
	accounts   *account.Store
	campaignDB *boltstore.Store
	campaigns  *campaign.Service
	log        *embedded.Log
	dedup      *ingest.DedupState
	enricher   *enrich.Enricher
	sessions   *sessionizer.Sessionizer
	// conversations is the conversation side: store, users, messaging.
	conversations *conversations
	hours         *sessionizer.Hours
	http          *http.Server
	control       *http.Server // the control socket's; nil without one
	listener      net.Listener
	ready         atomic.Bool
	cancel        context.CancelFunc
	wg            sync.WaitGroup
	shutdown      sync.Once
	// Created reports whether this start created the demo account;
	// DemoAdminToken is then its admin API token.
	Created        bool
	DemoAdminToken string
}

// Start opens the data directory, rebuilds what lives in memory, and starts
// listening. It returns once the server accepts requests.
func Start(ctx context.Context, logger *slog.Logger, cfg Config) (*Server, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.withDefaults()
	unused, err := holdsOnlyOurs(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if err := openDataDir(logger, cfg.DataDir); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, logger: logger}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	s.accounts, err = account.OpenStore(logger, AccountsDir(cfg.DataDir))
	if err != nil {
		return nil, err
	}
	if need := LogRetentionFor(cfg); !cfg.NoWebSessions && cfg.Log.RetentionAge > 0 && cfg.Log.RetentionAge < need {
		logger.Warn("the event log's retention is shorter than the web-session files': the oldest hours cannot be rebuilt",
			"log_retention", cfg.Log.RetentionAge, "needed", need, "websession_retention", cfg.Hours.Retention)
	}
	s.log, err = embedded.Open(logger, reg, LogDir(cfg.DataDir), cfg.Log)
	if err != nil {
		return nil, fmt.Errorf("cannot open event log: %w", err)
	}
	s.campaignDB, err = boltstore.Open(CampaignsFile(cfg.DataDir))
	if err != nil {
		s.log.Close()
		return nil, err
	}
	s.campaigns = campaign.NewService(s.campaignDB)
	ok := false
	defer func() {
		if !ok {
			s.log.Close()
			s.campaignDB.Close()
		}
	}()
	// A first start: nothing but what an earlier, failed start may have
	// created, no account and no event.
	fresh := unused && s.accounts.Len() == 0 && logEmpty(s.log)
	s.dedup, err = ingest.OpenDedupState(logger, filepath.Join(cfg.DataDir, dedupFile), cfg.DedupWindow, s.log)
	if err != nil {
		return nil, err
	}
	ix, err := s.dedup.Rebuild(ctx, time.Now())
	if err != nil {
		return nil, err
	}
	if cfg.Now != nil {
		cfg.Ingest.Now = cfg.Now
	}
	// The enricher serves the campaign decisions and the web sessions.
	if s.enricher, err = enrich.New(cfg.Enrich); err != nil {
		return nil, fmt.Errorf("cannot open enrichment data: %w", err)
	}
	defer func() {
		if !ok {
			s.enricher.Close()
		}
	}()
	stateKey, err := loadStateKey(filepath.Join(cfg.DataDir, stateKeyFile))
	if err != nil {
		return nil, err
	}
	s.conversations, err = openConversations(ctx, logger, cfg, s.campaigns)
	if err != nil {
		return nil, err
	}
	defer func() {
		if !ok {
			s.conversations.Close()
		}
	}()
	collector := ingest.New(cfg.Ingest, logger, reg, s.accounts, s.log, ix)
	collector.UseCampaigns(s.campaigns, s.enricher, stateKey)
	collector.UsePresence(s.conversations.svc.SkillState)
	collector.UseConversations(s.conversations.svc)
	if !cfg.NoWebSessions {
		if err := s.openWebSessions(logger, reg, cfg); err != nil {
			return nil, err
		}
		defer func() {
			if !ok {
				s.sessions.Close()
			}
		}()
	}

	tags, err := tag.New(s.accounts)
	if err != nil {
		return nil, err
	}
	chatWindow, err := chat.New()
	if err != nil {
		return nil, err
	}
	agentWorkspace, err := console.New()
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	collector.Register(mux)
	tags.Register(mux)
	chatWindow.Register(mux)
	agentWorkspace.Register(mux)
	var visits lpagent.Visits // the pages of the visits, for the agents' journeys
	if s.sessions != nil {
		visits = s.sessions
	}
	if err := s.conversations.Register(mux, reg, cfg, s.accounts, s.campaigns, s.enricher, visits, logger); err != nil {
		return nil, err
	}
	start.New(s.accounts, DemoAccountID).Register(mux)
	admin.New(s.campaigns, s.accounts, logger).ServeDocumentShapes(s.accounts).Register(mux)
	demo.Register(mux)
	if err := s.mountDataAccess(mux, logger, cfg); err != nil {
		return nil, err
	}
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", s.serveReady)

	var tlsConfig *tls.Config
	if cfg.TLSCertFile != "" || cfg.TLSKeyFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("cannot load TLS certificate (--tls-cert %q, --tls-key %q): %w", cfg.TLSCertFile, cfg.TLSKeyFile, err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	s.listener, err = net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen: %w", err)
	}
	if fresh && cfg.DemoAccount {
		if err := s.createDemo(ctx); err != nil {
			s.listener.Close()
			return nil, fmt.Errorf("cannot create demo account: %w", err)
		}
		s.Created = true
	}
	// bg ends the background work and the connections that outlive a
	// request (WebSockets) on shutdown.
	bg, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.http = &http.Server{
		Handler:           mux,
		BaseContext:       func(net.Listener) context.Context { return bg },
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		TLSConfig:         tlsConfig,
	}
	s.background(bg, cfg)
	s.listenControl(collector, reg)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		serve := s.http.Serve
		if tlsConfig != nil {
			serve = func(l net.Listener) error { return s.http.ServeTLS(l, "", "") }
		}
		if err := serve(s.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("http server failed", "err", err)
		}
	}()
	s.ready.Store(true)
	ok = true
	logger.Info("listening", "addr", s.Addr(), "data", cfg.DataDir, "partitions", cfg.Log.Partitions, "accounts", s.accounts.Len())
	return s, nil
}

// withDefaults fills the zero fields of c from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	setDefault(&c.Addr, d.Addr)
	setDefault(&c.DataDir, d.DataDir)
	setDefault(&c.Ingest.MaxBodyBytes, d.Ingest.MaxBodyBytes)
	setDefault(&c.Ingest.MaxConcurrent, d.Ingest.MaxConcurrent)
	setDefault(&c.Ingest.QueueTimeout, d.Ingest.QueueTimeout)
	setDefault(&c.Ingest.MaxBodyMemory, d.Ingest.MaxBodyMemory)
	setDefault(&c.Ingest.BodyTimeout, d.Ingest.BodyTimeout)
	setDefault(&c.Ingest.MinBodyRate, d.Ingest.MinBodyRate)
	setDefault(&c.Ingest.MaxPerClient, d.Ingest.MaxPerClient)
	setDefault(&c.DedupWindow, d.DedupWindow)
	setDefault(&c.DedupMarkInterval, d.DedupMarkInterval)
	setDefault(&c.ShutdownTimeout, d.ShutdownTimeout)
	return c
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// logEmpty reports whether no event was ever stored in l.
func logEmpty(l *embedded.Log) bool {
	for _, st := range l.Stats() {
		if st.EndOffset != 0 {
			return false
		}
	}
	return true
}

// openWebSessions builds the sessionizer and the hourly job.
func (s *Server) openWebSessions(logger *slog.Logger, reg prometheus.Registerer, cfg Config) error {
	store, err := filestore.NewDir(WebSessionFilesDir(cfg.DataDir))
	if err != nil {
		return err
	}
	m, err := sessionizer.NewMetrics(reg)
	if err != nil {
		return err
	}
	hc := cfg.Hours
	hc.Dir, hc.Now, hc.Lock = WebSessionStateDir(cfg.DataDir), cfg.Now, WebSessionHoursLock(cfg.DataDir)
	s.hours = sessionizer.NewHours(logger, store, hc, m, RenderDocument(s.accounts, s.enricher))
	sc := cfg.Sessionizer
	sc.Dir, sc.Now = WebSessionStateDir(cfg.DataDir), cfg.Now
	if s.sessions, err = sessionizer.New(logger, s.log, sc, m, s.hours.Complete); err != nil {
		return err
	}
	return nil
}

// DocumentShape returns the shape of the web-session documents of account
// id (account.Account.DocumentShape): its hours are written in it, and
// its schema served in it.
func DocumentShape(accounts *account.Store, id string) websession.Shape {
	if a, ok := accounts.Get(id); ok {
		return a.DocumentShape
	}
	return websession.Plain
}

// RenderDocument returns what writes a visit's web-session document, in
// its account's shape, for the hourly job and rebuilds.
func RenderDocument(accounts *account.Store, en websession.Enricher) func(dst []byte, v *websession.Visit) []byte {
	return func(dst []byte, v *websession.Visit) []byte {
		return DocumentShape(accounts, v.AccountID).AppendDocument(dst, v, en)
	}
}

// mountDataAccess serves the web-session files through the Data Access API.
func (s *Server) mountDataAccess(mux *http.ServeMux, logger *slog.Logger, cfg Config) error {
	keys, err := dataaccess.OpenKeys(logger, dataaccess.KeysDir(cfg.DataDir))
	if err != nil {
		return err
	}
	dc := dataaccess.Config{PublicURL: cfg.PublicURL, Retention: cfg.Hours.Retention, Logger: logger,
		Schema: func(account string) []byte { return DocumentShape(s.accounts, account).Schema() }}
	if err := dc.Validate(); err != nil {
		return err
	}
	files, err := filestore.NewDir(WebSessionFilesDir(cfg.DataDir))
	if err != nil {
		return err
	}
	mux.Handle(dataaccess.PathPrefix, dataaccess.NewHandler(dc, keys, files))
	return nil
}

func (s *Server) background(ctx context.Context, cfg Config) {
	if s.sessions != nil {
		s.wg.Add(2)
		go func() {
			defer s.wg.Done()
			if err := s.sessions.Run(ctx); err != nil {
				s.logger.Error("sessionizer stopped", "err", err)
			}
		}()
		go func() {
			defer s.wg.Done()
			s.hours.Run(ctx)
		}()
	}
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		s.dedup.Run(ctx, cfg.DedupMarkInterval)
	}()
	go func() {
		defer s.wg.Done()
		s.conversations.svc.Run(ctx)
	}()
}

// Addr returns the address the server listens on.
func (s *Server) Addr() string { return s.listener.Addr().String() }

// URL returns the server's base URL: https when it serves TLS. (Not by
// s.http.TLSConfig, which http.Server.Serve sets for HTTP/2 on plain
// HTTP too, racing with this.)
func (s *Server) URL() string {
	if s.cfg.TLSCertFile != "" || s.cfg.TLSKeyFile != "" {
		return "https://" + s.Addr()
	}
	return "http://" + s.Addr()
}

// Accounts returns the server's account store.
func (s *Server) Accounts() *account.Store { return s.accounts }

// Messaging returns the server's messaging service.
func (s *Server) Messaging() *messaging.Service { return s.conversations.svc }

// Users returns the users (agents, bots) of the server's accounts.
func (s *Server) Users() *user.Store { return s.conversations.users }

// Campaigns returns the server's campaign definitions and decisions.
func (s *Server) Campaigns() *campaign.Service { return s.campaigns }

// createDemo creates the demo account, with an admin token, and its
// campaigns (demo.Definitions).
func (s *Server) createDemo(ctx context.Context) error {
	token, hash := account.NewAdminToken()
	if err := s.accounts.Add(account.Account{ID: DemoAccountID, Origins: []string{account.AnyOrigin}, AdminTokenHash: hash}); err != nil {
		return err
	}
	if _, err := s.campaigns.Update(ctx, DemoAccountID, func(d *campaign.Definitions) error {
		version, next := d.Version, d.NextID
		*d = *demo.Definitions()
		d.Version, d.NextID = version, next
		return nil
	}); err != nil {
		return fmt.Errorf("demo campaigns: %w", err)
	}
	s.DemoAdminToken = token
	return nil
}

// serveReady answers 200 while the server serves and every consumer of
// the log keeps up, and 503 naming what is wrong otherwise: shutting down,
// or a consumer stalled by a failure (a full disk) and retrying.
func (s *Server) serveReady(w http.ResponseWriter, r *http.Request) {
	if !s.ready.Load() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	if s.sessions != nil {
		if err := s.sessions.Stalled(); err != nil {
			http.Error(w, fmt.Sprintf("web sessions stalled, retrying: %v", err), http.StatusServiceUnavailable)
			return
		}
		if err := s.hours.Stalled(); err != nil {
			http.Error(w, fmt.Sprintf("web-session files stalled, retrying: %v", err), http.StatusServiceUnavailable)
			return
		}
	}
	w.Write([]byte("ready\n"))
}

// Shutdown stops accepting requests, waits for in-flight batches to be
// stored and answered (up to ShutdownTimeout), then closes the log.
// Calling it again returns nil.
func (s *Server) Shutdown() error {
	var err error
	s.shutdown.Do(func() { err = s.stop() })
	return err
}

func (s *Server) stop() error {
	s.ready.Store(false)
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	herr := s.http.Shutdown(ctx)
	if s.control != nil {
		herr = errors.Join(herr, s.control.Shutdown(ctx))
	}
	s.cancel()
	s.wg.Wait()
	if s.sessions != nil {
		s.sessions.Close()
	}
	merr := s.dedup.Mark(time.Now())
	lerr := errors.Join(s.log.Close(), s.campaignDB.Close(), s.conversations.Close())
	return errors.Join(herr, merr, lerr, s.enricher.Close())
}

// loadStateKey reads the key that signs campaign states from path, and
// creates it, random, on first start. Servers that share a deployment's
// visitors must share the file.
func loadStateKey(path string) (*campaign.StateKey, error) {
	secret, err := loadSecret(path, campaign.StateKeySize)
	if err != nil {
		return nil, fmt.Errorf("campaign state key: %w", err)
	}
	return campaign.NewStateKey(secret), nil
}

// loadSecret reads the random secret of size bytes in path, and creates
// it on first start.
func loadSecret(path string, size int) ([]byte, error) {
	secret, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		secret = make([]byte, size)
		rand.Read(secret)
		err = atomicfile.Write(path, secret)
	}
	switch {
	case err != nil:
		return nil, err
	case len(secret) != size:
		return nil, fmt.Errorf("%s: %d bytes, want %d", path, len(secret), size)
	}
	return secret, nil
}

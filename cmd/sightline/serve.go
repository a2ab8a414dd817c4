package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/server"
	"github.com/sightline/sightline/internal/sessionizer"
	"github.com/sightline/sightline/web/console"
	"github.com/sightline/sightline/web/demo"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := server.DefaultConfig()
	fs := newFlagSet("serve", stderr)
	fs.StringVar(&cfg.Addr, "addr", envOr("SIGHTLINE_ADDR", cfg.Addr), "listen address (env SIGHTLINE_ADDR)")
	data := dataDirFlag(fs)
	fs.IntVar(&cfg.Log.Partitions, "partitions", cfg.Log.Partitions, "event log partitions (fixed when the log is created)")
	fs.Int64Var(&cfg.Log.SegmentBytes, "segment-bytes", cfg.Log.SegmentBytes, "event log segment size")
	fs.DurationVar(&cfg.Log.RetentionAge, "retention-age", cfg.Log.RetentionAge,
		"delete event log segments older than this (0 keeps them; default: the web-session retention plus the "+sessionizer.Lookback(cfg.Sessionizer).String()+" a rebuild reads before its first hour)")
	fs.Int64Var(&cfg.Log.RetentionBytes, "retention-bytes", cfg.Log.RetentionBytes, "keep at most this many bytes per partition (0: no limit)")
	fs.DurationVar(&cfg.Log.CommitInterval, "commit-interval", cfg.Log.CommitInterval, "least time between two group commits under load: fewer, larger commits for a little latency (0: commit at once)")
	fs.Int64Var(&cfg.Ingest.MaxBodyBytes, "max-body-bytes", cfg.Ingest.MaxBodyBytes, "largest batch body, after gzip decompression")
	fs.IntVar(&cfg.Ingest.MaxConcurrent, "max-concurrent", cfg.Ingest.MaxConcurrent, "batch bodies decoded at once (bodies are read before)")
	fs.Int64Var(&cfg.Ingest.MaxBodyMemory, "max-body-memory", cfg.Ingest.MaxBodyMemory, "bytes the bodies being read and decoded may hold together, 16 MiB per CPU by default; more: 429")
	fs.DurationVar(&cfg.Ingest.BodyTimeout, "body-timeout", cfg.Ingest.BodyTimeout, "time a batch body has to arrive, plus a second for every --min-body-rate bytes that did; later: 408")
	fs.Int64Var(&cfg.Ingest.MinBodyRate, "min-body-rate", cfg.Ingest.MinBodyRate, "a body gets a second more than --body-timeout for every this many bytes of it that arrived")
	fs.IntVar(&cfg.Ingest.MaxPerClient, "max-per-client", cfg.Ingest.MaxPerClient, "batch requests in progress from one client address (an IPv6 /64); more: 429")
	fs.DurationVar(&cfg.DedupWindow, "dedup-window", cfg.DedupWindow, "how long event ids are remembered to drop duplicates")
	var proxies stringList
	fs.Var(&proxies, "trusted-proxy", "CIDR of a proxy whose X-Forwarded-For is trusted (repeatable)")
	webSessionFlags(fs, &cfg)
	fs.DurationVar(&cfg.Sessionizer.CheckpointInterval, "sessionizer-checkpoint", 10*time.Second, "time between two checkpoints of the sessionizer")
	clockOffset := fs.Duration("clock-offset", 0, "run the server's clock this far ahead: event stamps, visits and hours (for tests and demos)")
	fs.DurationVar(&cfg.Hours.Retention, "websession-retention", cfg.Hours.Retention, "delete web-session files whose hour ended longer ago")
	fs.StringVar(&cfg.PublicURL, "public-url", os.Getenv("SIGHTLINE_PUBLIC_URL"), "scheme and host the Data Access API's file links name, e.g. https://da.example.com (env SIGHTLINE_PUBLIC_URL; default: each request's)")
	fs.StringVar(&cfg.TLSCertFile, "tls-cert", os.Getenv("SIGHTLINE_TLS_CERT"), "PEM certificate: serve HTTPS only (with --tls-key; env SIGHTLINE_TLS_CERT). LivePerson's agent SDK connects over https and wss only")
	fs.StringVar(&cfg.TLSKeyFile, "tls-key", os.Getenv("SIGHTLINE_TLS_KEY"), "PEM private key of --tls-cert (env SIGHTLINE_TLS_KEY)")
	fs.DurationVar(&cfg.Messaging.IdleTimeout, "conversation-idle-timeout", cfg.Messaging.IdleTimeout, "close an open conversation (closeReason SYSTEM) after this long without a message or change; 0 never")
	fs.DurationVar(&cfg.Messaging.RingTimeout, "ring-timeout", cfg.Messaging.RingTimeout, "how long an agent is offered a waiting conversation before the next one is")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	logFormat := fs.String("log-format", "text", "text or json")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the server's whole run to this file, complete once it stops (on SIGTERM; for benchmarks)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer stop()
	}
	cfg.DataDir = *data
	if !flagSet(fs, "retention-age") {
		cfg.Log.RetentionAge = server.LogRetentionFor(cfg) // with the web-session flags given
	}
	if *clockOffset != 0 {
		cfg.Now = func() time.Time { return time.Now().Add(*clockOffset) }
	}
	for _, p := range proxies {
		for _, part := range strings.Split(p, ",") {
			pfx, err := netip.ParsePrefix(strings.TrimSpace(part))
			if err != nil {
				return fmt.Errorf("--trusted-proxy %q: %w", part, err)
			}
			cfg.Ingest.TrustedProxies = append(cfg.Ingest.TrustedProxies, pfx)
		}
	}
	logger, err := newLogger(stderr, *logLevel, *logFormat)
	if err != nil {
		return err
	}
	srv, err := server.Start(ctx, logger, cfg)
	if err != nil {
		return err
	}
	if srv.Created {
		fmt.Fprintf(stdout, `Created account %q in %s. Browse its demo shop, whose pages carry the tag
and show its engagements, at `+srv.URL()+`/demo/ or send it an event:

  curl -s -H 'Content-Type: application/json' %s/api/account/%s/events -d '{"visitorId":"v1","visitId":"s1","events":[{"time":'$(date +%%s000)',"appName":"LP_MONITORING","eventName":"PAGE_VIEW","data":{"url":"https://shop.example/tv","title":"TVs","sections":["tv"]}}]}'

and read it back:

  %s events tail --account %s --data %s

Visits close 30 minutes after their last event and are written to hourly web-session files,
read through the Data Access API with a key from:

  %s keys add --account %s --data %s

Its campaigns (a cart-abandonment slide-out, an offer on the TV pages) are managed through the admin API
with this token, shown once (%s accounts token %s makes a new one):

  SIGHTLINE_ADMIN_TOKEN=%s %s campaigns export --account %s

`, server.DemoAccountID, cfg.DataDir, srv.URL(), server.DemoAccountID, os.Args[0], server.DemoAccountID, cfg.DataDir,
			os.Args[0], server.DemoAccountID, cfg.DataDir, os.Args[0], server.DemoAccountID, srv.DemoAdminToken, os.Args[0], server.DemoAccountID)
	}
	printURLs(stdout, srv, cfg.DataDir)
	<-ctx.Done()
	logger.Info("shutting down")
	return srv.Shutdown()
}

// printURLs tells, at every start, where the server is and what to open.
func printURLs(w io.Writer, srv *server.Server, data string) {
	fmt.Fprintf(w, "Sightline is serving %s/ (the start page: the tag's snippet for an account, links)\n", srv.URL())
	if _, ok := srv.Accounts().Get(server.DemoAccountID); ok {
		fmt.Fprintf(w, "Demo shop: %s/demo/   its events: %s events tail --account %s --data %s --follow\n",
			srv.URL(), os.Args[0], server.DemoAccountID, data)
		fmt.Fprintf(w, "Agent workspace: %s%s?account=%s   add an agent of the demo's chat: %s agents add --account %s --login ann --skill %s --data %s\n",
			srv.URL(), console.AgentPath, server.DemoAccountID, os.Args[0], server.DemoAccountID, demo.ChatSkill, data)
	} else {
		fmt.Fprintf(w, "Agent workspace: %s%s   add an agent: %s agents add --account ID --login NAME --skill SKILL --data %s\n",
			srv.URL(), console.AgentPath, os.Args[0], data)
	}
	fmt.Fprintf(w, "Metrics: %s/metrics   readiness: %s/readyz\n", srv.URL(), srv.URL())
}

// webSessionFlags adds the settings that decide what the web-session files
// hold, which serve and websessions build must share: the same events and
// settings give the same files.
func webSessionFlags(fs *flag.FlagSet, cfg *server.Config) {
	fs.DurationVar(&cfg.Sessionizer.Timeout, "visit-timeout", 30*time.Minute, "a visit closes after this long without events")
	fs.StringVar(&cfg.Enrich.GeoCityPath, "geoip-city", os.Getenv("SIGHTLINE_GEOIP_CITY"), "MaxMind GeoIP2/GeoLite2 City .mmdb file (env SIGHTLINE_GEOIP_CITY; none: geo records carry the IP only)")
	fs.StringVar(&cfg.Enrich.GeoISPPath, "geoip-isp", os.Getenv("SIGHTLINE_GEOIP_ISP"), "MaxMind GeoIP2 ISP or GeoLite2 ASN .mmdb file (env SIGHTLINE_GEOIP_ISP)")
	fs.BoolVar(&cfg.Sessionizer.AnonymizeIP, "anonymize-ip", false, "zero the last octet of IPv4 and the last 80 bits of IPv6 addresses before web sessions store them")
	def := sessionizer.Config{}.WithDefaults()
	fs.IntVar(&cfg.Sessionizer.MaxVisitEvents, "visit-max-events", def.MaxVisitEvents, "a visit's event past this many closes it and starts a continuation of it (counted in sightline_sessionizer_visits_split_total)")
	fs.Int64Var(&cfg.Sessionizer.MaxVisitBytes, "visit-max-bytes", def.MaxVisitBytes, "likewise for the bytes of a visit's event data")
	fs.Int64Var(&cfg.Sessionizer.MaxOpenBytes, "websessions-max-memory", def.MaxOpenBytes, "memory the open visits may take; past it, the visits due to close first are closed early")
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// Command sightline is the Sightline server and its admin and client
// commands:
//
//	sightline serve                 run the server (embedded storage in --data)
//	sightline accounts add ID       add an account (--origin URL ...)
//	sightline accounts list         list accounts
//	sightline accounts token ID     create or replace an account's admin API token
//	sightline accounts set ID       change an account's settings (document shape, visitor authentication)
//	sightline agents add            add an agent or bot of LivePerson's agent SDK to an account
//	sightline agents list           list an account's agents
//	sightline campaigns export      write an account's campaign definitions as YAML
//	sightline campaigns apply       replace an account's campaign definitions with a YAML file's
//	sightline events tail           print an account's stored events as JSON lines
//	sightline bench ingest          measure durable ingest against a no-op ceiling
//	sightline bench memory          measure a server binary's memory under an attack, and its restart after
//	sightline bench messaging       measure open conversations' memory, durable messages/s and delivery latency
//	sightline keys add|list|remove  manage Data Access API keys
//	sightline pull                  download new web-session files from a Data Access API
//	sightline websessions build     rebuild an account's web-session files from the event log
//	sightline websessions flush     close the visits that are over and write the hours that ended, now
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return // the flag package printed the usage asked for
		}
		fmt.Fprintln(os.Stderr, "sightline:", err)
		code := 2
		if ee, ok := errors.AsType[*exitError](err); ok {
			code = ee.code
		}
		os.Exit(code)
	}
}

const usage = `usage: sightline <command> [flags]

commands:
  serve                      run the server
  accounts add ID [--origin URL ...]
  accounts list
  accounts token ID          create or replace the account's admin API token (prints it)
  accounts set ID [--document-shape plain|wrapped] [--visitor-issuer ISS --visitor-keys FILE | --no-visitor-auth]
  agents add --account ID --login NAME [--skill S ...] [--max-chats N] [--bot] [--nickname N]
             [--password-stdin] [--api-keys]
                             add an agent or bot (password from $SIGHTLINE_AGENT_PASSWORD,
                             stdin or the terminal; --api-keys prints a key set once)
  agents list --account ID
  campaigns export --account ID [-o FILE]
                             write the account's campaign definitions as YAML
  campaigns apply -f FILE --account ID
                             replace the account's campaign definitions with FILE's
                             (campaigns flags: --server URL, --token T)
  events tail --account ID [--follow]
  bench ingest               measure durable ingest throughput and latency
  bench memory [--attack visitor|clients] [--binary PATH ...]
                             measure a server binary's memory under an attack, and its restart after
  bench messaging [--visitors N] [--agents M] [--binary PATH]
                             measure a server's open conversations (memory each), durable messages/s
                             and visitor-to-agent delivery latency, over both messaging protocols
  keys add --account ID      create a Data Access API key (prints its credentials)
  keys list [--account ID]
  keys remove KEY
  pull --account ID --url BASE --dir DIR [--since TIME]
                             download new web-session files
  websessions build --account ID --from TIME [--to TIME]
                             rebuild web-session files from the event log
  websessions flush [--account ID]
                             close the visits that are over and write the hours that ended, now

Run 'sightline <command> -h' for a command's flags.`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return errors.New("no command")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServe(ctx, rest, stdout, stderr)
	case "pull":
		return runPull(ctx, rest, stdout, stderr)
	case "accounts", "agents", "campaigns", "events", "bench", "keys", "websessions":
		if len(rest) == 0 {
			return fmt.Errorf("%s: missing subcommand\n%s", cmd, usage)
		}
		sub := cmd + " " + rest[0]
		switch sub {
		case "accounts set":
			return runAccountsSet(rest[1:], stdout, stderr)
		case "accounts add":
			return runAccountsAdd(rest[1:], stdout, stderr)
		case "accounts list":
			return runAccountsList(rest[1:], stdout, stderr)
		case "accounts token":
			return runAccountsToken(rest[1:], stdout, stderr)
		case "agents add":
			return runAgentsAdd(rest[1:], stdout, stderr)
		case "agents list":
			return runAgentsList(rest[1:], stdout, stderr)
		case "campaigns export":
			return runCampaignsExport(ctx, rest[1:], stdout, stderr)
		case "campaigns apply":
			return runCampaignsApply(ctx, rest[1:], stdout, stderr)
		case "events tail":
			return runEventsTail(ctx, rest[1:], stdout, stderr)
		case "websessions build":
			return runWebSessionsBuild(ctx, rest[1:], stdout, stderr)
		case "websessions flush":
			return runWebSessionsFlush(ctx, rest[1:], stdout, stderr)
		case "bench ingest":
			return runBenchIngest(ctx, rest[1:], stdout, stderr)
		case "bench memory":
			return runBenchMemory(ctx, rest[1:], stdout, stderr)
		case "bench messaging":
			return runBenchMessaging(ctx, rest[1:], stdout, stderr)
		case "keys add":
			return runKeysAdd(rest[1:], stdout, stderr)
		case "keys list":
			return runKeysList(rest[1:], stdout, stderr)
		case "keys remove":
			return runKeysRemove(rest[1:], stdout, stderr)
		}
		return fmt.Errorf("unknown command %q\n%s", sub, usage)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("sightline "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseInterspersed parses flags that may come before, between or after
// the positional arguments, which it returns.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// dataDirFlag adds --data, defaulting to $SIGHTLINE_DATA or ./data.
func dataDirFlag(fs *flag.FlagSet) *string {
	return fs.String("data", envOr("SIGHTLINE_DATA", "data"), "data directory (env SIGHTLINE_DATA)")
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format: %q is not text or json", format)
}

// oneArgument checks that the positional arguments of command cmd are one
// argument, what it names.
func oneArgument(cmd, what string, pos []string) error {
	switch {
	case len(pos) == 0:
		return fmt.Errorf("%s: missing %s", cmd, what)
	case len(pos) > 1:
		return fmt.Errorf("%s: unexpected argument %q", cmd, pos[1])
	}
	return nil
}

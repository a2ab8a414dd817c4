package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/eventlog/embedded"
	"github.com/sightline/sightline/internal/filelock"
	"github.com/sightline/sightline/internal/server"
	"github.com/sightline/sightline/internal/sessionizer"
)

// runWebSessionsFlush closes the visits that are over and writes the hours
// that have ended, now: through the control socket of the server running
// on the data directory, or, with none running, by running the sessionizer
// here until it has done so.
func runWebSessionsFlush(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := server.DefaultConfig()
	fs, data, now := webSessionCommand("websessions flush", stderr, &cfg)
	acct := fs.String("account", "", "report only this account's hours (the flush itself is of the whole data directory)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *acct != "" {
		if err := account.ValidateID(*acct); err != nil {
			return fmt.Errorf("--account: %w", err)
		}
		accounts, err := account.OpenStore(nil, server.AccountsDir(*data))
		if err != nil {
			return err
		}
		if _, ok := accounts.Get(*acct); !ok {
			return fmt.Errorf("--account: no account %q in %s", *acct, *data)
		}
	}
	start := time.Now()
	rep, where, err := flushServer(ctx, *data)
	if errors.Is(err, errNoServer) {
		where = "no server is running: flushed here"
		rep, err = flushHere(ctx, *data, cfg, now) // the server's settings and clock, given here
	}
	if err != nil {
		return err
	}
	printFlush(stdout, rep, *acct, where, time.Since(start))
	return nil
}

// errNoServer means no server answers on the data directory's control socket.
var errNoServer = errors.New("no server on the control socket")

// flushServer asks the server running on data to flush.
func flushServer(ctx context.Context, data string) (sessionizer.FlushReport, string, error) {
	var rep sessionizer.FlushReport
	path := server.ControlSocket(data)
	client := server.ControlClient(data)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://sightline"+server.FlushPath, nil)
	if err != nil {
		return rep, "", err
	}
	resp, err := client.Do(req)
	if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) {
		return rep, "", errNoServer // no socket, or a dead server's
	}
	if err != nil {
		return rep, "", fmt.Errorf("control socket %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return rep, "", fmt.Errorf("control socket %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return rep, "", fmt.Errorf("the server did not flush: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	if err := json.Unmarshal(body, &rep); err != nil {
		return rep, "", fmt.Errorf("control socket %s: answer: %w", path, err)
	}
	return rep, "flushed by the server running on " + data, nil
}

// flushHere runs the sessionizer of data until it has flushed as of now:
// with no server running, every event received is in the log.
func flushHere(ctx context.Context, data string, cfg server.Config, now func() time.Time) (sessionizer.FlushReport, error) {
	var rep sessionizer.FlushReport
	log, err := embedded.OpenReader(server.LogDir(data))
	if err != nil {
		return rep, err
	}
	defer log.Close()
	hours, closeHours, err := openHours(data, cfg, server.WebSessionStateDir(data))
	if err != nil {
		return rep, err
	}
	defer closeHours()
	sc := cfg.Sessionizer
	sc.Dir, sc.Now = server.WebSessionStateDir(data), now
	// The hours are written below, not as the sessionizer completes them.
	s, err := sessionizer.New(slog.New(slog.DiscardHandler), log, sc, nil, func(int64) {})
	if errors.Is(err, filelock.ErrLocked) {
		return rep, fmt.Errorf("a server runs on %s but does not answer on its control socket %s: %w", data, server.ControlSocket(data), err)
	}
	if err != nil {
		return rep, err
	}
	defer s.Close()
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- s.Run(runCtx) }()
	rep, err = sessionizer.FlushAndWrite(ctx, s, hours, now())
	stop()
	return rep, errors.Join(err, <-ran)
}

// printFlush reports a flush: every hour written, or account's only.
func printFlush(w io.Writer, rep sessionizer.FlushReport, account, where string, took time.Duration) {
	fmt.Fprintf(w, "%s, as of %s: %d visits closed\n", where, rep.At.UTC().Format(time.RFC3339), rep.Closed)
	n := 0
	for _, h := range rep.Hours {
		if account != "" {
			if v, ok := h.Visits[account]; ok {
				fmt.Fprintf(w, "  hour %s: %d visits of %s\n", h.Start.UTC().Format(time.RFC3339), v, account)
				n++
			}
			continue
		}
		names := make([]string, 0, len(h.Visits))
		total := 0
		for a, v := range h.Visits {
			names, total = append(names, a), total+v
		}
		slices.Sort(names)
		fmt.Fprintf(w, "  hour %s: %d visits of %d accounts (%s), %d files\n", h.Start.UTC().Format(time.RFC3339), total, len(names),
			strings.Join(names, ", "), h.Parts)
		n++
	}
	if n == 0 && account != "" {
		fmt.Fprintf(w, "no hour of %s to write: its hours that have ended were written already (%s)\n", account, took.Round(time.Millisecond))
		return
	}
	if n == 0 {
		fmt.Fprintf(w, "no hour to write: every hour that has ended was written already (%s)\n", took.Round(time.Millisecond))
		return
	}
	fmt.Fprintf(w, "%d hours written in %s\n", n, took.Round(time.Millisecond))
}

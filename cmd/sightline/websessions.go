package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/enrich"
	"github.com/sightline/sightline/internal/eventlog/embedded"
	"github.com/sightline/sightline/internal/filestore"
	"github.com/sightline/sightline/internal/server"
	"github.com/sightline/sightline/internal/sessionizer"
	"github.com/sightline/sightline/internal/websession"
)

// runWebSessionsBuild rebuilds the web-session files of a range of hours of
// one account from the event log, as new generations of the hours whose
// files change.
func runWebSessionsBuild(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := server.DefaultConfig()
	fs := newFlagSet("websessions build", stderr)
	data := dataDirFlag(fs)
	acct := fs.String("account", "", "account whose hours to rebuild (required)")
	fromFlag := fs.String("from", "", "first hour to rebuild: RFC 3339 time or epoch milliseconds (required)")
	toFlag := fs.String("to", "", "end of the range, exclusive: RFC 3339 time or epoch milliseconds (default: the last hour that has ended)")
	webSessionFlags(fs, &cfg)
	clockOffset := fs.Duration("clock-offset", 0, "the --clock-offset the server ran with, if any")
	if err := fs.Parse(args); err != nil {
		return err
	}
	now := func() time.Time { return time.Now().Add(*clockOffset) }
	if err := account.ValidateID(*acct); err != nil {
		return fmt.Errorf("--account: %w", err)
	}
	from, err := parseTime(*fromFlag)
	if err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	sc := cfg.Sessionizer
	sc.Now = now
	sc = sc.WithDefaults()
	// Hours whose visits may still be open are not rebuilt.
	ended := now().Add(-sc.Lag).Truncate(time.Hour)
	to := ended
	if *toFlag != "" {
		if to, err = parseTime(*toFlag); err != nil {
			return fmt.Errorf("--to: %w", err)
		}
		if to.After(ended) {
			fmt.Fprintf(stdout, "hours from %s have not ended: rebuilding up to %s\n", ended.UTC().Format(time.RFC3339), ended.UTC().Format(time.RFC3339))
			to = ended
		}
	}
	from = from.Truncate(time.Hour)
	if !to.After(from) {
		return fmt.Errorf("--from %s is not before --to %s", from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
	}

	log, err := embedded.OpenReader(server.LogDir(*data))
	if err != nil {
		return err
	}
	defer log.Close()
	enricher, err := enrich.New(cfg.Enrich)
	if err != nil {
		return err
	}
	defer enricher.Close()
	store, err := filestore.NewDir(server.WebSessionFilesDir(*data))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(server.WebSessionStateDir(*data), 0o755); err != nil {
		return err
	}
	scratch, err := os.MkdirTemp(server.WebSessionStateDir(*data), "rebuild-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	sc.Dir = scratch

	start := time.Now()
	fmt.Fprintf(stdout, "rebuilding %s, hours %s to %s, from the event log\n", *acct, from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
	lastReport := time.Now()
	res, err := sessionizer.Replay(ctx, nil, log, sc, *acct, from, to, func(p sessionizer.ReplayProgress) {
		if time.Since(lastReport) < time.Second {
			return
		}
		lastReport = time.Now()
		fmt.Fprintf(stdout, "  reading partition %d/%d: %d events (%.0f/s), %d visits\n", p.Partition+1, p.Partitions, p.Events,
			float64(p.Events)/time.Since(start).Seconds(), p.Visits)
	})
	if err != nil {
		return err
	}
	read := time.Since(start)
	fmt.Fprintf(stdout, "read %d events in %s (%.0f events/s): %d visits in %d hours\n", res.Events, read.Round(time.Millisecond),
		float64(res.Events)/read.Seconds(), res.Visits, len(res.Hours))
	if res.AgedOut != 0 {
		complete := time.UnixMilli(res.AgedOut).Add(sessionizer.Lookback(sc)).Truncate(time.Hour).Add(time.Hour)
		if from.Before(complete) {
			fmt.Fprintf(stdout, "warning: retention deleted the events received before %s: hours before %s cannot be rebuilt whole; they are left as they are\n",
				time.UnixMilli(res.AgedOut).UTC().Format(time.RFC3339), complete.UTC().Format(time.RFC3339))
		}
		res.Hours = dropBefore(res.Hours, complete.UnixMilli())
	}

	hours := sessionizer.NewHours(slog.New(slog.DiscardHandler), store, sessionizer.HoursConfig{Dir: scratch, Lock: server.WebSessionHoursLock(*data)}, nil,
		func(dst []byte, v *websession.Visit) []byte { return websession.AppendDocument(dst, v, enricher) })
	var total sessionizer.HourResult
	changed := 0
	writeStart := time.Now()
	for i, h := range res.Hours {
		hr, err := hours.WriteHour(ctx, h+time.Hour.Milliseconds())
		if err != nil {
			return fmt.Errorf("%w (rebuilt so far: %d of %d hours; run the command again to finish)", err, i, len(res.Hours))
		}
		total.Visits, total.Parts, total.Unchanged = total.Visits+hr.Visits, total.Parts+hr.Parts, total.Unchanged+hr.Unchanged
		state := "unchanged"
		if hr.Unchanged == 0 {
			state, changed = "new generation", changed+1
		}
		elapsed := time.Since(writeStart)
		left := time.Duration(float64(elapsed) / float64(i+1) * float64(len(res.Hours)-i-1))
		fmt.Fprintf(stdout, "  hour %s: %d visits, %s (%d/%d hours, %.0f visits/s, about %s left)\n",
			time.UnixMilli(h).UTC().Format(time.RFC3339), hr.Visits, state, i+1, len(res.Hours),
			float64(total.Visits)/elapsed.Seconds(), left.Round(time.Second))
	}
	took := time.Since(start)
	if changed == 0 {
		fmt.Fprintf(stdout, "nothing changed: the %d hours' files are already what the log gives (%d visits, %s)\n", len(res.Hours), total.Visits, took.Round(time.Millisecond))
		return nil
	}
	fmt.Fprintf(stdout, "done: %d hours rebuilt, %d of them with a new generation, %d visits, %d files, in %s (%.0f visits/s)\n",
		len(res.Hours), changed, total.Visits, total.Parts, took.Round(time.Millisecond), float64(total.Visits)/took.Seconds())
	return nil
}

// dropBefore returns the hours that start at or after t.
func dropBefore(hours []int64, t int64) []int64 {
	out := hours[:0]
	for _, h := range hours {
		if h >= t {
			out = append(out, h)
		}
	}
	return out
}

// parseTime reads a required RFC 3339 time or epoch milliseconds.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("required")
	}
	ms, err := parseSince(s)
	return time.UnixMilli(ms), err
}

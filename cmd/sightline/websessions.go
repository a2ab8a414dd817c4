package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/atomicfile"
	"github.com/sightline/sightline/internal/enrich"
	"github.com/sightline/sightline/internal/eventlog"
	"github.com/sightline/sightline/internal/eventlog/embedded"
	"github.com/sightline/sightline/internal/filelock"
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

	// The replay's spool is kept in a directory of the range's own until
	// every hour is written, so that an interrupted rebuild resumes with
	// the hours not written yet, without reading the log again.
	scratch := filepath.Join(server.WebSessionRebuildDir(*data), fmt.Sprintf("%s.%d.%d", *acct, from.UnixMilli(), to.UnixMilli()))
	if err := os.MkdirAll(scratch, 0o755); err != nil {
		return err
	}
	lock, err := filelock.Lock(filepath.Join(scratch, "LOCK"), false)
	if err != nil {
		return fmt.Errorf("another rebuild of the same range is running: %w", err)
	}
	defer lock.Close()
	sc.Dir = scratch
	start := time.Now()
	plan := rebuildPlan{Account: *acct, From: from.UnixMilli(), To: to.UnixMilli(), Timeout: sc.Timeout, MaxDuration: sc.MaxDuration, AnonymizeIP: sc.AnonymizeIP}
	res, resumed, err := plan.load(scratch)
	if err != nil {
		return err
	}
	if resumed {
		fmt.Fprintf(stdout, "resuming the rebuild of %s, hours %s to %s: %d of %d hours left to write\n", *acct, from.UTC().Format(time.RFC3339),
			to.UTC().Format(time.RFC3339), len(res.Hours), res.total)
	} else {
		fmt.Fprintf(stdout, "rebuilding %s, hours %s to %s, from the event log\n", *acct, from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
		if res, err = replay(ctx, stdout, log, sc, plan, from, to); err != nil {
			return err
		}
		if err := plan.save(scratch, res); err != nil {
			return err
		}
	}

	hours, closeHours, err := openHours(*data, cfg, scratch)
	if err != nil {
		return err
	}
	defer closeHours()
	visits, parts, changed := 0, 0, 0
	writeStart := time.Now()
	for i, h := range res.Hours {
		hr, err := hours.WriteHour(ctx, h+time.Hour.Milliseconds())
		if err != nil {
			return fmt.Errorf("%w (written: %d of %d hours; run the command again to resume)", err, i, len(res.Hours))
		}
		visits, parts = visits+hr.Total(), parts+hr.Parts
		state := "unchanged"
		if hr.Unchanged == 0 {
			state, changed = "new generation", changed+1
		}
		elapsed := time.Since(writeStart)
		left := time.Duration(float64(elapsed) / float64(i+1) * float64(len(res.Hours)-i-1))
		fmt.Fprintf(stdout, "  hour %s: %d visits, %s (%d/%d hours, %.0f visits/s, about %s left)\n",
			time.UnixMilli(h).UTC().Format(time.RFC3339), hr.Total(), state, i+1, len(res.Hours),
			float64(visits)/elapsed.Seconds(), left.Round(time.Second))
	}
	if err := os.RemoveAll(scratch); err != nil {
		return err
	}
	took := time.Since(start)
	if resumed {
		// The interrupted runs may have changed the hours written before,
		// and those this run found already written.
		fmt.Fprintf(stdout, "done: the rebuild of %d hours is finished; this run wrote the last %d (%d with a new generation), %d visits, %d files, in %s\n",
			res.total, len(res.Hours), changed, visits, parts, took.Round(time.Millisecond))
		return nil
	}
	if changed == 0 {
		fmt.Fprintf(stdout, "nothing changed: the %d hours' files are already what the log gives (%d visits, %s)\n", len(res.Hours), visits, took.Round(time.Millisecond))
		return nil
	}
	fmt.Fprintf(stdout, "done: %d hours rebuilt, %d of them with a new generation, %d visits, %d files, in %s (%.0f visits/s)\n",
		len(res.Hours), changed, visits, parts, took.Round(time.Millisecond), float64(visits)/took.Seconds())
	return nil
}

// replay reads the log for the rebuild of plan, with progress, and returns
// the hours to write, without those whose events have aged out.
func replay(ctx context.Context, stdout io.Writer, log eventlog.Reader, sc sessionizer.Config, plan rebuildPlan, from, to time.Time) (replayed, error) {
	start, lastReport := time.Now(), time.Now()
	res, err := sessionizer.Replay(ctx, nil, log, sc, plan.Account, from, to, func(p sessionizer.ReplayProgress) {
		if time.Since(lastReport) < time.Second {
			return
		}
		lastReport = time.Now()
		left := "" // partitions are about the same size: once one is read, the rest take about as long each
		if p.Partition > 0 {
			left = fmt.Sprintf(", about %s left", (time.Since(start) / time.Duration(p.Partition) * time.Duration(p.Partitions-p.Partition)).Round(time.Second))
		}
		fmt.Fprintf(stdout, "  reading partition %d/%d: %d events (%.0f/s), %d visits%s\n", p.Partition+1, p.Partitions, p.Events,
			float64(p.Events)/time.Since(start).Seconds(), p.Visits, left)
	})
	if err != nil {
		return replayed{}, err
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
	return replayed{Hours: res.Hours, total: len(res.Hours)}, nil
}

// rebuildPlan is what a rebuild's spool was made for: a rerun with the
// same plan resumes with it, another starts over.
type rebuildPlan struct {
	Account     string        `json:"account"`
	From        int64         `json:"from"`
	To          int64         `json:"to"`
	Timeout     time.Duration `json:"timeout"`
	MaxDuration time.Duration `json:"maxDuration"`
	AnonymizeIP bool          `json:"anonymizeIP"`
}

// replayed is the outcome of a rebuild's replay: the hours to write.
type replayed struct {
	Hours []int64 `json:"hours"`
	total int     // hours the replay found, written or not
}

// planFile is written in a rebuild's directory once its replay is done.
const planFile = "replayed.json"

// load returns the hours of dir's replay left to write, if it was made for
// p; otherwise it empties dir for a new replay.
func (p rebuildPlan) load(dir string) (replayed, bool, error) {
	var saved struct {
		Plan rebuildPlan `json:"plan"`
		replayed
	}
	b, err := os.ReadFile(filepath.Join(dir, planFile))
	if err == nil && json.Unmarshal(b, &saved) == nil && saved.Plan == p {
		res := replayed{total: len(saved.Hours)}
		for _, h := range saved.Hours {
			// An hour's spool is deleted once its files are written.
			if _, err := os.Stat(filepath.Join(dir, "spool", strconv.FormatInt(h, 10))); err == nil {
				res.Hours = append(res.Hours, h)
			}
		}
		return res, true, nil
	}
	if err := os.RemoveAll(filepath.Join(dir, "spool")); err != nil {
		return replayed{}, false, err
	}
	if err := os.Remove(filepath.Join(dir, planFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return replayed{}, false, err
	}
	return replayed{}, false, nil
}

// save records in dir that its replay for p is done (Replay has synced
// the spool).
func (p rebuildPlan) save(dir string, r replayed) error {
	b, err := json.Marshal(struct {
		Plan rebuildPlan `json:"plan"`
		replayed
	}{p, r})
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, planFile), b)
}

// openHours returns the hourly job's writer over the spool in dir, with
// the enrichment of cfg, and what closes it.
func openHours(data string, cfg server.Config, dir string) (*sessionizer.Hours, func(), error) {
	enricher, err := enrich.New(cfg.Enrich)
	if err != nil {
		return nil, nil, err
	}
	store, err := filestore.NewDir(server.WebSessionFilesDir(data))
	if err != nil {
		enricher.Close()
		return nil, nil, err
	}
	h := sessionizer.NewHours(slog.New(slog.DiscardHandler), store, sessionizer.HoursConfig{Dir: dir, Lock: server.WebSessionHoursLock(data)}, nil,
		func(dst []byte, v *websession.Visit) []byte { return websession.AppendDocument(dst, v, enricher) })
	return h, func() { enricher.Close() }, nil
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

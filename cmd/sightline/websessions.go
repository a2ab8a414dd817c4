package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
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
)

// runWebSessionsBuild rebuilds the web-session files of a range of hours of
// one account from the event log, as new generations of the hours whose
// files change.
func runWebSessionsBuild(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := server.DefaultConfig()
	fs, data, now := webSessionCommand("websessions build", stderr, &cfg)
	acct := fs.String("account", "", "account whose hours to rebuild (required)")
	fromFlag := fs.String("from", "", "first hour to rebuild: RFC 3339 time or epoch milliseconds (required)")
	toFlag := fs.String("to", "", "end of the range, exclusive: RFC 3339 time or epoch milliseconds (default: the last hour that has ended)")
	if err := fs.Parse(args); err != nil {
		return err
	}
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

	// The rebuild's work (its state, the replay's checkpoint and spool) is
	// kept in a directory of the range's own until every hour is written,
	// so that an interrupted rebuild resumes where it stopped.
	scratch := filepath.Join(server.WebSessionRebuildDir(*data), fmt.Sprintf("%s.%d.%d", *acct, from.UnixMilli(), to.UnixMilli()))
	if err := os.MkdirAll(scratch, atomicfile.DirMode); err != nil {
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
	st, resumed, err := loadRebuild(scratch, plan)
	if err != nil {
		return err
	}
	span := fmt.Sprintf("%s, hours %s to %s", *acct, from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
	switch {
	case resumed && st.Replayed:
		fmt.Fprintf(stdout, "resuming the rebuild of %s: the log is read, %d of %d hours left to write\n", span, len(st.left(scratch)), len(st.Hours))
	case resumed:
		fmt.Fprintf(stdout, "resuming the rebuild of %s: reading the log on from where it stopped\n", span)
	default:
		fmt.Fprintf(stdout, "rebuilding %s, from the event log\n", span)
	}
	if !st.Replayed {
		if st.Hours, err = replay(ctx, stdout, log, sc, plan, from, to); err != nil {
			return fmt.Errorf("%w (run the command again to resume)", err)
		}
		st.Replayed = true
		if err := st.save(scratch); err != nil {
			return err
		}
	}
	toWrite := st.left(scratch)

	hours, closeHours, err := openHours(*data, cfg, scratch)
	if err != nil {
		return err
	}
	defer closeHours()
	visits, parts, changed := 0, 0, 0
	writeStart := time.Now()
	for i, h := range toWrite {
		hr, err := hours.WriteHour(ctx, h+time.Hour.Milliseconds())
		if err != nil {
			return fmt.Errorf("%w (written: %d of %d hours; run the command again to resume)", err, i, len(toWrite))
		}
		visits, parts = visits+hr.Total(), parts+hr.Parts
		state := "unchanged"
		if hr.Unchanged == 0 {
			state, changed = "new generation", changed+1
		}
		elapsed := time.Since(writeStart)
		left := time.Duration(float64(elapsed) / float64(i+1) * float64(len(toWrite)-i-1))
		fmt.Fprintf(stdout, "  hour %s: %d visits, %s (%d/%d hours, %.0f visits/s, about %s left)\n",
			time.UnixMilli(h).UTC().Format(time.RFC3339), hr.Total(), state, i+1, len(toWrite),
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
			len(st.Hours), len(toWrite), changed, visits, parts, took.Round(time.Millisecond))
		return nil
	}
	if changed == 0 {
		fmt.Fprintf(stdout, "nothing changed: the %d hours' files are already what the log gives (%d visits, %s)\n", len(toWrite), visits, took.Round(time.Millisecond))
		return nil
	}
	fmt.Fprintf(stdout, "done: %d hours rebuilt, %d of them with a new generation, %d visits, %d files, in %s (%.0f visits/s)\n",
		len(toWrite), changed, visits, parts, took.Round(time.Millisecond), float64(visits)/took.Seconds())
	return nil
}

// replay reads the log for the rebuild of plan, with progress, and returns
// the hours to write, without those whose events have aged out.
func replay(ctx context.Context, stdout io.Writer, log eventlog.RangeReader, sc sessionizer.Config, plan rebuildPlan, from, to time.Time) ([]int64, error) {
	start, lastReport := time.Now(), time.Now()
	res, err := sessionizer.Replay(ctx, slog.New(slog.DiscardHandler), log, sc, plan.Account, from, to, func(p sessionizer.ReplayProgress) {
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
		return nil, err
	}
	read := time.Since(start)
	fmt.Fprintf(stdout, "read %d events in %s (%.0f events/s): %d hours with visits\n", res.Events, read.Round(time.Millisecond),
		float64(res.Events)/read.Seconds(), len(res.Hours))
	if res.AgedOut != 0 {
		complete := time.UnixMilli(res.AgedOut).Add(sessionizer.Lookback(sc)).Truncate(time.Hour).Add(time.Hour)
		if from.Before(complete) {
			fmt.Fprintf(stdout, "warning: retention deleted the events received before %s: hours before %s cannot be rebuilt whole; they are left as they are\n",
				time.UnixMilli(res.AgedOut).UTC().Format(time.RFC3339), complete.UTC().Format(time.RFC3339))
		}
		res.Hours = slices.DeleteFunc(res.Hours, func(h int64) bool { return h < complete.UnixMilli() })
	}
	return res.Hours, nil
}

// rebuildPlan is what a rebuild's work is for: a rerun with the same plan
// goes on with it, another starts over.
type rebuildPlan struct {
	Account     string        `json:"account"`
	From        int64         `json:"from"`
	To          int64         `json:"to"`
	Timeout     time.Duration `json:"timeout"`
	MaxDuration time.Duration `json:"maxDuration"`
	AnonymizeIP bool          `json:"anonymizeIP"`
}

// rebuildState is what a rebuild's directory holds besides the replay's
// checkpoint and spool: its plan and, once the log is read, the hours to
// write.
type rebuildState struct {
	Plan     rebuildPlan `json:"plan"`
	Replayed bool        `json:"replayed"`
	Hours    []int64     `json:"hours,omitempty"`
}

// stateFile is the rebuildState in a rebuild's directory.
const stateFile = "rebuild.json"

// loadRebuild returns the state of the rebuild in dir and true if it is for
// p; otherwise it empties dir (but its lock) and starts a state for p.
func loadRebuild(dir string, p rebuildPlan) (rebuildState, bool, error) {
	var st rebuildState
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err == nil && json.Unmarshal(b, &st) == nil && st.Plan == p {
		return st, true, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return st, false, err
	}
	for _, e := range entries {
		if e.Name() != "LOCK" {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return st, false, err
			}
		}
	}
	st = rebuildState{Plan: p}
	return st, false, st.save(dir)
}

// save writes st in dir.
func (st rebuildState) save(dir string) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, stateFile), b)
}

// left returns the hours of st not written yet: an hour's spool is deleted
// once its files are written.
func (st rebuildState) left(dir string) []int64 {
	var left []int64
	for _, h := range st.Hours {
		if _, err := os.Stat(filepath.Join(dir, "spool", strconv.FormatInt(h, 10))); err == nil {
			left = append(left, h)
		}
	}
	return left
}

// webSessionCommand returns the flag set of a command that writes
// web-session files as the server does: --data, serve's web-session
// settings (into cfg) and --clock-offset, whose clock now returns.
func webSessionCommand(name string, stderr io.Writer, cfg *server.Config) (fs *flag.FlagSet, data *string, now func() time.Time) {
	fs = newFlagSet(name, stderr)
	data = dataDirFlag(fs)
	webSessionFlags(fs, cfg)
	offset := fs.Duration("clock-offset", 0, "the --clock-offset the server runs or ran with, if any")
	return fs, data, func() time.Time { return time.Now().Add(*offset) }
}

// openHours returns the hourly job's writer over the spool in dir, with
// the enrichment of cfg, and what closes it.
func openHours(data string, cfg server.Config, dir string) (*sessionizer.Hours, func(), error) {
	store, err := filestore.NewDir(server.WebSessionFilesDir(data))
	if err != nil {
		return nil, nil, err
	}
	accounts, err := account.OpenStore(slog.New(slog.DiscardHandler), server.AccountsDir(data))
	if err != nil {
		return nil, nil, err
	}
	enricher, err := enrich.New(cfg.Enrich)
	if err != nil {
		return nil, nil, err
	}
	h := sessionizer.NewHours(slog.New(slog.DiscardHandler), store, sessionizer.HoursConfig{Dir: dir, Lock: server.WebSessionHoursLock(data)}, nil,
		server.RenderDocument(accounts, enricher))
	return h, func() { enricher.Close() }, nil
}

// parseTime reads a required RFC 3339 time or epoch milliseconds.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("required")
	}
	ms, err := parseSince(s)
	return time.UnixMilli(ms), err
}

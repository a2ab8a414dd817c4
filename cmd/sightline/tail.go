package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/eventlog"
	"github.com/sightline/sightline/internal/eventlog/embedded"
	"github.com/sightline/sightline/internal/server"
)

// runEventsTail prints an account's stored events, one JSON object a line,
// partition by partition (each partition in the order it was stored). It
// reads the data directory directly, so it works whether or not a server
// runs on it; --follow keeps printing events as they are stored.
func runEventsTail(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("events tail", stderr)
	data := dataDirFlag(fs)
	acct := fs.String("account", "", "account ID (required)")
	follow := fs.Bool("follow", false, "keep printing new events until interrupted")
	poll := fs.Duration("poll", 200*time.Millisecond, "with --follow, how often to look for new events")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *acct == "" {
		return errors.New("events tail: --account is required")
	}
	if err := account.ValidateID(*acct); err != nil {
		return err
	}
	r, err := embedded.OpenReader(server.LogDir(*data))
	if err != nil {
		return fmt.Errorf("cannot open event log in %s: %w", *data, err)
	}
	defer r.Close()

	w := bufio.NewWriterSize(stdout, 64<<10)
	defer w.Flush()
	pos := make([]eventlog.Offset, r.Partitions())
	for {
		for p := range pos {
			err := tailPartition(ctx, r, p, &pos[p], *acct, w)
			if ctx.Err() != nil {
				return nil // interrupted: what was read is printed
			}
			if err != nil {
				return err
			}
		}
		if !*follow {
			return nil
		}
		if err := w.Flush(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(*poll):
		}
	}
}

func tailPartition(ctx context.Context, r eventlog.Reader, p int, pos *eventlog.Offset, acct string, w *bufio.Writer) error {
	var werr error
	next, err := eventlog.ReadToEnd(ctx, r, p, *pos, func(m eventlog.Message) bool {
		h, err := event.ParseRecordHead(m.Value)
		if err != nil || h.AccountID != acct {
			return true
		}
		w.Write(m.Value)
		werr = w.WriteByte('\n')
		return werr == nil
	})
	if err != nil {
		return fmt.Errorf("cannot read partition %d: %w", p, err)
	}
	*pos = next
	return werr
}

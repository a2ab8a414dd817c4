package sessionizer

import (
	"context"
	"errors"
	"time"
)

// Flushing closes visits and completes hours as of a moment, at once,
// rather than when the watermark, which trails the newest event by Lag,
// gets there. Its caller vouches that every event received before that
// moment is in the log (the server's ingest barrier, or no server running),
// so that the visits and hours are the ones the sessionizer would have
// made anyway, only sooner.

// FlushResult is what a flush did.
type FlushResult struct {
	// Closed is the number of visits closed since the previous flush, or
	// since Run started: those the flush closed and those the watermark
	// closed before it. (Run may read the log before it takes the flush:
	// counting from the flush alone, a flush of a sessionizer just started
	// would count some of the visits it closes and not others.)
	Closed int64
	// Hours are the ends of the complete hours whose files are not
	// written yet (epoch ms, oldest first), for Hours.WriteHour.
	Hours []int64
}

type flushRequest struct {
	ctx    context.Context
	at     int64
	answer func(FlushResult, error)
}

var (
	// ErrStopped is Flush's error once Run has returned.
	ErrStopped = errors.New("sessionizer stopped")
	// ErrStalled is Flush's error while Run is stalled by a failure and
	// retrying (Sessionizer.Stalled).
	ErrStalled = errors.New("sessionizer stalled")
)

// Flush reads the log to its end, closes every visit whose closing time
// is before at, declares complete every hour that ended by at and
// checkpoints. Every event received before at must be in the log. Run
// carries it out: Flush waits for Run to take the request, and returns
// ErrStopped if Run has returned.
func (s *Sessionizer) Flush(ctx context.Context, at time.Time) (FlushResult, error) {
	type answer struct {
		res FlushResult
		err error
	}
	got := make(chan answer, 1)
	req := flushRequest{ctx: ctx, at: at.UnixMilli(), answer: func(r FlushResult, err error) { got <- answer{r, err} }}
	select {
	case s.flushes <- req:
	case <-s.done:
		return FlushResult{}, ErrStopped
	case <-ctx.Done():
		return FlushResult{}, ctx.Err()
	}
	select {
	case a := <-got:
		return a.res, a.err
	case <-ctx.Done():
		return FlushResult{}, ctx.Err()
	}
}

// flush carries out a Flush on Run's goroutine.
func (s *Sessionizer) flush(ctx context.Context, at int64) (FlushResult, error) {
	for {
		progressed, err := s.Step(ctx)
		if err != nil {
			return FlushResult{}, err
		}
		if !progressed {
			break
		}
	}
	for _, p := range s.parts {
		p.watermark = max(p.watermark, at)
		if err := s.closeDue(ctx, p); err != nil {
			return FlushResult{}, err
		}
	}
	if err := s.Checkpoint(); err != nil {
		return FlushResult{}, err
	}
	closed := s.closedCount - s.flushedCount
	s.flushedCount = s.closedCount
	return FlushResult{Closed: closed, Hours: s.completeHours()}, nil
}

// FlushReport is what a flush closed and wrote.
type FlushReport struct {
	// At is the moment the flush was as of.
	At time.Time `json:"at"`
	// Closed is the number of visits closed since the previous flush
	// (FlushResult.Closed).
	Closed int64 `json:"closedVisits"`
	// Hours are the hours whose files were written, oldest first.
	Hours []FlushedHour `json:"hours"`
}

// FlushedHour is an hour whose files a flush wrote.
type FlushedHour struct {
	Start time.Time `json:"start"`
	// Visits is the number of visits written, by account.
	Visits map[string]int `json:"visits"`
	// Parts is the number of files written.
	Parts int `json:"files"`
	// Unchanged counts the accounts whose files were already these.
	Unchanged int `json:"unchangedAccounts"`
}

// FlushAndWrite flushes s as of at (see Flush) and writes, with h, the
// files of every complete hour, the ones the flush completed and any the
// hourly job has not written yet.
func FlushAndWrite(ctx context.Context, s *Sessionizer, h *Hours, at time.Time) (FlushReport, error) {
	rep := FlushReport{At: at}
	res, err := s.Flush(ctx, at)
	if err != nil {
		return rep, err
	}
	rep.Closed = res.Closed
	for _, end := range res.Hours {
		hr, err := h.WriteHour(ctx, end)
		if err != nil {
			return rep, err
		}
		if len(hr.Visits) > 0 {
			rep.Hours = append(rep.Hours, FlushedHour{Start: time.UnixMilli(end - time.Hour.Milliseconds()).UTC(),
				Visits: hr.Visits, Parts: hr.Parts, Unchanged: hr.Unchanged})
		}
	}
	return rep, nil
}

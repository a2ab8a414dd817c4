package sessionizer

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"testing"
	"time"
)

func TestFlushClosesAsOfAt(t *testing.T) {
	r := newRig(t)
	r.send("acme", "u1", "v1", t0.Add(50*time.Minute), t0.Add(50*time.Minute)) // closes at 80 min
	r.send("acme", "u2", "v2", t0.Add(10*time.Minute), t0.Add(10*time.Minute)) // closes at 40 min
	// A lag of 30 minutes keeps Run's own watermark at 35 min, before
	// either visit closes, whether or not Run has read to the end before
	// the first flush: only the flushes close visits.
	cfg := r.config()
	cfg.Lag = 30 * time.Minute
	s, ctx, stop := r.running(cfg, t0.Add(65*time.Minute))

	for _, tc := range []struct {
		at     time.Duration
		closed int64
		hours  []time.Duration // ends of the complete hours with visits to write
	}{
		{65 * time.Minute, 1, []time.Duration{time.Hour}},
		{70 * time.Minute, 0, []time.Duration{time.Hour}},
		{81 * time.Minute, 1, []time.Duration{time.Hour}},
		{2 * time.Hour, 0, []time.Duration{time.Hour, 2 * time.Hour}},
	} {
		res, err := s.Flush(ctx, t0.Add(tc.at))
		if err != nil {
			t.Fatal(err)
		}
		var want []int64
		for _, h := range tc.hours {
			want = append(want, t0.Add(h).UnixMilli())
		}
		if res.Closed != tc.closed || !slices.Equal(res.Hours, want) {
			t.Errorf("flush at %s: closed %d, hours %v; want %d, %v", tc.at, res.Closed, res.Hours, tc.closed, want)
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Flush(context.Background(), t0.Add(3*time.Hour)); !errors.Is(err, ErrStopped) {
		t.Fatalf("flush after Run returned: %v, want ErrStopped", err)
	}
	// A second sessionizer on the same state waits for the first to close.
	if _, err := New(slog.New(slog.DiscardHandler), r.log, cfg, nil, func(int64) {}); err == nil {
		t.Fatal("a second sessionizer opened the state directory in use")
	}
}

package sessionizer

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

// TestRunRecoversFromAFailedWrite fails the spool's write of a closing
// visit, as a full disk would: Run stalls and says so rather than
// stopping, and once the write can succeed it goes on from its last
// checkpoint and writes every visit exactly once.
func TestRunRecoversFromAFailedWrite(t *testing.T) {
	r := newRig(t)
	m := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	r.send("acme", "u1", "v1", m(1), m(1))
	r.send("acme", "u2", "v2", m(2), m(2))
	r.send("acme", "u3", "v3", m(70), m(70))
	r.s.Close()
	r.now = m(20)
	cfg := r.config()
	cfg.Poll = 10 * time.Millisecond
	var complete []int64
	done := make(chan int64, 16)
	s, err := New(slog.New(slog.DiscardHandler), r.log, cfg, nil, func(end int64) { done <- end })
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// The spool's folder of the 10:00 hour is a file: the visits closing
	// then cannot be spooled (mkdir fails, whoever runs the test).
	block := filepath.Join(r.config().Dir, "spool", strconv.FormatInt(t0.UnixMilli(), 10))
	if err := os.MkdirAll(filepath.Dir(block), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(block, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- s.Run(ctx) }()

	if _, err := s.Flush(ctx, m(90)); err == nil {
		t.Fatal("flush with the spool unwritable succeeded")
	}
	// Run records the failure once the flush has its answer.
	for deadline := time.Now().Add(30 * time.Second); s.Stalled() == nil; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("Run does not report the failure")
		}
	}
	if _, err := s.Flush(ctx, m(90)); !errors.Is(err, ErrStalled) {
		t.Fatalf("flush while stalled: %v, want ErrStalled", err)
	}
	if _, _, err := s.VisitPages(ctx, "acme", "u3", "v3", 0); !errors.Is(err, ErrStalled) {
		t.Fatalf("pages while stalled: %v, want ErrStalled", err)
	}
	if err := os.Remove(block); err != nil { // space freed
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); s.Stalled() != nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("still stalled after the spool became writable: %v", s.Stalled())
		}
	}
	if _, err := s.Flush(ctx, m(180)); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
	for len(done) > 0 {
		complete = append(complete, <-done)
	}
	for _, end := range slices.Compact(slices.Sorted(slices.Values(complete))) {
		if _, err := r.hours.WriteHour(context.Background(), end); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"acme/u1/v1#0:" + ms(m(1)), "acme/u2/v2#0:" + ms(m(2)), "acme/u3/v3#0:" + ms(m(70))}
	if got := r.allDocs("acme"); !slices.Equal(got, want) {
		t.Fatalf("documents %v, want %v", got, want)
	}
}

func TestBackoffGrowsToItsBound(t *testing.T) {
	var b backoff
	var got []time.Duration
	for range 8 {
		got = append(got, b.next())
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, time.Minute, time.Minute}
	if !slices.Equal(got, want) {
		t.Fatalf("waits %v, want %v", got, want)
	}
	b.reset()
	if d := b.next(); d != time.Second {
		t.Fatalf("after reset: %v", d)
	}
}

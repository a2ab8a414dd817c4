package oauth1

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestNonceStore(t *testing.T) {
	now := time.Unix(1_464_778_800, 0)
	ts := now.Unix()
	type use struct {
		at                time.Duration // after now
		key, token, nonce string
		ts                int64
		want              error
	}
	tests := []struct {
		name    string
		max     int
		uses    []use
		wantLen int
	}{
		{name: "same nonce twice", uses: []use{
			{0, "k", "t", "n", ts, nil},
			{time.Second, "k", "t", "n", ts, ErrNonceUsed},
		}, wantLen: 1},
		{name: "each part of the key counts", uses: []use{
			{0, "k", "t", "n", ts, nil},
			{0, "k2", "t", "n", ts, nil},
			{0, "k", "t2", "n", ts, nil},
			{0, "k", "t", "n2", ts, nil},
			{0, "k", "t", "n", ts + 1, nil},
			{0, "k", "tn", "", ts, nil}, // not the same as token "t", nonce "n"
			{0, "kt", "", "n", ts, nil}, // nor as consumer key "k", token "t"
			{0, "k", "t", "n", ts, ErrNonceUsed},
		}, wantLen: 7},
		{name: "forgotten once the timestamp is out of the window", uses: []use{
			{0, "k", "t", "n", ts, nil},
			{5 * time.Minute, "k", "t", "n", ts, ErrNonceUsed},
			{7 * time.Minute, "k", "t", "other", ts + 7*60, nil},
		}, wantLen: 1},
		{name: "future timestamps are kept", uses: []use{
			{0, "k", "t", "n", ts + 300, nil},
			{9 * time.Minute, "k", "t", "n", ts + 300, ErrNonceUsed},
		}, wantLen: 1},
		{name: "full", max: 2, uses: []use{
			{0, "k", "t", "1", ts, nil},
			{0, "k", "t", "2", ts, nil},
			{0, "k", "t", "3", ts, ErrNonceStoreFull},
			{0, "k", "t", "1", ts, ErrNonceUsed},
			{7 * time.Minute, "k", "t", "3", ts + 420, nil},
		}, wantLen: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewNonceStore(5*time.Minute, tt.max)
			for i, u := range tt.uses {
				if err := s.Use(now.Add(u.at), u.key, u.token, u.nonce, u.ts); !errors.Is(err, u.want) {
					t.Errorf("use %d: %v, want %v", i, err, u.want)
				}
			}
			if s.Len() != tt.wantLen {
				t.Errorf("Len %d, want %d", s.Len(), tt.wantLen)
			}
		})
	}
}

// TestNonceStoreConcurrent uses every nonce from many goroutines at once:
// exactly one use of each must succeed.
func TestNonceStoreConcurrent(t *testing.T) {
	s := NewNonceStore(0, 0)
	now := time.Now()
	var ok atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				switch err := s.Use(now, "k", "t", fmt.Sprint(i), now.Unix()); {
				case err == nil:
					ok.Add(1)
				case !errors.Is(err, ErrNonceUsed):
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 500 || s.Len() != 500 {
		t.Errorf("%d uses succeeded, %d remembered; want 500", ok.Load(), s.Len())
	}
}

package hourfiles

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/websession"
)

// TestConcurrentRebuild rebuilds two hours over and over, sometimes
// crashing in the middle of a generation, and expires superseded
// generations, while readers list and download: a listing always has both
// hours, each the three parts of one generation, never older than a
// generation listed before, and every listed file downloads with the
// content of its generation.
func TestConcurrentRebuild(t *testing.T) {
	const (
		grace = time.Second // much longer than a reader's listing and downloads
		parts = 3
	)
	run := 3 * time.Second
	if testing.Short() {
		run = time.Second
	}
	ctx := context.Background()
	s := newStore(t)
	content := func(hr, gen, n int) string { return fmt.Sprintf("hour %d generation %d part %d", hr, gen, n) }
	var ready, done atomic.Bool
	var commits, expired atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		defer done.Store(true)
		deadline := time.Now().Add(run)
		for i := 0; time.Now().Before(deadline) && !t.Failed(); i++ {
			for hr := range 2 {
				start, end := hourTimes(hr)
				g, err := Begin(ctx, s, acct, start, end)
				if err != nil {
					t.Error(err)
					return
				}
				for n := range parts {
					if i%5 == 4 && n == 2 {
						break // a crash: the generation is left as it is
					}
					if err := g.PutPart(ctx, n, func(w io.Writer) error {
						_, err := io.WriteString(w, content(hr, g.Number(), n))
						return err
					}); err != nil {
						t.Error(err)
						return
					}
				}
				if i%5 == 4 {
					continue
				}
				if err := g.Commit(ctx, 1); err != nil {
					t.Error(err)
					return
				}
				commits.Add(1)
			}
			ready.Store(true)
			n, err := Expire(ctx, s, acct, time.Now(), time.Time{}, grace)
			if err != nil {
				t.Error(err)
				return
			}
			expired.Add(int64(n))
			time.Sleep(time.Millisecond)
		}
	})
	var listings atomic.Int64
	for range 2 {
		wg.Go(func() {
			newest := map[int64]int{} // the generation last listed of each hour
			for !done.Load() && !t.Failed() {
				wasReady := ready.Load()
				files, err := s.List(ctx, acct)
				if err != nil {
					t.Error(err)
					return
				}
				visible := Visible(files)
				gens, count := map[int64]int{}, map[int64]int{}
				for i, f := range visible {
					fn, err := websession.ParseFileName(f.Name)
					if err != nil {
						t.Errorf("listed %s: %v", f.Name, err)
						return
					}
					hr, gen := int((fn.ScopeStart.UnixMilli()-h0)/hourMs), fn.Generation
					if g, ok := gens[fn.ScopeStart.UnixMilli()]; ok && g != gen {
						t.Errorf("listing mixes generations %d and %d of hour %d: %v", g, gen, hr, names(visible))
						return
					}
					gens[fn.ScopeStart.UnixMilli()] = gen
					count[fn.ScopeStart.UnixMilli()]++
					if fn.Part != i%parts {
						t.Errorf("listing %v: %s is not part %d", names(visible), f.Name, i%parts)
						return
					}
					r, _, err := s.Open(ctx, acct, f.Name)
					if err != nil {
						t.Errorf("listed %s, cannot download it: %v", f.Name, err)
						return
					}
					data, err := io.ReadAll(r)
					r.Close()
					if want := content(hr, gen, fn.Part); err != nil || string(data) != want {
						t.Errorf("%s: %q, %v; want %q", f.Name, data, err, want)
						return
					}
				}
				if wasReady && (len(gens) != 2 || len(visible) != 2*parts) {
					t.Errorf("listing misses an hour or a part: %v", names(visible))
					return
				}
				for h, gen := range gens {
					if count[h] != parts {
						t.Errorf("hour %d: %d parts listed: %v", (h-h0)/hourMs, count[h], names(visible))
						return
					}
					if gen < newest[h] {
						t.Errorf("hour %d: generation %d listed after %d", (h-h0)/hourMs, gen, newest[h])
						return
					}
					newest[h] = gen
				}
				listings.Add(1)
			}
		})
	}
	wg.Wait()
	t.Logf("%d commits, %d files expired, %d listings", commits.Load(), expired.Load(), listings.Load())
	if commits.Load() < 10 || expired.Load() == 0 || listings.Load() < 10 {
		t.Errorf("too little happened: %d commits, %d files expired, %d listings", commits.Load(), expired.Load(), listings.Load())
	}
}

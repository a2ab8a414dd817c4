package ingest

import (
	"context"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"
)

// budget is a number of bytes that requests reserve and release, waiting
// a while for them when others hold them all.
type budget struct {
	sem  *semaphore.Weighted
	size int64
	wait time.Duration
	held atomic.Int64 // for the gauge: the semaphore does not tell
}

func newBudget(size int64, wait time.Duration) *budget {
	return &budget{sem: semaphore.NewWeighted(size), size: size, wait: wait}
}

// reserve takes n bytes of the budget, waiting up to b.wait for them unless
// ctx ends first, and reports whether it took them.
func (b *budget) reserve(ctx context.Context, n int64) bool {
	if n <= 0 {
		return true
	}
	if !b.sem.TryAcquire(n) {
		ctx, cancel := context.WithTimeout(ctx, b.wait)
		err := b.sem.Acquire(ctx, n)
		cancel()
		if err != nil {
			return false
		}
	}
	b.held.Add(n)
	return true
}

// release gives back n bytes taken by reserve.
func (b *budget) release(n int64) {
	if n > 0 {
		b.held.Add(-n)
		b.sem.Release(n)
	}
}

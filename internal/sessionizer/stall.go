package sessionizer

import (
	"sync/atomic"
	"time"
)

// A consumer that fails to store what it made (a full disk, an I/O error)
// does not stop: it is stalled, says so (Stalled, a metric, the server's
// readiness), waits with a growing backoff and tries again from its last
// durable state. Nothing it made after that state is kept, so a retry
// neither loses nor repeats output.

// Backoff bounds: the first retry after a second, doubling up to a
// minute.
const (
	firstRetry = time.Second
	lastRetry  = time.Minute
)

// backoff is the growing wait between retries after failures.
type backoff struct{ wait time.Duration }

// next returns the wait before the next retry and doubles the following.
func (b *backoff) next() time.Duration {
	b.wait = min(max(2*b.wait, firstRetry), lastRetry)
	return b.wait
}

// reset starts again from the first wait, after a success.
func (b *backoff) reset() { b.wait = 0 }

// stall is a consumer's failure since its last success, readable by any
// goroutine.
type stall struct {
	err atomic.Pointer[error]
}

// set records err (nil: working again).
func (s *stall) set(err error) {
	if err == nil {
		s.err.Store(nil)
		return
	}
	s.err.Store(&err)
}

// get returns the failure, or nil.
func (s *stall) get() error {
	if p := s.err.Load(); p != nil {
		return *p
	}
	return nil
}

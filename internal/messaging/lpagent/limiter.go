package lpagent

import (
	"sync"
	"time"
)

// maxLimiterKeys bounds the failed-login limiter's memory: about 100 bytes
// a key.
const maxLimiterKeys = 100_000

// limiter is a token bucket per key (account and login) that failed
// logins draw from: a key whose bucket is empty may not try again until
// it refills. Full buckets are dropped: they say nothing. At most max
// keys are kept; when more fail at once, an arbitrary one is forgotten.
type limiter struct {
	mu      sync.Mutex
	burst   float64
	rate    float64 // tokens a second
	max     int
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(burst, rate float64, max int) *limiter {
	return &limiter{burst: burst, rate: rate, max: max, buckets: map[string]*bucket{}}
}

// level returns the bucket's tokens at now. l.mu is held.
func (l *limiter) level(b *bucket, now time.Time) float64 {
	return min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
}

// allow reports whether key may try now.
func (l *limiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	return b == nil || l.level(b, now) >= 1
}

// fail takes a token from key's bucket.
func (l *limiter) fail(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= l.max {
			l.evict(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	b.tokens, b.last = max(0, l.level(b, now)-1), now
}

// succeed forgets key's failures.
func (l *limiter) succeed(key string) {
	l.mu.Lock()
	delete(l.buckets, key)
	l.mu.Unlock()
}

// evict drops the full buckets, or an arbitrary one if none is. l.mu is
// held.
func (l *limiter) evict(now time.Time) {
	for k, b := range l.buckets {
		if l.level(b, now) >= l.burst {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) < l.max {
		return
	}
	for k := range l.buckets {
		delete(l.buckets, k)
		return
	}
}

// len returns how many keys the limiter keeps.
func (l *limiter) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

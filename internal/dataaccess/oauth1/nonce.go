package oauth1

import (
	"errors"
	"strconv"
	"sync"
	"time"
)

// ErrNonceUsed is returned by NonceStore.Use for a nonce seen before.
var ErrNonceUsed = errors.New("nonce already used")

// ErrNonceStoreFull is returned by NonceStore.Use when it holds its
// maximum of nonces younger than the window.
var ErrNonceStoreFull = errors.New("nonce store full")

// DefaultMaxNonces bounds a NonceStore made with max 0: at 100 bytes an
// entry, about 25 MiB; enough for 400 requests a second sustained over a
// 10-minute span of accepted timestamps.
const DefaultMaxNonces = 1 << 18

// NonceStore remembers the nonces of accepted requests, keyed by consumer
// key, token, nonce and timestamp as RFC 5849 §3.3 scopes them, until
// their timestamp falls out of the window (a request with such a
// timestamp is refused anyway). It is safe for concurrent use and holds at
// most max entries: when full, it refuses new nonces rather than forget
// one that could be replayed.
type NonceStore struct {
	window time.Duration
	max    int

	mu sync.Mutex
	// buckets holds the keys by the minute of their timestamp, so that
	// forgetting old ones drops whole maps.
	buckets map[int64]map[string]struct{}
	n       int
}

// NewNonceStore returns a store for timestamps within window of the clock
// (DefaultWindow if zero) holding at most max nonces (DefaultMaxNonces if
// zero).
func NewNonceStore(window time.Duration, max int) *NonceStore {
	if window <= 0 {
		window = DefaultWindow
	}
	if max <= 0 {
		max = DefaultMaxNonces
	}
	return &NonceStore{window: window, max: max, buckets: map[int64]map[string]struct{}{}}
}

const bucketSeconds = 60

// Use records the nonce of a request with timestamp ts (seconds) seen at
// now. It returns ErrNonceUsed if the same consumer key, token, nonce and
// timestamp were recorded before, ErrNonceStoreFull if the store is full.
func (s *NonceStore) Use(now time.Time, consumerKey, token, nonce string, ts int64) error {
	// Length prefixes keep the parts apart whatever they contain.
	key := strconv.Itoa(len(consumerKey)) + ":" + consumerKey + strconv.Itoa(len(token)) + ":" + token +
		strconv.FormatInt(ts, 10) + ":" + nonce
	b := ts / bucketSeconds
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forget(now)
	bucket := s.buckets[b]
	if _, ok := bucket[key]; ok {
		return ErrNonceUsed
	}
	if s.n >= s.max {
		return ErrNonceStoreFull
	}
	if bucket == nil {
		bucket = map[string]struct{}{}
		s.buckets[b] = bucket
	}
	bucket[key] = struct{}{}
	s.n++
	return nil
}

// forget drops the buckets whose every timestamp is older than the window.
func (s *NonceStore) forget(now time.Time) {
	oldest := now.Add(-s.window).Unix() - 1 // the oldest timestamp still accepted, rounded down
	for b, bucket := range s.buckets {
		if (b+1)*bucketSeconds <= oldest {
			s.n -= len(bucket)
			delete(s.buckets, b)
		}
	}
}

// Len returns the number of nonces remembered.
func (s *NonceStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

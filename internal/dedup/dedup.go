// Package dedup remembers which events a server has stored, so that a tag
// that retries a batch is acknowledged without storing its events twice.
//
// An Index holds 128-bit keys of (account, event id) in memory (about 30
// bytes a key, see BenchmarkMemoryPerKey), in two
// generations of one window each: a key inserted at time t is found until
// at least t+window and forgotten by t+2*window. Keys are hashed with a
// per-process random seed (hash/maphash), so nobody can craft an id that
// collides with another account's events. An Index is rebuilt from the
// event log when a server starts; it is not persisted itself.
//
// Ingest reserves the keys of a batch before appending it to the log and
// settles them after: a second request carrying the same id while the first
// is in flight waits for the first's outcome instead of guessing, so an
// event is never acknowledged as a duplicate of one that was not stored.
package dedup

import (
	"context"
	"hash/maphash"
	"slices"
	"sync"
	"time"
)

// Key identifies one event of one account.
type Key [2]uint64

// The top shardBits of a key pick its shard. A shard's table doubles when
// it fills, under the shard's lock, and keys spread evenly, so every shard
// grows at about the same time: many small shards keep each of those
// pauses short (at 10 million keys, a batch waits at most a few
// milliseconds instead of 80; see BenchmarkReserveSettle) for the same
// memory per key.
const (
	shardBits  = 12
	shardCount = 1 << shardBits
)

// Index is the set of stored event keys. It is safe for concurrent use.
type Index struct {
	window       time.Duration
	seed1, seed2 maphash.Seed
	shards       [shardCount]shard
}

type shard struct {
	mu   sync.Mutex
	cur  keySet // keys stored or reserved in this window
	prev keySet // those of the window before
	// pending are the keys of cur that are reserved, not yet settled: a
	// few at a time, so that settling them as stored, the common case,
	// does not have to reach into the large tables again.
	pending []Key
	rotated time.Time
	// settled, when not nil, is closed by the next Settle of a key of the
	// shard: the callers waiting for a pending key then try again.
	settled chan struct{}
}

// New returns an empty index that remembers keys for at least window.
func New(window time.Duration, now time.Time) *Index {
	ix := &Index{window: window, seed1: maphash.MakeSeed(), seed2: maphash.MakeSeed()}
	for i := range ix.shards {
		s := &ix.shards[i]
		s.rotated = now
	}
	return ix
}

// Key returns the key of event id of account.
func (ix *Index) Key(account, id string) Key {
	// Account IDs and event ids are short (32 and 64 bytes at most), so the
	// joined name fits on the stack; longer ones still work, via the heap.
	var buf [128]byte
	b := append(append(append(buf[:0], account...), 0), id...)
	// The low bit set keeps every key apart from the zero Key, which marks
	// empty slots of a keySet.
	return Key{maphash.Bytes(ix.seed1, b) | 1, maphash.Bytes(ix.seed2, b)}
}

func (ix *Index) shard(k Key) *shard { return &ix.shards[k[0]>>(64-shardBits)] }

// rotate drops the older generation when the current one is a window old.
// Called with s.mu held.
func (s *shard) rotate(now time.Time, window time.Duration) {
	if now.Sub(s.rotated) < window {
		return
	}
	s.prev, s.cur, s.rotated = s.cur, sizeHint(s.cur.n), now
}

// has reports whether k is in either generation.
func (s *shard) has(k Key) bool {
	return s.cur.has(k) || s.prev.has(k)
}

// unpend ends the reservation of k, and reports whether there was one.
func (s *shard) unpend(k Key) bool {
	i := slices.Index(s.pending, k)
	if i < 0 {
		return false
	}
	last := len(s.pending) - 1
	s.pending[i] = s.pending[last]
	s.pending = s.pending[:last]
	return true
}

// Reserve sets dup[i] for each keys[i] already stored, and reserves the
// others for the caller, who must then call Settle with the same slices.
// keys must not repeat. A key reserved by another caller is waited for; ctx
// bounds the wait, and on its end Reserve releases what it reserved and
// returns ctx.Err().
func (ix *Index) Reserve(ctx context.Context, now time.Time, keys []Key, dup []bool) error {
	var wait chan struct{}
	for {
		wait = ix.tryReserve(now, keys, dup)
		if wait == nil {
			return nil
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// tryReserve reserves every key or none. When a key is reserved by someone
// else it releases what it took and returns that reservation's channel,
// so that no caller waits while holding reservations (no deadlock).
func (ix *Index) tryReserve(now time.Time, keys []Key, dup []bool) chan struct{} {
	for i, k := range keys {
		s := ix.shard(k)
		s.mu.Lock()
		s.rotate(now, ix.window)
		switch {
		case slices.Contains(s.pending, k):
			// Another caller's: release ours and wait for a settlement.
			if s.settled == nil {
				s.settled = make(chan struct{})
			}
			wait := s.settled
			s.mu.Unlock()
			ix.Settle(keys[:i], dup[:i], false)
			return wait
		case s.has(k):
			dup[i] = true
		default:
			dup[i] = false
			s.cur.add(k)
			s.pending = append(s.pending, k)
		}
		s.mu.Unlock()
	}
	return nil
}

// Settle ends the reservations Reserve made: when stored is true the keys
// are remembered as stored, otherwise they are free again. Waiters on
// them are woken.
func (ix *Index) Settle(keys []Key, dup []bool, stored bool) {
	for i, k := range keys {
		if dup[i] {
			continue
		}
		s := ix.shard(k)
		s.mu.Lock()
		// The shard may have rotated since the key was reserved.
		if s.unpend(k) && !stored && !s.cur.delete(k) {
			s.prev.delete(k)
		}
		if s.settled != nil {
			close(s.settled)
			s.settled = nil
		}
		s.mu.Unlock()
	}
}

// Add remembers k as stored; used when rebuilding the index from the log.
func (ix *Index) Add(now time.Time, k Key) {
	s := ix.shard(k)
	s.mu.Lock()
	s.rotate(now, ix.window)
	s.cur.add(k)
	s.mu.Unlock()
}

// Len returns the number of keys remembered.
func (ix *Index) Len() int {
	n := 0
	for i := range ix.shards {
		s := &ix.shards[i]
		s.mu.Lock()
		n += s.cur.n + s.prev.n
		s.mu.Unlock()
	}
	return n
}

package enrich

import (
	"hash/maphash"
	"strings"
	"sync"
)

// DefaultUACacheSize is the number of User-Agents whose Device the Enricher
// keeps when Config.UACacheSize is 0.
const DefaultUACacheSize = 8192

// maxCachedUALen is the longest User-Agent the cache keeps. Browsers send
// 100-400 bytes; longer strings are parsed every time, so that the cache
// holds at most about size × (maxCachedUALen + overhead) bytes whatever
// clients send.
const maxCachedUALen = 1024

// deviceCache is a bounded map from User-Agent to Device, safe for
// concurrent use. It is split into shards, each under its own lock, and a
// full shard evicts an arbitrary entry (Go's map iteration starts at a
// random place) to make room: no bookkeeping on hits, and no worse than LRU
// for a stream where a few thousand User-Agents make most visits.
type deviceCache struct {
	seed   maphash.Seed
	mask   uint64 // len(shards)-1; len(shards) is a power of two
	shards []deviceCacheShard
}

type deviceCacheShard struct {
	mu  sync.RWMutex
	max int
	m   map[string]Device
	_   [64]byte // keeps neighbouring shards' locks off one cache line
}

// newDeviceCache returns a cache of at most size entries; size must be > 0.
func newDeviceCache(size int) *deviceCache {
	n := 1
	for n < 16 && n*2*64 <= size { // at least 64 entries a shard
		n *= 2
	}
	c := &deviceCache{seed: maphash.MakeSeed(), mask: uint64(n - 1), shards: make([]deviceCacheShard, n)}
	for i := range c.shards {
		c.shards[i].max = size / n
		if i < size%n {
			c.shards[i].max++
		}
		c.shards[i].m = make(map[string]Device)
	}
	return c
}

func (c *deviceCache) shard(userAgent string) *deviceCacheShard {
	return &c.shards[maphash.String(c.seed, userAgent)&c.mask]
}

// device returns the Device of userAgent from the cache, parsing and adding
// it on a miss.
func (c *deviceCache) device(userAgent string) Device {
	if len(userAgent) > maxCachedUALen {
		return parseDevice(userAgent)
	}
	s := c.shard(userAgent)
	s.mu.RLock()
	d, ok := s.m[userAgent]
	s.mu.RUnlock()
	if ok {
		return d
	}
	d = parseDevice(userAgent)
	// The key is cloned: userAgent may share memory with a whole request
	// body, which the cache must not keep alive.
	key := strings.Clone(userAgent)
	s.mu.Lock()
	if _, ok := s.m[key]; !ok && len(s.m) >= s.max {
		for k := range s.m {
			delete(s.m, k)
			break
		}
	}
	s.m[key] = d
	s.mu.Unlock()
	return d
}

// len returns the number of entries, for tests.
func (c *deviceCache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}

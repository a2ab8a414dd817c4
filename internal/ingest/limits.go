package ingest

import (
	"context"
	"net/netip"
	"sync"
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

// clientLimit counts the requests in progress of each client, and bounds
// them to max (none when max is 0). A client is an IPv4 address, or an
// IPv6 /64: one network, which holds as many addresses as it likes.
type clientLimit struct {
	max int
	mu  sync.Mutex
	n   map[netip.Addr]int // clients with requests in progress
}

// enter counts a request of the client at a, unless the client has max in
// progress. It returns the client, which leave takes when the request
// ends, and whether the request was counted. Requests of no known address
// are not counted.
func (c *clientLimit) enter(a netip.Addr) (netip.Addr, bool) {
	if c.max <= 0 || !a.IsValid() {
		return netip.Addr{}, true
	}
	client := clientOf(a)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[client] >= c.max {
		return client, false
	}
	c.n[client]++
	return client, true
}

// leave uncounts a request that enter counted for client.
func (c *clientLimit) leave(client netip.Addr) {
	if !client.IsValid() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[client] <= 1 {
		delete(c.n, client)
	} else {
		c.n[client]--
	}
}

// clientOf returns the client of address a: a itself, or the first
// address of its /64 for IPv6.
func clientOf(a netip.Addr) netip.Addr {
	if a = a.Unmap(); a.Is6() {
		p, _ := a.Prefix(64)
		return p.Addr()
	}
	return a
}

// clientName names the client that clientOf returned.
func clientName(client netip.Addr) string {
	if client.Is6() {
		return client.String() + "/64"
	}
	return client.String()
}

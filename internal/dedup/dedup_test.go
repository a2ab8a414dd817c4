package dedup

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestReserveSettle(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	ix := New(24*time.Hour, t0)
	a, b := ix.Key("acct", "e1"), ix.Key("acct", "e2")
	if a == b || ix.Key("acct", "e1") != a || ix.Key("other", "e1") == a {
		t.Fatal("keys do not separate accounts and ids")
	}
	keys := []Key{a, b}
	dup := make([]bool, 2)
	if err := ix.Reserve(context.Background(), t0, keys, dup); err != nil {
		t.Fatal(err)
	}
	if dup[0] || dup[1] {
		t.Fatalf("fresh keys reported duplicate: %v", dup)
	}
	ix.Settle(keys, dup, true)

	for _, tc := range []struct {
		name string
		at   time.Duration
		dup  bool
	}{
		{"same moment", 0, true},
		{"23h later", 23 * time.Hour, true},
		{"25h later (one rotation)", 25 * time.Hour, true},
		{"49h later (two rotations)", 49 * time.Hour, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := []bool{false}
			if err := ix.Reserve(context.Background(), t0.Add(tc.at), []Key{a}, d); err != nil {
				t.Fatal(err)
			}
			if d[0] != tc.dup {
				t.Fatalf("dup = %v, want %v", d[0], tc.dup)
			}
			ix.Settle([]Key{a}, d, false)
		})
	}
}

// TestSettleAfterRotation settles keys reserved before their shard
// rotated: a failed append must still free them, a stored one keep them.
func TestSettleAfterRotation(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	for _, stored := range []bool{true, false} {
		ix := New(24*time.Hour, t0)
		k := ix.Key("acct", "e1")
		dup := []bool{false}
		if err := ix.Reserve(context.Background(), t0, []Key{k}, dup); err != nil || dup[0] {
			t.Fatalf("reserve: %v, dup %v", err, dup[0])
		}
		later := t0.Add(25 * time.Hour)
		ix.Add(later, Key{k[0] ^ 4, k[1]}) // a key of the same shard: it rotates
		ix.Settle([]Key{k}, dup, stored)
		if err := ix.Reserve(context.Background(), later, []Key{k}, dup); err != nil {
			t.Fatal(err)
		}
		if dup[0] != stored {
			t.Errorf("settled stored=%v across a rotation: duplicate %v", stored, dup[0])
		}
		ix.Settle([]Key{k}, dup, false)
	}
}

func TestFailedAppendFreesKeys(t *testing.T) {
	now := time.Now()
	ix := New(time.Hour, now)
	k := []Key{ix.Key("a", "1")}
	dup := []bool{false}
	ix.Reserve(context.Background(), now, k, dup)
	ix.Settle(k, dup, false)
	ix.Reserve(context.Background(), now, k, dup)
	if dup[0] {
		t.Fatal("key of a failed append reported as duplicate")
	}
}

// A second request with the same id while the first is in flight waits for
// the first's outcome: duplicate if it was stored, its own if it failed.
func TestConcurrentSameKeyWaits(t *testing.T) {
	for _, stored := range []bool{true, false} {
		t.Run(fmt.Sprint("stored=", stored), func(t *testing.T) {
			now := time.Now()
			ix := New(time.Hour, now)
			k := []Key{ix.Key("a", "1")}
			first := []bool{false}
			ix.Reserve(context.Background(), now, k, first)
			got := make(chan bool)
			go func() {
				second := []bool{false}
				ix.Reserve(context.Background(), now, k, second)
				got <- second[0]
			}()
			select {
			case <-got:
				t.Fatal("second reservation did not wait for the first")
			case <-time.After(20 * time.Millisecond):
			}
			ix.Settle(k, first, stored)
			if d := <-got; d != stored {
				t.Fatalf("second saw dup=%v, want %v", d, stored)
			}
		})
	}
}

func TestReserveContextEnds(t *testing.T) {
	now := time.Now()
	ix := New(time.Hour, now)
	k := []Key{ix.Key("a", "1")}
	ix.Reserve(context.Background(), now, k, []bool{false})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := ix.Reserve(ctx, now, k, []bool{false}); err == nil {
		t.Fatal("Reserve returned nil while the key stayed reserved")
	}
}

// Batches that share keys in opposite orders never deadlock, and every key
// is stored exactly once across them.
func TestNoDeadlockAndExactlyOnce(t *testing.T) {
	now := time.Now()
	ix := New(time.Hour, now)
	const n = 200
	var fresh atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < n; i++ {
				keys := []Key{ix.Key("a", fmt.Sprint(i)), ix.Key("a", fmt.Sprint(n-1-i))}
				if keys[0] == keys[1] {
					keys = keys[:1]
				}
				if g%2 == 1 && len(keys) == 2 {
					keys[0], keys[1] = keys[1], keys[0]
				}
				dup := make([]bool, len(keys))
				if err := ix.Reserve(context.Background(), now, keys, dup); err != nil {
					t.Error(err)
					return
				}
				for _, d := range dup {
					if !d {
						fresh.Add(1)
					}
				}
				ix.Settle(keys, dup, true)
			}
		}(g)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("deadlock")
	}
	if fresh.Load() != n {
		t.Fatalf("%d keys stored, want %d", fresh.Load(), n)
	}
	if ix.Len() != n {
		t.Fatalf("Len = %d, want %d", ix.Len(), n)
	}
}

// BenchmarkReserveSettle reserves batches of 25 new keys from every CPU,
// random as Index.Key's are, and settles each after the next 32 of its
// CPU, as requests settle theirs once the log has committed the batches in
// flight. It also reports the slowest batch: the index grows as it fills,
// and a batch waits for the shards it touches to grow.
func BenchmarkReserveSettle(b *testing.B) {
	const inFlight = 32
	now := time.Now()
	ix := New(time.Hour, now)
	var seq, slowest atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var keys [inFlight][25]Key
		var dup [inFlight][25]bool
		rng := rand.New(rand.NewPCG(uint64(seq.Add(1)), 0))
		for n := 0; pb.Next(); n++ {
			i := n % inFlight
			start := time.Now()
			if n >= inFlight {
				ix.Settle(keys[i][:], dup[i][:], true)
			}
			for j := range keys[i] {
				keys[i][j] = Key{rng.Uint64() | 1, rng.Uint64()}
			}
			ix.Reserve(context.Background(), now, keys[i][:], dup[i][:])
			for d := int64(time.Since(start)); d > slowest.Load(); {
				if slowest.CompareAndSwap(slowest.Load(), d) {
					break
				}
			}
		}
	})
	b.ReportMetric(float64(ix.Len()), "keys")
	b.ReportMetric(float64(slowest.Load())/1e3, "slowest-µs")
}

func TestKeySet(t *testing.T) {
	var s keySet
	if s.has(Key{1, 2}) || s.delete(Key{1, 2}) {
		t.Fatal("empty set has a key")
	}
	const n = 10_000
	key := func(i uint64) Key { return Key{i<<2 | 1, i * 7} } // colliding homes on purpose: i*7 & mask repeats
	for i := uint64(1); i <= n; i++ {
		s.add(key(i))
		s.add(key(i)) // twice: no duplicate entry
	}
	if s.n != n {
		t.Fatalf("n = %d, want %d", s.n, n)
	}
	for i := uint64(1); i <= n; i++ {
		if !s.has(key(i)) {
			t.Fatalf("key %d not found", i)
		}
	}
	if s.has(Key{3 << 2, 1}) {
		t.Fatal("has a key never added")
	}
	h := sizeHint(1000)
	if 4*1000 > 3*len(h.slots) {
		t.Fatalf("sizeHint(1000) has %d slots", len(h.slots))
	}
}

// TestKeySetDelete adds and deletes keys in a small table full of
// collisions, against a map.
func TestKeySetDelete(t *testing.T) {
	var s keySet
	want := map[Key]bool{}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20_000 {
		k := Key{rng.Uint64N(300)<<2 | 1, rng.Uint64N(8)} // few homes: long probe runs
		if rng.IntN(2) == 0 {
			s.add(k)
			want[k] = true
		} else if deleted := s.delete(k); deleted != want[k] {
			t.Fatalf("delete(%v) = %v, want %v", k, deleted, want[k])
		} else {
			delete(want, k)
		}
		if s.n != len(want) {
			t.Fatalf("n = %d, want %d", s.n, len(want))
		}
	}
	for i := range uint64(300) {
		for j := range uint64(8) {
			if k := (Key{i<<2 | 1, j}); s.has(k) != want[k] {
				t.Fatalf("key %v: has %v, want %v", k, s.has(k), want[k])
			}
		}
	}
}

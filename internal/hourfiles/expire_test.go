package hourfiles

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

// removals is a Store that records what it removes.
type removals struct {
	Store
	mu      sync.Mutex
	removed []string
}

func (r *removals) Remove(ctx context.Context, account, name string) error {
	r.mu.Lock()
	r.removed = append(r.removed, name)
	r.mu.Unlock()
	return r.Store.Remove(ctx, account, name)
}

func TestExpire(t *testing.T) {
	const grace = time.Hour
	type file struct {
		name string
		age  time.Duration
	}
	const (
		fresh = time.Minute
		old   = 2 * time.Hour  // past the grace
		stale = 25 * time.Hour // past AbandonedAfter
	)
	tests := []struct {
		name    string
		files   []file
		cutoff  int // hours after h0: hours ending before its start are deleted
		deleted []string
	}{
		{name: "nothing to do",
			files: []file{{part(0, 0, 0), stale}, {part(1, 0, 0), stale}, {part(1, 0, 1), stale}, {manifest(1, 1, 1), fresh}, {"README", stale}}},
		{name: "retention",
			files: []file{
				{part(0, 0, 0), fresh}, {part(0, 1, 0), fresh}, {manifest(0, 0, 2), fresh}, {pending(0, 1), fresh}, {part(0, 0, 1), fresh},
				{part(1, 0, 0), fresh}, {part(2, 0, 0), stale}},
			cutoff:  2, // hour 1 ends at the cutoff: kept
			deleted: []string{part(0, 0, 0), part(0, 1, 0), part(0, 0, 1), manifest(0, 0, 2), pending(0, 1)}},
		{name: "superseded after the grace",
			files:   []file{{part(0, 0, 0), stale}, {part(0, 1, 0), stale}, {manifest(0, 0, 2), stale}, {part(0, 0, 1), old}, {manifest(0, 1, 1), old}},
			deleted: []string{part(0, 0, 0), part(0, 1, 0), manifest(0, 0, 2)}},
		{name: "superseded within the grace",
			files: []file{{part(0, 0, 0), stale}, {manifest(0, 0, 1), stale}, {part(0, 0, 1), old}, {manifest(0, 1, 1), fresh}}},
		{name: "generation 0 without manifest superseded after the grace",
			files:   []file{{part(0, 0, 0), 30 * 24 * time.Hour}, {part(0, 0, 1), old}, {manifest(0, 1, 1), old}},
			deleted: []string{part(0, 0, 0)}},
		{name: "generation 0 without manifest superseded within the grace",
			files: []file{{part(0, 0, 0), 30 * 24 * time.Hour}, {part(0, 0, 1), fresh}, {manifest(0, 1, 1), fresh}}},
		{name: "several superseded generations",
			files: []file{{part(0, 0, 0), stale}, {part(0, 0, 1), stale}, {manifest(0, 1, 1), stale},
				{part(0, 0, 2), old}, {manifest(0, 2, 1), old}, {part(0, 0, 3), old}, {manifest(0, 3, 1), old}},
			deleted: []string{part(0, 0, 0), part(0, 0, 1), part(0, 0, 2), manifest(0, 1, 1), manifest(0, 2, 1)}},
		{name: "superseded long ago, newer commits since",
			files: []file{{part(0, 0, 0), stale}, {manifest(0, 0, 1), stale}, {part(0, 0, 1), old}, {manifest(0, 1, 1), old},
				{part(0, 0, 2), fresh}, {manifest(0, 2, 1), fresh}},
			deleted: []string{part(0, 0, 0), manifest(0, 0, 1)}},
		{name: "crash leftovers older than the committed generation",
			files: []file{{part(0, 0, 0), stale}, {manifest(0, 0, 1), stale}, {pending(0, 1), old}, {part(0, 0, 1), old},
				{part(0, 0, 2), old}, {manifest(0, 2, 1), old}},
			deleted: []string{part(0, 0, 0), part(0, 0, 1), manifest(0, 0, 1), pending(0, 1)}},
		{name: "crash leftovers older than a commit within the grace",
			files: []file{{part(0, 0, 0), stale}, {manifest(0, 0, 1), stale}, {pending(0, 1), old}, {part(0, 0, 1), old},
				{part(0, 0, 2), fresh}, {manifest(0, 2, 1), fresh}}},
		{name: "newer generation being written",
			files: []file{{part(0, 0, 1), stale}, {manifest(0, 1, 1), stale}, {pending(0, 2), old}, {part(0, 0, 2), old}}},
		{name: "newer generation abandoned",
			files:   []file{{part(0, 0, 1), stale}, {manifest(0, 1, 1), stale}, {pending(0, 2), stale}, {part(0, 0, 2), stale}},
			deleted: []string{part(0, 0, 2), pending(0, 2)}},
		{name: "newer generation with one recent part",
			files: []file{{part(0, 0, 1), stale}, {manifest(0, 1, 1), stale}, {pending(0, 2), stale}, {part(0, 0, 2), stale}, {part(0, 1, 2), fresh}}},
		{name: "newer generation whose manifest misses a part",
			files:   []file{{part(0, 0, 0), stale}, {part(0, 0, 1), stale}, {manifest(0, 1, 2), stale}},
			deleted: []string{part(0, 0, 1), manifest(0, 1, 2)}},
		{name: "new hour being written",
			files: []file{{pending(0, 0), old}, {part(0, 0, 0), old}}},
		{name: "new hour abandoned",
			files:   []file{{pending(0, 0), stale}, {part(0, 0, 0), stale}, {pending(1, 0), stale}},
			deleted: []string{part(0, 0, 0), pending(0, 0), pending(1, 0)}},
		{name: "pending marker of a committed generation",
			files:   []file{{part(0, 0, 0), fresh}, {manifest(0, 0, 1), fresh}, {pending(0, 0), fresh}},
			deleted: []string{pending(0, 0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Now()
			s := newStore(t)
			for _, f := range tt.files {
				s.put(t, f.name, "x", f.age, now)
			}
			before := s.names(t)
			visibleBefore := visible(t, s)
			r := &removals{Store: s}
			cutoff, _ := hourTimes(tt.cutoff)
			n, err := Expire(context.Background(), r, acct, now, cutoff, grace)
			if err != nil {
				t.Fatal(err)
			}
			if n != len(tt.deleted) || !eq(r.removed, tt.deleted) {
				t.Errorf("deleted %d: %v\nwant %v", n, r.removed, tt.deleted)
			}
			want := slices.DeleteFunc(before, func(name string) bool { return slices.Contains(tt.deleted, name) })
			if got := s.names(t); !eq(got, want) {
				t.Errorf("left %v\nwant %v", got, want)
			}
			if tt.cutoff == 0 {
				if got := visible(t, s); !eq(got, visibleBefore) {
					t.Errorf("visible before %v, after %v", visibleBefore, got)
				}
			}
		})
	}
}

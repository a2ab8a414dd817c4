package hourfiles

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/sightline/sightline/internal/filestore"
)

// Expire deletes, of account's files:
//   - every file of the hours that end before retentionCutoff;
//   - the files of a generation older than its hour's current one (the
//     newest committed generation) once the first newer generation's commit
//     (the ModTime of its manifest) and all the generation's own files are
//     older than now-grace: superseded generations, kept for the downloads
//     that began before, and leftovers of crashes;
//   - the files of generations newer than the current one, or of hours
//     without one, once all of them are older than now-AbandonedAfter: they
//     may be being written until then;
//   - the pending marker of a committed generation that Commit left.
//
// A generation's parts go before its manifest and pending marker, so that
// it stops being committed first. Expire returns how many files it deleted.
func Expire(ctx context.Context, store Store, account string, now, retentionCutoff time.Time, grace time.Duration) (int, error) {
	files, err := store.List(ctx, account)
	if err != nil {
		return 0, fmt.Errorf("cannot expire the files of account %s: %w", account, err)
	}
	var doomed []filestore.Info
	hours := index(files)
	for _, h := range slices.SortedFunc(maps.Keys(hours), compareHours) {
		doomed = append(doomed, expired(hours[h], time.UnixMilli(h.end).Before(retentionCutoff), now, grace)...)
	}
	for i, f := range doomed {
		if err := store.Remove(ctx, account, f.Name); err != nil {
			return i, fmt.Errorf("cannot expire the files of account %s: %w", account, err)
		}
	}
	return len(doomed), nil
}

// expired returns the files of an hour that Expire deletes, parts before
// manifests and pending markers. retired is whether the hour is past the
// retention.
func expired(h hour, retired bool, now time.Time, grace time.Duration) []filestore.Info {
	gens := slices.Sorted(maps.Keys(h))
	// supersededAt is when each generation stopped being visible, if it
	// was: the first commit of a newer generation.
	supersededAt := map[int]time.Time{}
	var first time.Time
	for _, n := range slices.Backward(gens) {
		if !first.IsZero() {
			supersededAt[n] = first
		}
		if m, ok := h[n].committed(); ok && (first.IsZero() || m.info.ModTime.Before(first)) {
			first = m.info.ModTime
		}
	}
	var doomed, last []filestore.Info
	c, hasCurrent := h.current()
	for _, n := range gens {
		g := h[n]
		parts, others := g.files()
		var all bool
		switch {
		case retired:
			all = true
		case hasCurrent && n == c.gen:
			if c.manifest != nil && g.pending != nil {
				last = append(last, *g.pending)
			}
		case hasCurrent && n < c.gen:
			all = supersededAt[n].Before(now.Add(-grace)) && newest(parts, others).Before(now.Add(-grace))
		default:
			all = newest(parts, others).Before(now.Add(-AbandonedAfter))
		}
		if all {
			doomed = append(doomed, parts...)
			last = append(last, others...)
		}
	}
	return append(doomed, last...)
}

// newest returns the latest modification time of the files.
func newest(lists ...[]filestore.Info) time.Time {
	var t time.Time
	for _, files := range lists {
		for _, f := range files {
			if f.ModTime.After(t) {
				t = f.ModTime
			}
		}
	}
	return t
}

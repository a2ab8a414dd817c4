package ingest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/dedup"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/eventlog"
	"github.com/sightline/sightline/internal/eventlog/embedded"
)

func appendStored(t *testing.T, log *embedded.Log, id string, serverTime time.Time) {
	t.Helper()
	rec := event.AppendRecord(nil, &event.Stored{ID: id, AccountID: "shop", VisitorID: "v", VisitID: "s",
		Time: serverTime.UnixMilli(), ServerTime: serverTime.UnixMilli(), AppName: "CHAT", EventName: "open", Data: []byte(`{}`)})
	if err := eventlog.Append(context.Background(), log, []byte("shop/v"), [][]byte{rec}); err != nil {
		t.Fatal(err)
	}
}

func TestDedupStateRebuild(t *testing.T) {
	dir := t.TempDir()
	log, err := embedded.Open(nil, nil, filepath.Join(dir, "log"), embedded.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	marks := filepath.Join(dir, "marks.json")
	const window = time.Hour
	t0 := time.Now().Add(-3 * time.Hour)

	state, err := OpenDedupState(nil, marks, window, log)
	if err != nil {
		t.Fatal(err)
	}
	appendStored(t, log, "old", t0)
	// A record before the mark but stamped recently: only a rebuild that
	// reads from the start of the log finds it.
	appendStored(t, log, "before-mark", time.Now())
	if err := state.Mark(t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	appendStored(t, log, "recent", time.Now().Add(-10*time.Minute))

	for _, tc := range []struct {
		name      string
		dropMarks bool
		want      map[string]bool
	}{
		{"from the mark", false, map[string]bool{"old": false, "before-mark": false, "recent": true}},
		{"whole log without marks", true, map[string]bool{"old": false, "before-mark": true, "recent": true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.dropMarks {
				os.Remove(marks)
			}
			st, err := OpenDedupState(nil, marks, window, log)
			if err != nil {
				t.Fatal(err)
			}
			ix, err := st.Rebuild(context.Background(), time.Now())
			if err != nil {
				t.Fatal(err)
			}
			for id, want := range tc.want {
				dup := []bool{false}
				k := ix.Key("shop", id)
				ix.Reserve(context.Background(), time.Now(), []dedup.Key{k}, dup)
				ix.Settle([]dedup.Key{k}, dup, false)
				if dup[0] != want {
					t.Errorf("%s remembered = %v, want %v", id, dup[0], want)
				}
			}
		})
	}
}

func TestDedupMarksPruned(t *testing.T) {
	dir := t.TempDir()
	log, err := embedded.Open(nil, nil, filepath.Join(dir, "log"), embedded.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	state, err := OpenDedupState(nil, filepath.Join(dir, "marks.json"), time.Hour, log)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	for i := 0; i < 30; i++ {
		if err := state.Mark(t0.Add(time.Duration(i) * 10 * time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	// Marks 10 minutes apart, window an hour: the newest mark at least an
	// hour old and the six after it remain.
	if len(state.marks) != 7 {
		t.Fatalf("%d marks kept, want 7", len(state.marks))
	}
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/eventlog"
	"github.com/sightline/sightline/internal/eventlog/embedded"
	"github.com/sightline/sightline/internal/server"
	"github.com/sightline/sightline/internal/websession"
)

// TestRebuildKilled kills a rebuild again and again, at random moments,
// while readers list and download the hours as a Data Access client would;
// the rerun finishes it. Readers never see an hour missing, half written or
// mixed from two generations, and in the end every hour's newest
// generation holds every visit exactly once.
func TestRebuildKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the sightline binary; skipped with -short")
	}
	data := t.TempDir()
	sightline(t, "accounts", "add", "shop", "--data", data)
	const hours, perHour = 8, 1000
	first := time.Now().Truncate(time.Hour).Add(-(hours + 3) * time.Hour)
	writeVisits(t, data, first, hours, perHour)
	// Generation 0 of every hour, by a flush with no server running.
	if out := sightline(t, "websessions", "flush", "--data", data); !strings.Contains(out, fmt.Sprintf("%d visits closed", hours*perHour)) {
		t.Fatalf("flush:\n%s", out)
	}
	files := filepath.Join(server.WebSessionFilesDir(data), "shop")
	want, err := readHours(files)
	if err != nil || len(want) != hours {
		t.Fatalf("hours after the flush: %d, %v", len(want), err)
	}

	// Readers check every visible hour against generation 0's visits.
	ctx, stopReading := context.WithCancel(context.Background())
	var reads atomic.Int64
	var wg sync.WaitGroup
	failed := make(chan error, 2)
	for range 2 {
		wg.Go(func() {
			for ctx.Err() == nil {
				got, err := readHours(files)
				if err == nil {
					err = sameHours(got, want)
				}
				if err != nil {
					failed <- err
					return
				}
				reads.Add(1)
			}
		})
	}

	// A rebuild that anonymises IP addresses makes a new generation of
	// every hour. Kill it, then run it again until it finishes.
	args := []string{"websessions", "build", "--data", data, "--account", "shop", "--from", first.Format(time.RFC3339), "--anonymize-ip"}
	kills, resumed := 0, 0
	for ; kills < 4; kills++ {
		cmd := exec.Command(binary, args...)
		cmd.Dir = workDir
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill it while it reads the log or after it has written a
		// random number of hours.
		sc := bufio.NewScanner(out)
		killAfter := rand.IntN(hours - 1)
		written := 0
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "resuming") {
				resumed++
			}
			if strings.HasPrefix(line, "  hour ") {
				written++
			}
			if written >= killAfter {
				time.Sleep(time.Duration(rand.IntN(30)) * time.Millisecond)
				break
			}
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
	}
	final := sightline(t, args...)
	stopReading()
	wg.Wait()
	select {
	case err := <-failed:
		t.Fatalf("a reader saw: %v", err)
	default:
	}
	// (A killed run may have finished all but the cleanup: then the last
	// finds nothing left to change.)
	if !strings.Contains(final, "done:") && !strings.Contains(final, "nothing changed") {
		t.Fatalf("the last rebuild did not finish:\n%s", final)
	}
	got, err := readHours(files)
	if err != nil {
		t.Fatal(err)
	}
	if err := sameHours(got, want); err != nil {
		t.Fatal(err)
	}
	// Every hour is a rebuilt generation, with the addresses anonymised.
	for h, hour := range got {
		if hour.generation == 0 || !hour.anonymised {
			t.Errorf("hour %d: generation %d, anonymised %v", h, hour.generation, hour.anonymised)
		}
	}
	if _, err := os.Stat(server.WebSessionRebuildDir(data)); err == nil {
		if entries, _ := os.ReadDir(server.WebSessionRebuildDir(data)); len(entries) != 0 {
			t.Errorf("rebuild work left behind: %v", entries)
		}
	}
	t.Logf("%d kills (%d reruns resumed), %d complete listings read meanwhile", kills, resumed, reads.Load())
}

// writeVisits appends to data's event log perHour visits of 3 page views
// for each of hours hours from first, as a server would have stored them.
func writeVisits(t *testing.T, data string, first time.Time, hours, perHour int) {
	t.Helper()
	opts := embedded.DefaultOptions()
	opts.NoSync = true // the test's own records: no crash to survive
	log, err := embedded.Open(nil, nil, server.LogDir(data), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	var rec []byte
	for h := range hours {
		for i := range perHour {
			visitor := fmt.Sprintf("u%d-%d", h, i)
			start := first.Add(time.Duration(h)*time.Hour + time.Duration(i)*(20*time.Minute)/time.Duration(perHour))
			var values [][]byte
			for p := range 3 {
				at := start.Add(time.Duration(p) * time.Minute).UnixMilli()
				s := event.Stored{ID: fmt.Sprintf("%s-%d", visitor, p), AccountID: "shop", VisitorID: visitor, VisitID: "v" + visitor,
					Time: at, ServerTime: at, IP: "203.0.113.7", UserAgent: "Mozilla/5.0",
					AppName: "LP_MONITORING", EventName: "PAGE_VIEW", Data: fmt.Appendf(nil, `{"url":"https://shop.example/p%d"}`, p)}
				rec = event.AppendRecord(rec[:0], &s)
				values = append(values, append([]byte(nil), rec...))
			}
			if err := eventlog.Append(context.Background(), log, []byte("shop/"+visitor), values); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// visibleHour is what a reader finds of an hour: its visits, with the
// number of documents of each.
type visibleHour struct {
	generation int
	visits     map[string]int
	anonymised bool
}

// readHours lists dir as the Data Access API does and downloads every part
// it lists, by hour start.
func readHours(dir string) (map[int64]visibleHour, error) {
	hours := map[int64]visibleHour{}
	err := forVisibleDocuments(dir, func(file string, doc []byte) error {
		name, err := websession.ParseFileName(file)
		if err != nil {
			return fmt.Errorf("listed %s: %v", file, err)
		}
		start := name.ScopeStart.UnixMilli()
		h, ok := hours[start]
		if !ok {
			h = visibleHour{generation: name.Generation, visits: map[string]int{}, anonymised: true}
		} else if h.generation != name.Generation {
			return fmt.Errorf("hour %d listed with generations %d and %d", start, h.generation, name.Generation)
		}
		i := bytes.Index(doc, []byte(`"visitId":{"string":"`))
		if i < 0 {
			return fmt.Errorf("%s: a document without visitId", file)
		}
		visit := doc[i+len(`"visitId":{"string":"`):]
		h.visits[string(visit[:bytes.IndexByte(visit, '"')])]++
		h.anonymised = h.anonymised && !bytes.Contains(doc, []byte("203.0.113.7"))
		hours[start] = h
		return nil
	})
	return hours, err
}

// sameHours reports how got differs from want: an hour missing or extra,
// a visit missing or in more than one document.
func sameHours(got, want map[int64]visibleHour) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d hours listed, want %d", len(got), len(want))
	}
	for start, w := range want {
		g, ok := got[start]
		if !ok {
			return fmt.Errorf("hour %d not listed", start)
		}
		if len(g.visits) != len(w.visits) {
			return fmt.Errorf("hour %d generation %d: %d visits, want %d", start, g.generation, len(g.visits), len(w.visits))
		}
		for v := range w.visits {
			if g.visits[v] != 1 {
				return fmt.Errorf("hour %d generation %d: visit %s in %d documents", start, g.generation, v, g.visits[v])
			}
		}
	}
	return nil
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/filestore"
	"github.com/sightline/sightline/internal/hourfiles"
	"github.com/sightline/sightline/internal/server"
	"github.com/sightline/sightline/internal/websession"
)

// TestCrashWritesEachVisitOnce runs the real binary with its clock an hour
// or two ahead, 15 seconds before the end of an hour, and visits closing 1
// second after their last event (11 with the sessionizer's lag): the
// visits sent in the first seconds land in that hour, which completes 25
// seconds after the start. Clients send visits, the test kill -9s the
// server many times while it sessionizes and writes files, and proves that
// every acknowledged visit is in the files exactly once, with each of its
// events once.
func TestCrashWritesEachVisitOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the server binary; skipped with -short")
	}
	data := t.TempDir()
	sightline(t, "accounts", "add", "crash", "--data", data)
	addr := freeAddr(t)
	url := "http://" + addr + "/api/account/crash/events"
	now := time.Now()
	offset := now.Truncate(time.Hour).Add(2*time.Hour - 15*time.Second).Sub(now).Round(time.Millisecond)
	flags := []string{"--visit-timeout", "1s", "--clock-offset", offset.String(), "--sessionizer-checkpoint", "100ms"}

	ctx, cancel := context.WithCancel(context.Background())
	var (
		mu    sync.Mutex
		acked = map[string]bool{} // visit ids
		wg    sync.WaitGroup
	)
	const clients, perVisit = 4, 5
	for c := range clients {
		wg.Go(func() {
			client := &http.Client{Timeout: 10 * time.Second}
			for seq := 0; ctx.Err() == nil; seq++ {
				visit := fmt.Sprintf("c%d-v%d", c, seq)
				if sendUntilAcked(ctx, t, client, url, visitBody(visit, perVisit), perVisit) {
					mu.Lock()
					acked[visit] = true
					mu.Unlock()
				}
			}
		})
	}
	for range 5 { // at most 5 s of sending: the visits' hour ends 15 s after the start
		p := startServer(t, data, addr, flags...)
		time.Sleep(time.Duration(300+rand.IntN(500)) * time.Millisecond)
		p.kill()
	}
	p := startServer(t, data, addr, flags...)
	time.Sleep(300 * time.Millisecond) // let retried batches land
	cancel()
	wg.Wait()
	// Kill it again and again around the end of the hour, until its file
	// appears: likely while the file is being written. (Visits closed
	// before the first checkpoint are in the file of their own hour, which
	// that checkpoint completes.)
	files := filepath.Join(server.WebSessionFilesDir(data), "crash")
	kills, early := 5, len(visitDocuments(t, files))
	for end := time.Now().Add(60 * time.Second); len(visitDocuments(t, files)) == early && time.Now().Before(end); kills++ {
		time.Sleep(time.Duration(100+rand.IntN(400)) * time.Millisecond)
		p.kill()
		p = startServer(t, data, addr, flags...)
	}

	// Every acknowledged visit reaches the files once the hour is complete.
	deadline := time.Now().Add(60 * time.Second)
	var docs map[string][]int
	for {
		docs = visitDocuments(t, files)
		missing := 0
		for v := range acked {
			if len(docs[v]) == 0 {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged visits not in the files after 60s; the server's log:\n%s", missing, len(acked), lastLines(p.stderr.String(), 30))
		}
		time.Sleep(200 * time.Millisecond)
	}
	p.stop(t)
	if len(acked) < 50 {
		t.Fatalf("only %d visits acknowledged; the test did not exercise the server", len(acked))
	}
	for v, pages := range docs {
		if len(pages) != 1 || pages[0] != perVisit {
			t.Errorf("visit %s: documents with %v page views, want one with %d", v, pages, perVisit)
		}
	}
	t.Logf("%d visits acknowledged, %d in the files, across %d kill -9", len(acked), len(docs), kills)

	// The event log gives the same files again: a rebuild changes nothing.
	hour := time.Now().Add(offset).Add(-2 * time.Hour).Truncate(time.Hour)
	out := sightline(t, "websessions", "build", "--data", data, "--account", "crash", "--from", hour.Format(time.RFC3339),
		"--visit-timeout", "1s", "--clock-offset", offset.String())
	if !strings.Contains(out, "nothing changed") {
		t.Fatalf("rebuild after the crashes changed files:\n%s", out)
	}
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// visitBody is one visit of n page views.
func visitBody(visit string, n int) []byte {
	var events []string
	now := time.Now().UnixMilli()
	for i := range n {
		events = append(events, fmt.Sprintf(`{"id":"%s-e%d","time":%d,"appName":"LP_MONITORING","eventName":"PAGE_VIEW","data":{"url":"https://shop.example/p%d"}}`, visit, i, now+int64(i), i))
	}
	return []byte(`{"visitorId":"u-` + visit + `","visitId":"` + visit + `","events":[` + strings.Join(events, ",") + `]}`)
}

// visitDocuments reads every web-session file in dir and returns, for each
// visit id, the number of page views of each of its documents.
func visitDocuments(t *testing.T, dir string) map[string][]int {
	t.Helper()
	docs := map[string][]int{}
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return docs // no file yet
	}
	err := forVisibleDocuments(dir, func(_ string, doc []byte) error {
		visit, pages := documentVisit(t, doc)
		docs[visit] = append(docs[visit], pages)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

// forVisibleDocuments lists dir as the Data Access API does and calls fn
// with every document of every file it lists, in order, with the file's
// name, until fn returns an error.
func forVisibleDocuments(dir string, fn func(file string, doc []byte) error) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var infos []filestore.Info
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			infos = append(infos, filestore.Info{Name: e.Name()})
		}
	}
	for _, e := range hourfiles.Visible(infos) {
		if err := forDocuments(filepath.Join(dir, e.Name), func(doc []byte) error { return fn(e.Name, doc) }); err != nil {
			return err
		}
	}
	return nil
}

// forDocuments calls fn with every document of the web-session file at
// path.
func forDocuments(path string, fn func(doc []byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := websession.ForEachDocument(f, func(_ int, doc []byte) error { return fn(doc) }); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// documentVisit returns the visit id of a web-session document and its
// number of page views.
func documentVisit(t *testing.T, doc []byte) (string, int) {
	var d struct {
		RecordCollection []struct {
			Body map[string]struct {
				Header map[string]struct {
					VisitID map[string]string `json:"visitId"`
				} `json:"header"`
				NavigationData *struct {
					Array []json.RawMessage `json:"array"`
				} `json:"navigationData"`
			} `json:"body"`
		} `json:"recordCollection"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatalf("document is not JSON: %v", err)
	}
	visit, pages := "", 0
	for _, r := range d.RecordCollection {
		for _, body := range r.Body {
			for _, h := range body.Header {
				visit = h.VisitID["string"]
			}
			if body.NavigationData != nil {
				pages += len(body.NavigationData.Array)
			}
		}
	}
	return visit, pages
}

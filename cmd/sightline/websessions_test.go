package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/server"
)

// TestFlush closes visits and writes the hour that ended through a running
// server, then with none running, and the server, restarted, neither loses
// hourMargin is how long before the end of an hour the tests that write
// one set the server's clock to start: long enough for a server to start
// and take the hour's events on a loaded machine (3 s was not), short
// enough to wait for.
const hourMargin = 10 * time.Second

// nor repeats a visit.
func TestFlush(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the server binary; skipped with -short")
	}
	data := t.TempDir()
	sightline(t, "accounts", "add", "shop", "--data", data)
	sightline(t, "accounts", "add", "other", "--data", data)
	addr := freeAddr(t)
	// The server's clock starts hourMargin before the end of an hour. Its lag
	// (10 s) and checkpoint interval (1 min) would complete that hour a
	// while after it ends; a flush completes it at once.
	now := time.Now()
	hourEnd := now.Truncate(time.Hour).Add(2 * time.Hour)
	offset := hourEnd.Add(-hourMargin).Sub(now).Round(time.Millisecond)
	flags := []string{"--visit-timeout", "2s", "--clock-offset", offset.String(), "--sessionizer-checkpoint", "1m"}
	p := startServer(t, data, addr, flags...)
	client := &http.Client{Timeout: 10 * time.Second}
	send := func(visits ...string) {
		t.Helper()
		for _, v := range visits {
			if a, err := postBatch(client, p.eventsURL("shop"), visitBody(v, 3)); err != nil || a.Accepted != 3 {
				t.Fatalf("visit %s: %+v %v", v, a, err)
			}
		}
	}
	send("a1", "a2", "a3")
	if a, err := postBatch(client, p.eventsURL("other"), visitBody("o1", 3)); err != nil || a.Accepted != 3 {
		t.Fatalf("other account: %+v %v", a, err)
	}
	time.Sleep(time.Until(now.Add(hourMargin + 2500*time.Millisecond))) // the hour has ended; the visits have closed

	files := filepath.Join(server.WebSessionFilesDir(data), "shop")
	out := sightline(t, "websessions", "flush", "--data", data)
	if !strings.Contains(out, "flushed by the server") || !strings.Contains(out, "hour "+hourEnd.Add(-time.Hour).UTC().Format(time.RFC3339)+": 4 visits of 2 accounts (other, shop)") {
		t.Fatalf("flush through the server:\n%s", out)
	}
	if docs := visitDocuments(t, files); len(docs) != 3 {
		t.Fatalf("visits in the files after the flush: %v, want a1 a2 a3", docs)
	}

	// A visit of the next hour: open at the first flush, closed by the
	// second; its hour has not ended.
	send("b1")
	out = sightline(t, "websessions", "flush", "--data", data, "--account", "shop")
	if !strings.Contains(out, "0 visits closed") || !strings.Contains(out, "no hour of shop to write") {
		t.Fatalf("flush with b1 open:\n%s", out)
	}
	time.Sleep(2500 * time.Millisecond)
	out = sightline(t, "websessions", "flush", "--data", data, "--account", "shop")
	if !strings.Contains(out, "1 visits closed") || !strings.Contains(out, "no hour of shop to write") {
		t.Fatalf("flush after b1's timeout:\n%s", out)
	}
	send("b2") // open when the server stops: in its checkpoint
	p.stop(t)

	// With no server, the flush runs the sessionizer itself; an hour later
	// the second hour has ended.
	later := offset + time.Hour
	out = sightline(t, "websessions", "flush", "--data", data, "--account", "shop", "--visit-timeout", "2s", "--clock-offset", later.String())
	if !strings.Contains(out, "no server is running") || !strings.Contains(out, "hour "+hourEnd.UTC().Format(time.RFC3339)+": 2 visits of shop") {
		t.Fatalf("flush with no server:\n%s", out)
	}
	// The server started again carries on from where the flush left.
	p = startServer(t, data, addr, "--visit-timeout", "2s", "--clock-offset", later.String())
	send("c1")
	time.Sleep(2500 * time.Millisecond)
	out = sightline(t, "websessions", "flush", "--data", data)
	if !strings.Contains(out, "1 visits closed") {
		t.Fatalf("flush after the restart:\n%s", out)
	}
	p.stop(t)
	docs := visitDocuments(t, files)
	for _, v := range []string{"a1", "a2", "a3", "b1", "b2"} {
		if pages := docs[v]; len(pages) != 1 || pages[0] != 3 {
			t.Errorf("visit %s: documents with %v page views, want one with 3", v, pages)
		}
	}
	if len(docs) != 5 {
		t.Errorf("visits in the files: %v", docs)
	}
	fmt.Fprint(t.Output(), out)
}

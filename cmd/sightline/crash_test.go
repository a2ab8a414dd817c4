package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// sendUntilAcked posts body to url until the server acknowledges it, as
// the tag retries a batch, and checks that all n events were accepted or
// duplicates. It reports whether it was acknowledged before ctx ended.
func sendUntilAcked(ctx context.Context, t *testing.T, client *http.Client, url string, body []byte, n int) bool {
	for ctx.Err() == nil {
		a, err := postBatch(client, url, body)
		if err != nil {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		if a.Accepted+a.Duplicates != n {
			t.Errorf("batch %.80s...: %+v", body, a)
		}
		return true
	}
	return false
}

// TestCrashLosesNoAcknowledgedEvent runs the real binary, has several
// clients send batches the way the tag does (a failed batch is retried with
// the same event ids until acknowledged), kill -9s the server mid-stream
// several times and restarts it, and then proves that every acknowledged
// event id is in the log exactly once, and that no id is stored twice.
func TestCrashLosesNoAcknowledgedEvent(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the server binary; skipped with -short")
	}
	data := t.TempDir()
	sightline(t, "accounts", "add", "crash", "--data", data)
	addr := freeAddr(t)
	url := "http://" + addr + "/api/account/crash/events"

	ctx, cancel := context.WithCancel(context.Background())
	var (
		mu    sync.Mutex
		acked = map[string]bool{}
		wg    sync.WaitGroup
	)
	const clients, perBatch = 6, 20
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			client := &http.Client{Timeout: 10 * time.Second}
			for seq := 0; ctx.Err() == nil; seq++ {
				ids := make([]string, perBatch)
				for i := range ids {
					ids[i] = fmt.Sprintf("c%d-b%d-e%d", c, seq, i)
				}
				if sendUntilAcked(ctx, t, client, url, batchBody(c, seq, ids), perBatch) {
					mu.Lock()
					for _, id := range ids {
						acked[id] = true
					}
					mu.Unlock()
				}
			}
		}(c)
	}

	for round := 0; round < 4; round++ {
		p := startServer(t, data, addr)
		time.Sleep(time.Duration(300+rand.IntN(500)) * time.Millisecond)
		p.kill()
	}
	p := startServer(t, data, addr)
	time.Sleep(500 * time.Millisecond) // let retried batches land
	cancel()
	wg.Wait()
	p.stop(t)

	stored := map[string]int{}
	out := sightline(t, "events", "tail", "--account", "crash", "--data", data)
	for line := range strings.Lines(out) {
		var e struct {
			ID        string `json:"id"`
			AccountID string `json:"accountId"`
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("tail printed a line that is not JSON: %q", line)
		}
		stored[e.ID]++
	}
	if len(acked) < 100 {
		t.Fatalf("only %d events acknowledged; the test did not exercise the server", len(acked))
	}
	for id := range acked {
		if stored[id] != 1 {
			t.Errorf("acknowledged event %s stored %d times", id, stored[id])
		}
	}
	for id, n := range stored {
		if n > 1 {
			t.Errorf("event %s stored %d times", id, n)
		}
	}
	t.Logf("%d events acknowledged, %d stored, across 4 kill -9", len(acked), len(stored))
}

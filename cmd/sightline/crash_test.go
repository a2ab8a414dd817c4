package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the sightline binary built once for the tests that run it as a
// process.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sightline-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "sightline")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "cannot build sightline: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// process is a sightline server running as a child process.
type process struct {
	cmd    *exec.Cmd
	addr   string
	stderr *bytes.Buffer
	done   chan struct{}
}

func startServer(t *testing.T, dataDir, addr string) *process {
	t.Helper()
	cmd := exec.Command(binary, "serve", "--data", dataDir, "--addr", addr, "--log-format", "json")
	out, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, stderr: &bytes.Buffer{}, done: make(chan struct{})}
	listening := make(chan string, 1)
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Bytes()
			p.stderr.Write(append(line, '\n'))
			var l struct{ Msg, Addr string }
			if json.Unmarshal(line, &l) == nil && l.Msg == "listening" {
				listening <- l.Addr
			}
		}
		cmd.Wait()
	}()
	select {
	case p.addr = <-listening:
	case <-p.done:
		t.Fatalf("server exited before listening:\n%s", p.stderr)
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("server did not start:\n%s", p.stderr)
	}
	return p
}

func (p *process) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

func (p *process) stop(t *testing.T) {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.kill()
		t.Fatalf("server did not stop on SIGTERM:\n%s", p.stderr)
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("server exited with %d after SIGTERM:\n%s", code, p.stderr)
	}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func sightline(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(binary, args...).Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("sightline %s: %v\n%s", strings.Join(args, " "), err, msg)
	}
	return string(out)
}

type answer struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
	Rejected   []struct {
		Index int    `json:"index"`
		Error string `json:"error"`
	} `json:"rejected"`
}

func postBatch(client *http.Client, url string, body []byte) (answer, error) {
	var a answer
	resp, err := client.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return a, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return a, fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	return a, json.NewDecoder(resp.Body).Decode(&a)
}

func batchBody(client, seq int, ids []string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"visitorId":"visitor-%d","visitId":"visit-%d","events":[`, client, client)
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%q,"time":%d,"appName":"LP_MONITORING","eventName":"PAGE_VIEW","data":{"url":"https://shop.example/p/%d/%d","title":"Page"}}`,
			id, time.Now().UnixMilli(), seq, i)
	}
	b.WriteString("]}")
	return []byte(b.String())
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
				body := batchBody(c, seq, ids)
				for ctx.Err() == nil { // retry until acknowledged, like the tag
					a, err := postBatch(client, url, body)
					if err != nil {
						time.Sleep(20 * time.Millisecond)
						continue
					}
					if a.Accepted+a.Duplicates != perBatch {
						t.Errorf("batch c%d-b%d: %+v", c, seq, a)
					}
					mu.Lock()
					for _, id := range ids {
						acked[id] = true
					}
					mu.Unlock()
					break
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

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/ingest"
)

// This file holds what the tests that run sightline as a process share:
// the binary, built once, and helpers to start and stop a server and to run
// the admin commands.

// binary is the sightline binary built once for the tests that run it as a
// process.
var binary string

// workDir is the working directory of the processes the tests start, so
// that a command that ignores --data writes its ./data there rather than in
// the source tree.
var workDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sightline-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "sightline")
	workDir = filepath.Join(dir, "work")
	if err := os.Mkdir(workDir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "cannot build sightline: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// process is a sightline server running as a child process.
type process struct {
	cmd    *exec.Cmd
	addr   string
	stdout *syncBuffer // complete once done is closed
	stderr *syncBuffer // the JSON log lines
	done   chan struct{}
}

// startServer runs `sightline serve` on dataDir and addr (extra flags
// appended) and returns once it listens. The process is killed when the
// test ends if it still runs.
func startServer(t *testing.T, dataDir, addr string, extra ...string) *process {
	t.Helper()
	args := append([]string{"serve", "--data", dataDir, "--addr", addr, "--log-format", "json"}, extra...)
	cmd := exec.Command(binary, args...)
	cmd.Dir = workDir
	out, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout = p.stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.kill)
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
		p.kill()
		t.Fatalf("server did not start:\n%s", p.stderr)
	}
	return p
}

// kill kills the server with SIGKILL and waits for it to exit; it does
// nothing when the server has exited already.
func (p *process) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop sends SIGTERM and fails the test unless the server exits with 0.
func (p *process) stop(t *testing.T) {
	t.Helper()
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

// eventsURL is where the server takes account's events.
func (p *process) eventsURL(account string) string {
	return "http://" + p.addr + "/api/account/" + account + "/events"
}

func freeAddr(t *testing.T) string {
	addr, err := freeLoopbackAddr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// sightline runs the binary with args and returns its stdout; it fails the
// test unless the command succeeds.
func sightline(t *testing.T, args ...string) string {
	t.Helper()
	stdout, stderr, code := runSightline(t, args...)
	if code != 0 {
		t.Fatalf("sightline %s: exit status %d\n%s", strings.Join(args, " "), code, stderr)
	}
	return stdout
}

// runSightline runs the binary with args and returns what it printed and
// its exit code.
func runSightline(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runSightlineInput(t, "", nil, args...)
}

type answer = ingest.Answer

// statusError is a non-200 answer of the server.
type statusError struct {
	code int
	body string
}

func (e *statusError) Error() string { return fmt.Sprintf("status %d: %s", e.code, e.body) }

func postBatch(client *http.Client, url string, body []byte) (answer, error) {
	return postForwarded(client, url, "", body)
}

// postForwarded posts a batch as a proxy would for a client at ip, if ip
// is not "".
func postForwarded(client *http.Client, url, ip string, body []byte) (answer, error) {
	var a answer
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return a, err
	}
	req.Header.Set("Content-Type", "application/json")
	if ip != "" {
		req.Header.Set("X-Forwarded-For", ip)
	}
	resp, err := client.Do(req)
	if err != nil {
		return a, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return a, &statusError{resp.StatusCode, string(b)}
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

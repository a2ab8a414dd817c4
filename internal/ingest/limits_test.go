package ingest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// hold sends e a batch request on a connection of d of its own: the header
// lines headers ("Name: value\r\n" each) and the first bytes of the body,
// not the rest (yet).
func (e *env) hold(t *testing.T, d *net.Dialer, headers string, first []byte) net.Conn {
	t.Helper()
	conn, err := d.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST /api/account/shop/events HTTP/1.1\r\nHost: sightline\r\nContent-Type: application/json\r\n%s\r\n", headers)
	if _, err := conn.Write(first); err != nil {
		t.Fatal(err)
	}
	return conn
}

// readAnswer reads the answer to the request on conn. The read deadline only
// keeps a server that never answers from hanging the test.
func readAnswer(t *testing.T, conn net.Conn) (*http.Response, Failure) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, decodeAnswer(t, b).Failure
}

func lengthHeader(n int) string { return fmt.Sprintf("Content-Length: %d\r\n", n) }

// waitFor polls cond until it holds, and fails the test after 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited in vain for %s", what)
		}
	}
}

func TestBodyMemoryFull(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxBodyBytes = 64 << 10
	cfg.MaxBodyMemory = 1 // raised to what one body needs: 64 KiB + 1 + a gzip reader
	cfg.QueueTimeout = 10 * time.Millisecond
	e := newEnv(t, cfg)
	length, sent := lengthHeader(64<<10), bytes.Repeat([]byte(" "), 40<<10)
	a := e.hold(t, &net.Dialer{}, length, sent)
	// a's buffer grew with what arrived: 16, 32, then 64 KiB; the second
	// body's cannot grow to 64 KiB too.
	waitFor(t, "the first body's buffer", func() bool { return e.h.memory.held.Load() == 64<<10 })
	resp, f := readAnswer(t, e.hold(t, &net.Dialer{}, length, sent))
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !resp.Close {
		t.Fatalf("second body: status %d, Retry-After %q, close %v, want 429 with Retry-After, closed", resp.StatusCode, resp.Header.Get("Retry-After"), resp.Close)
	}
	if want := fmt.Sprintf("memory limit of %d bytes", e.h.memory.size); !strings.Contains(f.Error, want) {
		t.Fatalf("error %q does not name the limit (%s)", f.Error, want)
	}
	if n := testutil.ToFloat64(e.h.metrics.memoryFull); n != 1 {
		t.Fatalf("%v refusals counted, want 1", n)
	}
	a.Close()
	waitFor(t, "the first body's memory back", func() bool { return e.h.memory.held.Load() == 0 })
	if code, _, b := e.post("shop", batch(pageView("m1", time.Now().UnixMilli())), nil); code != 200 {
		t.Fatalf("status %d: %s", code, b)
	}
}

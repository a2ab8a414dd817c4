package ingest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
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

// trickle sends a space on conn every 10 ms until the connection fails.
func trickle(conn net.Conn) {
	go func() {
		for {
			time.Sleep(10 * time.Millisecond)
			if _, err := conn.Write([]byte(" ")); err != nil {
				return
			}
		}
	}()
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

func TestSlowBodyCutOff(t *testing.T) {
	cfg := DefaultConfig()
	cfg.BodyTimeout, cfg.MinBodyRate = 100*time.Millisecond, 1024
	e := newEnv(t, cfg)
	tests := []struct {
		name    string
		headers string
		first   []byte
		trickle bool
	}{
		{"stalled", lengthHeader(1000), []byte(`{"visitorId":`), false},
		{"trickling a byte every 10 ms", lengthHeader(100000), []byte(`{`), true},
		{"chunked, stalled", "Transfer-Encoding: chunked\r\n", []byte("5\r\n{\"vis\r\n"), false},
		{"gzip header cut short", "Content-Encoding: gzip\r\n" + lengthHeader(1000), gz(batch())[:4], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := e.hold(t, &net.Dialer{}, tt.headers, tt.first)
			if tt.trickle {
				trickle(conn)
			}
			resp, f := readAnswer(t, conn)
			if resp.StatusCode != http.StatusRequestTimeout || !resp.Close {
				t.Fatalf("status %d, close %v: %s; want 408 and the connection closed", resp.StatusCode, resp.Close, f.Error)
			}
			if !strings.Contains(f.Error, "within 100ms, plus 1s for every 1024 bytes") {
				t.Fatalf("error %q does not name the limits", f.Error)
			}
		})
	}
	if n := testutil.ToFloat64(e.h.metrics.slowBodies); n != float64(len(tests)) {
		t.Fatalf("%v slow bodies counted, want %d", n, len(tests))
	}
	// A body that arrives is still read, with its deadline lifted.
	if code, _, b := e.post("shop", batch(pageView("s1", time.Now().UnixMilli())), nil); code != 200 {
		t.Fatalf("status %d: %s", code, b)
	}
}

// deadlines is a ResponseWriter whose connection records its read and
// write deadlines.
type deadlines struct {
	http.ResponseWriter
	read, write []time.Time
}

func (d *deadlines) SetReadDeadline(t time.Time) error {
	d.read = append(d.read, t)
	return nil
}

func (d *deadlines) SetWriteDeadline(t time.Time) error {
	d.write = append(d.write, t)
	return nil
}

func TestBodyDeadline(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	after := func(d time.Duration) time.Time { return start.Add(d) }
	tests := []struct {
		name        string
		timeout     time.Duration
		rate        int64
		arrivals    []int64 // bytes arrived after each read
		read, write []time.Time
	}{
		{"a second more for every full 1000 bytes", 10 * time.Second, 1000, []int64{1, 999, 1000, 1999, 2500, 9000},
			[]time.Time{after(10 * time.Second), after(11 * time.Second), after(12 * time.Second), after(19 * time.Second), {}}, []time.Time{{}}},
		{"within the timeout", 10 * time.Second, 1000, []int64{999}, []time.Time{after(10 * time.Second), {}}, nil},
		{"no minimum rate", 10 * time.Second, 0, []int64{5000, 90000}, []time.Time{after(10 * time.Second), {}}, nil},
		{"no timeout", 0, 1000, []int64{5000}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &deadlines{ResponseWriter: httptest.NewRecorder()}
			d := newBodyDeadline(w, &Config{BodyTimeout: tt.timeout, MinBodyRate: tt.rate}, start)
			for _, n := range tt.arrivals {
				d.arrived(n)
			}
			d.clear()
			if !slices.EqualFunc(w.read, tt.read, time.Time.Equal) || !slices.EqualFunc(w.write, tt.write, time.Time.Equal) {
				t.Fatalf("read deadlines %v, write deadlines %v; want %v, %v", w.read, w.write, tt.read, tt.write)
			}
		})
	}
}

func TestBodyMemoryFull(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxBodyBytes = 64 << 10
	cfg.MaxBodyMemory = 1 // raised to what one body needs: 64 KiB + 1 + a gzip reader
	cfg.QueueTimeout = 10 * time.Millisecond
	cfg.BodyTimeout = time.Minute
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

// origin is where a test's request comes from: a local address to dial
// from, and an X-Forwarded-For to send.
type origin struct {
	from string
	xff  string
}

func (o origin) dialer() *net.Dialer {
	return &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(o.from)}}
}

func (o origin) header() string {
	if o.xff == "" {
		return ""
	}
	return "X-Forwarded-For: " + o.xff + "\r\n"
}

// client is the client the collector sees o as.
func (o origin) client() netip.Addr {
	if o.xff != "" {
		return clientOf(netip.MustParseAddr(o.xff))
	}
	return clientOf(netip.MustParseAddr(o.from))
}

// post posts a batch to e from o.
func (o origin) post(e *env, id string) (int, Failure) {
	e.t.Helper()
	c := &http.Client{Transport: &http.Transport{DialContext: o.dialer().DialContext}}
	defer c.CloseIdleConnections()
	var hdr map[string]string
	if o.xff != "" {
		hdr = map[string]string{"X-Forwarded-For": o.xff}
	}
	code, _, b := e.postWith(c, "shop", batch(pageView(id, time.Now().UnixMilli())), hdr)
	return code, decodeAnswer(e.t, b).Failure
}

// inProgress returns the requests in progress that h counts for client.
func inProgress(h *Handler, client netip.Addr) int {
	h.clients.mu.Lock()
	defer h.clients.mu.Unlock()
	return h.clients.n[client]
}

func TestPerClientLimit(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	tests := []struct {
		name    string
		trusted []netip.Prefix
		held    [2]origin // two requests of one client in progress
		blocked origin    // a third of the same client
		other   origin    // another client's
	}{
		{"source addresses", nil,
			[2]origin{{from: "127.0.0.2"}, {from: "127.0.0.2"}}, origin{from: "127.0.0.2"}, origin{from: "127.0.0.3"}},
		{"X-Forwarded-For of a trusted proxy", proxies,
			[2]origin{{"127.0.0.1", "198.51.100.7"}, {"127.0.0.2", "198.51.100.7"}}, origin{"127.0.0.1", "198.51.100.7"}, origin{"127.0.0.1", "198.51.100.8"}},
		{"an IPv6 client is its /64", proxies,
			[2]origin{{"127.0.0.1", "2001:db8:1:2::7"}, {"127.0.0.1", "2001:db8:1:2::8"}}, origin{"127.0.0.1", "2001:db8:1:2:ffff::1"}, origin{"127.0.0.1", "2001:db8:1:3::7"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.MaxPerClient, cfg.TrustedProxies, cfg.BodyTimeout = 2, tt.trusted, time.Minute
			e := newEnv(t, cfg)
			var held []net.Conn
			for _, o := range tt.held {
				held = append(held, e.hold(t, o.dialer(), o.header()+lengthHeader(1000), []byte(`{"visitorId":`)))
			}
			client := tt.blocked.client()
			waitFor(t, "the held requests", func() bool { return inProgress(e.h, client) == 2 })
			// Refused, a request is answered at once, its body unread.
			resp, f := readAnswer(t, e.hold(t, tt.blocked.dialer(), tt.blocked.header()+lengthHeader(1000), nil))
			if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !resp.Close {
				t.Fatalf("third request of %s: status %d, Retry-After %q, close %v, want 429 with Retry-After, closed", client, resp.StatusCode, resp.Header.Get("Retry-After"), resp.Close)
			}
			if !strings.Contains(f.Error, "limit 2 a client address") {
				t.Fatalf("error %q does not name the limit", f.Error)
			}
			if code, f := tt.other.post(e, "c2"); code != http.StatusOK {
				t.Fatalf("another client: status %d: %s", code, f.Error)
			}
			held[0].Close()
			waitFor(t, "a held request to end", func() bool { return inProgress(e.h, client) == 1 })
			if code, f := tt.blocked.post(e, "c3"); code != http.StatusOK {
				t.Fatalf("after a request ended: status %d: %s", code, f.Error)
			}
			if n := testutil.ToFloat64(e.h.metrics.clientLimited); n != 1 {
				t.Fatalf("%v refusals counted, want 1", n)
			}
		})
	}
}

func TestClientOf(t *testing.T) {
	tests := []struct {
		addr, client, name string
	}{
		{"198.51.100.7", "198.51.100.7", "198.51.100.7"},
		{"::ffff:198.51.100.7", "198.51.100.7", "198.51.100.7"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::", "2001:db8:1:2::/64"},
		{"fe80::1%eth0", "fe80::", "fe80::/64"},
	}
	for _, tt := range tests {
		c := clientOf(netip.MustParseAddr(tt.addr))
		if c != netip.MustParseAddr(tt.client) || clientName(c) != tt.name {
			t.Errorf("clientOf(%s) = %s named %q, want %s named %q", tt.addr, c, clientName(c), tt.client, tt.name)
		}
	}
}

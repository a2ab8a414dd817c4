package server_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/sightline/sightline/internal/server"
)

// TestSlowSendersDoNotShutOthersOut is the attack of issue 14: 40
// connections announce a body of 100,000 bytes and send a byte now and
// then. Batches sent meanwhile, from the same address, are all stored
// (reading a body holds no processing slot), the slow bodies hold a small
// buffer each (none grew to the length it announced), and they are cut off
// with 408 once their deadline has passed.
func TestSlowSendersDoNotShutOthersOut(t *testing.T) {
	const slow = 40
	cfg := testConfig(t.TempDir())
	cfg.NoWebSessions = true
	cfg.Ingest.MaxConcurrent = 8 // fewer processing slots than slow senders
	cfg.Ingest.MaxBodyBytes = 128 << 10
	cfg.Ingest.MaxBodyMemory = 2 << 20 // less than the slow senders announce
	cfg.Ingest.BodyTimeout = 2 * time.Second
	s := start(t, cfg)

	conns := make([]net.Conn, slow)
	for i := range conns {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: sightline\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{", eventsPath(server.DemoAccountID))
		conns[i] = c
	}
	stop := make(chan struct{})
	var trickling sync.WaitGroup
	for _, c := range conns {
		trickling.Go(func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
				if _, err := c.Write([]byte(" ")); err != nil {
					return
				}
			}
		})
	}
	defer trickling.Wait()
	defer close(stop)
	// As many slow bodies as slots are arriving: were reading a body to
	// hold a slot, every batch would now wait for one, then get 429.
	s.waitReading(t, cfg.Ingest.MaxConcurrent)
	var posts sync.WaitGroup
	for i := range 16 {
		posts.Go(func() {
			code, a, err := post(s.client, s.url(eventsPath(server.DemoAccountID)), pageViews(fmt.Sprint("v", i), fmt.Sprint("e", i)), "")
			if err != nil || code != http.StatusOK || a.Accepted != 1 {
				t.Errorf("batch %d beside the slow senders: status %d, %+v, %v; want 200", i, code, a, err)
			}
		})
	}
	posts.Wait()
	s.waitReading(t, slow)
	if held := s.value(t, "sightline_ingest_body_memory_bytes", nil); held > slow*16<<10 {
		t.Errorf("the slow bodies hold %v bytes, want at most a first buffer (16 KiB) each", held)
	}

	for i, c := range conns {
		c.SetReadDeadline(time.Now().Add(30 * time.Second)) // against a server that never cuts them off
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("slow sender %d: %v", i, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestTimeout {
			t.Errorf("slow sender %d: status %d, want 408", i, resp.StatusCode)
		}
	}
	if n := s.value(t, "sightline_ingest_slow_bodies_total", nil); n != slow {
		t.Errorf("%v slow bodies counted, want %d", n, slow)
	}
}

// waitReading waits until the server reads n bodies at least.
func (s *testServer) waitReading(t *testing.T, n int) {
	t.Helper()
	for deadline := time.Now().Add(pollTimeout); s.value(t, "sightline_ingest_bodies_reading", nil) < float64(n); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the server reads %v bodies, want %d", s.value(t, "sightline_ingest_bodies_reading", nil), n)
		}
	}
}

// value returns the value of the gauge or counter name's series with
// labels (nil: its only series).
func (s *testServer) value(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	fams := s.scrape(t)
	m := series(t, fams, name, labels)
	if fams[name].GetType() == dto.MetricType_COUNTER {
		return counter(m)
	}
	return gauge(m)
}

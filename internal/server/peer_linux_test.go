package server

import (
	"bytes"
	"crypto/rand"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// dialEnv names the socket that TestPeerDialHelper dials, in the process
// that TestPeerListener starts as another user.
const dialEnv = "SIGHTLINE_TEST_DIAL"

// TestPeerListener connects to a peerListener for real: a connection from
// the server's own user is accepted, one from another user refused and
// counted.
func TestPeerListener(t *testing.T) {
	self := os.Geteuid()
	// Another user is nobody, dialing from a process of this test binary,
	// when the test runs as root; otherwise it is this process, and the
	// server is told it runs as a uid that is not this process's.
	otherServerUID, dialOther := self+1, dialHere
	if self == 0 {
		otherServerUID, dialOther = 0, dialAsNobody
	}
	tests := []struct {
		name      string
		serverUID int
		dial      func(t *testing.T, addr string) func()
		accepted  bool
	}{
		{"the server's user", self, dialHere, true},
		{"another user", otherServerUID, dialOther, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// An abstract socket: no file, whose mode would keep nobody out.
			addr := "@sightline-test-" + rand.Text()
			l, err := net.Listen("unix", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			refused := prometheus.NewCounter(prometheus.CounterOpts{Name: "refused"})
			pl := &peerListener{Listener: l, uid: tt.serverUID, logger: slog.New(slog.NewTextHandler(t.Output(), nil)), refused: refused}
			accepted := make(chan net.Conn, 1)
			go func() {
				defer close(accepted)
				if c, err := pl.Accept(); err == nil {
					accepted <- c
				}
			}()
			hangUp := tt.dial(t, addr)
			defer hangUp()
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				select {
				case c := <-accepted:
					c.Close()
					if !tt.accepted {
						t.Fatal("accepted, want refused")
					}
					return
				default:
				}
				if n := count(t, refused); n > 0 {
					if tt.accepted {
						t.Fatal("refused, want accepted")
					}
					if n != 1 {
						t.Fatalf("%v refusals counted, want 1", n)
					}
					return
				}
				if time.Now().After(deadline) {
					t.Fatal("neither accepted nor refused after 10s")
				}
			}
		})
	}
}

// dialHere connects to addr from this process and returns what hangs up.
func dialHere(t *testing.T, addr string) func() {
	c, err := net.Dial("unix", addr)
	if err != nil {
		t.Fatal(err)
	}
	return func() { c.Close() }
}

// dialAsNobody connects to addr from a process of this test binary
// running as nobody (TestPeerDialHelper), and returns what waits for it to
// end: once the connection is refused, or accepted and closed.
func dialAsNobody(t *testing.T, addr string) func() {
	cmd := exec.Command("/proc/self/exe", "-test.run=^TestPeerDialHelper$")
	cmd.Env = append(os.Environ(), dialEnv+"="+addr)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return func() {
		if err := cmd.Wait(); err != nil {
			t.Errorf("the process dialing as nobody: %v\n%s", err, &out)
		}
	}
}

// TestPeerDialHelper is the process TestPeerListener starts as nobody: it
// connects to the socket named by dialEnv and waits until the listener
// closes the connection.
func TestPeerDialHelper(t *testing.T) {
	addr := os.Getenv(dialEnv)
	if addr == "" {
		t.Skip("run by TestPeerListener")
	}
	c, err := net.Dial("unix", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil || os.IsTimeout(err) {
		t.Fatalf("read: %v, want the listener to close the connection", err)
	}
}

// count returns the value of c.
func count(t *testing.T, c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sightline/sightline/internal/atomicfile"
	"github.com/sightline/sightline/internal/ingest"
	"github.com/sightline/sightline/internal/sessionizer"
)

// The control socket is a Unix socket in the data directory on which the
// server takes operators' requests from the sightline command on the same
// machine (websessions flush). Only the server's user and root may use it:
// it is made in the data directory, of mode 0700, and given mode 0600
// (bind gives it the umask's mode, but no one else can reach it in
// between), and the server refuses a connection whose peer (SO_PEERCRED)
// runs as any other user.

// controlSocket is the control socket's name in the data directory.
const controlSocket = "control.sock"

// ControlSocket returns the path of the control socket of a data directory.
func ControlSocket(dataDir string) string { return filepath.Join(dataDir, controlSocket) }

// FlushPath is the control socket's route for a flush of the web sessions:
// POST, answered with a sessionizer.FlushReport in JSON.
const FlushPath = "/websessions/flush"

// ControlClient returns a client of the control socket of a data
// directory: any URL's host reaches it.
func ControlClient(dataDir string) *http.Client {
	path := ControlSocket(dataDir)
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
	}}
}

// listenControl serves the control socket. The server holds the event
// log's lock, so a socket file there is a dead server's and is replaced.
// A socket that cannot be made (a path longer than Unix sockets allow)
// leaves the server without one, with a warning. Connections refused
// because of their peer's user are counted in reg.
func (s *Server) listenControl(collector *ingest.Handler, reg prometheus.Registerer) {
	path := ControlSocket(s.cfg.DataDir)
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.logger.Warn("no control socket: cannot remove the old one", "path", path, "err", err)
		return
	}
	refused := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "sightline_control_connections_refused_total",
		Help: "Connections to the control socket refused: their peer runs as neither the server's user nor root.",
	})
	reg.MustRegister(refused)
	l, err := net.Listen("unix", path)
	if err != nil {
		s.logger.Warn("no control socket: websessions flush will not reach this server", "path", path, "err", err)
		return
	}
	if err := os.Chmod(path, atomicfile.FileMode); err != nil {
		l.Close()
		s.logger.Warn("no control socket: cannot make it private", "path", path, "err", err)
		return
	}
	l = &peerListener{Listener: l, uid: os.Geteuid(), logger: s.logger, refused: refused}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+FlushPath, func(w http.ResponseWriter, r *http.Request) {
		s.serveFlush(w, r, collector)
	})
	s.control = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.control.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logger.Error("control socket failed", "err", err)
		}
	}()
}

// peerListener accepts the connections of processes that run as uid or
// as root, and refuses the others with a warning, counted in refused.
type peerListener struct {
	net.Listener
	uid     int
	logger  *slog.Logger
	refused prometheus.Counter
}

// Accept returns the next connection allowed in.
func (l *peerListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		peer, err := peerUID(c)
		switch {
		case err != nil:
			l.logger.Warn("control socket: connection refused: its user is unknown", "err", err)
		case peerAllowed(peer, l.uid):
			return c, nil
		default:
			l.logger.Warn("control socket: connection refused: its user is neither the server's nor root",
				"peer_uid", peer, "server_uid", l.uid)
		}
		l.refused.Inc()
		c.Close()
	}
}

// peerAllowed reports whether a peer running as user peer may use the
// control socket of a server running as user server: its own user and
// root may.
func peerAllowed(peer, server int) bool { return peer == server || peer == 0 }

// serveFlush closes the visits and writes the hours that are over as of
// now: the ingest barrier gives a moment before which every event is in
// the log.
func (s *Server) serveFlush(w http.ResponseWriter, r *http.Request, collector *ingest.Handler) {
	if s.sessions == nil {
		http.Error(w, "this server does not build web sessions", http.StatusNotFound)
		return
	}
	at := collector.Barrier()
	start := time.Now()
	rep, err := sessionizer.FlushAndWrite(r.Context(), s.sessions, s.hours, at)
	if err != nil {
		code := http.StatusInternalServerError
		if errors.Is(err, sessionizer.ErrStalled) {
			code = http.StatusServiceUnavailable
		}
		http.Error(w, fmt.Sprintf("flush: %v", err), code)
		return
	}
	s.logger.Info("web sessions flushed", "at", at.UTC(), "closed_visits", rep.Closed, "hours", len(rep.Hours),
		"took", time.Since(start).Round(time.Millisecond))
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(rep)
}

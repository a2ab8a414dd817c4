package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/sightline/sightline/internal/atomicfile"
	"github.com/sightline/sightline/internal/ingest"
	"github.com/sightline/sightline/internal/sessionizer"
)

// The control socket is a Unix socket in the data directory on which the
// server takes operators' requests from the sightline command on the same
// machine (websessions flush). Only the server's user and root may use it:
// it is made in the data directory, of mode 0700, and given mode 0600
// (bind gives it the umask's mode, but no one else can reach it in
// between).

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
// leaves the server without one, with a warning.
func (s *Server) listenControl(collector *ingest.Handler) {
	path := ControlSocket(s.cfg.DataDir)
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.logger.Warn("no control socket: cannot remove the old one", "path", path, "err", err)
		return
	}
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
		http.Error(w, fmt.Sprintf("flush: %v", err), http.StatusInternalServerError)
		return
	}
	s.logger.Info("web sessions flushed", "at", at.UTC(), "closed_visits", rep.Closed, "hours", len(rep.Hours),
		"took", time.Since(start).Round(time.Millisecond))
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(rep)
}

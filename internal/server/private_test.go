package server_test

import (
	"encoding/json"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/dataaccess"
	"github.com/sightline/sightline/internal/server"
	"github.com/sightline/sightline/internal/sessionizer"
)

// TestDataDirIsPrivate runs a server under umask 000 through what creates
// files in its data directory (events, dedup marks, accounts and an admin
// token, campaigns, the state key, Data Access keys, a web-session flush
// through the control socket) and checks that every directory in it is
// 0700 and every file and socket 0600.
func TestDataDirIsPrivate(t *testing.T) {
	defer syscall.Umask(syscall.Umask(0)) // process-wide: no test of this package runs in parallel
	cfg, offset := aheadConfig(filepath.Join(t.TempDir(), "data"))
	s := start(t, cfg) // creates the demo account, its admin token and campaigns
	if err := s.Accounts().Add(account.Account{ID: "acme"}); err != nil {
		t.Fatal(err)
	}
	keys, err := dataaccess.OpenKeys(slog.New(slog.DiscardHandler), dataaccess.KeysDir(cfg.DataDir))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keys.Add("acme"); err != nil {
		t.Fatal(err)
	}
	s.mustPost(t, "acme", pageViews("v1", "e1", "e2"))
	offset.Store(int64(2 * time.Hour))
	if rep := flush(t, cfg.DataDir); len(rep.Hours) == 0 {
		t.Fatalf("the flush wrote no hour: %+v", rep)
	}
	// A visit that closes 5 minutes into the next hour but one is spooled
	// until that hour ends.
	at := time.Now().Add(3 * time.Hour).Truncate(time.Hour).Add(5 * time.Minute)
	offset.Store(int64(time.Until(at)))
	s.mustPost(t, "acme", pageViews("v2", "e3"))
	offset.Store(int64(time.Until(at.Add(31 * time.Minute))))
	spool := filepath.Join(server.WebSessionStateDir(cfg.DataDir), "spool", "*", "acme")
	for deadline := time.Now().Add(pollTimeout); ; time.Sleep(20 * time.Millisecond) {
		if m, _ := filepath.Glob(spool); len(m) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no spool file %s after %s", spool, pollTimeout)
		}
	}

	wantFiles(t, checkPrivate(t, cfg.DataDir), "accounts/demo.json", "accounts/acme.json", "keys/*.json",
		"campaign-state.key", "campaigns.db", "control.sock", "log/wal/*.wal", "log/p000/*.seg",
		"websessions/files/acme/*.gz", "websessions/state/checkpoint", "websessions/state/spool/*/acme")
	if err := s.shutdown(); err != nil {
		t.Fatal(err)
	}
	wantFiles(t, checkPrivate(t, cfg.DataDir), "dedup-marks.json")
}

// wantFiles checks that paths hold a match of each pattern
// (filepath.Match), so that the test checked the modes of such files.
func wantFiles(t *testing.T, paths []string, patterns ...string) {
	t.Helper()
	for _, pattern := range patterns {
		if !slices.ContainsFunc(paths, func(p string) bool {
			ok, _ := filepath.Match(pattern, p)
			return ok
		}) {
			t.Errorf("no file %s in the data directory", pattern)
		}
	}
}

// flush flushes the web sessions of the server on dataDir through its
// control socket.
func flush(t *testing.T, dataDir string) sessionizer.FlushReport {
	t.Helper()
	resp, err := server.ControlClient(dataDir).Post("http://sightline"+server.FlushPath, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rep sessionizer.FlushReport
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("flush: %s, %v", resp.Status, err)
	}
	return rep
}

// checkPrivate checks that every directory in dir, dir too, has mode 0700
// and every file and socket 0600, and returns their paths relative to dir.
func checkPrivate(t *testing.T, dir string) []string {
	t.Helper()
	var paths []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if os.IsNotExist(err) {
			return nil // a temporary file the server has just renamed or removed
		}
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		paths = append(paths, rel)
		want := fs.FileMode(0o600) // files and sockets
		if fi.IsDir() {
			want = fs.ModeDir | 0o700
		}
		if m := fi.Mode(); m != want && m != fs.ModeSocket|want {
			t.Errorf("%s: mode %v, want %v", rel, m, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return paths
}

// TestOldDataDirMadePrivate starts a server on a data directory of an
// older version, whose directories were 0755 and files 0644: the server
// makes what it created there private, and leaves anything else alone.
func TestOldDataDirMadePrivate(t *testing.T) {
	cfg := testConfig(t.TempDir())
	s := start(t, cfg)
	s.mustPost(t, server.DemoAccountID, pageViews("v1", "e1"))
	if err := s.shutdown(); err != nil {
		t.Fatal(err)
	}
	old := checkPrivate(t, cfg.DataDir)
	err := filepath.WalkDir(cfg.DataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.Chmod(path, 0o755)
		}
		return os.Chmod(path, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	notes := filepath.Join(cfg.DataDir, "notes.txt") // the operator's
	if err := os.WriteFile(notes, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(notes, 0o644); err != nil { // whatever the umask
		t.Fatal(err)
	}

	if err := start(t, cfg).shutdown(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(notes); err != nil || fi.Mode() != 0o644 {
		t.Errorf("the operator's file: %v, %v; want it left 0644", fi.Mode(), err)
	}
	os.Remove(notes)
	wantFiles(t, checkPrivate(t, cfg.DataDir), old...)
}

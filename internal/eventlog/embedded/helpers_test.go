package embedded

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/eventlog"
	"github.com/sightline/sightline/internal/eventlog/eventlogtest"
)

// testOptions are small, synced options for tests.
func testOptions(partitions int) Options {
	opts := DefaultOptions()
	opts.Partitions = partitions
	return opts
}

// openTest opens a Log in dir and closes it at the end of the test.
func openTest(t *testing.T, dir string, opts Options) *Log {
	t.Helper()
	l, err := Open(slog.New(slog.DiscardHandler), nil, dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// keyFor returns a key of partition p among n.
func keyFor(p, n int) []byte {
	for i := 0; ; i++ {
		key := fmt.Appendf(nil, "key%d", i)
		if eventlog.PartitionFor(key, n) == p {
			return key
		}
	}
}

// appendAll appends each value in its own Append under key.
func appendAll(t *testing.T, l *Log, key []byte, values ...string) {
	t.Helper()
	for _, v := range values {
		if err := eventlog.Append(t.Context(), l, key, [][]byte{[]byte(v)}); err != nil {
			t.Fatalf("Append(%q): %v", v, err)
		}
	}
}

// values returns the values of recs.
func values(recs []eventlogtest.Record) []string {
	vs := make([]string, len(recs))
	for i, r := range recs {
		vs[i] = r.Value
	}
	return vs
}

// checkValues checks that partition p of r holds want.
func checkValues(t *testing.T, r eventlog.Reader, p int, want ...string) []eventlogtest.Record {
	t.Helper()
	recs := eventlogtest.ReadAll(t, r, p)
	if got := values(recs); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("partition %d holds %q, want %q", p, got, want)
	}
	return recs
}

// segmentFiles returns the paths of the segments of partition p in dir.
func segmentFiles(t *testing.T, dir string, p int) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, partitionDirName(p), "*.seg"))
	if err != nil {
		t.Fatal(err)
	}
	return paths
}

// lastSegment returns the path of the last segment of partition p in dir.
func lastSegment(t *testing.T, dir string, p int) string {
	t.Helper()
	paths := segmentFiles(t, dir, p)
	return paths[len(paths)-1]
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// logBuffer collects log output for checks.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// readAll reads partition p of l.
func readAll(t *testing.T, l *Log, p int) []eventlogtest.Record {
	t.Helper()
	return eventlogtest.ReadAll(t, l, p)
}

func contextWithTimeout(t *testing.T, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(t.Context(), d)
}

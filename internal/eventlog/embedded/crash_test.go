package embedded

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/eventlog"
)

// Environment of the TestCrashHelper process.
const (
	crashDirEnv   = "SIGHTLINE_EVENTLOG_CRASH_DIR"
	crashRoundEnv = "SIGHTLINE_EVENTLOG_CRASH_ROUND"
)

// TestKill9 appends from a child process, kills it with SIGKILL while it
// appends, and checks that every record the child had acknowledged is there
// after Open repaired the log, in order. It does this three times on the
// same directory.
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dir := t.TempDir()
	for round := range 3 {
		acked := runCrashHelper(t, dir, round)
		l, err := Open(nil, nil, dir, testOptions(4))
		if err != nil {
			t.Fatalf("round %d: Open after kill: %v", round, err)
		}
		found := map[string]bool{}
		for p := range 4 {
			next := map[string]int{} // next sequence number of each writer
			for _, rec := range readAll(t, l, p) {
				f := strings.Fields(rec.Value)
				seq, _ := strconv.Atoi(f[1])
				if want, ok := next[f[0]]; ok && seq != want {
					t.Fatalf("round %d: writer %s: record %d follows %d", round, f[0], seq, want-1)
				}
				next[f[0]] = seq + 1
				found[f[0]+" "+f[1]] = true
			}
		}
		lost := 0
		for _, id := range acked {
			if !found[id] {
				lost++
			}
		}
		if lost > 0 {
			t.Fatalf("round %d: %d of %d acknowledged records lost", round, lost, len(acked))
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// runCrashHelper runs TestCrashHelper on dir, kills it once it has
// acknowledged 2000 records, and returns the records it acknowledged.
func runCrashHelper(t *testing.T, dir string, round int) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, fmt.Sprintf("%s=%d", crashRoundEnv, round))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []string
	scanner := bufio.NewScanner(out)
	for scanner.Scan() {
		if id, ok := strings.CutPrefix(scanner.Text(), "acked "); ok {
			acked = append(acked, id)
			if len(acked) == 2000 {
				cmd.Process.Kill()
			}
		}
	}
	err = cmd.Wait()
	if len(acked) < 2000 {
		t.Fatalf("round %d: child acknowledged only %d records (%v)", round, len(acked), err)
	}
	return acked
}

// TestCrashHelper is the child process of TestKill9: it appends until it
// is killed, printing "acked <id>" for each acknowledged record.
func TestCrashHelper(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("run by TestKill9")
	}
	opts := testOptions(4)
	opts.SegmentBytes = 256 << 10
	l, err := Open(nil, nil, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			writer := fmt.Sprintf("r%sw%d", os.Getenv(crashRoundEnv), w)
			pad := strings.Repeat("p", 400)
			seq := 0
			for i := 0; ; i++ {
				var values [][]byte
				var ids []string
				for range 1 + i%20 {
					id := fmt.Sprintf("%s %d", writer, seq)
					seq++
					ids = append(ids, id)
					values = append(values, []byte(id+" "+pad))
				}
				for {
					err := eventlog.Append(t.Context(), l, []byte(writer), values)
					if errors.Is(err, eventlog.ErrBusy) {
						time.Sleep(time.Millisecond)
						continue
					}
					if err != nil {
						t.Error(err)
						return
					}
					break
				}
				mu.Lock()
				for _, id := range ids {
					fmt.Fprintf(out, "acked %s\n", id)
				}
				out.Flush()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

package embedded

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/eventlog"
)

// snapshot copies the log directory dir, as a crash would leave it, while
// the log is open: the segments hold what was written, the write-ahead
// files what was fsynced.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func walFiles(t *testing.T, dir string) []uint64 {
	t.Helper()
	seqs, err := listWAL(filepath.Join(dir, walDirName))
	if err != nil {
		t.Fatal(err)
	}
	return seqs
}

// A power loss can take from a segment what was written but not yet
// checkpointed; Open writes it back from the write-ahead file.
func TestWALRestoresLostSegmentData(t *testing.T) {
	for _, tc := range []struct {
		name string
		lose func(t *testing.T, seg string, size int64)
	}{
		{"tail lost", func(t *testing.T, seg string, size int64) { os.Truncate(seg, size/3) }},
		{"everything lost", func(t *testing.T, seg string, size int64) { os.Truncate(seg, 0) }},
		{"zeros instead of data", func(t *testing.T, seg string, size int64) {
			f, _ := os.OpenFile(seg, os.O_WRONLY, 0)
			f.WriteAt(make([]byte, size/2), size/4)
			f.Close()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			l := openTest(t, dir, testOptions(2))
			var want [2][]string
			for i := 0; i < 50; i++ {
				p := i % 2
				v := fmt.Sprintf("record %d", i)
				appendAll(t, l, keyFor(p, 2), v)
				want[p] = append(want[p], v)
			}
			crashed := snapshot(t, dir)
			for p := 0; p < 2; p++ {
				seg := lastSegment(t, crashed, p)
				tc.lose(t, seg, fileSize(t, seg))
			}
			l2 := openTest(t, crashed, testOptions(2))
			for p := 0; p < 2; p++ {
				checkValues(t, l2, p, want[p]...)
			}
			appendAll(t, l2, keyFor(0, 2), "after")
			checkValues(t, l2, 0, append(want[0], "after")...)
		})
	}
}

// What is in the segments but not in the write-ahead file (a round whose
// fsync did not complete) may survive; a torn end of the write-ahead file is
// ignored.
func TestWALTornTail(t *testing.T) {
	dir := t.TempDir()
	l := openTest(t, dir, testOptions(1))
	appendAll(t, l, keyFor(0, 1), "a", "b", "c")
	crashed := snapshot(t, dir)
	seqs := walFiles(t, crashed)
	last := filepath.Join(crashed, walDirName, walName(seqs[len(seqs)-1]))
	size := fileSize(t, last)
	os.Truncate(last, size-3)
	seg := lastSegment(t, crashed, 0)
	os.Truncate(seg, 0)
	l2 := openTest(t, crashed, testOptions(1))
	// The last entry is cut, so "c" is lost from both: it was the round
	// whose fsync "did not complete".
	checkValues(t, l2, 0, "a", "b")
}

// A write-ahead file that resumes past a partition's end means records are
// lost: Open refuses instead of leaving a hole.
func TestWALGapIsCorruption(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(1)
	opts.WALBytes = 100 // a checkpoint after "a", none after "b"
	l := openTest(t, dir, opts)
	appendAll(t, l, keyFor(0, 1), strings.Repeat("a", 100))
	<-l.checkpointing()
	appendAll(t, l, keyFor(0, 1), "b")
	crashed := snapshot(t, dir)
	os.Truncate(lastSegment(t, crashed, 0), 0) // "a" was checkpointed: never lost but here
	_, err := Open(nil, nil, crashed, opts)
	if _, ok := errors.AsType[*CorruptionError](err); !ok || !strings.Contains(err.Error(), "lost") {
		t.Fatalf("Open = %v, want a corruption error about lost records", err)
	}
}

// Checkpoints keep the write-ahead files small: once the segments are
// fsynced, the files before the current one are deleted; Close deletes all.
func TestCheckpoint(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(2)
	opts.WALBytes = 4 << 10
	l := openTest(t, dir, opts)
	var want []string
	for i := 0; i < 200; i++ {
		v := fmt.Sprintf("record %03d %s", i, strings.Repeat("x", 100))
		appendAll(t, l, keyFor(0, 2), v)
		want = append(want, v)
	}
	<-l.checkpointing()
	if n := len(walFiles(t, dir)); n > 2 {
		t.Fatalf("%d write-ahead files after checkpoints, want at most 2", n)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(walFiles(t, dir)); n != 0 {
		t.Fatalf("%d write-ahead files after Close, want 0", n)
	}
	l2 := openTest(t, dir, opts)
	checkValues(t, l2, 0, want...)
}

// A checkpointed write-ahead file is recycled as a later one: what remains
// of its earlier life after the new entries is skipped at replay.
func TestWALRecycled(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(1)
	opts.WALBytes = 1000 // entries of 128 bytes: a checkpoint every 8 rounds
	l := openTest(t, dir, opts)
	var want []string
	for i := 0; i < 20; i++ {
		v := fmt.Sprintf("%03d%s", i, strings.Repeat("x", 97))
		appendAll(t, l, keyFor(0, 1), v)
		want = append(want, v)
		<-l.checkpointing()
	}
	seqs := walFiles(t, dir)
	if len(seqs) != 1 || seqs[0] != 2 {
		t.Fatalf("write-ahead files %v, want [2]", seqs)
	}
	recycled := filepath.Join(dir, walDirName, walName(2))
	if size := fileSize(t, recycled); size <= 4*128 {
		t.Fatalf("file 2 has %d bytes: not a recycled file with an old tail", size)
	}
	if _, err := os.Stat(filepath.Join(dir, walDirName, walSpareName)); err != nil {
		t.Fatalf("no spare file after two checkpoints: %v", err)
	}
	crashed := snapshot(t, dir)
	seg := lastSegment(t, crashed, 0)
	os.Truncate(seg, fileSize(t, seg)-108) // the last record: not checkpointed
	l2 := openTest(t, crashed, opts)
	checkValues(t, l2, 0, want...)
}

// FuzzReplayWAL: whatever a write-ahead file holds, Open either fails with
// an error or opens a log whose records all read back.
func FuzzReplayWAL(f *testing.F) {
	entry := appendWALEntries(nil, 0, 0, appendFrame(nil, []byte("record")))
	f.Add(entry)
	f.Add(append(entry, appendWALEntries(nil, 1, 0, appendFrame(nil, []byte("x")))...))
	f.Add(appendWALEntries(nil, 0, 99, appendFrame(nil, []byte("gap"))))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		opts := testOptions(2)
		opts.NoSync = true
		l, err := Open(nil, nil, dir, opts)
		if err != nil {
			t.Fatal(err)
		}
		l.Close()
		os.MkdirAll(filepath.Join(dir, walDirName), 0o755)
		os.WriteFile(filepath.Join(dir, walDirName, walName(5)), data, 0o644)
		l, err = Open(nil, nil, dir, opts)
		if err != nil {
			return
		}
		defer l.Close()
		for p := 0; p < 2; p++ {
			if _, err := l.Read(t.Context(), p, 0, 0, func(eventlog.Message) bool { return true }); err != nil {
				t.Fatalf("partition %d after replay: %v", p, err)
			}
		}
	})
}

package embedded

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/atomicfile"
	"github.com/sightline/sightline/internal/eventlog"
)

// The write-ahead file makes a round of appends to any number of
// partitions durable with one fsync. A round writes each partition's new
// frames to its segment without fsync, then the same bytes, tagged with
// partition and offset, to the write-ahead file, and fsyncs that file only.
// A checkpoint fsyncs the partitions' segments, after which the
// write-ahead file written before it is deleted. At Open, what the segments
// lost in a crash is written back from the write-ahead files.
//
// Files are wal/<20-digit sequence>.wal; each holds frames (the segment
// framing of frame.go) whose payload is an entry: partition, offset, bytes.
// A checkpointed file is not deleted but renamed to wal/spare and written
// over as the next file: deleting a large file stalls the file system's
// journal, and so the fsyncs of the rounds, for tens of milliseconds, and
// writing over allocated blocks is cheaper than allocating. The entries of
// the file's earlier life that remain after the new ones are harmless: their
// bytes are all in the segments already, so replay skips them.

const (
	walDirName    = "wal"
	walSuffix     = ".wal"
	walSpareName  = "spare"
	walHeaderSize = 12 // partition (4 bytes), offset (8 bytes), little endian
	// walChunkSize bounds the segment bytes of one entry, so that entries
	// stay far below MaxRecordSize whatever a round holds.
	walChunkSize = 4 << 20
)

// errFailedUntilRestart means the write-ahead file may hold part of a failed
// round that could not be cut: writing after it is unsafe.
var errFailedUntilRestart = errors.New("event log failed until restart")

// wal is the write-ahead file being written. Only the writer goroutine
// uses it after Open.
type wal struct {
	dir    string
	opts   *Options
	logger *slog.Logger
	m      *metrics
	f      segmentFile
	seq    uint64
	size   int64
	buf    []byte
}

func walName(seq uint64) string { return fmt.Sprintf("%020d%s", seq, walSuffix) }

// listWAL returns the sequence numbers of the write-ahead files in dir, in
// order.
func listWAL(dir string) ([]uint64, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var seqs []uint64
	for _, e := range entries {
		digits, ok := strings.CutSuffix(e.Name(), walSuffix)
		if !ok || len(digits) != 20 {
			continue
		}
		if seq, err := strconv.ParseUint(digits, 10, 64); err == nil {
			seqs = append(seqs, seq)
		}
	}
	slices.Sort(seqs)
	return seqs, nil
}

// appendWALEntries appends the entries of chunk, the bytes of partition p
// from offset off, to dst.
func appendWALEntries(dst []byte, p int, off int64, chunk []byte) []byte {
	for len(chunk) > 0 {
		n := min(len(chunk), walChunkSize)
		start := len(dst)
		dst = append(dst, make([]byte, frameHeaderSize+walHeaderSize)...)
		binary.LittleEndian.PutUint32(dst[start+frameHeaderSize:], uint32(p))
		binary.LittleEndian.PutUint64(dst[start+frameHeaderSize+4:], uint64(off))
		dst = append(dst, chunk[:n]...)
		payload := dst[start+frameHeaderSize:]
		binary.LittleEndian.PutUint32(dst[start:], uint32(len(payload)))
		binary.LittleEndian.PutUint32(dst[start+4:], frameChecksum(dst[start:start+4], payload))
		chunk, off = chunk[n:], off+int64(n)
	}
	return dst
}

// create starts the write-ahead file seq, recycling the spare file when
// there is one.
func (w *wal) create(seq uint64) error {
	path := filepath.Join(w.dir, walName(seq))
	flag := os.O_RDWR | os.O_CREATE | os.O_EXCL
	if err := os.Rename(filepath.Join(w.dir, walSpareName), path); err == nil {
		flag = os.O_RDWR
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	f, err := w.opts.openFile(path, flag)
	if err != nil {
		return err
	}
	if !w.opts.NoSync {
		if err := atomicfile.Sync(w.dir); err != nil {
			f.Close()
			return err
		}
	}
	w.f, w.seq, w.size = f, seq, 0
	return nil
}

// commit writes the round's bytes to the write-ahead file and syncs it.
// On failure it truncates the file back; when that fails too, the error
// says the log has failed until restart.
func (w *wal) commit(round []taken) error {
	if w.opts.NoSync {
		return nil
	}
	w.buf = w.buf[:0]
	for _, t := range round {
		w.buf = appendWALEntries(w.buf, t.p.id, t.base, t.buf)
	}
	_, err := w.f.WriteAt(w.buf, w.size)
	if err == nil {
		start := time.Now()
		err = w.f.Sync()
		w.m.fsync.Observe(time.Since(start).Seconds())
	}
	if cap(w.buf) > maxSpareBuffer {
		w.buf = nil
	}
	if err == nil {
		w.size += int64(len(w.buf))
		return nil
	}
	path := filepath.Join(w.dir, walName(w.seq))
	w.logger.Error("event log write-ahead file failed", "file", path, "err", err)
	terr := w.f.Truncate(w.size)
	if terr == nil {
		terr = w.f.Sync()
	}
	if terr != nil {
		return fmt.Errorf("%w: %w: write-ahead file %s: %w (truncating it back: %v)",
			eventlog.ErrUnavailable, errFailedUntilRestart, path, err, terr)
	}
	return fmt.Errorf("%w: write-ahead file %s: %w", eventlog.ErrUnavailable, path, err)
}

// replayWAL writes back into the partitions what their segments lost and
// the write-ahead files kept, then starts a new write-ahead file. It runs
// in Open, after each partition's torn tail was cut.
func (l *Log) replayWAL() error {
	dir := filepath.Join(l.dir, walDirName)
	if err := os.MkdirAll(dir, atomicfile.DirMode); err != nil {
		return err
	}
	seqs, err := listWAL(dir)
	if err != nil {
		return err
	}
	touched := map[*partition]bool{}
	for i, seq := range seqs {
		path := filepath.Join(dir, walName(seq))
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for pos := 0; pos < len(data); {
			payload, err := decodeFrame(data[pos:])
			if err == nil && len(payload) < walHeaderSize {
				err = errBadLength
			}
			if err != nil {
				// A round whose fsync did not complete (never acknowledged)
				// at the end of the last file, or what remains of a recycled
				// file's earlier life: nothing to replay after it.
				if i == len(seqs)-1 && pos < len(data) {
					l.logger.Info("end of event log write-ahead file", "file", path, "offset", pos, "bytes_after", len(data)-pos)
				}
				break
			}
			pid := int(binary.LittleEndian.Uint32(payload))
			off := int64(binary.LittleEndian.Uint64(payload[4:]))
			if pid >= len(l.parts) {
				return fmt.Errorf("write-ahead file %s at byte %d: partition %d of %d", path, pos, pid, len(l.parts))
			}
			p := l.parts[pid]
			n, err := p.restore(off, payload[walHeaderSize:])
			if err != nil {
				return fmt.Errorf("write-ahead file %s: %w", path, err)
			}
			if n > 0 {
				touched[p] = true
			}
			pos += frameHeaderSize + len(payload)
		}
	}
	for p := range touched {
		l.logger.Warn("restored event log partition from the write-ahead file", "partition", p.id, "end", p.end.Load())
		if !l.opts.NoSync {
			if err := p.active.Sync(); err != nil {
				return err
			}
		}
	}
	for _, seq := range seqs {
		if err := os.Remove(filepath.Join(dir, walName(seq))); err != nil {
			return err
		}
	}
	if err := os.Remove(filepath.Join(dir, walSpareName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	next := uint64(0)
	if len(seqs) > 0 {
		next = seqs[len(seqs)-1] + 1
	}
	l.wal = &wal{dir: dir, opts: &l.opts, logger: l.logger, m: l.metrics}
	return l.wal.create(next)
}

// restore writes the part of chunk, the partition's bytes from offset off,
// that is beyond the partition's end. It returns how many bytes it wrote.
func (p *partition) restore(off int64, chunk []byte) (int, error) {
	end := p.activeSeg.base + p.activeSize
	switch {
	case off+int64(len(chunk)) <= end:
		return 0, nil
	case off > end:
		return 0, &CorruptionError{Partition: p.id, Segment: p.activeSeg.path, Offset: end,
			Err: fmt.Errorf("records from offset %d to %d lost: the write-ahead file resumes at %d", end, off, off)}
	}
	rest := chunk[end-off:]
	if _, err := p.active.WriteAt(rest, p.activeSize); err != nil {
		return 0, err
	}
	p.activeSize += int64(len(rest))
	p.end.Store(p.activeSeg.base + p.activeSize)
	return len(rest), nil
}

// checkpointAsync starts a new write-ahead file and, in the background,
// fsyncs every partition's segment and deletes the write-ahead files before
// the new one. At most one checkpoint runs at a time.
func (l *Log) checkpointAsync() {
	select {
	case <-l.checkpointing():
	default:
		return // one is running
	}
	old := l.wal
	next := &wal{dir: old.dir, opts: old.opts, logger: old.logger, m: old.m, buf: old.buf}
	if err := next.create(old.seq + 1); err != nil {
		l.logger.Error("cannot start a new event log write-ahead file", "err", err)
		return
	}
	l.wal = next
	done := make(chan struct{})
	l.ckMu.Lock()
	l.checkpointDone = done
	l.ckMu.Unlock()
	go func() {
		defer close(done)
		if err := l.checkpoint(old); err != nil {
			l.logger.Error("event log checkpoint failed; the write-ahead file is kept", "err", err)
		}
	}()
}

// checkpointing returns a channel closed when no checkpoint runs.
func (l *Log) checkpointing() <-chan struct{} {
	l.ckMu.Lock()
	defer l.ckMu.Unlock()
	return l.checkpointDone
}

// checkpoint makes every segment durable, then deletes the write-ahead
// file w and the ones before it. Everything w holds was written to the
// segments before w was replaced.
func (l *Log) checkpoint(w *wal) error {
	if err := w.f.Close(); err != nil {
		return err
	}
	for _, p := range l.parts {
		// Open the last segment afresh rather than share the writer's
		// handle. Earlier segments were fsynced when they were rolled.
		if err := atomicfile.Sync(p.lastSegmentPath()); err != nil {
			return fmt.Errorf("checkpoint partition %d: %w", p.id, err)
		}
	}
	seqs, err := listWAL(w.dir)
	if err != nil {
		return err
	}
	for _, seq := range seqs {
		if seq > w.seq {
			break
		}
		path := filepath.Join(w.dir, walName(seq))
		if seq == w.seq {
			err = os.Rename(path, filepath.Join(w.dir, walSpareName))
		} else {
			err = os.Remove(path)
		}
		if err != nil {
			return err
		}
	}
	return atomicfile.Sync(w.dir)
}

// lastSegmentPath returns the path of the partition's last segment.
func (p *partition) lastSegmentPath() string {
	p.segMu.RLock()
	defer p.segMu.RUnlock()
	return p.segs[len(p.segs)-1].path
}

// closeWAL runs in Close once the writer stopped and the segments were
// fsynced: the write-ahead files hold nothing the segments do not.
func (l *Log) closeWAL() error {
	<-l.checkpointing()
	err := l.wal.f.Close()
	seqs, lerr := listWAL(l.wal.dir)
	err = errors.Join(err, lerr)
	for _, seq := range seqs {
		err = errors.Join(err, os.Remove(filepath.Join(l.wal.dir, walName(seq))))
	}
	if rerr := os.Remove(filepath.Join(l.wal.dir, walSpareName)); !errors.Is(rerr, fs.ErrNotExist) {
		err = errors.Join(err, rerr)
	}
	return errors.Join(err, atomicfile.Sync(l.wal.dir))
}

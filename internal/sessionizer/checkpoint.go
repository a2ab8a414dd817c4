package sessionizer

import (
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/sightline/sightline/internal/atomicfile"
	"github.com/sightline/sightline/internal/eventlog"
)

// The checkpoint file, written whole with atomicfile:
//
//	"sightline-sessionizer 3\n"
//	complete  nParts
//	nParts × (next watermark nOpen nOpen×(len openVisit) nClosed nClosed×(keyHash documents at))
//	nSpool × (path length)
//	CRC-32C of everything before it, 4 bytes little-endian
//
// Integers are varints, but key hashes (8 bytes, little-endian), and
// strings a uvarint length and bytes. An open visit is a visit (codec.go),
// with no events but those a version 2 checkpoint held, then its refs
// (runsLength runs runsEnd start end, refs.go), events and bytes. Version 2,
// whose open visits were visits with all their events, is read too.

const (
	checkpointMagic   = "sightline-sessionizer 3\n"
	checkpointMagicV2 = "sightline-sessionizer 2\n"
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

func (s *Sessionizer) checkpointPath() string { return filepath.Join(s.cfg.Dir, "checkpoint") }

// Checkpoint makes the spool durable and records the sessionizer's state,
// then reports the hours that became complete.
func (s *Sessionizer) Checkpoint() error {
	start := time.Now()
	lengths, err := s.spool.sync()
	if err != nil {
		return err
	}
	complete := hourOf(s.watermark())
	s.pruneClosed()
	if err := s.saveCheckpoint(complete, lengths); err != nil {
		return err
	}
	s.lastCheckpoint, s.checkpointTook = s.cfg.Now(), time.Since(start)
	s.metrics.checkpoint.Observe(s.checkpointTook.Seconds())
	s.metrics.openVisits.Set(float64(s.OpenVisits()))
	s.metrics.openBytes.Set(float64(s.openBytes()))
	s.metrics.lagMark.Store(&lagMark{lag: s.lastCheckpoint.Sub(time.UnixMilli(s.watermark())), at: time.Now()})
	s.metrics.lastCheckpoint.SetToCurrentTime()
	s.logger.Debug("sessionizer checkpoint", "open_visits", s.OpenVisits(), "took", time.Since(start).Round(time.Millisecond))
	if complete > s.complete {
		s.complete = complete
		if err := s.spool.closeHours(complete); err != nil {
			return fmt.Errorf("sessionizer: %w", err)
		}
		for _, end := range s.completeHours() {
			s.onComplete(end)
		}
	}
	return nil
}

// saveCheckpoint writes the checkpoint file: the state, complete and the
// spool's lengths.
func (s *Sessionizer) saveCheckpoint(complete int64, lengths map[string]int64) error {
	if err := os.MkdirAll(s.cfg.Dir, atomicfile.DirMode); err != nil {
		return fmt.Errorf("sessionizer: %w", err)
	}
	err := atomicfile.WriteFunc(s.checkpointPath(), func(w io.Writer) error {
		return s.writeCheckpoint(w, complete, lengths)
	})
	if err != nil {
		return fmt.Errorf("sessionizer: write checkpoint: %w", err)
	}
	return nil
}

// pruneClosed forgets the visits closed more than closedMemory ago, and
// the oldest beyond each partition's share of MaxClosedVisits.
func (s *Sessionizer) pruneClosed() {
	keep, most := closedMemory.Milliseconds(), max(s.cfg.MaxClosedVisits/len(s.parts), 1)
	for _, p := range s.parts {
		for p.forget.len() > 0 {
			r := p.forget.refs[p.forget.head]
			if r.at+keep >= p.watermark && len(p.closed) <= most {
				break
			}
			p.forget.pop()
			if c, ok := p.closed[r.hash]; ok && c.at == r.at {
				delete(p.closed, r.hash)
			}
		}
	}
}

func (s *Sessionizer) writeCheckpoint(w io.Writer, complete int64, lengths map[string]int64) error {
	crc := crc32.New(crcTable)
	out := io.MultiWriter(w, crc)
	var b []byte
	var err error
	// spill writes b once it is large, or when force is set; the first
	// error sticks.
	spill := func(force bool) {
		if err == nil && (force || len(b) >= 256<<10) {
			_, err = out.Write(b)
			b = b[:0]
		}
	}
	b = append(b, checkpointMagic...)
	b = binary.AppendVarint(b, complete)
	b = binary.AppendUvarint(b, uint64(len(s.parts)))
	var vb []byte
	for _, p := range s.parts {
		b = binary.AppendVarint(b, int64(p.next))
		b = binary.AppendVarint(b, p.watermark)
		b = binary.AppendUvarint(b, uint64(len(p.open)))
		for _, v := range p.open {
			vb = appendOpenVisit(vb[:0], v)
			b = binary.AppendUvarint(b, uint64(len(vb)))
			b = append(b, vb...)
			spill(false)
		}
		b = binary.AppendUvarint(b, uint64(len(p.closed)))
		for k, c := range p.closed {
			b = binary.LittleEndian.AppendUint64(b, k)
			b = binary.AppendUvarint(b, uint64(c.documents))
			b = binary.AppendVarint(b, c.at)
			spill(false)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(lengths)))
	for path, n := range lengths {
		b = appendString(b, filepath.ToSlash(path))
		b = binary.AppendVarint(b, n)
	}
	spill(true)
	if err != nil {
		return err
	}
	_, err = w.Write(binary.LittleEndian.AppendUint32(nil, crc.Sum32()))
	return err
}

// loadCheckpoint restores the state of the last checkpoint, if any, and
// returns the spool lengths it recorded.
func (s *Sessionizer) loadCheckpoint() (map[string]int64, error) {
	b, err := os.ReadFile(s.checkpointPath())
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]int64{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sessionizer: read checkpoint: %w", err)
	}
	bad := func(what string) error {
		return fmt.Errorf("sessionizer: checkpoint %s: %s", s.checkpointPath(), what)
	}
	if len(b) < len(checkpointMagic)+4 {
		return nil, bad("not a checkpoint")
	}
	v2 := string(b[:len(checkpointMagicV2)]) == checkpointMagicV2
	if !v2 && string(b[:len(checkpointMagic)]) != checkpointMagic {
		return nil, bad("not a checkpoint of this version")
	}
	body, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, crcTable) != sum {
		return nil, bad("checksum mismatch")
	}
	d := decoder{b: body[len(checkpointMagic):], names: &s.names}
	s.complete = d.varint()
	if n := d.uvarint(); n != uint64(len(s.parts)) {
		return nil, bad(fmt.Sprintf("has %d partitions, the log %d", n, len(s.parts)))
	}
	for _, p := range s.parts {
		p.next, p.watermark = eventlog.Offset(d.varint()), d.varint()
		for n := d.uvarint(); n > 0 && d.err == nil; n-- {
			v := new(trackedVisit)
			vd := decoder{b: d.bytes(), names: &s.names}
			if err := vd.openVisit(v, v2); err != nil {
				return nil, bad(err.Error())
			}
			v.AccountID, v.UserAgent = s.names.string(v.AccountID), s.names.string(v.UserAgent)
			key := visitKey(v.AccountID, v.VisitorID, v.VisitID)
			p.open[key] = v
			p.recost(key, v)
			heap.Push(&p.due, dueVisit{closeAt: v.closeAt, key: key, visit: v})
		}
		for n := d.uvarint(); n > 0 && d.err == nil; n-- {
			k := d.uint64()
			c := closedEntry{documents: int32(d.uvarint()), at: d.varint()}
			p.closed[k] = c
			p.forget.push(closedRef{hash: k, at: c.at})
		}
		slices.SortFunc(p.forget.refs, func(a, b closedRef) int { return cmpInt(a.at, b.at) })
	}
	lengths := map[string]int64{}
	for n := d.uvarint(); n > 0 && d.err == nil; n-- {
		path := filepath.FromSlash(string(d.bytes()))
		lengths[path] = d.varint()
	}
	if d.err != nil || len(d.b) != 0 {
		return nil, bad("malformed")
	}
	return lengths, nil
}

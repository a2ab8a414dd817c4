package sessionizer

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/eventlog"
	"github.com/sightline/sightline/internal/websession"
)

// An open visit does not hold its events: they are in the log already. It
// holds where they are, runs of adjacent records of its partition (a
// batch's events are adjacent), a few bytes a run whatever the events
// weigh, and its events are read again from the log when it closes. Its
// memory, and the checkpoint's, grow with the visit's batches, not with
// its bytes.

// refs are where a visit's records are in its partition.
type refs struct {
	// runs are the runs before the last, each as two uvarints: its start
	// less the end of the run before it (0 for the first), and its length.
	runs []byte
	// runsEnd is the end of the last run in runs.
	runsEnd eventlog.Offset
	// start and end bound the last run; end == start when there is none
	// (a record takes bytes).
	start, end eventlog.Offset
}

// add notes the record at off, which ends at next, after the others.
func (r *refs) add(off, next eventlog.Offset) {
	if r.end > r.start && off == r.end {
		r.end = next
		return
	}
	if r.end > r.start {
		r.runs = binary.AppendUvarint(r.runs, uint64(r.start-r.runsEnd))
		r.runs = binary.AppendUvarint(r.runs, uint64(r.end-r.start))
		r.runsEnd = r.end
	}
	r.start, r.end = off, next
}

// each calls fn with the start and end of every run, in order, until fn
// returns false.
func (r *refs) each(fn func(start, end eventlog.Offset) bool) {
	var end eventlog.Offset
	for b := r.runs; len(b) > 0; {
		gap, n := binary.Uvarint(b)
		length, m := binary.Uvarint(b[max(n, 0):])
		if n <= 0 || m <= 0 {
			return // not runs add wrote (checkpoints are checksummed)
		}
		b = b[n+m:]
		start := end + eventlog.Offset(gap)
		end = start + eventlog.Offset(length)
		if !fn(start, end) {
			return
		}
	}
	if r.end > r.start {
		fn(r.start, r.end)
	}
}

// appendRefs appends r in the checkpoint's form.
func appendRefs(dst []byte, r *refs) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(r.runs)))
	dst = append(dst, r.runs...)
	for _, off := range [...]eventlog.Offset{r.runsEnd, r.start, r.end} {
		dst = binary.AppendVarint(dst, int64(off))
	}
	return dst
}

// refs reads what appendRefs wrote.
func (d *decoder) refs(r *refs) {
	r.runs = append([]byte(nil), d.bytes()...)
	for _, off := range [...]*eventlog.Offset{&r.runsEnd, &r.start, &r.end} {
		*off = eventlog.Offset(d.varint())
	}
}

// load puts v's events in v.Events, after those it holds already (a visit
// of an older checkpoint, which kept its events): those it keeps if it is
// cached, else read from the log, with their data in s's scratch buffer:
// v must be spooled before the next load. Records in v's runs that are not v's (retention deleted v's and
// the log passed later ones) are left out.
func (s *Sessionizer) load(ctx context.Context, p *partition, v *trackedVisit) error {
	if v.cached {
		if v.Events == nil {
			v.Events = v.cache
		} else {
			v.Events = append(v.Events, v.cache...)
		}
		return nil
	}
	if cap(s.scratch) < int(v.bytes) {
		s.scratch = make([]byte, 0, v.bytes)
	}
	s.scratch = s.scratch[:0]
	v.Events = slices.Grow(v.Events, v.events-len(v.Events))
	var err error
	v.refs.each(func(start, end eventlog.Offset) bool {
		err = s.log.ReadRange(ctx, p.id, start, end, func(m eventlog.Message) bool {
			rec, perr := event.ParseRecordView(m.Value)
			if perr != nil || rec.AccountID != v.AccountID || rec.VisitorID != v.VisitorID || rec.VisitID != v.VisitID {
				return true
			}
			from := len(s.scratch)
			s.scratch = append(s.scratch, rec.Data...)
			v.Events = append(v.Events, websession.Event{
				Time: rec.Time, ServerTime: rec.ServerTime,
				App: s.names.string(rec.AppName), Name: s.names.string(rec.EventName),
				Data: s.scratch[from:len(s.scratch):len(s.scratch)],
			})
			return true
		})
		return err == nil
	})
	if err != nil {
		return fmt.Errorf("sessionizer: read the events of a closing visit in partition %d: %w", p.id, err)
	}
	return nil
}

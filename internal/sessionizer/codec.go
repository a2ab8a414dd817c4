package sessionizer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/sightline/sightline/internal/websession"
)

// The spool and the checkpoint keep visits in one binary form: unsigned
// and signed varints, and strings and byte strings as a uvarint length and
// the bytes. A visit:
//
//	account visitor visit ip userAgent continuation first last closeAt nEvents
//	nEvents × (time serverTime app name data)
//
// Eligibility and achieved goals are not kept: nothing produces them
// before the campaign engine does.

// trackedVisit is a visit, open or closed, with the server times that
// decide when it closes.
type trackedVisit struct {
	websession.Visit
	first, last int64 // server times of its first and last events, epoch ms
	closeAt     int64 // when it closes, epoch ms
	// While open: where its events are in the log (refs.go), and, while
	// cached, the events themselves, so that closing it reads nothing.
	// Events holds only those of a visit restored from a checkpoint of
	// version 2, which are not in refs.
	refs   refs
	cached bool
	cache  []websession.Event
	// events and bytes count its events and their data, for the limits
	// of a visit; cost is what it takes in memory, for the partition's.
	events int
	bytes  int64
	cost   int64
	held   int64 // what its Events and cache take
}

// appendVisit appends v in the binary form.
func appendVisit(dst []byte, v *trackedVisit) []byte {
	for _, s := range [...]string{v.AccountID, v.VisitorID, v.VisitID, v.IP, v.UserAgent} {
		dst = appendString(dst, s)
	}
	dst = binary.AppendUvarint(dst, uint64(v.Continuation))
	dst = binary.AppendVarint(dst, v.first)
	dst = binary.AppendVarint(dst, v.last)
	dst = binary.AppendVarint(dst, v.closeAt)
	dst = binary.AppendUvarint(dst, uint64(len(v.Events)))
	for i := range v.Events {
		e := &v.Events[i]
		dst = binary.AppendVarint(dst, e.Time)
		dst = binary.AppendVarint(dst, e.ServerTime)
		dst = appendString(dst, e.App)
		dst = appendString(dst, e.Name)
		dst = binary.AppendUvarint(dst, uint64(len(e.Data)))
		dst = append(dst, e.Data...)
	}
	return dst
}

// appendOpenVisit appends the open visit v in the checkpoint's form.
func appendOpenVisit(dst []byte, v *trackedVisit) []byte {
	dst = appendVisit(dst, v)
	dst = appendRefs(dst, &v.refs)
	dst = binary.AppendUvarint(dst, uint64(v.events))
	return binary.AppendVarint(dst, v.bytes)
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// errShort means a visit's bytes end early.
var errShort = errors.New("visit record is truncated")

// decoder reads the binary form.
type decoder struct {
	b     []byte
	err   error
	names *interner // the app and event names, which repeat
	// alias makes events' Data point into b instead of being copied, for
	// readers done with a visit before b changes.
	alias bool
}

func (d *decoder) uvarint() uint64 {
	n, size := binary.Uvarint(d.b)
	if size <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[size:]
	return n
}

func (d *decoder) varint() int64 {
	n, size := binary.Varint(d.b)
	if size <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[size:]
	return n
}

func (d *decoder) uint64() uint64 {
	if len(d.b) < 8 {
		d.fail()
		return 0
	}
	n := binary.LittleEndian.Uint64(d.b)
	d.b = d.b[8:]
	return n
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return nil
	}
	b := d.b[:n:n]
	d.b = d.b[n:]
	return b
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errShort
	}
	d.b = nil
}

// visit reads one visit. Its strings are copies, and so is its events'
// data unless d.alias is set.
func (d *decoder) visit(v *trackedVisit) error {
	d.head(v)
	n := d.uvarint()
	if n > uint64(len(d.b)) { // every event takes more than a byte
		d.fail()
		return fmt.Errorf("%w: %d events", errShort, n)
	}
	v.Events = make([]websession.Event, n)
	for i := range v.Events {
		e := &v.Events[i]
		e.Time, e.ServerTime = d.varint(), d.varint()
		e.App, e.Name = d.names.bytes(d.bytes()), d.names.bytes(d.bytes())
		if e.Data = d.bytes(); !d.alias {
			e.Data = append([]byte(nil), e.Data...)
		}
	}
	return d.err
}

// openVisit reads one open visit as appendOpenVisit wrote it, or as a
// version 2 checkpoint did (v2): a visit with all its events.
func (d *decoder) openVisit(v *trackedVisit, v2 bool) error {
	if err := d.visit(v); err != nil {
		return err
	}
	for _, e := range v.Events {
		v.held += int64(len(e.Data)) + eventOverhead
		if v2 {
			v.bytes += int64(len(e.Data))
		}
	}
	if v2 {
		v.events = len(v.Events)
		return nil
	}
	d.refs(&v.refs)
	v.events, v.bytes = int(d.uvarint()), d.varint()
	if d.err == nil && len(d.b) != 0 {
		d.fail()
	}
	return d.err
}

// head reads what precedes the events of a visit into v.
func (d *decoder) head(v *trackedVisit) {
	for _, dst := range [...]*string{&v.AccountID, &v.VisitorID, &v.VisitID, &v.IP, &v.UserAgent} {
		*dst = string(d.bytes())
	}
	v.Continuation = int(d.uvarint())
	v.first, v.last, v.closeAt = d.varint(), d.varint(), d.varint()
}

// interner returns one string for equal byte strings, so that the names
// every event repeats are kept once.
type interner struct {
	m map[string]string
}

// maxInterned bounds the interner: custom chat event names are open-ended.
const maxInterned = 4096

func (in *interner) bytes(b []byte) string {
	if s, ok := in.m[string(b)]; ok {
		return s
	}
	return in.add(string(b))
}

// string returns the interned copy of s, which may be a view of memory
// that changes.
func (in *interner) string(s string) string {
	if t, ok := in.m[s]; ok {
		return t
	}
	return in.add(strings.Clone(s))
}

// add interns s, which must not change.
func (in *interner) add(s string) string {
	if in.m == nil {
		in.m = make(map[string]string)
	}
	if len(in.m) < maxInterned {
		in.m[s] = s
	}
	return s
}

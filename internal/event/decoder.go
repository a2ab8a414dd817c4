package event

import (
	"strconv"
	"time"
)

// MaxFutureSkew is how far after the server's clock an event's time may be.
const MaxFutureSkew = 24 * time.Hour

// Decoder decodes and validates batches. The zero value is ready to use.
// Not safe for concurrent use; reuse one per goroutine (a sync.Pool in the
// caller): it keeps its buffers, so that decoding allocates nothing once
// they have grown to the size of the largest batch it has seen.
type Decoder struct {
	data    []byte // the compact data of the current batch's events
	strings stringArena
	check   validator
}

// Decode parses body, a batch as the browser tag posts it, and fills b (after
// resetting it) with its valid events and its rejected ones. It returns a
// *BatchError when the batch as a whole is unusable; a bad event only lands
// in b.Rejected. now is the server's clock, against which event times are
// checked.
func (d *Decoder) Decode(body []byte, now time.Time, b *Batch) error {
	b.Reset()
	d.data = d.data[:0]
	if err := d.decode(body, now, b); err != nil {
		b.Reset()
		return err
	}
	return nil
}

// decode is Decode; on an error, b holds what was read before it.
func (d *Decoder) decode(body []byte, now time.Time, b *Batch) *BatchError {
	sc := &d.check.sc
	sc.reset(bytesString(body))
	root := sc.peek()
	if root != typeObject {
		sc.skip()
		sc.end()
		if sc.err != nil {
			return &BatchError{Msg: "body: invalid JSON: " + sc.err.Error()}
		}
		return &BatchError{Msg: "body: must be a JSON object, got " + typeName(root)}
	}
	var visitor, visit scalar
	events, count := typeNone, 0
	state := false      // seen
	var bad *BatchError // the first unknown or repeated key
	limit := now.Add(MaxFutureSkew).UnixMilli()
	sc.enter('{')
	for n := 0; sc.next('}', &n); {
		key := sc.key()
		switch {
		case key == "visitorId" && visitor.t == typeNone:
			visitor = sc.scalar()
		case key == "visitId" && visit.t == typeNone:
			visit = sc.scalar()
		case key == "state" && !state:
			// The campaign engine's state, sent back as it was answered: kept
			// raw, an object only (anything else is left out).
			state = true
			if sc.peek() == typeObject {
				start := sc.i
				sc.skip()
				b.State = body[start:sc.i]
			} else {
				sc.skip()
			}
		case key == "events" && events == typeNone:
			if events = sc.peek(); events == typeArray {
				count = d.events(limit, b)
			} else {
				sc.skip()
			}
		default:
			if bad == nil && sc.err == nil {
				if key == "visitorId" || key == "visitId" || key == "events" || key == "state" {
					bad = &BatchError{Msg: key + ": duplicate key"}
				} else {
					bad = &BatchError{Msg: "body: unknown field " + quote(key)}
				}
			}
			sc.skip()
		}
	}
	sc.end()
	switch {
	case sc.err != nil:
		return &BatchError{Msg: "body: invalid JSON: " + sc.err.Error()}
	case bad != nil:
		return bad
	}
	if b.VisitorID, bad = d.visitID("visitorId", visitor); bad != nil {
		return bad
	}
	if b.VisitID, bad = d.visitID("visitId", visit); bad != nil {
		return bad
	}
	switch {
	case events == typeNone:
		return &BatchError{Msg: "events: required"}
	case events != typeArray:
		return &BatchError{Msg: "events: must be an array, got " + typeName(events)}
	case count > MaxEvents:
		return &BatchError{Msg: "events: " + strconv.Itoa(count) + " events, limit " + strconv.Itoa(MaxEvents)}
	}
	b.InvalidUTF8 = sc.replaced
	return nil
}

// events reads the events array into b and returns the number of its
// items. Items beyond MaxEvents are only skipped: the batch is rejected.
func (d *Decoder) events(limit int64, b *Batch) int {
	sc := &d.check.sc
	sc.enter('[')
	n := 0
	for sc.next(']', &n) {
		i := n - 1
		if i >= MaxEvents {
			sc.skip()
			continue
		}
		ev, fe := d.event(limit)
		ev.Index = i
		if fe != nil {
			b.Rejected = append(b.Rejected, Rejection{Index: i, ID: ev.ID, Err: fe})
			continue
		}
		b.Events = append(b.Events, ev)
	}
	return n
}

// visitID returns the visitorId or visitId v.
func (d *Decoder) visitID(name string, v scalar) (string, *BatchError) {
	switch {
	case v.t == typeNone:
		return "", &BatchError{Msg: name + ": required"}
	case v.t != typeString:
		return "", &BatchError{Msg: name + ": must be a string, got " + typeName(v.t)}
	case !idChars.matches(v.text, maxVisitIDLen):
		return "", &BatchError{Msg: name + ": " + quote(v.text) + " is not 1-128 characters of [A-Za-z0-9_.:-]"}
	}
	return d.strings.string(v.text), nil
}

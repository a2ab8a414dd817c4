package event

import (
	"strconv"
	"time"

	"github.com/valyala/fastjson"
)

// MaxFutureSkew is how far after the server's clock an event's time may be.
const MaxFutureSkew = 24 * time.Hour

// batchKeys are the properties of a batch.
var batchKeys = [...]string{"visitorId", "visitId", "events"}

// Decoder decodes and validates batches. The zero value is ready to use.
// Not safe for concurrent use; reuse one per goroutine (a sync.Pool in the
// caller): it keeps its buffers, so that decoding allocates nothing once
// they have grown to the size of the largest batch it has seen.
type Decoder struct {
	parser  fastjson.Parser
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
	root, err := d.parser.ParseBytes(body)
	if err == nil {
		err = checkStrings(body)
	}
	if err != nil {
		return &BatchError{Msg: "body: invalid JSON: " + err.Error()}
	}
	if t := root.Type(); t != fastjson.TypeObject {
		return &BatchError{Msg: "body: must be a JSON object, got " + typeName(t)}
	}
	var vals [len(batchKeys)]*fastjson.Value
	switch key, problem := properties(root.GetObject(), batchKeys[:], vals[:]); problem {
	case keyUnknown:
		return &BatchError{Msg: "body: unknown field " + quote(key)}
	case keyRepeated:
		return &BatchError{Msg: key + ": duplicate key"}
	}
	visitor, visit, events := vals[0], vals[1], vals[2]
	var bad *BatchError
	if b.VisitorID, bad = d.visitID("visitorId", visitor); bad != nil {
		return bad
	}
	if b.VisitID, bad = d.visitID("visitId", visit); bad != nil {
		return bad
	}
	items, bad := eventsOf(events)
	if bad != nil {
		return bad
	}
	limit := now.Add(MaxFutureSkew).UnixMilli()
	for i, item := range items {
		ev, fe := d.event(item, limit)
		ev.Index = i
		if fe != nil {
			b.Rejected = append(b.Rejected, Rejection{Index: i, ID: ev.ID, Err: fe})
			continue
		}
		b.Events = append(b.Events, ev)
	}
	return nil
}

// visitID returns the visitorId or visitId v.
func (d *Decoder) visitID(name string, v *fastjson.Value) (string, *BatchError) {
	if v == nil {
		return "", &BatchError{Msg: name + ": required"}
	}
	if t := v.Type(); t != fastjson.TypeString {
		return "", &BatchError{Msg: name + ": must be a string, got " + typeName(t)}
	}
	s := stringOf(v)
	if !idChars.matches(s, maxVisitIDLen) {
		return "", &BatchError{Msg: name + ": " + quote(s) + " is not 1-128 characters of [A-Za-z0-9_.:-]"}
	}
	return d.strings.string(s), nil
}

// eventsOf returns the items of the events array v.
func eventsOf(v *fastjson.Value) ([]*fastjson.Value, *BatchError) {
	if v == nil {
		return nil, &BatchError{Msg: "events: required"}
	}
	if t := v.Type(); t != fastjson.TypeArray {
		return nil, &BatchError{Msg: "events: must be an array, got " + typeName(t)}
	}
	items := v.GetArray()
	if len(items) > MaxEvents {
		return nil, &BatchError{Msg: "events: " + strconv.Itoa(len(items)) + " events, limit " + strconv.Itoa(MaxEvents)}
	}
	return items, nil
}

package event

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// Stored is one event as kept in the log: the event plus what the server stamps.
type Stored struct {
	ID, AccountID, VisitorID, VisitID string
	Time, ServerTime                  int64 // epoch ms
	IP, UserAgent                     string
	AppName, EventName                string
	Data                              json.RawMessage // compact JSON, as Event.Data
}

// AppendRecord appends s to dst as one JSON object, without a newline, and
// returns the extended slice:
//
//	{"id":..,"accountId":..,"visitorId":..,"visitId":..,"time":..,"serverTime":..,
//	 "ip":..,"userAgent":..,"appName":..,"eventName":..,"data":<raw>}
//
// Strings are escaped so that the record is valid JSON whatever they hold
// (invalid UTF-8 becomes U+FFFD). s.Data is copied as is and must be compact
// JSON, as Event.Data is; empty Data is written as {}. AppendRecord does not
// allocate when dst has the capacity.
func AppendRecord(dst []byte, s *Stored) []byte {
	dst = appendRecordID(dst, s.ID)
	dst = appendRecordVisit(dst, s)
	dst = appendRecordTime(dst, s.Time)
	dst = appendRecordSource(dst, s)
	return appendRecordEvent(dst, s)
}

// The parts of a record, in order. RecordWriter keeps the text of the
// parts that all events of a batch share.

func appendRecordID(dst []byte, id string) []byte {
	return AppendJSONString(append(dst, `{"id":`...), id)
}

func appendRecordVisit(dst []byte, s *Stored) []byte {
	dst = AppendJSONString(append(dst, `,"accountId":`...), s.AccountID)
	dst = AppendJSONString(append(dst, `,"visitorId":`...), s.VisitorID)
	return AppendJSONString(append(dst, `,"visitId":`...), s.VisitID)
}

func appendRecordTime(dst []byte, t int64) []byte {
	return strconv.AppendInt(append(dst, `,"time":`...), t, 10)
}

func appendRecordSource(dst []byte, s *Stored) []byte {
	dst = strconv.AppendInt(append(dst, `,"serverTime":`...), s.ServerTime, 10)
	dst = AppendJSONString(append(dst, `,"ip":`...), s.IP)
	return AppendJSONString(append(dst, `,"userAgent":`...), s.UserAgent)
}

func appendRecordEvent(dst []byte, s *Stored) []byte {
	dst = AppendJSONString(append(dst, `,"appName":`...), s.AppName)
	dst = AppendJSONString(append(dst, `,"eventName":`...), s.EventName)
	dst = append(dst, `,"data":`...)
	if len(s.Data) == 0 {
		dst = append(dst, "{}"...)
	} else {
		dst = append(dst, s.Data...)
	}
	return append(dst, '}')
}

// RecordWriter writes the records of events that share their account,
// visit and source (ServerTime, IP, UserAgent), as those of one batch do,
// writing the shared properties once instead of for every event. Its
// records are byte for byte those of AppendRecord. The zero value is ready
// to Reset.
type RecordWriter struct {
	visit, source []byte
}

// Reset makes w write records with the account, visit and source of s.
func (w *RecordWriter) Reset(s *Stored) {
	w.visit = appendRecordVisit(w.visit[:0], s)
	w.source = appendRecordSource(w.source[:0], s)
}

// Append appends the record of s, whose account, visit and source are
// those given to Reset, like AppendRecord.
func (w *RecordWriter) Append(dst []byte, s *Stored) []byte {
	dst = appendRecordID(dst, s.ID)
	dst = append(dst, w.visit...)
	dst = appendRecordTime(dst, s.Time)
	dst = append(dst, w.source...)
	return appendRecordEvent(dst, s)
}

// recordReaders are the validators of ParseRecord, which may run
// concurrently. They let numbers beyond a float64 pass, which records
// stored before ingest refused them may hold.
var recordReaders = sync.Pool{New: func() any { return &validator{anyRange: true} }}

// recordStrings are the string properties of a record, in the order of
// Stored's fields.
var recordStrings = [...]string{"id", "accountId", "visitorId", "visitId", "ip", "userAgent", "appName", "eventName"}

// ParseRecord parses a record written by AppendRecord. It copies what it
// keeps, so b may be reused. Properties it does not know are ignored, so
// that older readers accept newer records; every property AppendRecord
// writes is required. Data is checked as free-form event data is on
// ingest (see MaxDataDepth, MaxStringLen), but for the range of numbers,
// and written compact.
func ParseRecord(b []byte) (Stored, error) {
	v := recordReaders.Get().(*validator)
	defer recordReaders.Put(v)
	sc := &v.sc
	sc.reset(bytesString(b))
	var (
		strs      [len(recordStrings)]scalar
		ints      [2]scalar // time, serverTime
		data      []byte
		dataFound bool
		dataErr   *FieldError
	)
	if t := sc.peek(); t != typeObject {
		sc.skip()
		sc.end()
		if sc.err == nil {
			return Stored{}, errors.New("cannot parse event record: not a JSON object")
		}
	} else {
		sc.enter('{')
		for n := 0; sc.next('}', &n); {
			key := sc.key()
			var slot *scalar
			switch key {
			case "time":
				slot = &ints[0]
			case "serverTime":
				slot = &ints[1]
			case "data":
				if !dataFound && sc.err == nil {
					dataFound = true
					if t := sc.peek(); t == typeObject {
						data, dataErr = v.checkData(make([]byte, 0, len(b)), anyObject, false)
					} else {
						dataErr = &FieldError{Path: "data", Reason: ReasonType, Msg: "must be an object, got " + typeName(t)}
						sc.skip()
					}
					continue
				}
			default:
				for i, name := range recordStrings {
					if key == name {
						slot = &strs[i]
					}
				}
			}
			if slot == nil || slot.t != typeNone {
				sc.skip()
				continue
			}
			*slot = sc.scalar()
		}
		sc.end()
	}
	if sc.err != nil {
		return Stored{}, fmt.Errorf("cannot parse event record: %w", sc.err)
	}
	var s Stored
	size := 0
	for i, name := range recordStrings {
		if strs[i].t != typeString {
			return Stored{}, recordError(name, strs[i].t, "a string")
		}
		size += len(strs[i].text)
	}
	var text strings.Builder // the copies, in one allocation
	text.Grow(size)
	for i := range strs {
		text.WriteString(strs[i].text)
	}
	all := text.String()
	for i, dst := range [...]*string{&s.ID, &s.AccountID, &s.VisitorID, &s.VisitID, &s.IP, &s.UserAgent, &s.AppName, &s.EventName} {
		*dst, all = all[:len(strs[i].text)], all[len(strs[i].text):]
	}
	for i, dst := range [...]*int64{&s.Time, &s.ServerTime} {
		name := [...]string{"time", "serverTime"}[i]
		if ints[i].t != typeNumber {
			return Stored{}, recordError(name, ints[i].t, "an integer")
		}
		var err error
		if *dst, err = strconv.ParseInt(ints[i].text, 10, 64); err != nil {
			return Stored{}, recordError(name, ints[i].t, "an integer")
		}
	}
	switch {
	case !dataFound:
		return Stored{}, recordError("data", typeNone, "an object")
	case dataErr != nil:
		return Stored{}, fmt.Errorf("cannot parse event record: %w", dataErr)
	}
	s.Data = data
	return s, nil
}

// recordError says that property name of a record, of type t, is missing
// or not what it must be.
func recordError(name string, t jsonType, want string) error {
	if t == typeNone {
		return errors.New("cannot parse event record: " + name + ": required")
	}
	return errors.New("cannot parse event record: " + name + ": must be " + want + ", got " + typeName(t))
}

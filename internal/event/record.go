package event

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/valyala/fastjson"
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
	dst = append(dst, `{"id":`...)
	dst = appendString(dst, s.ID)
	dst = append(dst, `,"accountId":`...)
	dst = appendString(dst, s.AccountID)
	dst = append(dst, `,"visitorId":`...)
	dst = appendString(dst, s.VisitorID)
	dst = append(dst, `,"visitId":`...)
	dst = appendString(dst, s.VisitID)
	dst = append(dst, `,"time":`...)
	dst = strconv.AppendInt(dst, s.Time, 10)
	dst = append(dst, `,"serverTime":`...)
	dst = strconv.AppendInt(dst, s.ServerTime, 10)
	dst = append(dst, `,"ip":`...)
	dst = appendString(dst, s.IP)
	dst = append(dst, `,"userAgent":`...)
	dst = appendString(dst, s.UserAgent)
	dst = append(dst, `,"appName":`...)
	dst = appendString(dst, s.AppName)
	dst = append(dst, `,"eventName":`...)
	dst = appendString(dst, s.EventName)
	dst = append(dst, `,"data":`...)
	if len(s.Data) == 0 {
		dst = append(dst, "{}"...)
	} else {
		dst = append(dst, s.Data...)
	}
	return append(dst, '}')
}

// recordParsers are the parsers of ParseRecord, which may run concurrently.
var recordParsers fastjson.ParserPool

// ParseRecord parses a record written by AppendRecord. It copies what it
// keeps, so b may be reused. Properties it does not know are ignored, so
// that older readers accept newer records; every property AppendRecord
// writes is required.
func ParseRecord(b []byte) (Stored, error) {
	p := recordParsers.Get()
	defer recordParsers.Put(p)
	root, err := p.ParseBytes(b)
	if err == nil {
		err = checkStrings(b)
	}
	if err != nil {
		return Stored{}, fmt.Errorf("cannot parse event record: %w", err)
	}
	obj, err := root.Object()
	if err != nil {
		return Stored{}, errors.New("cannot parse event record: not a JSON object")
	}
	var s Stored
	strs := [...]struct {
		name string
		dst  *string
		text string // a view of parser memory
	}{
		{name: "id", dst: &s.ID}, {name: "accountId", dst: &s.AccountID},
		{name: "visitorId", dst: &s.VisitorID}, {name: "visitId", dst: &s.VisitID},
		{name: "ip", dst: &s.IP}, {name: "userAgent", dst: &s.UserAgent},
		{name: "appName", dst: &s.AppName}, {name: "eventName", dst: &s.EventName},
	}
	size := 0
	for i := range strs {
		v := obj.Get(strs[i].name)
		if v == nil || v.Type() != fastjson.TypeString {
			return Stored{}, recordError(strs[i].name, v, "a string")
		}
		strs[i].text = stringOf(v)
		size += len(strs[i].text)
	}
	var text strings.Builder // the copies, in one allocation
	text.Grow(size)
	for i := range strs {
		text.WriteString(strs[i].text)
	}
	all := text.String()
	for i := range strs {
		*strs[i].dst, all = all[:len(strs[i].text)], all[len(strs[i].text):]
	}
	for _, f := range [...]struct {
		name string
		dst  *int64
	}{{"time", &s.Time}, {"serverTime", &s.ServerTime}} {
		v := obj.Get(f.name)
		if v == nil || v.Type() != fastjson.TypeNumber {
			return Stored{}, recordError(f.name, v, "an integer")
		}
		if *f.dst, err = v.Int64(); err != nil {
			return Stored{}, recordError(f.name, v, "an integer")
		}
	}
	data := obj.Get("data")
	if data == nil {
		return Stored{}, recordError("data", data, "JSON")
	}
	if s.Data, err = appendValue(make([]byte, 0, len(b)), data); err != nil {
		return Stored{}, fmt.Errorf("cannot parse event record: data: %w", err)
	}
	return s, nil
}

// recordError says that property name of a record is missing or not what it must be.
func recordError(name string, v *fastjson.Value, want string) error {
	if v == nil {
		return errors.New("cannot parse event record: " + name + ": required")
	}
	return errors.New("cannot parse event record: " + name + ": must be " + want + ", got " + typeName(v.Type()))
}

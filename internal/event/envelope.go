package event

import "github.com/valyala/fastjson"

// eventKeys are the properties of an event.
var eventKeys = [...]string{"id", "time", "appName", "eventName", "data"}

// event decodes one item of a batch's events. limit is the latest time
// (epoch ms) an event may have. The returned Event's ID is set whenever the
// event had a string id, so that a rejection can name it.
func (d *Decoder) event(item *fastjson.Value, limit int64) (Event, *FieldError) {
	var ev Event
	if t := item.Type(); t != fastjson.TypeObject {
		return ev, &FieldError{Path: "event", Reason: ReasonType, Msg: "must be an object, got " + typeName(t)}
	}
	var vals [len(eventKeys)]*fastjson.Value
	key, problem := properties(item.GetObject(), eventKeys[:], vals[:])
	idV, timeV, appV, nameV, dataV := vals[0], vals[1], vals[2], vals[3], vals[4]
	if idV != nil && idV.Type() == fastjson.TypeString {
		ev.ID = d.strings.string(stringOf(idV))
	}
	switch problem {
	case keyUnknown:
		return ev, &FieldError{Path: formatPath([]segment{{key: key, index: -1}}), Reason: ReasonUnknownField, Msg: "unknown field"}
	case keyRepeated:
		return ev, &FieldError{Path: key, Reason: ReasonFormat, Msg: "duplicate key"}
	}
	if fe := checkEventID(idV, ev.ID); fe != nil {
		return ev, fe
	}
	var fe *FieldError
	if ev.Time, fe = d.eventTime(timeV, limit); fe != nil {
		return ev, fe
	}
	a, fe := appOf(appV)
	if fe != nil {
		return ev, fe
	}
	et, fe := d.eventType(a, nameV)
	if fe != nil {
		return ev, fe
	}
	ev.AppName, ev.EventName = a.name, et.name
	if ev.Data, fe = d.eventData(et, dataV); fe != nil {
		return ev, fe
	}
	return ev, nil
}

// keyProblem is what properties found wrong with the keys of an object.
type keyProblem uint8

const (
	keysOK      keyProblem = iota
	keyUnknown             // a key that is not one of the names
	keyRepeated            // a key that occurs twice
)

// properties sets vals[i] to the value of obj's property names[i], or nil.
// It returns the first key that is unknown (a view of parser memory, to be
// copied if kept) or repeated (one of names), and which. A repeated
// property keeps its first value.
func properties(obj *fastjson.Object, names []string, vals []*fastjson.Value) (string, keyProblem) {
	var bad string
	problem := keysOK
	obj.Visit(func(k []byte, v *fastjson.Value) {
		key := bytesString(k)
		for i, name := range names {
			if key == name {
				if vals[i] == nil {
					vals[i] = v
				} else if problem == keysOK {
					bad, problem = name, keyRepeated
				}
				return
			}
		}
		if problem == keysOK {
			bad, problem = key, keyUnknown
		}
	})
	return bad, problem
}

// checkEventID checks the id property v, whose string value is id.
func checkEventID(v *fastjson.Value, id string) *FieldError {
	if v == nil {
		return nil
	}
	switch t := v.Type(); t {
	case fastjson.TypeNull:
		return nil
	case fastjson.TypeString:
		if idChars.matches(id, maxIDLen) {
			return nil
		}
		return &FieldError{Path: "id", Reason: ReasonFormat, Msg: quote(id) + " is not 1-64 characters of [A-Za-z0-9_.:-]"}
	default:
		return &FieldError{Path: "id", Reason: ReasonType, Msg: "must be a string, got " + typeName(t)}
	}
}

// eventTime returns the time property v: epoch milliseconds, positive, at
// most limit.
func (d *Decoder) eventTime(v *fastjson.Value, limit int64) (int64, *FieldError) {
	if v == nil || v.Type() == fastjson.TypeNull {
		return 0, &FieldError{Path: "time", Reason: ReasonMissing, Msg: "required"}
	}
	if t := v.Type(); t != fastjson.TypeNumber {
		return 0, &FieldError{Path: "time", Reason: ReasonType, Msg: "must be an integer (epoch milliseconds), got " + typeName(t)}
	}
	text := d.check.numberText(v)
	ms, st := integer(text)
	switch {
	case !isJSONNumber(text):
		return 0, &FieldError{Path: "time", Reason: ReasonFormat, Msg: quote(text) + " is not a JSON number"}
	case st == intFraction:
		return 0, &FieldError{Path: "time", Reason: ReasonType, Msg: "must be an integer (epoch milliseconds), got " + text}
	case st == intTooBig || ms <= 0:
		return 0, &FieldError{Path: "time", Reason: ReasonRange, Msg: text + " is not a positive epoch time in milliseconds"}
	case ms > limit:
		return 0, &FieldError{Path: "time", Reason: ReasonFutureTime,
			Msg: text + " is more than " + MaxFutureSkew.String() + " after the server's clock"}
	}
	return ms, nil
}

// appOf returns the app named by the appName property v.
func appOf(v *fastjson.Value) (*app, *FieldError) {
	name, fe := nameOf("appName", v)
	if fe != nil {
		return nil, fe
	}
	a := appNamed(name)
	if a == nil {
		return nil, &FieldError{Path: "appName", Reason: ReasonUnknownApp, Msg: "unknown app " + quote(name)}
	}
	return a, nil
}

// eventType returns the type of a's event named by the eventName property
// v. The type's name is the canonical string or, for an open name, a copy.
func (d *Decoder) eventType(a *app, v *fastjson.Value) (eventType, *FieldError) {
	name, fe := nameOf("eventName", v)
	if fe != nil {
		return eventType{}, fe
	}
	et, ok := a.event(name)
	if !ok {
		return eventType{}, a.unknownEvent(name)
	}
	if et.name == "" {
		et.name = d.strings.string(name)
	}
	return et, nil
}

// nameOf returns the string property v called path, as a view of parser memory.
func nameOf(path string, v *fastjson.Value) (string, *FieldError) {
	if v == nil || v.Type() == fastjson.TypeNull {
		return "", &FieldError{Path: path, Reason: ReasonMissing, Msg: "required"}
	}
	if t := v.Type(); t != fastjson.TypeString {
		return "", &FieldError{Path: path, Reason: ReasonType, Msg: "must be a string, got " + typeName(t)}
	}
	return stringOf(v), nil
}

// eventData validates the data property v against et and returns it as
// compact JSON in d.data.
func (d *Decoder) eventData(et eventType, v *fastjson.Value) ([]byte, *FieldError) {
	var obj *fastjson.Object
	switch {
	case v == nil || v.Type() == fastjson.TypeNull:
		if et.dataRequired {
			return nil, &FieldError{Path: "data", Reason: ReasonMissing, Msg: "required"}
		}
	case v.Type() != fastjson.TypeObject:
		return nil, &FieldError{Path: "data", Reason: ReasonType, Msg: "must be an object, got " + typeName(v.Type())}
	default:
		obj = v.GetObject()
	}
	start := len(d.data)
	var fe *FieldError
	if d.data, fe = d.check.checkData(d.data, et.data, obj); fe != nil {
		return nil, fe
	}
	// Capacity capped, so that appending to one event's data cannot
	// overwrite the next one's.
	return d.data[start:len(d.data):len(d.data)], nil
}

package event

// event reads one item of a batch's events. limit is the latest time (epoch
// ms) an event may have. The returned Event's ID is set whenever the event
// had a string id, so that a rejection can name it. On a syntax error (in
// d.check.sc.err) the results are meaningless.
func (d *Decoder) event(limit int64) (Event, *FieldError) {
	var ev Event
	sc := &d.check.sc
	if t := sc.peek(); t != typeObject {
		sc.skip()
		return ev, &FieldError{Path: "event", Reason: ReasonType, Msg: "must be an object, got " + typeName(t)}
	}
	var (
		id, tm, appV, nameV scalar
		h                   header
		dataT               = typeNone // the type of data; typeNone when absent
		dataAt              = -1       // where data is, when it was skipped to be read after the header
		dataDone            bool       // data has been read and checked
		dataErr, problem    *FieldError
	)
	dataStart, replaced := len(d.data), sc.replaced
	next := 0 // in envelopeKeys
	sc.enter('{')
	for n := 0; sc.next('}', &n); {
		key := envelopeKey(sc, &next)
		if sc.err != nil {
			break
		}
		var slot *scalar
		switch key {
		case "id":
			slot = &id
		case "time":
			slot = &tm
		case "appName":
			slot = &appV
		case "eventName":
			slot = &nameV
		case "data":
			if dataT != typeNone {
				break
			}
			// Data usually comes last: check it as it is read when the
			// header tells its schema, else come back to it.
			if dataT = sc.peek(); appV.t != typeNone && nameV.t != typeNone {
				h = d.header(appV, nameV)
				if h.err == nil {
					ev.Data, dataErr = d.eventData(h.et, dataT)
					dataDone = true
					continue
				}
			}
			dataAt = sc.i
			sc.skip()
			continue
		default:
			if problem == nil {
				problem = &FieldError{Path: formatPath([]segment{{key: key, index: -1}}), Reason: ReasonUnknownField, Msg: "unknown field"}
			}
			sc.skip()
			continue
		}
		if slot == nil || slot.t != typeNone {
			if problem == nil {
				problem = &FieldError{Path: key, Reason: ReasonFormat, Msg: "duplicate key"}
			}
			sc.skip()
			continue
		}
		*slot = sc.scalar()
	}
	if id.t == typeString {
		ev.ID = d.strings.string(id.text)
	}
	fe := problem
	if fe == nil {
		fe = checkEventID(id, ev.ID)
	}
	if fe == nil {
		ev.Time, fe = eventTime(tm, limit)
	}
	if fe == nil {
		if !h.done {
			h = d.header(appV, nameV)
		}
		fe = h.err
	}
	if fe == nil {
		ev.AppName, ev.EventName = h.app.name, h.et.name
		switch {
		case dataDone:
			fe = dataErr
		case dataAt >= 0:
			end := sc.i
			sc.i = dataAt
			ev.Data, fe = d.eventData(h.et, dataT)
			sc.i = end
		default:
			ev.Data, fe = d.eventData(h.et, typeNone)
		}
	}
	if fe != nil {
		d.data, sc.replaced = d.data[:dataStart], replaced
		ev.Data = nil
	}
	return ev, fe
}

// envelopeKeys are the properties of an event in the order the tag writes
// them, in which envelopeKey tries them first.
var envelopeKeys = [...]keyText{newKeyText("id"), newKeyText("time"), newKeyText("appName"), newKeyText("eventName"), newKeyText("data")}

// envelopeKey reads the key of an event's property: the one at *next in
// envelopeKeys, which it then moves past, or any other.
func envelopeKey(sc *scanner, next *int) string {
	if i := *next; i < len(envelopeKeys) && sc.knownKey(&envelopeKeys[i]) {
		*next = i + 1
		return envelopeKeys[i].name
	}
	return sc.key()
}

// header is what an event's appName and eventName tell: its app and type,
// or why they are invalid.
type header struct {
	done bool
	app  *app
	et   eventType
	err  *FieldError
}

// header resolves the appName and eventName properties appV and nameV.
func (d *Decoder) header(appV, nameV scalar) header {
	h := header{done: true}
	if h.app, h.err = appOf(appV); h.err == nil {
		h.et, h.err = d.eventType(h.app, nameV)
	}
	return h
}

// checkEventID checks the id property v, whose string value is id.
func checkEventID(v scalar, id string) *FieldError {
	switch v.t {
	case typeNone, typeNull:
		return nil
	case typeString:
		if idChars.matches(id, maxIDLen) {
			return nil
		}
		return &FieldError{Path: "id", Reason: ReasonFormat, Msg: quote(id) + " is not 1-64 characters of [A-Za-z0-9_.:-]"}
	default:
		return &FieldError{Path: "id", Reason: ReasonType, Msg: "must be a string, got " + typeName(v.t)}
	}
}

// eventTime returns the time property v: epoch milliseconds, positive, at
// most limit.
func eventTime(v scalar, limit int64) (int64, *FieldError) {
	if v.t == typeNone || v.t == typeNull {
		return 0, &FieldError{Path: "time", Reason: ReasonMissing, Msg: "required"}
	}
	if v.t != typeNumber {
		return 0, &FieldError{Path: "time", Reason: ReasonType, Msg: "must be an integer (epoch milliseconds), got " + typeName(v.t)}
	}
	ms, st := integer(v.text)
	text := numberText(v.text)
	switch {
	case !isJSONNumber(v.text):
		return 0, &FieldError{Path: "time", Reason: ReasonFormat, Msg: quote(v.text) + " is not a JSON number"}
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
func appOf(v scalar) (*app, *FieldError) {
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
func (d *Decoder) eventType(a *app, v scalar) (eventType, *FieldError) {
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

// nameOf returns the string property v called path.
func nameOf(path string, v scalar) (string, *FieldError) {
	switch v.t {
	case typeNone, typeNull:
		return "", &FieldError{Path: path, Reason: ReasonMissing, Msg: "required"}
	case typeString:
		return v.text, nil
	}
	return "", &FieldError{Path: path, Reason: ReasonType, Msg: "must be a string, got " + typeName(v.t)}
}

// eventData reads the data property, of type t (typeNone when absent),
// validates it against et and returns it as compact JSON in d.data.
func (d *Decoder) eventData(et eventType, t jsonType) ([]byte, *FieldError) {
	absent := t == typeNone || t == typeNull
	switch {
	case absent:
		if t == typeNull {
			d.check.sc.literal()
		}
		if et.dataRequired {
			return nil, &FieldError{Path: "data", Reason: ReasonMissing, Msg: "required"}
		}
	case t != typeObject:
		d.check.sc.skip()
		return nil, &FieldError{Path: "data", Reason: ReasonType, Msg: "must be an object, got " + typeName(t)}
	}
	start := len(d.data)
	var fe *FieldError
	if d.data, fe = d.check.checkData(d.data, et.data, absent); fe != nil {
		return nil, fe
	}
	// Capacity capped, so that appending to one event's data cannot
	// overwrite the next one's.
	return d.data[start:len(d.data):len(d.data)], nil
}

package event

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits on the content of events.
const (
	// MaxStringLen is the most characters a string value may have.
	MaxStringLen = 50000
	// MaxDataDepth is how deeply a free-form payload (chat data) may nest;
	// data itself is depth 1.
	MaxDataDepth = 32
)

// validator checks values against the schema types of schema.go as its
// scanner reads them. It is the one validator of the package: every event
// family is a schema it walks. In the same walk its scanner echoes what it
// checked as compact JSON (scanner.startEcho). It keeps the path to the
// value being checked, so that errors name it, and scratch buffers, so that
// checking allocates nothing until it fails.
//
// A value that fails validation is still read to its end (the first
// problem is kept in err, and the rest of the event is only skipped), so
// that the scanner can go on to the next event; a syntax error stops
// everything (sc.err).
type validator struct {
	sc    scanner
	path  []segment
	parts []part // the join parts (field.joinPart) of the objects being checked
	join  []byte // the expected value of a joinOf string
	last  string // the text of the last string or number read
	err   *FieldError
	// anyRange has numbers beyond a float64's range pass, for records
	// stored before ingest refused them (ParseRecord).
	anyRange bool
}

// part is the value of a property that takes part in a join (field.joinOf).
type part struct {
	field int      // the property's index in its object's fields
	t     jsonType // its type
	text  string   // its string content or number text
}

// checkData validates the data object of an event at the scanner's
// position (absent when the event has none) against o and appends it to
// dst as compact JSON ({} when absent). It returns the extended dst, or dst
// (with any capacity gained) and the first problem found.
func (v *validator) checkData(dst []byte, o *object, absent bool) ([]byte, *FieldError) {
	v.path = append(v.path[:0], segment{key: "data", index: -1})
	v.parts = v.parts[:0]
	v.err = nil
	out := dst
	if absent {
		v.absentObject(o)
		out = append(out, "{}"...)
	} else {
		v.sc.startEcho(dst)
		v.object(o)
		out = v.sc.stopEcho()
	}
	if v.err != nil || v.sc.err != nil {
		return out[:len(dst)], v.err
	}
	return out, nil
}

// fail records a FieldError at the current path, unless one is recorded,
// and returns false.
func (v *validator) fail(r Reason, msg string) bool {
	if v.err == nil {
		v.err = &FieldError{Path: formatPath(v.path), Reason: r, Msg: msg}
	}
	return false
}

// failType records that the current value has the wrong type.
func (v *validator) failType(want string, got jsonType) bool {
	return v.fail(ReasonType, "must be "+want+", got "+typeName(got))
}

// failString records that the string s is not what f needs, a number.
func (v *validator) failString(f *field, s string) bool {
	return v.fail(ReasonType, "must be "+f.kind.describe()+", got "+quote(s))
}

func (v *validator) pushKey(key string) { v.path = append(v.path, segment{key: key, index: -1}) }
func (v *validator) pushIndex(i int)    { v.path = append(v.path, segment{index: i}) }
func (v *validator) pop()               { v.path = v.path[:len(v.path)-1] }

// value reads the next value, of type t (peek), checks it against f and
// writes it. Callers have pushed its path.
func (v *validator) value(f *field, t jsonType) {
	if v.err != nil || t == typeNone {
		v.sc.skip()
		return
	}
	if t == typeNull {
		v.sc.literal()
		if f.required {
			v.fail(ReasonMissing, "required")
		}
		return
	}
	if !f.kind.accepts(t) {
		v.failType(f.kind.describe(), t)
		v.sc.skip()
		return
	}
	switch f.kind {
	case kindString:
		v.string()
	case kindURL:
		if v.string() && !isAbsoluteHTTPURL(v.last) {
			v.fail(ReasonFormat, quote(v.last)+" is not an absolute http or https URL")
		}
	case kindID:
		v.id(f, t)
	case kindInt:
		if x, ok := v.number(); ok {
			v.integer(f, x)
		}
	case kindAttrInt:
		if t == typeNumber {
			if x, ok := v.number(); ok {
				v.integer(f, x)
			}
			return
		}
		s := v.readString()
		if !isNumericText(s) {
			v.failString(f, s)
			return
		}
		if v.integer(f, number{text: s}) {
			v.length(s)
		}
	case kindAttrNumber:
		v.attrNumber(f, t)
	case kindAttrText:
		if t == typeNumber {
			v.number()
		} else {
			v.string()
		}
	case kindBool:
		v.sc.literal()
	case kindObject:
		v.object(f.object)
	case kindArray:
		v.array(f.items)
	case kindAny:
		v.any(t)
	default:
		panic("event: schema field " + strconv.Quote(f.name) + " has no kind")
	}
}

// accepts reports whether a value of kind k may have the JSON type t
// (null aside, which every kind accepts unless the field is required).
func (k kind) accepts(t jsonType) bool {
	switch k {
	case kindString, kindURL:
		return t == typeString
	case kindID, kindAttrInt, kindAttrNumber, kindAttrText:
		return t == typeString || t == typeNumber
	case kindInt:
		return t == typeNumber
	case kindBool:
		return t == typeBool
	case kindObject:
		return t == typeObject
	case kindArray:
		return t == typeArray
	}
	return true
}

// readString reads a string; v.last is its content.
func (v *validator) readString() string {
	v.last = v.sc.str()
	return v.last
}

// string reads a string and checks its length.
func (v *validator) string() bool {
	return v.length(v.readString())
}

// number is a number as the validator read it.
type number struct {
	text string
	// plain numbers are integers in plain digits within ±2^53, whose value
	// the scanner read: n.
	plain bool
	n     int64
}

// integer returns the value of x when it is an integer within ±2^53.
func (x number) integer() (int64, intStatus) {
	if x.plain {
		return x.n, intOK
	}
	return integer(x.text)
}

// number reads a number and checks its syntax, which the scanner does
// not, and its range. It returns false when it is malformed ("01", "+1",
// NaN) or beyond a float64 (1e309).
func (v *validator) number() (number, bool) {
	var x number
	x.text, x.n, x.plain = v.sc.number()
	v.last = x.text
	if v.sc.err != nil {
		return x, false
	}
	if x.plain {
		return x, true
	}
	if !isJSONNumber(x.text) {
		return x, v.fail(ReasonFormat, quote(x.text)+" is not a JSON number")
	}
	return x, v.inRange(x.text)
}

// inRange checks that the number text s is within the range of a float64,
// in which JavaScript, encoding/json and the campaign engine hold numbers:
// beyond it they read ±Inf, or fail.
func (v *validator) inRange(s string) bool {
	if v.anyRange || inFloatRange(s) {
		return true
	}
	return v.fail(ReasonRange, numberText(s)+" is out of range of a 64-bit float")
}

// attrNumber reads an engagement attribute "double" of type t, a JSON
// number or a string holding one, and checks it: within a float64's range,
// and not negative when f is nonNegative.
func (v *validator) attrNumber(f *field, t jsonType) {
	var s string
	if t == typeNumber {
		x, ok := v.number()
		if !ok {
			return
		}
		s = x.text
	} else {
		s = v.readString()
		if !isNumericText(s) {
			v.failString(f, s)
			return
		}
		if !v.length(s) || !v.inRange(s) {
			return
		}
	}
	if f.nonNegative && isNegative(s) {
		v.fail(ReasonRange, numberText(s)+" is negative")
	}
}

// length checks the length limit of strings.
func (v *validator) length(s string) bool {
	if len(s) <= MaxStringLen { // bytes >= characters
		return true
	}
	if n := utf8.RuneCountInString(s); n > MaxStringLen {
		return v.fail(ReasonTooLong, fmt.Sprintf("%d characters, limit %d", n, MaxStringLen))
	}
	return true
}

// id reads an ALPHA_NUMERIC value of type t and checks it.
func (v *validator) id(f *field, t jsonType) bool {
	if t == typeString {
		s := v.readString()
		if !idChars.matches(s, maxIDLen) {
			return v.fail(ReasonFormat, quote(s)+" is not 1-64 characters of [A-Za-z0-9_.:-]")
		}
		return true
	}
	x, valid := v.number()
	if !valid {
		return false
	}
	n, st := x.integer()
	switch {
	case st == intFraction:
		return v.fail(ReasonType, "must be "+f.kind.describe()+", got "+numberText(x.text))
	case st == intTooBig || n < 0:
		return v.fail(ReasonRange, numberText(x.text)+" is not an integer in 0.."+strconv.FormatInt(maxExactInt, 10))
	}
	return true
}

// integer checks the number x, or a string holding one, against an integer
// field's constraints.
func (v *validator) integer(f *field, x number) bool {
	n, st := x.integer()
	s := numberText(x.text)
	switch st {
	case intFraction:
		return v.fail(ReasonType, "must be "+f.kind.describe()+", got "+s)
	case intTooBig:
		return v.fail(ReasonRange, s+" is beyond ±2^53")
	}
	if f.nonNegative && n < 0 {
		return v.fail(ReasonRange, s+" is negative")
	}
	if f.oneOf != nil {
		for _, ok := range f.oneOf {
			if n == ok {
				return true
			}
		}
		return v.fail(ReasonEnum, strconv.FormatInt(n, 10)+" is not one of "+joinInts(f.oneOf))
	}
	if f.hasRange && (n < f.min || n > f.max) {
		return v.fail(ReasonRange, fmt.Sprintf("%d is not in %d..%d", n, f.min, f.max))
	}
	return true
}

// object reads an object and checks its properties against o.
func (v *validator) object(o *object) {
	if o.tag != "" {
		v.union(o)
		return
	}
	if !v.sc.enter('{') {
		return
	}
	var seen, present uint64
	parts := len(v.parts)
	next := 0 // the field after the last one read, which likely comes next
	for n := 0; v.sc.next('}', &n); {
		i, key := v.key(o, next)
		if v.err != nil || v.sc.err != nil {
			v.sc.skip()
			continue
		}
		next = i + 1
		v.pushKey(key)
		switch {
		case i < 0 && o.open:
			if v.length(key) {
				v.any(v.sc.peek())
			} else {
				v.sc.skip()
			}
		case i < 0:
			v.fail(ReasonUnknownField, "unknown field")
			v.sc.skip()
		case seen&(1<<i) != 0:
			v.fail(ReasonFormat, "duplicate key")
			v.sc.skip()
		default:
			seen |= 1 << i
			t := v.sc.peek()
			if t != typeNull {
				present |= 1 << i
			}
			v.value(&o.fields[i], t)
			if o.fields[i].joinPart {
				v.parts = append(v.parts, part{field: i, t: t, text: v.last})
			}
		}
		v.pop()
	}
	if v.err == nil && v.sc.err == nil {
		v.finish(o, present, v.parts[parts:])
	}
	v.parts = v.parts[:parts]
}

// key reads the key of a property of o and returns it and the index of its
// field, -1 when o has none. Properties usually come in the schema's order
// and in compact JSON, so the field at next is tried first, as its JSON
// text.
func (v *validator) key(o *object, next int) (int, string) {
	if next < len(o.fields) && v.sc.knownKey(&o.fields[next].jsonKey) {
		return next, o.fields[next].name
	}
	key := v.sc.key()
	return o.fieldIndex(key), key
}

// absentObject checks an absent object (an event without data) against o.
func (v *validator) absentObject(o *object) {
	if o.tag != "" {
		v.pushKey(o.tag)
		v.fail(ReasonMissing, "required")
		v.pop()
		return
	}
	v.finish(o, 0, nil)
}

// finish checks what o requires of an object as a whole once its
// properties, those whose bits are set in present (not null), have been
// read: required properties, exactly one property, joins.
func (v *validator) finish(o *object, present uint64, parts []part) {
	if missing := o.required &^ present; missing != 0 {
		v.pushKey(o.fields[bits.TrailingZeros64(missing)].name)
		v.fail(ReasonMissing, "required")
		v.pop()
		return
	}
	if o.exactlyOne {
		switch n := bits.OnesCount64(present); {
		case n == 0:
			v.fail(ReasonMissing, "must have one of "+o.fieldNames())
			return
		case n > 1:
			v.fail(ReasonFormat, "must have only one of "+o.fieldNames()+", has "+strconv.Itoa(n))
			return
		}
	}
	for joins := o.joins & present; joins != 0; joins &= joins - 1 {
		if i := bits.TrailingZeros64(joins); !v.joined(i, &o.fields[i], parts) {
			return
		}
	}
}

// union reads an object and checks it against the variant of o its tag
// property selects.
func (v *validator) union(o *object) {
	tag := v.sc.lookup(o.tag)
	v.pushKey(o.tag)
	var variant *object
	switch {
	case tag.t == typeNone || tag.t == typeNull:
		v.fail(ReasonMissing, "required")
	case tag.t != typeString:
		v.failType(kindString.describe(), tag.t)
	default:
		if variant = o.variantFor(tag.text); variant == nil {
			v.fail(ReasonEnum, quote(tag.text)+" is not one of "+o.variantTags())
		}
	}
	v.pop()
	if variant == nil {
		v.sc.skip()
		return
	}
	v.object(variant)
}

// array reads an array and checks every item against f.
func (v *validator) array(f *field) {
	if !v.sc.enter('[') {
		return
	}
	for n := 0; v.sc.next(']', &n); {
		if v.err != nil {
			v.sc.skip()
			continue
		}
		v.pushIndex(n - 1)
		if t := v.sc.peek(); t == typeNull && f.kind != kindAny {
			v.failType(f.kind.describe(), t)
			v.sc.skip()
		} else {
			v.value(f, t)
		}
		v.pop()
	}
}

// any reads a free-form value of type t, checks its strings against
// MaxStringLen (keys included) and its nesting against MaxDataDepth.
func (v *validator) any(t jsonType) {
	switch t {
	case typeString:
		v.string()
	case typeArray, typeObject:
		if len(v.path) > MaxDataDepth {
			v.fail(ReasonTooLong, "nested deeper than "+strconv.Itoa(MaxDataDepth)+" levels")
			v.sc.skip()
		} else if t == typeArray {
			v.array(&anyField)
		} else {
			v.object(anyObject)
		}
	case typeNumber:
		v.number()
	case typeBool, typeNull:
		v.sc.literal()
	}
}

// joined checks that the string property f, the i-th of its object, equals
// the values of its joinOf siblings joined with "_", numbers written as
// integers. parts are the object's join parts.
func (v *validator) joined(i int, f *field, parts []part) bool {
	v.join = v.join[:0]
	missing := ""
	for k, name := range f.joinOf {
		if k > 0 {
			v.join = append(v.join, '_')
		}
		p := partOf(parts, f.joinIdx[k])
		if p.t == typeNone || p.t == typeNull {
			missing = name
			break
		}
		if p.t == typeNumber && !isDecimalInt(p.text) {
			n, _ := integer(p.text) // validated as kindID already
			v.join = strconv.AppendInt(v.join, n, 10)
		} else {
			v.join = append(v.join, p.text...)
		}
	}
	got := partOf(parts, i).text
	if missing == "" && got == bytesString(v.join) {
		return true
	}
	v.pushKey(f.name)
	defer v.pop()
	names := strings.Join(f.joinOf, "_")
	if missing != "" {
		return v.fail(ReasonMismatch, quote(got)+" does not equal "+names+": "+missing+" is missing")
	}
	return v.fail(ReasonMismatch, quote(got)+" does not equal "+names+" "+quote(string(v.join)))
}

// partOf returns the part of field i, or a part of typeNone.
func partOf(parts []part, i int) part {
	for _, p := range parts {
		if p.field == i {
			return p
		}
	}
	return part{}
}

// describe says what a value of kind k must be, for error messages.
func (k kind) describe() string {
	switch k {
	case kindString, kindURL:
		return "a string"
	case kindID:
		return "a non-negative integer or an id string"
	case kindInt:
		return "an integer"
	case kindAttrInt:
		return "an integer or a string holding one"
	case kindAttrNumber:
		return "a number or a string holding one"
	case kindAttrText:
		return "a string or a number"
	case kindBool:
		return "a boolean"
	case kindObject:
		return "an object"
	case kindArray:
		return "an array"
	}
	return "a JSON value"
}

// fieldNames lists the names of o's fields, for error messages.
func (o *object) fieldNames() string {
	names := make([]string, len(o.fields))
	for i := range o.fields {
		names[i] = o.fields[i].name
	}
	return strings.Join(names, ", ")
}

// variantTags lists the tags of o's variants, for error messages.
func (o *object) variantTags() string {
	tags := make([]string, len(o.variants))
	for i := range o.variants {
		tags[i] = o.variants[i].tag
	}
	return strings.Join(tags, ",")
}

// joinInts writes vals as "0,1,2".
func joinInts(vals []int64) string {
	var b []byte
	for i, n := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, n, 10)
	}
	return string(b)
}

package event

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// Limits on the content of events.
const (
	// MaxStringLen is the most characters a string value may have.
	MaxStringLen = 50000
	// MaxDataDepth is how deeply a free-form payload (chat data) may nest;
	// data itself is depth 1.
	MaxDataDepth = 32
)

// validator checks values against the schema types of schema.go. It is the
// one validator of the package: every event family is a schema it walks.
// In the same walk it writes what it checked as compact JSON to out. It
// keeps the path to the value being checked, so that errors name it, and
// scratch buffers, so that checking allocates nothing until it fails.
type validator struct {
	out  []byte // the checked values, as compact JSON
	path []segment
	num  []byte // the text of the number being checked
	join []byte // the expected value of a joinOf string
	err  *FieldError
}

// checkData validates the data object of an event (obj is nil when the
// event had none) against o and appends it to dst as compact JSON ({} for
// nil). It returns the extended dst, or dst (with any capacity gained) and
// the first problem found.
func (v *validator) checkData(dst []byte, o *object, obj *fastjson.Object) ([]byte, *FieldError) {
	v.out = dst
	v.path = append(v.path[:0], segment{key: "data", index: -1})
	v.err = nil
	if !v.object(o, obj) {
		return v.out[:len(dst)], v.err
	}
	return v.out, nil
}

// fail records a FieldError at the current path and returns false.
func (v *validator) fail(r Reason, msg string) bool {
	v.err = &FieldError{Path: formatPath(v.path), Reason: r, Msg: msg}
	return false
}

// failType records that the current value has the wrong type.
func (v *validator) failType(want string, got fastjson.Type) bool {
	return v.fail(ReasonType, "must be "+want+", got "+typeName(got))
}

// failString records that the string s is not what f needs, a number.
func (v *validator) failString(f *field, s string) bool {
	return v.fail(ReasonType, "must be "+f.kind.describe()+", got "+quote(s))
}

func (v *validator) pushKey(key string) { v.path = append(v.path, segment{key: key, index: -1}) }
func (v *validator) pushIndex(i int)    { v.path = append(v.path, segment{index: i}) }
func (v *validator) pop()               { v.path = v.path[:len(v.path)-1] }

// value checks val against f and writes it. Callers have pushed val's path.
func (v *validator) value(f *field, val *fastjson.Value) bool {
	t := val.Type()
	if t == fastjson.TypeNull {
		if f.required {
			return v.fail(ReasonMissing, "required")
		}
		v.out = append(v.out, "null"...)
		return true
	}
	ok := false
	switch f.kind {
	case kindString:
		ok = t == fastjson.TypeString && v.string(val)
	case kindURL:
		ok = t == fastjson.TypeString && v.string(val)
		if ok && !isAbsoluteHTTPURL(stringOf(val)) {
			return v.fail(ReasonFormat, quote(stringOf(val))+" is not an absolute http or https URL")
		}
	case kindID:
		ok = v.id(f, val, t)
	case kindInt:
		if t == fastjson.TypeNumber {
			text, valid := v.number(val)
			ok = valid && v.integer(f, text)
		}
	case kindAttrInt:
		switch t {
		case fastjson.TypeNumber:
			text, valid := v.number(val)
			ok = valid && v.integer(f, text)
		case fastjson.TypeString:
			if !isNumericText(stringOf(val)) {
				return v.failString(f, stringOf(val))
			}
			ok = v.integer(f, stringOf(val)) && v.string(val)
		}
	case kindAttrNumber:
		switch t {
		case fastjson.TypeNumber:
			_, ok = v.number(val)
		case fastjson.TypeString:
			if !isNumericText(stringOf(val)) {
				return v.failString(f, stringOf(val))
			}
			ok = v.string(val)
		}
	case kindAttrText:
		switch t {
		case fastjson.TypeString:
			ok = v.string(val)
		case fastjson.TypeNumber:
			_, ok = v.number(val)
		}
	case kindBool:
		ok = t == fastjson.TypeTrue || t == fastjson.TypeFalse
		if ok {
			v.out = val.MarshalTo(v.out)
		}
	case kindObject:
		ok = t == fastjson.TypeObject && v.object(f.object, val.GetObject())
	case kindArray:
		ok = t == fastjson.TypeArray && v.array(f.items, val.GetArray())
	case kindAny:
		ok = v.any(val)
	default:
		panic("event: schema field " + strconv.Quote(f.name) + " has no kind")
	}
	if !ok && v.err == nil {
		return v.failType(f.kind.describe(), t)
	}
	return ok
}

// string checks the length of the string val and writes it.
func (v *validator) string(val *fastjson.Value) bool {
	s := stringOf(val)
	if !v.length(s) {
		return false
	}
	v.out = appendString(v.out, s)
	return true
}

// number checks the syntax of the number val, which the parser does not,
// and writes it. It returns its text, valid until the next write, and
// false when it is malformed ("01", "+1", NaN).
func (v *validator) number(val *fastjson.Value) (string, bool) {
	start := len(v.out)
	v.out = val.MarshalTo(v.out)
	text := bytesString(v.out[start:])
	if !isJSONNumber(text) {
		return text, v.fail(ReasonFormat, quote(text)+" is not a JSON number")
	}
	return text, true
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

// id checks an ALPHA_NUMERIC value and writes it.
func (v *validator) id(f *field, val *fastjson.Value, t fastjson.Type) bool {
	switch t {
	case fastjson.TypeString:
		s := stringOf(val)
		if !idChars.matches(s, maxIDLen) {
			return v.fail(ReasonFormat, quote(s)+" is not 1-64 characters of [A-Za-z0-9_.:-]")
		}
		v.out = append(append(append(v.out, '"'), s...), '"') // id characters need no escaping
		return true
	case fastjson.TypeNumber:
		text, valid := v.number(val)
		if !valid {
			return false
		}
		n, st := integer(text)
		switch {
		case st == intFraction:
			return v.fail(ReasonType, "must be "+f.kind.describe()+", got "+text)
		case st == intTooBig || n < 0:
			return v.fail(ReasonRange, text+" is not an integer in 0.."+strconv.Itoa(maxExactInt))
		}
		return true
	}
	return false
}

// integer checks the number text s against an integer field's constraints.
func (v *validator) integer(f *field, s string) bool {
	n, st := integer(s)
	switch st {
	case intFraction:
		return v.fail(ReasonType, "must be "+f.kind.describe()+", got "+s)
	case intTooBig:
		return v.fail(ReasonRange, s+" is beyond ±2^53")
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

// object checks the properties of obj (nil for an absent object) against o
// and writes them.
func (v *validator) object(o *object, obj *fastjson.Object) bool {
	if o.tag != "" {
		return v.union(o, obj)
	}
	var seen, present uint64
	next := 0 // properties usually come in the schema's order: try the next field first
	ok, first := true, true
	v.out = append(v.out, '{')
	obj.Visit(func(k []byte, val *fastjson.Value) {
		if !ok {
			return
		}
		key := bytesString(k)
		i := next
		if i >= len(o.fields) || o.fields[i].name != key {
			i = o.fieldIndex(key)
		}
		next = i + 1
		if !first {
			v.out = append(v.out, ',')
		}
		first = false
		if i >= 0 {
			v.out = append(v.out, o.fields[i].jsonKey...)
		} else {
			v.out = append(appendString(v.out, key), ':')
		}
		v.pushKey(key)
		switch {
		case i < 0 && o.open:
			ok = v.length(key) && v.any(val)
		case i < 0:
			ok = v.fail(ReasonUnknownField, "unknown field")
		case seen&(1<<i) != 0:
			ok = v.fail(ReasonFormat, "duplicate key")
		default:
			seen |= 1 << i
			if val.Type() != fastjson.TypeNull {
				present |= 1 << i
			}
			ok = v.value(&o.fields[i], val)
		}
		v.pop()
	})
	if !ok {
		return false
	}
	v.out = append(v.out, '}')
	for i := range o.fields {
		if o.fields[i].required && present&(1<<i) == 0 {
			v.pushKey(o.fields[i].name)
			return v.fail(ReasonMissing, "required")
		}
	}
	if o.exactlyOne {
		switch n := bits.OnesCount64(present); {
		case n == 0:
			return v.fail(ReasonMissing, "must have one of "+o.fieldNames())
		case n > 1:
			return v.fail(ReasonFormat, "must have only one of "+o.fieldNames()+", has "+strconv.Itoa(n))
		}
	}
	for i := range o.fields {
		if o.fields[i].joinOf != nil && present&(1<<i) != 0 && !v.joined(&o.fields[i], obj) {
			return false
		}
	}
	return true
}

// union checks obj against the variant of o its tag property selects.
func (v *validator) union(o *object, obj *fastjson.Object) bool {
	var tag *fastjson.Value
	if obj != nil {
		tag = obj.Get(o.tag)
	}
	v.pushKey(o.tag)
	if tag == nil || tag.Type() == fastjson.TypeNull {
		return v.fail(ReasonMissing, "required")
	}
	if t := tag.Type(); t != fastjson.TypeString {
		return v.failType(kindString.describe(), t)
	}
	variant := o.variantFor(stringOf(tag))
	if variant == nil {
		return v.fail(ReasonEnum, quote(stringOf(tag))+" is not one of "+o.variantTags())
	}
	v.pop()
	return v.object(variant, obj)
}

// array checks every item of items against f and writes them.
func (v *validator) array(f *field, items []*fastjson.Value) bool {
	v.out = append(v.out, '[')
	for i, item := range items {
		if i > 0 {
			v.out = append(v.out, ',')
		}
		v.pushIndex(i)
		var ok bool
		if t := item.Type(); t == fastjson.TypeNull && f.kind != kindAny {
			ok = v.failType(f.kind.describe(), t)
		} else {
			ok = v.value(f, item)
		}
		if !ok {
			return false
		}
		v.pop()
	}
	v.out = append(v.out, ']')
	return true
}

// any checks a free-form value, strings within MaxStringLen (keys
// included) and nesting within MaxDataDepth, and writes it.
func (v *validator) any(val *fastjson.Value) bool {
	switch val.Type() {
	case fastjson.TypeString:
		return v.string(val)
	case fastjson.TypeArray:
		if len(v.path) > MaxDataDepth {
			return v.fail(ReasonTooLong, "nested deeper than "+strconv.Itoa(MaxDataDepth)+" levels")
		}
		return v.array(&anyField, val.GetArray())
	case fastjson.TypeObject:
		if len(v.path) > MaxDataDepth {
			return v.fail(ReasonTooLong, "nested deeper than "+strconv.Itoa(MaxDataDepth)+" levels")
		}
		return v.object(anyObject, val.GetObject())
	case fastjson.TypeNumber:
		_, ok := v.number(val)
		return ok
	default:
		v.out = val.MarshalTo(v.out)
	}
	return true
}

// joined checks that the string property f of obj equals the values of its
// joinOf siblings joined with "_", numbers written as integers.
func (v *validator) joined(f *field, obj *fastjson.Object) bool {
	v.join = v.join[:0]
	missing := ""
	for i, name := range f.joinOf {
		if i > 0 {
			v.join = append(v.join, '_')
		}
		part := obj.Get(name)
		if part == nil || part.Type() == fastjson.TypeNull {
			missing = name
			break
		}
		if part.Type() == fastjson.TypeNumber {
			n, _ := integer(v.numberText(part)) // validated as kindID already
			v.join = strconv.AppendInt(v.join, n, 10)
		} else {
			v.join = append(v.join, stringOf(part)...)
		}
	}
	got := stringOf(obj.Get(f.name))
	if missing == "" && got == bytesString(v.join) {
		return true
	}
	v.pushKey(f.name)
	names := strings.Join(f.joinOf, "_")
	if missing != "" {
		return v.fail(ReasonMismatch, quote(got)+" does not equal "+names+": "+missing+" is missing")
	}
	return v.fail(ReasonMismatch, quote(got)+" does not equal "+names+" "+quote(string(v.join)))
}

// numberText returns the text of the number val, valid until the next call.
func (v *validator) numberText(val *fastjson.Value) string {
	v.num = val.MarshalTo(v.num[:0])
	return bytesString(v.num)
}

// stringOf returns the content of the string val as a view of parser
// memory; "" when val is not a string.
func stringOf(val *fastjson.Value) string {
	b, _ := val.StringBytes()
	return bytesString(b)
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

// typeName names a JSON type for error messages.
func typeName(t fastjson.Type) string {
	switch t {
	case fastjson.TypeTrue, fastjson.TypeFalse:
		return "boolean"
	}
	return t.String()
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

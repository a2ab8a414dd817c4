package event

// This file holds the schema description language: the vocabulary's event
// payloads are written as Go data in these types (offers.go, pageview.go,
// sdes.go, chat.go) and checked by the one validator in validate.go.

// kind is what a property's value must be.
type kind uint8

const (
	// kindString is a JSON string.
	kindString kind = iota + 1
	// kindID is the engagement documents' ALPHA_NUMERIC: a non-negative
	// integer number, or a string of 1-64 characters of [A-Za-z0-9_.:-].
	kindID
	// kindInt is a JSON number with an integer value.
	kindInt
	// kindAttrInt is an engagement attribute "int": a JSON integer or a
	// string holding one, as pages push them ("6").
	kindAttrInt
	// kindAttrNumber is an engagement attribute "double": a JSON number or a
	// string holding one ("11.7").
	kindAttrNumber
	// kindAttrText is an engagement attribute "alphanumeric": a string, or a
	// number (pages often push ids as numbers).
	kindAttrText
	// kindBool is true or false.
	kindBool
	// kindURL is a string holding an absolute http or https URL.
	kindURL
	// kindObject is a JSON object described by field.object.
	kindObject
	// kindArray is a JSON array whose items are described by field.items.
	kindArray
	// kindAny is any JSON value, nested at most MaxDataDepth deep.
	kindAny
)

// field describes one property of an object, or the items of an array.
type field struct {
	// What the validator reads for every property comes first, so that it
	// shares a cache line.
	name     string
	jsonKey  keyText // name as a JSON object key in compact JSON, with the colon: "name":
	kind     kind
	required bool // absent or null is an error (ReasonMissing)
	// joinPart marks the properties a join involves, whose values the
	// validator keeps until the end of their object.
	joinPart bool
	object   *object // kindObject
	items    *field  // kindArray

	// Integer kinds (kindInt, kindAttrInt): the allowed values, as either a
	// set (oneOf, ReasonEnum) or an inclusive range (min..max, ReasonRange).
	oneOf    []int64
	hasRange bool
	min, max int64
	// nonNegative numbers (kindAttrInt, kindAttrNumber) may not be below
	// zero (ReasonRange): counts, quantities, prices.
	nonNegative bool

	// joinOf, for a string property, names sibling properties whose values
	// joined with "_" the string must equal (ReasonMismatch); joinIdx are
	// their indexes in the object's fields.
	joinOf  []string
	joinIdx []int
}

// object describes a JSON object.
type object struct {
	fields []field
	// open objects accept properties that fields does not name, as kindAny;
	// closed ones reject them (ReasonUnknownField).
	open bool
	// exactlyOne objects must hold exactly one of their fields.
	exactlyOne bool
	// tag, when set, names the property whose string value selects which of
	// variants describes the object (a discriminated union).
	tag      string
	variants []variant
	// required and joins have bit i set when fields[i] is required, or has
	// a joinOf to check (set by newObject).
	required, joins uint64
}

// variant is one shape of a discriminated union.
type variant struct {
	tag    string
	object *object
}

// anyObject is an object with any properties; anyField any value.
var (
	anyObject = openWith()
	anyField  = field{kind: kindAny}
)

// maxFields is the number of fields an object may describe: validation
// tracks the fields it has seen in a uint64.
const maxFields = 64

// fieldIndex returns the position in o.fields of the field named name, or -1.
func (o *object) fieldIndex(name string) int {
	for i := range o.fields {
		if o.fields[i].name == name {
			return i
		}
	}
	return -1
}

// variantFor returns the object describing the variant tagged tag, or nil.
func (o *object) variantFor(tag string) *object {
	for i := range o.variants {
		if o.variants[i].tag == tag {
			return o.variants[i].object
		}
	}
	return nil
}

// Helpers that keep the schema tables short.

func str(name string) field      { return field{name: name, kind: kindString} }
func id(name string) field       { return field{name: name, kind: kindID} }
func boolean(name string) field  { return field{name: name, kind: kindBool} }
func attrText(name string) field { return field{name: name, kind: kindAttrText} }
func attrNum(name string) field  { return field{name: name, kind: kindAttrNumber} }
func attrInt(name string) field  { return field{name: name, kind: kindAttrInt} }
func intNum(name string) field   { return field{name: name, kind: kindInt} }
func httpURL(name string) field  { return field{name: name, kind: kindURL} }
func obj(name string, o *object) field {
	return field{name: name, kind: kindObject, object: o}
}
func arrayOf(name string, items field) field {
	return field{name: name, kind: kindArray, items: &items}
}

// required returns f marked as required.
func required(f field) field {
	f.required = true
	return f
}

// oneOf returns f restricted to the integer values vals.
func oneOf(f field, vals ...int64) field {
	f.oneOf = vals
	return f
}

// joinOf returns the string field f required to equal the values of the
// sibling properties names joined with "_".
func joinOf(f field, names ...string) field {
	f.joinOf = names
	return f
}

// between returns f restricted to the integers min..max.
func between(f field, min, max int64) field {
	f.hasRange, f.min, f.max = true, min, max
	return f
}

// nonNegative returns the number field f restricted to values of at least
// zero.
func nonNegative(f field) field {
	f.nonNegative = true
	return f
}

// closed returns an object that accepts only fields.
func closed(fields ...field) *object {
	return newObject(&object{fields: fields})
}

// exactlyOneOf returns a closed object that holds exactly one of fields.
func exactlyOneOf(fields ...field) *object {
	return newObject(&object{fields: fields, exactlyOne: true})
}

// openWith returns an object that accepts any property, fields as described.
func openWith(fields ...field) *object {
	return newObject(&object{fields: fields, open: true})
}

// newObject completes o: it checks the field count, sets the fields' JSON
// keys and resolves their joins.
func newObject(o *object) *object {
	if len(o.fields) > maxFields {
		panic("event: schema object with more than 64 fields")
	}
	for i := range o.fields {
		f := &o.fields[i]
		f.jsonKey = newKeyText(f.name)
		if f.required {
			o.required |= 1 << i
		}
		if f.joinOf == nil {
			continue
		}
		o.joins |= 1 << i
		f.joinPart = true
		for _, name := range f.joinOf {
			k := o.fieldIndex(name)
			if k < 0 {
				panic("event: schema field " + f.name + " joins unknown field " + name)
			}
			f.joinIdx = append(f.joinIdx, k)
			o.fields[k].joinPart = true
		}
	}
	return o
}

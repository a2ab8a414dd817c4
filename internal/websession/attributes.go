package websession

import "slices"

// This file writes the records that event data feeds directly: the
// engagement attributes of lp_sdes VAR_ADDED events and the page of a
// PAGE_VIEW. Each record is a table of its Avro fields in schema order,
// with the property of the page's JSON that feeds each one; one function
// writes any of them.

// kind is the Avro type of a field fed by event data. Every field is a
// union with null, written null when the data has no value of the type.
type kind uint8

const (
	stringKind  kind = iota // a JSON string, or a number as written
	intKind                 // an integer (a number or a string holding one) in int32 range
	longKind                // an integer in int64 range (exact up to ±2^53 when written with a fraction or exponent)
	doubleKind              // a number, or a string holding one
	booleanKind             // true or false
	recordKind              // an object, feeding field.rec
	arrayKind               // an array of objects feeding field.rec, or of strings (numbers as written) when rec is nil
)

// field is a field of an Avro record fed by event data.
type field struct {
	name string // Avro name
	prop string // the JSON property that feeds it, when it is not name
	kind kind
	rec  *record // recordKind: the record; arrayKind: the items', nil for strings
}

// Field constructors, by Avro type.

func stringField(name string) field  { return field{name: name, kind: stringKind} }
func intField(name string) field     { return field{name: name, kind: intKind} }
func longField(name string) field    { return field{name: name, kind: longKind} }
func doubleField(name string) field  { return field{name: name, kind: doubleKind} }
func booleanField(name string) field { return field{name: name, kind: booleanKind} }

func recordField(name string, r *record) field {
	return field{name: name, kind: recordKind, rec: r}
}

// arrayField is an array of items records, or of strings when items is nil.
func arrayField(name string, items *record) field {
	return field{name: name, kind: arrayKind, rec: items}
}

// from returns f fed by the JSON property prop.
func (f field) from(prop string) field {
	f.prop = prop
	return f
}

// record is an Avro record fed by event data.
type record struct {
	name   string   // full Avro name, for union branches
	fields []field  // in schema order
	keys   []string // the JSON property feeding each field
}

// maxFields is the most fields a record has (CustomerInfo).
const maxFields = 17

// newRecord returns the record called name (in the package's namespace;
// "" for one never written as a union branch) with fields.
func newRecord(name string, fields ...field) *record {
	if len(fields) > maxFields {
		panic("websession: record " + name + " has more than maxFields fields")
	}
	r := &record{fields: fields, keys: make([]string, len(fields))}
	if name != "" {
		r.name = ns + name
	}
	for i, f := range fields {
		r.keys[i] = f.name
		if f.prop != "" {
			r.keys[i] = f.prop
		}
	}
	return r
}

// The engagement attributes: the page shapes of spec/README.md, the field
// types of spec/engagement-attributes.txt, in the order of the Data Access
// API's example where it shows one, fields it does not show last.
var (
	ymdDate = newRecord("YMDDate", intField("year"), intField("month"), intField("day"))

	customerInfo = newRecord("CustomerInfo",
		stringField("customerStatus").from("cstatus"), stringField("customerType").from("ctype"),
		doubleField("balance"), stringField("customerId"), stringField("socialId"), stringField("imei"),
		stringField("userName"), intField("companySize"), stringField("accountName"), stringField("role"),
		stringField("storeZipCode"), stringField("storeNumber"),
		recordField("lastPaymentDate", ymdDate), recordField("registrationDate", ymdDate),
		stringField("currency"), stringField("companyBranch"), intField("loginStatus"))

	personalInfo = newRecord("PersonalInfo",
		stringField("name").from("firstname"), stringField("surname").from("lastname"),
		stringField("gender"), stringField("company"),
		recordField("customerAge", newRecord("CustomerAge",
			intField("customerAgeInYears").from("age"), intField("customerYearOfBirth").from("year"),
			intField("customerMonthOfBirth").from("month"), intField("customerDateOfBirth").from("day"),
		)).from("age"),
		arrayField("contacts", newRecord("Contact", stringField("email"), stringField("phone"))),
		stringField("language"))

	product = newRecord("Product",
		stringField("name"), stringField("category"), stringField("sku"), doubleField("price"),
		stringField("statusInStock"), intField("quantityInStock"))
	productContainer = newRecord("ProductContainer", intField("quantity"), recordField("product", product))

	cartStatus = newRecord("CartStatus",
		doubleField("total"), intField("numItems"), arrayField("products", productContainer), stringField("currency"))

	purchase = newRecord("Purchase",
		doubleField("total"), stringField("orderId"), recordField("cart", cartStatus), stringField("currency"))

	viewedProduct = newRecord("ViewedProduct", arrayField("products", productContainer), stringField("currency"))

	lead = newRecord("Lead",
		stringField("topic"), stringField("leadId"), doubleField("value"), stringField("currency"))

	serviceActivity = newRecord("ServiceActivity",
		stringField("topic"), intField("status"), stringField("category"), stringField("serviceId"))

	visitorError = newRecord("VisitorError",
		stringField("contextId"), stringField("message"), stringField("code"), longField("level"),
		booleanField("resolved"))

	marketingCampaignInfo = newRecord("MarketingCampaignInfo",
		intField("originatingChannel").from("channel"), stringField("affiliate"), stringField("campaignId"))

	searchContent = newRecord("SearchContent", arrayField("keywords", nil))
)

// attribute is an engagement attribute type as a page pushes it.
type attribute struct {
	page   string  // the page's type
	holder string  // the property holding the fields, "" when the page's object holds them
	rec    *record // the record it becomes
}

// attributes are the 10 engagement attribute types.
var attributes = [...]attribute{
	{"ctmrinfo", "info", customerInfo},
	{"personal", "personal", personalInfo},
	{"cart", "", cartStatus},
	{"purchase", "", purchase},
	{"prodView", "", viewedProduct},
	{"lead", "lead", lead},
	{"service", "service", serviceActivity},
	{"error", "error", visitorError},
	{"mrktInfo", "info", marketingCampaignInfo},
	{"searchInfo", "", searchContent},
}

// attributeKeys are the properties of VAR_ADDED data an attribute is read
// from: its type and the holders of the attributes' fields.
var attributeKeys = [...]string{"type", "info", "personal", "lead", "service", "error"}

// attributeOf returns the type of the attribute that data, VAR_ADDED's,
// pushes and the JSON object holding its fields; nil if data pushes none.
func attributeOf(data string) (*attribute, string) {
	var props [len(attributeKeys)]string
	members(data, attributeKeys[:], props[:])
	typ, _ := text(props[0])
	for i := range attributes {
		if a := &attributes[i]; a.page == typ {
			if a.holder == "" {
				return a, data
			}
			return a, props[slices.Index(attributeKeys[:], a.holder)]
		}
	}
	return nil, ""
}

// appendAttribute appends the EngagementAttribute entry of the attribute
// of type a pushed at time t, its fields held by the JSON object obj.
func appendAttribute(dst []byte, t int64, a *attribute, obj string) []byte {
	dst = append(dst, `{"timestamp":`...)
	dst = appendLong(dst, t)
	dst = append(dst, `,"data":`...)
	dst = appendRecord(dst, a.rec, obj)
	return append(dst, '}')
}

// navigationEntry is a page of the Navigation record, fed by PAGE_VIEW
// data. The page's title has no field.
var navigationEntry = newRecord("",
	stringField("url"), stringField("referrerUrl").from("referrer"), arrayField("sections", nil))

// appendNavigationEntry appends the NavigationEntry of the page view
// data at time t.
func appendNavigationEntry(dst []byte, t int64, data string) []byte {
	dst = append(dst, `{"timestamp":`...)
	dst = appendLong(dst, t)
	dst = append(dst, ',')
	dst = appendFields(dst, navigationEntry, data)
	return append(dst, '}')
}

// appendRecord appends the record rec fed by obj as a value of a union.
func appendRecord(dst []byte, rec *record, obj string) []byte {
	dst = append(appendBranch(dst, rec.name), '{')
	dst = appendFields(dst, rec, obj)
	return append(dst, "}}"...)
}

// appendFields appends the fields of rec fed by the members of the JSON
// object obj, as "name":value pairs.
func appendFields(dst []byte, rec *record, obj string) []byte {
	var vals [maxFields]string
	members(obj, rec.keys, vals[:])
	for i := range rec.fields {
		f := &rec.fields[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(append(append(dst, '"'), f.name...), `":`...)
		dst = appendValue(dst, f, vals[i])
	}
	return dst
}

// appendValue appends the value of f fed by raw, a JSON value or "".
func appendValue(dst []byte, f *field, raw string) []byte {
	switch f.kind {
	case stringKind:
		if s, ok := text(raw); ok {
			return appendStringValue(dst, s)
		}
	case intKind:
		if n, ok := integer(raw, 32); ok {
			return appendInt(dst, int32(n))
		}
	case longKind:
		if n, ok := integer(raw, 64); ok {
			return appendLong(dst, n)
		}
	case doubleKind:
		if x, ok := double(raw); ok {
			return appendDoubleValue(dst, x)
		}
	case booleanKind:
		if raw == "true" || raw == "false" {
			return appendBoolean(dst, raw == "true")
		}
	case recordKind:
		if isObject(raw) {
			return appendRecord(dst, f.rec, raw)
		}
	case arrayKind:
		if isArray(raw) {
			return appendItems(dst, f.rec, raw)
		}
	}
	return appendNull(dst)
}

// appendItems appends the JSON array arr as an array of records rec, or
// of strings when rec is nil. Items of another JSON type are left out.
func appendItems(dst []byte, rec *record, arr string) []byte {
	dst = append(dst, `{"array":[`...)
	r := reader{s: arr}
	written := 0
	for n := 0; r.next(&n, '['); {
		item := r.value()
		if rec != nil {
			if isObject(item) {
				dst = append(appendFields(append(comma(dst, &written), '{'), rec, item), '}')
			}
		} else if s, ok := text(item); ok {
			dst = appendString(comma(dst, &written), s)
		}
	}
	return append(dst, "]}"...)
}

// comma appends the comma that precedes an item of a list unless it is
// the first, counting the items in *n.
func comma(dst []byte, n *int) []byte {
	if *n++; *n > 1 {
		dst = append(dst, ',')
	}
	return dst
}

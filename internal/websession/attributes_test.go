package websession

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"testing"
)

// attributeCases push each of the 10 attribute types with every field set
// ("full": numbers as numbers and as strings, as pages send them) and
// with none ("empty", "nulls"). The full cart and purchase also set
// fields their page shapes do not have (product stock, cart currency), so
// that every field of their records is proven.
var attributeCases = []struct {
	name, data string
	full       bool
}{
	{"ctmrinfo full", `{"type":"ctmrinfo","info":{"cstatus":"cancelled","ctype":"vip","customerId":"138766AC","balance":"-400.99","currency":"USD","socialId":"11256324780","imei":"3543546543545688","userName":"user000","companySize":500,"companyBranch":"Paris","accountName":"bank corp","role":"broker","lastPaymentDate":{"day":15,"month":10,"year":2014},"registrationDate":{"day":"23","month":"5","year":"2013"},"loginStatus":"4","storeNumber":123865,"storeZipCode":"20505"}}`, true},
	{"ctmrinfo empty", `{"type":"ctmrinfo"}`, false},
	{"ctmrinfo nulls", `{"type":"ctmrinfo","info":{"cstatus":null,"ctype":null,"customerId":null,"balance":null,"currency":null,"socialId":null,"imei":null,"userName":null,"companySize":null,"companyBranch":null,"accountName":null,"role":null,"lastPaymentDate":null,"registrationDate":{"day":null,"month":null,"year":null},"loginStatus":null,"storeNumber":null,"storeZipCode":null}}`, false},
	{"personal full", `{"type":"personal","personal":{"firstname":"John","lastname":"Doe","age":{"age":"34.0","year":1980,"month":"04","day":15},"contacts":[{"email":"myname@example.com","phone":"+1 212-788-8877"},{"email":"john@example.com","phone":12127888877}],"gender":"MALE","language":"en-US","company":"company"}}`, true},
	{"personal nulls", `{"type":"personal","personal":{"firstname":null,"lastname":null,"age":null,"contacts":null,"gender":null,"language":null,"company":null}}`, false},
	{"cart full", `{"type":"cart","total":11.7,"currency":"USD","numItems":"6","products":[{"product":{"name":"prod1","category":"category","sku":"sku","price":"7.8","statusInStock":"in stock","quantityInStock":3},"quantity":1},{"product":{"name":"prod2","category":"category","sku":20034,"price":0.78,"statusInStock":"low","quantityInStock":"1"},"quantity":"5"}]}`, true},
	{"cart empty", `{"type":"cart","products":[]}`, false},
	{"purchase full", `{"type":"purchase","total":"78.0","currency":"USD","orderId":98765,"cart":{"products":[{"product":{"name":"red high heel shoe","category":"women shoes","sku":"xyz567","price":77.8,"statusInStock":"in stock","quantityInStock":12},"quantity":1}],"numItems":1,"total":77.8,"currency":"USD"}}`, true},
	{"purchase nulls", `{"type":"purchase","total":null,"currency":null,"orderId":null,"cart":{"products":[],"numItems":"0","total":null}}`, false},
	{"prodView full", `{"type":"prodView","currency":"EUR","products":[{"product":{"name":"TV 55\"","category":"tv","sku":4711,"price":"499.99","statusInStock":"low","quantityInStock":"2"},"quantity":3}]}`, true},
	{"prodView empty", `{"type":"prodView"}`, false},
	{"lead full", `{"type":"lead","lead":{"topic":"luxury car test drive 2015","value":"22.22","currency":"USD","leadId":"xyz123"}}`, true},
	{"lead nulls", `{"type":"lead","lead":{"topic":null,"value":null,"currency":null,"leadId":null}}`, false},
	{"service full", `{"type":"service","service":{"topic":"replace card","status":"10","category":"cards","serviceId":4711}}`, true},
	{"service empty", `{"type":"service","service":{}}`, false},
	{"error full", `{"type":"error","error":{"contextId":17,"message":"Expiration date missing","code":"er100004","level":"2","resolved":false}}`, true},
	{"error nulls", `{"type":"error","error":{"contextId":null,"message":null,"code":null,"level":null,"resolved":null}}`, false},
	{"mrktInfo full", `{"type":"mrktInfo","info":{"channel":"4","affiliate":"partner-17","campaignId":20180601}}`, true},
	{"mrktInfo empty", `{"type":"mrktInfo","info":{}}`, false},
	{"searchInfo full", `{"type":"searchInfo","keywords":["word","lcd tv",55]}`, true},
	{"searchInfo empty", `{"type":"searchInfo","keywords":[]}`, false},
}

// TestAttributes writes each attribute case, checks the document against
// the schema, that a full attribute has no null left, and the entry
// against testdata/attributes.json (go test -update rewrites it).
func TestAttributes(t *testing.T) {
	want := map[string]json.RawMessage{}
	if !*update {
		if b, err := os.ReadFile("testdata/attributes.json"); err != nil {
			t.Fatal(err)
		} else if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]json.RawMessage{}
	for _, tc := range attributeCases {
		t.Run(tc.name, func(t *testing.T) {
			v := &Visit{VisitID: "v", Events: []Event{sdeEvent(1000, tc.data)}}
			doc := AppendDocument(nil, v, fakeEnricher{})
			checkDocument(t, doc)
			entries := list(t, records(t, doc)["WebSessionEngAttrsData"], "engagementAttributes")
			if len(entries) != 1 {
				t.Fatalf("%d entries, want 1", len(entries))
			}
			data := entries[0].(map[string]any)["data"]
			if nulls := nullPaths(data, "data"); tc.full && len(nulls) > 0 {
				t.Errorf("null fields: %v", nulls)
			}
			got[tc.name], _ = json.Marshal(entries[0])
			if !*update && !reflect.DeepEqual(parseJSON(t, got[tc.name]), parseJSON(t, want[tc.name])) {
				t.Errorf("entry\n%s\nwant\n%s", got[tc.name], want[tc.name])
			}
		})
	}
	if *update {
		b, _ := json.MarshalIndent(got, "", "  ")
		if err := os.WriteFile("testdata/attributes.json", append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAttributeTypes checks that attributeCases has a full case of each
// attribute type.
func TestAttributeTypes(t *testing.T) {
	for _, a := range attributes {
		found := false
		for _, tc := range attributeCases {
			found = found || tc.full && bytes.Contains([]byte(tc.data), []byte(`"type":"`+a.page+`"`))
		}
		if !found {
			t.Errorf("no full case of %s", a.page)
		}
	}
}

func TestNotAttributes(t *testing.T) {
	for _, data := range []string{
		`{}`, `{"type":"unknown"}`, `{"type":5}`, `{"type":null}`, `{"type":"Cart"}`, `[]`, `"cart"`, ``,
	} {
		v := &Visit{Events: []Event{sdeEvent(1, data)}}
		doc := AppendDocument(nil, v, fakeEnricher{})
		checkDocument(t, doc)
		if _, ok := records(t, doc)["WebSessionEngAttrsData"]; ok {
			t.Errorf("%s: an attribute entry", data)
		}
	}
}

// TestValues checks how raw JSON values become values of each kind.
func TestValues(t *testing.T) {
	for _, tc := range []struct {
		kind kind
		raw  string
		want string
	}{
		{stringKind, `"abc"`, `{"string":"abc"}`},
		{stringKind, `""`, `{"string":""}`},
		{stringKind, `"a\"b\\c\/d\u00e9\ud83d\ude00\n"`, `{"string":"a\"b\\c/d` + "é😀" + `\n"}`},
		{stringKind, `"\ud83d"`, `{"string":"` + "\uFFFD" + `"}`},
		{stringKind, `"\ud83dx\uZZZZ\q"`, `{"string":"` + "\uFFFDx\uFFFDZZZZq" + `"}`},
		{stringKind, "\"\x01\u2028\xff\"", `{"string":"\u0001\u2028` + "\uFFFD" + `"}`},
		{stringKind, `12.50`, `{"string":"12.50"}`},
		{stringKind, `true`, `null`},
		{stringKind, `{"a":1}`, `null`},
		{stringKind, `null`, `null`},
		{stringKind, ``, `null`},
		{intKind, `42`, `{"int":42}`},
		{intKind, `"42"`, `{"int":42}`},
		{intKind, `"06"`, `{"int":6}`},
		{intKind, `-7`, `{"int":-7}`},
		{intKind, `"34.0"`, `{"int":34}`},
		{intKind, `1e3`, `{"int":1000}`},
		{intKind, `2147483647`, `{"int":2147483647}`},
		{intKind, `2147483648`, `null`},
		{intKind, `-2147483649`, `null`},
		{intKind, `3e9`, `null`},
		{intKind, `34.5`, `null`},
		{intKind, `"abc"`, `null`},
		{intKind, `"1 2"`, `null`},
		{intKind, `"NaN"`, `null`},
		{intKind, `"0x10"`, `null`},
		{intKind, `true`, `null`},
		{longKind, `9007199254740993`, `{"long":9007199254740993}`},
		{longKind, `9.007199254740995e15`, `null`},
		{longKind, `"-12"`, `{"long":-12}`},
		{longKind, `99999999999999999999`, `null`},
		{doubleKind, `11.7`, `{"double":11.7}`},
		{doubleKind, `"-400.99"`, `{"double":-400.99}`},
		{doubleKind, `"78.0"`, `{"double":78}`},
		{doubleKind, `1e21`, `{"double":1e+21}`},
		{doubleKind, `1e-7`, `{"double":1e-07}`},
		{doubleKind, `1e400`, `null`},
		{doubleKind, `"Infinity"`, `null`},
		{doubleKind, `"1."`, `null`},
		{doubleKind, `".5"`, `null`},
		{booleanKind, `true`, `{"boolean":true}`},
		{booleanKind, `false`, `{"boolean":false}`},
		{booleanKind, `"true"`, `null`},
		{booleanKind, `1`, `null`},
	} {
		f := field{name: "f", kind: tc.kind}
		if got := string(appendValue(nil, &f, tc.raw)); got != tc.want {
			t.Errorf("kind %d, %s: got %s, want %s", tc.kind, tc.raw, got, tc.want)
		}
	}
}

func TestNavigation(t *testing.T) {
	for _, tc := range []struct {
		name, data, want string
	}{
		{"full", `{"url":"https://example.com/a?b=c","referrer":"https://www.google.com/","title":"A \"page\"","sections":["tv","electronics"],"contextId":"42"}`,
			`{"timestamp":{"long":5},"url":{"string":"https://example.com/a?b=c"},"referrerUrl":{"string":"https://www.google.com/"},"sections":{"array":["tv","electronics"]}}`},
		{"empty referrer and sections", `{"url":"https://example.com/","referrer":"","sections":[]}`,
			`{"timestamp":{"long":5},"url":{"string":"https://example.com/"},"referrerUrl":{"string":""},"sections":{"array":[]}}`},
		{"url only", `{"url":"https://example.com/"}`,
			`{"timestamp":{"long":5},"url":{"string":"https://example.com/"},"referrerUrl":null,"sections":null}`},
		{"escapes", `{"url":"https://example.com/\u00e9\"<\/","sections":["a\tb",null,1,{"x":1}]}`,
			`{"timestamp":{"long":5},"url":{"string":"https://example.com/é\"</"},"referrerUrl":null,"sections":{"array":["a\tb","1"]}}`},
		{"not an object", `["https://example.com/"]`,
			`{"timestamp":{"long":5},"url":null,"referrerUrl":null,"sections":null}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := &Visit{Events: []Event{pageViewEvent(5, tc.data)}}
			doc := AppendDocument(nil, v, fakeEnricher{})
			checkDocument(t, doc)
			entries := list(t, records(t, doc)["WebSessionNavigationData"], "navigationData")
			if got, _ := json.Marshal(entries); !reflect.DeepEqual(parseJSON(t, got), parseJSON(t, []byte("["+tc.want+"]"))) {
				t.Errorf("got %s\nwant [%s]", got, tc.want)
			}
		})
	}
}

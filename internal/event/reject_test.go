package event

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestDecodeRejects checks that each kind of bad event is rejected with the
// exact path and reason, and the message where it is spelled out.
func TestDecodeRejects(t *testing.T) {
	offer := func(data string) string { return eventJSON("LP_OFFERS", "START", data) }
	sde := func(data string) string { return eventJSON("lp_sdes", "VAR_ADDED", data) }
	chat := func(name, data string) string { return eventJSON("CHAT", name, data) }
	page := func(data string) string { return eventJSON("LP_MONITORING", "PAGE_VIEW", data) }
	withTime := func(ms string) string {
		return `{"time":` + ms + `,"appName":"CHAT","eventName":"open"}`
	}
	long := strings.Repeat("x", MaxStringLen+1)
	for _, c := range []struct {
		name   string
		event  string
		path   string
		reason Reason
		msg    string // exact message, when given
	}{
		// The envelope.
		{"event not an object", `"START"`, "event", ReasonType, "must be an object, got string"},
		{"unknown app", eventJSON("LP_FOO", "START", `{}`), "appName", ReasonUnknownApp, `unknown app "LP_FOO"`},
		{"app name in the wrong case", eventJSON("lp_offers", "START", `{}`), "appName", ReasonUnknownApp, ""},
		{"unknown event", eventJSON("LP_OFFERS", "OFFER_EXPLODE", `{}`), "eventName", ReasonUnknownEvent,
			`unknown event "OFFER_EXPLODE" of app "LP_OFFERS"`},
		{"missing appName", `{"time":1,"eventName":"open"}`, "appName", ReasonMissing, "required"},
		{"eventName not a string", `{"time":1,"appName":"CHAT","eventName":7}`, "eventName", ReasonType, "must be a string, got number"},
		{"unknown envelope field", `{"time":1,"appName":"CHAT","eventName":"open","foo":1}`, "foo", ReasonUnknownField, "unknown field"},
		{"duplicate envelope key", `{"time":1,"time":2,"appName":"CHAT","eventName":"open"}`, "time", ReasonFormat, "duplicate key"},
		{"bad id characters", `{"id":"a b","time":1,"appName":"CHAT","eventName":"open"}`, "id", ReasonFormat,
			`"a b" is not 1-64 characters of [A-Za-z0-9_.:-]`},
		{"id of 65 characters", `{"id":"` + strings.Repeat("a", 65) + `","time":1,"appName":"CHAT","eventName":"open"}`, "id", ReasonFormat, ""},
		{"empty id", `{"id":"","time":1,"appName":"CHAT","eventName":"open"}`, "id", ReasonFormat, ""},
		{"id not a string", `{"id":12,"time":1,"appName":"CHAT","eventName":"open"}`, "id", ReasonType, "must be a string, got number"},
		{"time missing", `{"appName":"CHAT","eventName":"open"}`, "time", ReasonMissing, "required"},
		{"time not a number", withTime(`"1467291704525"`), "time", ReasonType, ""},
		{"time with a fraction", withTime(`1467291704525.5`), "time", ReasonType, ""},
		{"time zero", withTime(`0`), "time", ReasonRange, ""},
		{"time negative", withTime(`-1`), "time", ReasonRange, ""},
		{"time too big", withTime(`1e300`), "time", ReasonRange, ""},
		{"time NaN", withTime(`NaN`), "time", ReasonFormat, `"NaN" is not a JSON number`},
		{"time with a leading zero", withTime(`01`), "time", ReasonFormat, ""},
		{"time 25 h in the future", withTime(strconv.FormatInt(testNow.UnixMilli()+25*3600*1000, 10)), "time", ReasonFutureTime, ""},

		// LP_OFFERS.
		{"wrong type", offer(`{"campaignId":1,"engagementId":2,"done":"yes"}`), "data.done", ReasonType, "must be a boolean, got string"},
		{"enum out of range", offer(`{"campaignId":1,"engagementId":2,"engagementType":4}`), "data.engagementType", ReasonEnum,
			"4 is not one of 0,1,2,3,5,6"},
		{"malformed number", offer(`{"campaignId":1,"engagementId":2,"zoneId":1.2.3}`), "data.zoneId", ReasonFormat, `"1.2.3" is not a JSON number`},
		{"malformed number, enum", offer(`{"campaignId":1,"engagementId":2,"state":.5}`), "data.state", ReasonFormat, ""},
		{"infinity", sde(`{"type":"cart","total":-inf}`), "data.total", ReasonFormat, `"-inf" is not a JSON number`},
		{"state out of range", offer(`{"campaignId":1,"engagementId":2,"state":3}`), "data.state", ReasonEnum, "3 is not one of 1,2,4"},
		{"engagementType as a string", offer(`{"campaignId":1,"engagementId":2,"engagementType":"3"}`), "data.engagementType", ReasonType, ""},
		{"confKey mismatch", offer(`{"campaignId":1,"engagementId":"2","engagementRevision":4,"confKey":"1_2_3"}`),
			"data.confKey", ReasonMismatch, `"1_2_3" does not equal campaignId_engagementId_engagementRevision "1_2_4"`},
		{"confKey without engagementRevision", offer(`{"campaignId":1,"engagementId":2,"confKey":"1_2_3"}`),
			"data.confKey", ReasonMismatch, `"1_2_3" does not equal campaignId_engagementId_engagementRevision: engagementRevision is missing`},
		{"missing required", offer(`{"engagementId":2}`), "data.campaignId", ReasonMissing, "required"},
		{"null required", offer(`{"campaignId":null,"engagementId":2}`), "data.campaignId", ReasonMissing, "required"},
		{"no data", `{"time":1,"appName":"LP_OFFERS","eventName":"START"}`, "data.campaignId", ReasonMissing, "required"},
		{"unknown field", offer(`{"campaignId":1,"engagementId":2,"color":"red"}`), "data.color", ReasonUnknownField, "unknown field"},
		{"unknown field, odd key", offer(`{"campaignId":1,"engagementId":2,"a b\n":1}`), `data["a b\n"]`, ReasonUnknownField, ""},
		{"duplicate key", offer(`{"campaignId":1,"campaignId":1,"engagementId":2}`), "data.campaignId", ReasonFormat, "duplicate key"},
		{"id with bad characters", offer(`{"campaignId":"a b","engagementId":2}`), "data.campaignId", ReasonFormat, ""},
		{"negative id", offer(`{"campaignId":-1,"engagementId":2}`), "data.campaignId", ReasonRange, ""},
		{"fractional id", offer(`{"campaignId":1.5,"engagementId":2}`), "data.campaignId", ReasonType, ""},
		{"id as a boolean", offer(`{"campaignId":true,"engagementId":2}`), "data.campaignId", ReasonType,
			"must be a non-negative integer or an id string, got boolean"},
		{"context with two keys", offer(`{"campaignId":1,"engagementId":2,"contexts":[{"EngagementContext":{"id":"1"},"pageContext":{"id":"2"}}]}`),
			"data.contexts[0]", ReasonFormat, ""},
		{"context empty", offer(`{"campaignId":1,"engagementId":2,"contexts":[{"pageContext":{"id":"2"}},{}]}`), "data.contexts[1]", ReasonMissing, ""},
		{"context without id", offer(`{"campaignId":1,"engagementId":2,"contexts":[{"pageContext":{}}]}`), "data.contexts[0].pageContext.id", ReasonMissing, ""},
		{"context of an unknown kind", offer(`{"campaignId":1,"engagementId":2,"contexts":[{"zoneContext":{"id":"2"}}]}`),
			"data.contexts[0].zoneContext", ReasonUnknownField, ""},
		{"contexts null item", offer(`{"campaignId":1,"engagementId":2,"contexts":[null]}`), "data.contexts[0]", ReasonType, "must be an object, got null"},

		// lp_sdes.
		{"attribute without type", sde(`{"total":1}`), "data.type", ReasonMissing, "required"},
		{"attribute of unknown type", sde(`{"type":"wishlist"}`), "data.type", ReasonEnum,
			`"wishlist" is not one of cart,purchase,prodView,ctmrinfo,personal,mrktInfo,lead,service,error,searchInfo`},
		{"attribute type not a string", sde(`{"type":1}`), "data.type", ReasonType, "must be a string, got number"},
		{"attribute data missing", `{"time":1,"appName":"lp_sdes","eventName":"VAR_ADDED"}`, "data", ReasonMissing, "required"},
		{"wrong type, nested", sde(`{"type":"cart","products":[{"product":{"price":true}}]}`), "data.products[0].product.price", ReasonType,
			"must be a number or a string holding one, got boolean"},
		{"number as a non-numeric string", sde(`{"type":"cart","total":"11,70"}`), "data.total", ReasonType, ""},
		{"integer as a fractional string", sde(`{"type":"cart","numItems":"6.5"}`), "data.numItems", ReasonType, ""},
		{"unknown field, nested", sde(`{"type":"cart","products":[{"product":{"color":"red"}}]}`), "data.products[0].product.color", ReasonUnknownField, ""},
		{"purchase line unknown field", sde(`{"type":"purchase","cart":{"products":[{"quantity":1,"statusInStock":"x"}]}}`),
			"data.cart.products[0].statusInStock", ReasonUnknownField, ""},
		{"mrktInfo channel out of range", sde(`{"type":"mrktInfo","info":{"channel":"5"}}`), "data.info.channel", ReasonEnum, "5 is not one of 0,1,2,3,4"},
		{"service status out of range", sde(`{"type":"service","service":{"status":11}}`), "data.service.status", ReasonRange, "11 is not in 0..10"},
		{"month out of range", sde(`{"type":"ctmrinfo","info":{"lastPaymentDate":{"month":13}}}`), "data.info.lastPaymentDate.month", ReasonRange, "13 is not in 1..12"},
		{"day out of range", sde(`{"type":"personal","personal":{"age":{"day":"0"}}}`), "data.personal.age.day", ReasonRange, "0 is not in 1..31"},
		{"50001-character value", sde(`{"type":"ctmrinfo","info":{"customerId":"` + long + `"}}`), "data.info.customerId", ReasonTooLong,
			"50001 characters, limit 50000"},
		{"keywords not strings", sde(`{"type":"searchInfo","keywords":["tv",5]}`), "data.keywords[1]", ReasonType, "must be a string, got number"},
		{"resolved not a boolean", sde(`{"type":"error","error":{"resolved":"false"}}`), "data.error.resolved", ReasonType, ""},

		// Numbers beyond a float64, which JavaScript and encoding/json read
		// as ±Inf or not at all.
		{"total beyond a float64", sde(`{"type":"cart","total":1e309}`), "data.total", ReasonRange, "1e309 is out of range of a 64-bit float"},
		{"total below a float64", sde(`{"type":"purchase","total":-1e400}`), "data.total", ReasonRange, "-1e400 is out of range of a 64-bit float"},
		{"total beyond a float64, as a string", sde(`{"type":"cart","total":"1e309"}`), "data.total", ReasonRange, "1e309 is out of range of a 64-bit float"},
		{"just beyond the largest float64", sde(`{"type":"lead","lead":{"value":1.7976931348623159e308}}`), "data.lead.value", ReasonRange, ""},
		{"309 digits", sde(`{"type":"cart","products":[{"product":{"price":2` + strings.Repeat("0", 308) + `.5}}]}`),
			"data.products[0].product.price", ReasonRange, "2" + strings.Repeat("0", 63) + "... is out of range of a 64-bit float"},
		{"balance beyond a float64", sde(`{"type":"ctmrinfo","info":{"balance":-2e308}}`), "data.info.balance", ReasonRange, ""},
		{"sku beyond a float64", sde(`{"type":"cart","products":[{"product":{"sku":1e999}}]}`), "data.products[0].product.sku", ReasonRange, ""},
		{"id beyond a float64", offer(`{"campaignId":1e309,"engagementId":2}`), "data.campaignId", ReasonRange, "1e309 is out of range of a 64-bit float"},
		{"chat number beyond a float64", chat("my_event", `{"a":[1,{"b":2E+308}]}`), "data.a[1].b", ReasonRange, "2E+308 is out of range of a 64-bit float"},
		{"integer of 400 digits", sde(`{"type":"cart","numItems":` + strings.Repeat("9", 400) + `}`), "data.numItems", ReasonRange,
			strings.Repeat("9", 64) + "... is out of range of a 64-bit float"},

		// Counts, quantities, prices and totals below zero.
		{"numItems negative", sde(`{"type":"cart","numItems":-5}`), "data.numItems", ReasonRange, "-5 is negative"},
		{"numItems negative, as a string", sde(`{"type":"cart","numItems":"-5"}`), "data.numItems", ReasonRange, "-5 is negative"},
		{"cart total negative", sde(`{"type":"cart","total":-0.01}`), "data.total", ReasonRange, "-0.01 is negative"},
		{"quantity negative", sde(`{"type":"cart","products":[{"quantity":1},{"quantity":-2}]}`), "data.products[1].quantity", ReasonRange, "-2 is negative"},
		{"price negative", sde(`{"type":"cart","products":[{"product":{"price":"-7.8"}}]}`), "data.products[0].product.price", ReasonRange, "-7.8 is negative"},
		{"price negative, exponent", sde(`{"type":"prodView","products":[{"product":{"price":-1e-3}}]}`), "data.products[0].product.price", ReasonRange, "-1e-3 is negative"},
		{"refund as a purchase", sde(`{"type":"purchase","total":-20,"orderId":"R1"}`), "data.total", ReasonRange, "-20 is negative"},
		{"purchase cart total negative", sde(`{"type":"purchase","total":1,"cart":{"total":"-1"}}`), "data.cart.total", ReasonRange, "-1 is negative"},
		{"purchase cart numItems negative", sde(`{"type":"purchase","cart":{"numItems":-1}}`), "data.cart.numItems", ReasonRange, ""},
		{"purchase line quantity negative", sde(`{"type":"purchase","cart":{"products":[{"quantity":"-1"}]}}`), "data.cart.products[0].quantity", ReasonRange, ""},
		{"viewed quantity negative", sde(`{"type":"prodView","products":[{"quantity":-3}]}`), "data.products[0].quantity", ReasonRange, ""},
		{"quantityInStock negative", sde(`{"type":"prodView","products":[{"product":{"quantityInStock":-3}}]}`), "data.products[0].product.quantityInStock", ReasonRange, ""},
		{"companySize negative", sde(`{"type":"ctmrinfo","info":{"companySize":-10}}`), "data.info.companySize", ReasonRange, "-10 is negative"},
		{"lead value negative", sde(`{"type":"lead","lead":{"value":-1000}}`), "data.lead.value", ReasonRange, "-1000 is negative"},
		{"age negative", sde(`{"type":"personal","personal":{"age":{"age":-1}}}`), "data.personal.age.age", ReasonRange, "-1 is negative"},

		// LP_MONITORING.
		{"page view without url", page(`{"title":"x"}`), "data.url", ReasonMissing, "required"},
		{"page view without data", `{"time":1,"appName":"LP_MONITORING","eventName":"PAGE_VIEW","data":null}`, "data", ReasonMissing, "required"},
		{"bad URL, relative", page(`{"url":"/tv"}`), "data.url", ReasonFormat, `"/tv" is not an absolute http or https URL`},
		{"bad URL, scheme", page(`{"url":"ftp://shop.example/tv"}`), "data.url", ReasonFormat, ""},
		{"bad URL, no host", page(`{"url":"https:///tv"}`), "data.url", ReasonFormat, ""},
		{"bad URL, space", page(`{"url":"https://shop.example/a b"}`), "data.url", ReasonFormat, ""},
		{"bad URL, port", page(`{"url":"https://shop.example:80a/"}`), "data.url", ReasonFormat, ""},
		{"sections not an array", page(`{"url":"https://a.example","sections":"tv"}`), "data.sections", ReasonType, "must be an array, got string"},
		{"page view unknown field", page(`{"url":"https://a.example","lang":"en"}`), "data.lang", ReasonUnknownField, ""},

		// CHAT.
		{"custom chat name in uppercase", chat("Coupon_Won", `{}`), "eventName", ReasonFormat,
			`"Coupon_Won" is not a CHAT event name: neither a catalog event nor a custom name matching ^[a-z0-9_]{1,64}$`},
		{"custom chat name of 65 characters", chat(strings.Repeat("a", 65), `{}`), "eventName", ReasonFormat, ""},
		{"custom chat name with a dash", chat("coupon-won", `{}`), "eventName", ReasonFormat, ""},
		{"chat data not an object", chat("open", `["x"]`), "data", ReasonType, "must be an object, got array"},
		{"chat data a string", chat("my_event", `"x"`), "data", ReasonType, "must be an object, got string"},
		{"chat data too deep", chat("open", strings.Repeat(`{"a":`, 32)+`[]`+strings.Repeat(`}`, 32)),
			"data" + strings.Repeat(".a", 32), ReasonTooLong, "nested deeper than 32 levels"},
		{"chat string too long", chat("open", `{"list":[{"s":"`+long+`"}]}`), "data.list[0].s", ReasonTooLong, ""},
		{"chat key too long", chat("open", `{"`+long+`":1}`), `data["` + strings.Repeat("x", maxQuoted) + `"...]`, ReasonTooLong, ""},
		{"chat number malformed", chat("open", `{"a":[1,+2]}`), "data.a[1]", ReasonFormat, `"+2" is not a JSON number`},
		{"link_clicked url not a string", chat("link_clicked", `{"process_id":7,"url":5}`), "data.url", ReasonType, "must be a string, got number"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := decode(t, batchBody(c.event))
			if len(b.Events) != 0 || len(b.Rejected) != 1 {
				t.Fatalf("got %d events and %d rejections, want one rejection", len(b.Events), len(b.Rejected))
			}
			r := b.Rejected[0]
			if r.Index != 0 || r.Err.Path != c.path || r.Err.Reason != c.reason {
				t.Errorf("rejection #%d %q %q (%v), want %q %q", r.Index, r.Err.Path, r.Err.Reason, r.Err, c.path, c.reason)
			}
			if c.msg != "" && r.Err.Msg != c.msg {
				t.Errorf("message %q, want %q", r.Err.Msg, c.msg)
			}
			if r.Err.Error() != r.Err.Path+": "+r.Err.Msg {
				t.Errorf("Error() = %q", r.Err.Error())
			}
		})
	}
}

// TestDecodeKeepsGoodEvents checks that the good events of a batch with bad
// ones are kept, in order, with their indexes, and that rejections carry
// the index and the id of their event.
func TestDecodeKeepsGoodEvents(t *testing.T) {
	good := func(id string) string {
		return `{"id":"` + id + `","time":1467291704525,"appName":"LP_MONITORING","eventName":"PAGE_VIEW","data":` + pageViewFixture + `}`
	}
	body := batchBody(
		good("g0"),
		`{"id":"b1","time":1467291704525,"appName":"LP_FOO","eventName":"X"}`,
		good("g2"),
		`[]`,
		`{"id":"bad id","time":1,"appName":"CHAT","eventName":"open"}`,
		`{"id":"b5","time":1,"appName":"CHAT","eventName":"open","extra":true}`,
		good("g6"),
	)
	b := decode(t, body)
	var got []string
	for _, ev := range b.Events {
		got = append(got, strconv.Itoa(ev.Index)+":"+ev.ID)
	}
	if want := "0:g0 2:g2 6:g6"; strings.Join(got, " ") != want {
		t.Errorf("events %q, want %q", got, want)
	}
	got = nil
	for _, r := range b.Rejected {
		got = append(got, strconv.Itoa(r.Index)+":"+r.ID+":"+string(r.Err.Reason))
	}
	if want := "1:b1:unknown_app 3::type 4:bad id:format 5:b5:unknown_field"; strings.Join(got, " ") != want {
		t.Errorf("rejections %q, want %q", got, want)
	}
}

// TestDecodeReusesDecoder decodes different batches with one Decoder and
// checks that results do not leak from one into the next, and that the
// strings of an earlier batch survive later ones.
func TestDecodeReusesDecoder(t *testing.T) {
	var d Decoder
	var b Batch
	if err := d.Decode(batchBody(eventJSON("CHAT", "custom_one", `{"a":"first"}`)), testNow, &b); err != nil {
		t.Fatal(err)
	}
	first := b.Events[0]
	id, name := first.ID, first.EventName
	if err := d.Decode(batchBody(`{"id":"zz","time":1,"appName":"CHAT","eventName":"custom_two"}`, `1`), testNow, &b); err != nil {
		t.Fatal(err)
	}
	if len(b.Events) != 1 || len(b.Rejected) != 1 || b.Events[0].ID != "zz" || b.Events[0].EventName != "custom_two" {
		t.Fatalf("second batch = %+v", b)
	}
	if id != "e1" || name != "custom_one" {
		t.Errorf("strings of the first batch changed to %q %q", id, name)
	}
	if err := d.Decode([]byte(`{}`), testNow, &b); err == nil || len(b.Events) != 0 || len(b.Rejected) != 0 {
		t.Errorf("a bad batch left %+v (err %v)", b, err)
	}

	// Errors copy what they quote from the body.
	bad := []string{
		`{"time":1,"time":1,"appName":"CHAT","eventName":"open"}`,
		`{"time":1,"appName":"CHAT","eventName":"open","abcd":1}`,
		`{"time":1,"appName":"LP_QQ","eventName":"open"}`,
		eventJSON("LP_OFFERS", "START", `{"campaignId":"a b","engagementId":1}`),
	}
	if err := d.Decode(batchBody(bad...), testNow, &b); err != nil || len(b.Rejected) != len(bad) {
		t.Fatalf("err %v, rejected %+v", err, b.Rejected)
	}
	var kept []*FieldError
	var before []string
	for _, r := range b.Rejected {
		kept = append(kept, r.Err)
		before = append(before, r.Err.Error())
	}
	// The same lengths at the same offsets, other bytes.
	overwrite := strings.NewReplacer("time", "tame", "abcd", "wxyz", "LP_QQ", "LP_ZZ", "a b", "x y").Replace(string(batchBody(bad...)))
	if err := d.Decode([]byte(overwrite), testNow, &b); err != nil {
		t.Fatal(err)
	}
	for i, fe := range kept {
		if fe.Error() != before[i] {
			t.Errorf("rejection %d changed with the next batch: %q, was %q", i, fe.Error(), before[i])
		}
	}
}

// TestDecodeDeepNesting checks that a value nested deeper than its event
// allows, at any depth the body's size permits, rejects its event alone
// when the body is JSON: the events beside it are kept.
func TestDecodeDeepNesting(t *testing.T) {
	envelope := `"time":1467291704525,"appName":"CHAT","eventName":"my_event"`
	sde := func(data string) string {
		return `{"id":"d","time":1467291704525,"appName":"lp_sdes","eventName":"VAR_ADDED","data":` + data + `}`
	}
	for _, depth := range []int{10_000, 1 << 17} { // 2^17 objects fill most of a 1 MiB body
		arrays := nested(depth, "[", "]")
		objects := nested(depth, `{"a":`, "}")
		for _, c := range []struct {
			name   string
			event  string
			path   string
			reason Reason
			msg    string
		}{
			{"chat data, arrays", `{"id":"d",` + envelope + `,"data":{"a":` + arrays + `}}`,
				"data.a" + strings.Repeat("[0]", MaxDataDepth-1), ReasonTooLong, "nested deeper than 32 levels"},
			{"chat data, objects", `{"id":"d",` + envelope + `,"data":` + objects + `}`,
				"data" + strings.Repeat(".a", MaxDataDepth), ReasonTooLong, "nested deeper than 32 levels"},
			{"chat data before its header", `{"id":"d","data":` + objects + `,` + envelope + `}`,
				"data" + strings.Repeat(".a", MaxDataDepth), ReasonTooLong, "nested deeper than 32 levels"},
			{"attribute, unknown field", sde(`{"type":"cart","x":` + objects + `}`), "data.x", ReasonUnknownField, "unknown field"},
			{"attribute, number field", sde(`{"type":"cart","total":` + arrays + `}`), "data.total", ReasonType,
				"must be a number or a string holding one, got array"},
			{"attribute, before its type", sde(`{"x":` + arrays + `,"type":"cart"}`), "data.x", ReasonUnknownField, "unknown field"},
			{"envelope field", `{"id":"d",` + envelope + `,"x":` + arrays + `}`, "x", ReasonUnknownField, "unknown field"},
			{"id", `{"id":` + arrays + `,` + envelope + `}`, "id", ReasonType, "must be a string, got array"},
			{"the event", arrays, "event", ReasonType, "must be an object, got array"},
		} {
			t.Run(fmt.Sprintf("%s, %d deep", c.name, depth), func(t *testing.T) {
				b := decode(t, batchBody(eventJSON("CHAT", "first", `{"n":1}`), c.event, eventJSON("CHAT", "last", `{"n":[[2]]}`)))
				if len(b.Events) != 2 || b.Events[0].Index != 0 || b.Events[1].Index != 2 || string(b.Events[1].Data) != `{"n":[[2]]}` {
					t.Fatalf("events %+v, want the first and the last", b.Events)
				}
				if len(b.Rejected) != 1 {
					t.Fatalf("rejections %+v, want one", b.Rejected)
				}
				r := b.Rejected[0]
				wantID := "d"
				if c.name == "id" || c.name == "the event" {
					wantID = ""
				}
				if r.Index != 1 || r.ID != wantID || r.Err.Path != c.path || r.Err.Reason != c.reason || r.Err.Msg != c.msg {
					t.Errorf("rejection #%d %q: %q %q %q; want #1 %q: %q %q %q", r.Index, r.ID, r.Err.Path, r.Err.Reason, r.Err.Msg,
						wantID, c.path, c.reason, c.msg)
				}
			})
		}
		// A deep state is kept as it is, for the campaign engine to judge.
		t.Run(fmt.Sprintf("state, %d deep", depth), func(t *testing.T) {
			body := []byte(`{"visitorId":"v","visitId":"w","state":{"x":` + arrays + `},"events":[` + eventJSON("CHAT", "first", `{}`) + `]}`)
			if b := decode(t, body); len(b.Events) != 1 || len(b.State) != len(arrays)+6 {
				t.Errorf("events %+v, state of %d bytes", b.Events, len(b.State))
			}
		})
	}
}

// TestDecodeInvalidUTF8 checks what becomes of bytes that are not UTF-8 in
// event data: each is stored as U+FFFD, as encoding/json and RFC 8259
// allow, rather than the whole event being refused, and counted in
// Batch.InvalidUTF8 when its event is kept.
func TestDecodeInvalidUTF8(t *testing.T) {
	for _, c := range []struct {
		name   string
		events []string
		data   []string // the data of the events kept
		count  int
	}{
		{"in a value", []string{eventJSON("CHAT", "a", "{\"s\":\"caf\xe9\"}")}, []string{"{\"s\":\"caf\uFFFD\"}"}, 1},
		{"in a key, and a truncated character", []string{eventJSON("CHAT", "a", "{\"k\xff\":[\"\xe2\x82\",\"\\n\xc3\"]}")},
			[]string{"{\"k\uFFFD\":[\"\uFFFD\uFFFD\",\"\\n\uFFFD\"]}"}, 4},
		{"in an attribute, among valid characters", []string{eventJSON("lp_sdes", "VAR_ADDED", "{\"type\":\"searchInfo\",\"keywords\":[\"t\xf6v\",\"\xc3\xa9\"]}")},
			[]string{"{\"type\":\"searchInfo\",\"keywords\":[\"t\uFFFDv\",\"é\"]}"}, 1},
		{"in a rejected event: not counted", []string{
			eventJSON("CHAT", "a", "{\"s\":\"\xff\xfe\"}"),
			eventJSON("LP_MONITORING", "PAGE_VIEW", "{\"url\":\"https://a.example\",\"title\":\"\xff\",\"x\":1}"),
		}, []string{"{\"s\":\"\uFFFD\uFFFD\"}"}, 2},
		{"valid UTF-8", []string{eventJSON("CHAT", "a", `{"s":"é漢🙂"}`)}, []string{`{"s":"é漢🙂"}`}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := decode(t, batchBody(c.events...))
			var got []string
			for _, ev := range b.Events {
				got = append(got, string(ev.Data))
			}
			if !slices.Equal(got, c.data) || b.InvalidUTF8 != c.count {
				t.Errorf("data %q, %d bytes replaced; want %q, %d", got, b.InvalidUTF8, c.data, c.count)
			}
		})
	}
}

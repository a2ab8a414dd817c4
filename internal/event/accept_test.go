package event

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestDecodeAcceptsDocumentedShapes decodes every documented payload alone in
// a batch and checks the event comes out whole.
func TestDecodeAcceptsDocumentedShapes(t *testing.T) {
	type tc struct {
		name, app, event string
		data             string
	}
	var cases []tc
	for _, f := range offerFixtures(t) {
		cases = append(cases, tc{"offers/" + f.name, "LP_OFFERS", f.name, string(f.data)})
	}
	for _, name := range []string{"OFFER_IMPRESSION", "OFFER_CLICK", "OFFER_TIMEOUT", "OFFER_DECLINED", "OFFER_REMOVE"} {
		cases = append(cases, tc{"offers/" + name, "LP_OFFERS", name, string(readFile(t, "offers/start.json"))})
	}
	for _, f := range sdeFixtures(t) {
		cases = append(cases, tc{"sdes/" + f.name, "lp_sdes", "VAR_ADDED", string(f.data)})
	}
	for _, name := range chatCatalog {
		cases = append(cases, tc{"chat/" + name, "CHAT", name, `{"bot_id":"b1","process_id":7,"process_name":"Welcome"}`})
	}
	cases = append(cases,
		tc{"page view", "LP_MONITORING", "PAGE_VIEW", pageViewFixture},
		tc{"page view, minimal", "LP_MONITORING", "PAGE_VIEW", `{"url":"http://localhost:8080"}`},
		tc{"page view, empty referrer, nulls", "LP_MONITORING", "PAGE_VIEW",
			`{"url":"HTTPS://user@[::1]:8443/a?b#c","referrer":"","title":null,"sections":[],"contextId":1738225948}`},
		tc{"offers, string ids, revision as text", "LP_OFFERS", "START",
			`{"campaignId":"c-1","engagementId":"e.2","engagementRevision":"r:3","confKey":"c-1_e.2_r:3"}`},
		tc{"offers, revision written 18.0", "LP_OFFERS", "START",
			`{"campaignId":1,"engagementId":2,"engagementRevision":18.0,"confKey":"1_2_18"}`},
		tc{"offers, no data", "LP_OFFERS", "OFFER_CLICK", `{"campaignId":1,"engagementId":2}`},
		tc{"chat, link_clicked", "CHAT", "link_clicked", linkClickedFixture},
		tc{"chat, custom event", "CHAT", "coupon_wheel_spun_2", `{"prize":{"name":"10% off","codes":["A1","B2"]},"n":3.5}`},
		tc{"chat, 64-character custom name", "CHAT", strings.Repeat("a", 64), `{}`},
		tc{"chat, depth 32", "CHAT", "deep", strings.Repeat(`{"a":`, 31) + `[]` + strings.Repeat(`}`, 31)},
		tc{"string of 50000 characters", "CHAT", "big", `{"s":"` + strings.Repeat("é", MaxStringLen) + `"}`},
		tc{"cart of zeros, minus zero too", "lp_sdes", "VAR_ADDED",
			`{"type":"cart","total":-0.0,"numItems":"-0","products":[{"product":{"price":0E5},"quantity":-0}]}`},
		tc{"negative balance", "lp_sdes", "VAR_ADDED", `{"type":"ctmrinfo","info":{"balance":-120.5,"loginStatus":-1}}`},
		tc{"largest float64", "lp_sdes", "VAR_ADDED", `{"type":"purchase","total":1.7976931348623157e308,"cart":{"total":"1.7976931348623157E+308"}}`},
		tc{"308 digits", "lp_sdes", "VAR_ADDED", `{"type":"cart","total":` + strings.Repeat("9", 308) + `.99}`},
		tc{"numbers too small for a float64", "CHAT", "tiny", `{"a":1e-400,"b":-1e-400,"c":"1e309"}`},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := decode(t, batchBody(eventJSON(c.app, c.event, c.data)))
			if len(b.Rejected) != 0 {
				t.Fatalf("rejected: %v", b.Rejected[0].Err)
			}
			if len(b.Events) != 1 {
				t.Fatalf("got %d events, want 1", len(b.Events))
			}
			ev := b.Events[0]
			if ev.ID != "e1" || ev.Time != testTime || ev.AppName != c.app || ev.EventName != c.event || ev.Index != 0 {
				t.Errorf("envelope = %q %d %q %q index %d", ev.ID, ev.Time, ev.AppName, ev.EventName, ev.Index)
			}
			if !json.Valid(ev.Data) || !sameJSON(t, ev.Data, []byte(c.data)) {
				t.Errorf("data = %s, want %s", ev.Data, c.data)
			}
		})
	}
}

// TestDecodeFields checks the envelope of a pretty-printed batch: the
// batch's ids, absent and null event ids, absent data, and that Data is
// written compact, re-escaped.
func TestDecodeFields(t *testing.T) {
	body := []byte(`{
		"visitorId": "pKytlMTwSPCwpJS-RQqtlQ", "visitId": "AjvT6hLKTEi3AXgGnYu_mQ",
		"events": [
			{"time": 1467291704525, "appName": "CHAT", "eventName": "open"},
			{"id": null, "time": 1467291704526, "appName": "CHAT", "eventName": "my_event",
			 "data": { "t" : "caf\u00e9 \"x\"\n\u2028\/" , "n" : [ 1.50, -2e3, true, null, {} ] }}
		]}`)
	b := decode(t, body)
	if b.VisitorID != "pKytlMTwSPCwpJS-RQqtlQ" || b.VisitID != "AjvT6hLKTEi3AXgGnYu_mQ" {
		t.Errorf("visitor, visit = %q, %q", b.VisitorID, b.VisitID)
	}
	if len(b.Events) != 2 || len(b.Rejected) != 0 {
		t.Fatalf("events %+v, rejected %+v", b.Events, b.Rejected)
	}
	if ev := b.Events[0]; ev.ID != "" || string(ev.Data) != `{}` || ev.EventName != "open" || ev.Time != 1467291704525 {
		t.Errorf("event 0 = %+v", ev)
	}
	ev := b.Events[1]
	if ev.ID != "" || ev.Index != 1 || ev.EventName != "my_event" {
		t.Errorf("event 1 = %+v", ev)
	}
	if got, want := string(ev.Data), `{"t":"café \"x\"\n\u2028/","n":[1.50,-2e3,true,null,{}]}`; got != want {
		t.Errorf("data = %s, want %s", got, want)
	}
	if cap(ev.Data) != len(ev.Data) {
		t.Errorf("data has spare capacity %d: appending to it would overwrite the next event's", cap(ev.Data)-len(ev.Data))
	}
}

func TestIsChatCatalogEvent(t *testing.T) {
	for name, want := range map[string]bool{
		"hide": true, "load": true, "open": true, "show": true, "close": true,
		"link_clicked": true, "beiersdorf_sign_up": true, "reminder_opt_out": true,
		"my_custom_event": false, "Open": false, "": false, "--": false,
	} {
		if got := IsChatCatalogEvent(name); got != want {
			t.Errorf("IsChatCatalogEvent(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestSchemasFitValidation checks what the validator assumes of the schema
// tables: at most 64 fields an object, every field with a kind and its
// JSON key, nonNegative only on the numbers that check it.
func TestSchemasFitValidation(t *testing.T) {
	var walk func(path string, o *object)
	walk = func(path string, o *object) {
		if len(o.fields) > maxFields {
			t.Errorf("%s: %d fields", path, len(o.fields))
		}
		for _, v := range o.variants {
			walk(path+"/"+v.tag, v.object)
		}
		for i := range o.fields {
			f := &o.fields[i]
			if f.jsonKey.text != `"`+f.name+`":` {
				t.Errorf("%s.%s: JSON key %s", path, f.name, f.jsonKey.text)
			}
			for f.kind == kindArray {
				f = f.items
			}
			if f.kind == 0 {
				t.Errorf("%s.%s: no kind", path, o.fields[i].name)
			}
			if f.nonNegative && f.kind != kindAttrInt && f.kind != kindAttrNumber {
				t.Errorf("%s.%s: nonNegative on a kind that does not check it", path, o.fields[i].name)
			}
			if f.object != nil {
				walk(path+"."+o.fields[i].name, f.object)
			}
		}
	}
	for _, a := range apps {
		for _, et := range a.events {
			walk(a.name+"/"+et.name, et.data)
		}
	}
	walk("CHAT", chatData)
	for name, o := range chatPayloads {
		walk("CHAT/"+name, o)
		if !IsChatCatalogEvent(name) {
			t.Errorf("chat payload for %q, which is not in the catalog", name)
		}
	}
}

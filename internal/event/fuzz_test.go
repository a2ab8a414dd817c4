package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// FuzzDecode feeds arbitrary bodies to Decode: it must not panic, every event
// of a decoded batch must be either valid or rejected, once, and valid
// events' data must be valid JSON that stores and reads back.
func FuzzDecode(f *testing.F) {
	f.Add(readFile(f, "batch.json"))
	for _, d := range append(offerFixtures(f), sdeFixtures(f)...) {
		f.Add(batchBody(eventJSON("LP_OFFERS", "START", string(d.data)), eventJSON("lp_sdes", "VAR_ADDED", string(d.data))))
	}
	f.Add(batchBody(eventJSON("LP_MONITORING", "PAGE_VIEW", pageViewFixture), eventJSON("CHAT", "link_clicked", linkClickedFixture), `7`))
	f.Add([]byte(`{"visitorId":"v","visitId":"w","events":[{"id":"x","time":1e3,"appName":"CHAT","eventName":"a","data":{"\u2028":"\ud800"}}]}`))
	f.Add([]byte(`[]`))
	// Values out of bounds beside good events: numbers beyond a float64,
	// negative counts, nesting as deep as encoding/json allows.
	f.Add(batchBody(eventJSON("lp_sdes", "VAR_ADDED", `{"type":"cart","total":1e309,"numItems":-5}`),
		eventJSON("CHAT", "a", `{"n":-1e400,"m":[1E+999]}`), eventJSON("CHAT", "b", `{}`)))
	f.Add(batchBody(eventJSON("CHAT", "a", `{"a":`+nested(jsonMaxDepth-5, "[", "]")+`}`), eventJSON("CHAT", "b", "{\"s\":\"\xff\"}")))
	var d Decoder
	f.Fuzz(func(t *testing.T, body []byte) {
		var b Batch
		if err := d.Decode(body, testNow, &b); err != nil {
			checkBatchError(t, body, err)
			return
		}
		checkBatch(t, body, &b)
	})
}

// checkBatchError checks the error of Decode for body: a *BatchError, and
// not "invalid JSON" for valid JSON (encoding/json is the oracle).
func checkBatchError(t *testing.T, body []byte, err error) {
	t.Helper()
	var be *BatchError
	if !errors.As(err, &be) {
		t.Fatalf("error %T %v is not a *BatchError", err, err)
	}
	if strings.HasPrefix(be.Msg, "body: invalid JSON") && json.Valid(body) {
		t.Fatalf("valid JSON rejected: %v", err)
	}
}

// checkBatch checks the invariants of a batch decoded from body. Decode
// checks numbers where it reads them, so a body with a malformed number
// decodes with that number's event rejected; a batch without rejections
// must have been valid JSON (unless nested deeper than encoding/json
// allows). Valid events' data must read into Go values: its numbers
// within a float64.
func checkBatch(t *testing.T, body []byte, b *Batch) {
	t.Helper()
	if !json.Valid(body) && len(b.Rejected) == 0 && nesting(body) <= jsonMaxDepth {
		t.Fatal("Decode accepted invalid JSON without rejecting an event")
	}
	n := countEvents(t, body)
	var indexes []int
	for _, ev := range b.Events {
		indexes = append(indexes, ev.Index)
		var values map[string]any
		if err := json.Unmarshal(ev.Data, &values); err != nil {
			t.Fatalf("event %d: data %q is not a JSON object encoding/json reads: %v", ev.Index, ev.Data, err)
		}
		var compact bytes.Buffer
		if json.Compact(&compact, ev.Data); !bytes.Equal(compact.Bytes(), ev.Data) {
			t.Fatalf("event %d: data %q is not compact", ev.Index, ev.Data)
		}
		if ev.AppName == "" || ev.EventName == "" || ev.Time <= 0 {
			t.Fatalf("event %d: incomplete envelope %+v", ev.Index, ev)
		}
		s := Stored{ID: ev.ID, VisitorID: b.VisitorID, VisitID: b.VisitID, Time: ev.Time, AppName: ev.AppName, EventName: ev.EventName, Data: ev.Data}
		rec := AppendRecord(nil, &s)
		if !json.Valid(rec) {
			t.Fatalf("event %d: record %q is not valid JSON", ev.Index, rec)
		}
		if got, err := ParseRecord(rec); err != nil || got.ID != s.ID || got.EventName != s.EventName || !bytes.Equal(got.Data, s.Data) {
			t.Fatalf("event %d: record does not read back: %v %+v", ev.Index, err, got)
		}
	}
	for _, r := range b.Rejected {
		indexes = append(indexes, r.Index)
		if r.Err == nil || r.Err.Path == "" || r.Err.Msg == "" || !slices.Contains(Reasons(), r.Err.Reason) {
			t.Fatalf("event %d: bad rejection %+v", r.Index, r.Err)
		}
	}
	slices.Sort(indexes)
	for i, idx := range indexes {
		if i != idx {
			t.Fatalf("events %v of %d are not each either valid or rejected", indexes, n)
		}
	}
	if len(indexes) != n {
		t.Fatalf("%d outcomes for %d events", len(indexes), n)
	}
}

// nesting returns how deeply the containers of the JSON document doc
// nest.
func nesting(doc []byte) int {
	depth, deepest, inString := 0, 0, false
	for i := 0; i < len(doc); i++ {
		switch c := doc[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '[' || c == '{':
			depth++
			deepest = max(deepest, depth)
		case c == ']' || c == '}':
			depth--
		}
	}
	return deepest
}

// countEvents returns the number of items of the events array of body, a
// batch Decode accepted.
func countEvents(t *testing.T, body []byte) int {
	t.Helper()
	var sc scanner
	sc.reset(string(body))
	sc.enter('{')
	for n := 0; sc.next('}', &n); {
		if sc.key() != "events" {
			sc.skip()
			continue
		}
		count := 0
		for sc.enter('['); sc.next(']', &count); {
			sc.skip()
		}
		return count
	}
	t.Fatalf("no events in %q: %v", body, sc.err)
	return 0
}

// FuzzParseRecord reads arbitrary records: it must not panic, and what it
// reads must write back as valid JSON that reads back the same once
// written (the first write turns invalid UTF-8 into U+FFFD). Properties it
// does not know it skips unchecked, malformed numbers included.
func FuzzParseRecord(f *testing.F) {
	s := storedFixture()
	f.Add(AppendRecord(nil, &s))
	f.Add([]byte(`{"id":"","accountId":"","visitorId":"","visitId":"","time":0,"serverTime":-1,"ip":"","userAgent":"","appName":"","eventName":"","data":[1,"\u2028",{}]}`))
	writeRead := func(t *testing.T, s Stored) Stored {
		rec := AppendRecord(nil, &s)
		if !json.Valid(rec) {
			t.Fatalf("%+v written as invalid JSON %q", s, rec)
		}
		back, err := ParseRecord(rec)
		if err != nil {
			t.Fatalf("record %q does not read back: %v", rec, err)
		}
		return back
	}
	f.Fuzz(func(t *testing.T, rec []byte) {
		s, err := ParseRecord(rec)
		if err != nil {
			return
		}
		once := writeRead(t, s)
		if twice := writeRead(t, once); !reflect.DeepEqual(once, twice) {
			t.Fatalf("record of %+v reads back as %+v", once, twice)
		}
	})
}

// fuzzData decodes a batch with one event of app and name whose data is
// data, checks the batch, and when the event is valid, that its data is the
// input's ({} for null), and returns it (nil when the event is rejected).
func fuzzData(t *testing.T, d *Decoder, app, name string, data []byte) []byte {
	body := batchBody(eventJSON(app, name, string(data)))
	var b Batch
	if err := d.Decode(body, testNow, &b); err != nil {
		checkBatchError(t, body, err)
		if !strings.HasPrefix(err.Error(), "body: invalid JSON") {
			t.Fatalf("a data object made the batch bad: %v", err)
		}
		return nil
	}
	checkBatch(t, body, &b)
	if len(b.Events) == 0 {
		return nil
	}
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		data = []byte("{}") // null data is no data
	}
	if !loneSurrogate.Match(data) && !sameJSON(t, b.Events[0].Data, data) {
		t.Fatalf("data %s came out as %s", data, b.Events[0].Data)
	}
	return b.Events[0].Data
}

// loneSurrogate matches a \u escape of a UTF-16 surrogate, which Decode
// keeps as written and encoding/json turns into U+FFFD when it is not part
// of a pair.
var loneSurrogate = regexp.MustCompile(`(?i)\\u[d][89a-f]`)

// The fuzzers of the validator families feed arbitrary data objects to one
// app's events, seeded with the fixtures.

func FuzzOffers(f *testing.F) {
	for _, d := range offerFixtures(f) {
		f.Add(d.data)
	}
	f.Add([]byte(`{"campaignId":"a","engagementId":1,"engagementRevision":"r","confKey":"a_1_r","contexts":[{"pageContext":{"id":7}}]}`))
	var d Decoder
	f.Fuzz(func(t *testing.T, data []byte) { fuzzData(t, &d, "LP_OFFERS", "OFFER_IMPRESSION", data) })
}

// FuzzSDES also checks that no attribute is accepted with a negative
// amount (counts, quantities, prices, totals, values, ages).
func FuzzSDES(f *testing.F) {
	for _, d := range sdeFixtures(f) {
		f.Add(d.data)
	}
	f.Add([]byte(`{"type":"purchase","total":"-0","cart":{"numItems":0,"total":-0.0,"products":[{"product":{"price":"-1e-9"},"quantity":2}]}}`))
	f.Add([]byte(`{"type":"lead","lead":{"value":-1}}`))
	var d Decoder
	f.Fuzz(func(t *testing.T, data []byte) {
		if kept := fuzzData(t, &d, "lp_sdes", "VAR_ADDED", data); kept != nil {
			checkAmounts(t, unmarshal(t, kept))
		}
	})
}

// amounts are the properties of attributes that may not be negative.
var amounts = []string{"numItems", "quantity", "price", "total", "quantityInStock", "companySize", "value", "age"}

// checkAmounts fails when a property of v named in amounts is a negative
// number, or a string holding one.
func checkAmounts(t *testing.T, v any) {
	t.Helper()
	switch v := v.(type) {
	case []any:
		for _, item := range v {
			checkAmounts(t, item)
		}
	case map[string]any:
		for key, item := range v {
			text := fmt.Sprint(item) // a json.Number or a string
			if n, err := strconv.ParseFloat(text, 64); slices.Contains(amounts, key) && err == nil && n < 0 {
				t.Fatalf("%s: %s accepted", key, text)
			}
			checkAmounts(t, item)
		}
	}
}

func FuzzPageView(f *testing.F) {
	f.Add([]byte(pageViewFixture))
	f.Add([]byte(`{"url":"https://[::1]:80/?a#b","referrer":"","sections":[]}`))
	var d Decoder
	f.Fuzz(func(t *testing.T, data []byte) { fuzzData(t, &d, "LP_MONITORING", "PAGE_VIEW", data) })
}

func FuzzChat(f *testing.F) {
	f.Add("link_clicked", []byte(linkClickedFixture))
	f.Add("session_started", []byte(`{"bot_id":"b","process_id":7,"process_name":"Welcome"}`))
	f.Add("my_custom_event", []byte(`{"a":[{"b":null},1.5e3,"\u00e9"]}`))
	var d Decoder
	f.Fuzz(func(t *testing.T, name string, data []byte) { fuzzData(t, &d, "CHAT", name, data) })
}

// FuzzAppendRecord writes arbitrary records: they must be valid JSON on one
// line, and ParseRecord must read back what encoding/json reads. Data is
// an object, as AppendRecord requires (it is Event.Data), or empty.
func FuzzAppendRecord(f *testing.F) {
	s := storedFixture()
	f.Add(s.ID, s.AccountID, s.UserAgent, s.Time, s.ServerTime, []byte(s.Data))
	f.Add("\"\\\x00\u2028", "\xff", "</script>", int64(-1), int64(1<<62), []byte(`{"a":"\u2029"}`))
	f.Fuzz(func(t *testing.T, id, account, ua string, tm, st int64, data []byte) {
		if !json.Valid(data) || !bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("{")) {
			data = nil
		} else {
			var compact bytes.Buffer
			_ = json.Compact(&compact, data)
			data = compact.Bytes()
		}
		s := Stored{ID: id, AccountID: account, VisitorID: id, VisitID: account, Time: tm, ServerTime: st,
			IP: account, UserAgent: ua, AppName: ua, EventName: id, Data: data}
		rec := AppendRecord(nil, &s)
		if !json.Valid(rec) || bytes.ContainsAny(rec, "\n\r") {
			t.Fatalf("record %q is not one line of valid JSON", rec)
		}
		var w RecordWriter
		w.Reset(&Stored{AccountID: s.AccountID, VisitorID: s.VisitorID, VisitID: s.VisitID, ServerTime: s.ServerTime, IP: s.IP, UserAgent: s.UserAgent})
		if batched := w.Append(nil, &s); !bytes.Equal(batched, rec) {
			t.Fatalf("RecordWriter wrote %q, AppendRecord %q", batched, rec)
		}
		got, err := ParseRecord(rec)
		if err != nil {
			t.Fatal(err)
		}
		var want struct {
			ID, AccountID, VisitorID, VisitID, IP, UserAgent, AppName, EventName string
			Time, ServerTime                                                     int64
			Data                                                                 json.RawMessage
		}
		if err := json.Unmarshal(rec, &want); err != nil {
			t.Fatal(err)
		}
		if got.ID != want.ID || got.AccountID != want.AccountID || got.VisitorID != want.VisitorID || got.VisitID != want.VisitID ||
			got.IP != want.IP || got.UserAgent != want.UserAgent || got.AppName != want.AppName || got.EventName != want.EventName ||
			got.Time != tm || got.ServerTime != st {
			t.Fatalf("ParseRecord = %+v, encoding/json reads %+v", got, want)
		}
		if !loneSurrogate.Match(data) && !sameJSON(t, got.Data, want.Data) {
			t.Fatalf("data %s read back as %s", want.Data, got.Data)
		}
	})
}

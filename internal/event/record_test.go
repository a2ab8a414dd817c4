package event

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// storedFixture is a record of the page view fixture.
func storedFixture() Stored {
	return Stored{
		ID: "3f1c9a2e-0b7d-4c55-9e61-2d4f8a7b6c10", AccountID: "75555851",
		VisitorID: "pKytlMTwSPCwpJS-RQqtlQ", VisitID: "AjvT6hLKTEi3AXgGnYu_mQ",
		Time: 1467291704525, ServerTime: 1467291704901,
		IP: "203.0.113.7", UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
		AppName: "LP_MONITORING", EventName: "PAGE_VIEW",
		Data: json.RawMessage(pageViewFixture),
	}
}

func TestAppendRecordFormat(t *testing.T) {
	s := storedFixture()
	got := AppendRecord([]byte("prefix "), &s)
	want := `prefix {"id":"3f1c9a2e-0b7d-4c55-9e61-2d4f8a7b6c10","accountId":"75555851","visitorId":"pKytlMTwSPCwpJS-RQqtlQ",` +
		`"visitId":"AjvT6hLKTEi3AXgGnYu_mQ","time":1467291704525,"serverTime":1467291704901,"ip":"203.0.113.7",` +
		`"userAgent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",` +
		`"appName":"LP_MONITORING","eventName":"PAGE_VIEW","data":` + pageViewFixture + `}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	empty := AppendRecord(nil, &Stored{})
	if want := `{"id":"","accountId":"","visitorId":"","visitId":"","time":0,"serverTime":0,"ip":"","userAgent":"","appName":"","eventName":"","data":{}}`; string(empty) != want {
		t.Errorf("empty record %s", empty)
	}
}

// TestRecordRoundTrip writes records with awkward strings and reads them
// back: the record must be valid JSON on one line, and ParseRecord must
// return what encoding/json reads from it.
func TestRecordRoundTrip(t *testing.T) {
	for _, c := range []struct{ name, s string }{
		{"plain", "Mozilla/5.0"},
		{"empty", ""},
		{"quotes and backslashes", `say "hi" \ \\ \"`},
		{"control characters", "a\x00b\x01c\td\ne\rf\x1f\x7f"},
		{"invalid UTF-8", "a\xffb\xc3(c\xe2\x82"},
		{"U+2028 and U+2029", "line\u2028separator\u2029paragraph"},
		{"non-ASCII", "café 東京 🙂"},
		{"HTML", "<script>&amp;</script>"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := Stored{ID: c.s, AccountID: c.s, VisitorID: c.s, VisitID: c.s, Time: -1, ServerTime: 1 << 62,
				IP: c.s, UserAgent: c.s, AppName: c.s, EventName: c.s, Data: json.RawMessage(`{"k":[1,"v"]}`)}
			rec := AppendRecord(nil, &s)
			if !json.Valid(rec) {
				t.Fatalf("invalid JSON: %q", rec)
			}
			if bytes.ContainsAny(rec, "\n\r\u2028\u2029") {
				t.Errorf("record is not one line: %q", rec)
			}
			got, err := ParseRecord(rec)
			if err != nil {
				t.Fatal(err)
			}
			want := s
			want.ID = viaEncodingJSON(t, c.s)
			want.AccountID, want.VisitorID, want.VisitID, want.IP, want.UserAgent, want.AppName, want.EventName =
				want.ID, want.ID, want.ID, want.ID, want.ID, want.ID, want.ID
			if !reflect.DeepEqual(got, want) {
				t.Errorf("ParseRecord = %+v\nwant %+v", got, want)
			}
			if utf8.ValidString(c.s) && got.ID != c.s {
				t.Errorf("valid UTF-8 changed: %q -> %q", c.s, got.ID)
			}
		})
	}
}

// viaEncodingJSON returns what s becomes through encoding/json: invalid
// UTF-8 bytes turn into U+FFFD.
func viaEncodingJSON(t *testing.T, s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var out string
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestParseRecordCopies(t *testing.T) {
	s := storedFixture()
	rec := AppendRecord(nil, &s)
	got, err := ParseRecord(rec)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rec {
		rec[i] = 'x'
	}
	if !reflect.DeepEqual(got, s) {
		t.Errorf("after reusing the input: %+v", got)
	}
}

func TestParseRecordErrors(t *testing.T) {
	s := storedFixture()
	good := string(AppendRecord(nil, &s))
	for _, c := range []struct{ name, rec, msg string }{
		{"not JSON", `{"id":`, "cannot parse event record: unexpected end of document at offset 6"},
		{"not an object", `[1]`, "cannot parse event record: not a JSON object"},
		{"missing id", strings.Replace(good, `"id":`, `"xid":`, 1), "cannot parse event record: id: required"},
		{"time a string", strings.Replace(good, `"time":1467291704525`, `"time":"1"`, 1), "cannot parse event record: time: must be an integer, got string"},
		{"time a fraction", strings.Replace(good, `"time":1467291704525`, `"time":1.5`, 1), "cannot parse event record: time: must be an integer, got number"},
		{"ip a number", strings.Replace(good, `"ip":"203.0.113.7"`, `"ip":7`, 1), "cannot parse event record: ip: must be a string, got number"},
		{"no data", strings.Replace(good, `"data":`, `"xdata":`, 1), "cannot parse event record: data: required"},
		{"malformed number in data", strings.Replace(good, `"sections":["tv"]`, `"sections":[01]`, 1), `cannot parse event record: data.sections[0]: "01" is not a JSON number`},
		{"data not an object", strings.Replace(good[:len(good)-1], `"data":{`, `"data":[{`, 1) + "]}", "cannot parse event record: data: must be an object, got array"},
		{"control character in a string", strings.Replace(good, `"ip":"203`, "\"ip\":\"\x01203", 1), "cannot parse event record: control character in string at offset..."},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseRecord([]byte(c.rec))
			if err == nil {
				t.Fatal("no error")
			}
			if prefix, ok := strings.CutSuffix(c.msg, "..."); ok && !strings.HasPrefix(err.Error(), prefix) || !ok && err.Error() != c.msg {
				t.Errorf("error %q, want %q", err, c.msg)
			}
		})
	}
	// Unknown properties are ignored.
	if _, err := ParseRecord([]byte(strings.Replace(good, `{"id"`, `{"version":2,"id"`, 1))); err != nil {
		t.Errorf("record with an extra property: %v", err)
	}
}

func TestAppendRecordDoesNotAllocate(t *testing.T) {
	s := storedFixture()
	s.UserAgent = "needs \"escaping\"\n"
	buf := make([]byte, 0, 4096)
	if n := testing.AllocsPerRun(100, func() { buf = AppendRecord(buf[:0], &s) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

// TestDecodeToRecord stores every event of the benchmark batch and reads it back.
func TestDecodeToRecord(t *testing.T) {
	b := decode(t, readFile(t, "batch.json"))
	if len(b.Events) != 25 || len(b.Rejected) != 0 {
		t.Fatalf("%d events, rejections %+v", len(b.Events), b.Rejected)
	}
	for _, ev := range b.Events {
		s := Stored{ID: ev.ID, AccountID: "75555851", VisitorID: b.VisitorID, VisitID: b.VisitID, Time: ev.Time,
			ServerTime: ev.Time + 100, IP: "203.0.113.7", UserAgent: "UA", AppName: ev.AppName, EventName: ev.EventName, Data: ev.Data}
		got, err := ParseRecord(AppendRecord(nil, &s))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, s) {
			t.Errorf("round trip of event %d: %+v", ev.Index, got)
		}
	}
}

func TestRecordWriterSharesTheBatchProperties(t *testing.T) {
	var w RecordWriter
	for _, batch := range []Stored{storedFixture(), {AccountID: "b", VisitorID: "\"v\"", VisitID: "\xff", ServerTime: -1, IP: "::1", UserAgent: "ua\u2028"}} {
		w.Reset(&batch) // reused: nothing of the previous batch stays
		var got []byte
		var want []byte
		for i, id := range []string{"e1", "e\n2", ""} {
			s := batch
			s.ID, s.Time, s.AppName, s.EventName, s.Data = id, int64(i), "CHAT", "x", json.RawMessage(`{"i":1}`)
			got, want = w.Append(got, &s), AppendRecord(want, &s)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("RecordWriter wrote\n%s\nAppendRecord\n%s", got, want)
		}
	}
}

package event

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDecodeBadBatches checks that unusable bodies are a *BatchError whose
// message names the field.
func TestDecodeBadBatches(t *testing.T) {
	events := func(n int) string {
		return strings.TrimSuffix(strings.Repeat(`{"time":1,"appName":"CHAT","eventName":"open"},`, n), ",")
	}
	for _, c := range []struct {
		name string
		body string
		msg  string // the message, or its start when it ends with "..."
	}{
		{"empty", ``, "body: invalid JSON: ..."},
		{"not JSON", `visitorId=1`, "body: invalid JSON: ..."},
		{"truncated", `{"visitorId":"v","visitId":"w","events":[`, "body: invalid JSON: ..."},
		{"trailing data", `{"visitorId":"v","visitId":"w","events":[]} {}`, "body: invalid JSON: ..."},
		{"bad literal", `{"visitorId":"v","visitId":"w","events":[{"time":nul}]}`, "body: invalid JSON: ..."},
		{"raw control character in a key", "{\"visitorId\":\"v\",\"visitId\":\"w\",\"events\":[{\"a\tb\":1}]}", "body: invalid JSON: ..."},
		{"raw newline in a pretty body", "\n {\n\t\"visitorId\": \"v\",\n\t\"visitId\": \"w\n\",\n\t\"events\": []\n}", "body: invalid JSON: control character in string at offset 37"},
		{"short \\u escape", `{"visitorId":"v","visitId":"w","events":[{"id":"\u12"}]}`, "body: invalid JSON: ..."},
		{"raw control character", "{\"visitorId\":\"v\",\"visitId\":\"w\x01\",\"events\":[]}", "body: invalid JSON: ..."},
		{"bad escape", `{"visitorId":"v","visitId":"w\x41","events":[]}`, "body: invalid JSON: ..."},
		{"deep value malformed", `{"visitorId":"v","visitId":"w","events":[` + strings.Repeat("[", 400) + strings.Repeat("}", 400) + `]}`, "body: invalid JSON: ..."},
		{"an array", `[]`, "body: must be a JSON object, got array"},
		{"a string", `"x"`, "body: must be a JSON object, got string"},
		{"no visitorId", `{"visitId":"w","events":[]}`, "visitorId: required"},
		{"visitorId not a string", `{"visitorId":5,"visitId":"w","events":[]}`, "visitorId: must be a string, got number"},
		{"visitorId empty", `{"visitorId":"","visitId":"w","events":[]}`, `visitorId: "" is not 1-128 characters of [A-Za-z0-9_.:-]`},
		{"visitorId bad characters", `{"visitorId":"a/b","visitId":"w","events":[]}`, `visitorId: "a/b" is not ...`},
		{"visitorId too long", `{"visitorId":"` + strings.Repeat("v", 129) + `","visitId":"w","events":[]}`, "visitorId: ..."},
		{"visitorId null", `{"visitorId":null,"visitId":"w","events":[]}`, "visitorId: must be a string, got null"},
		{"no visitId", `{"visitorId":"v","events":[]}`, "visitId: required"},
		{"visitId bad", `{"visitorId":"v","visitId":"w w","events":[]}`, `visitId: "w w" is not ...`},
		{"no events", `{"visitorId":"v","visitId":"w"}`, "events: required"},
		{"events not an array", `{"visitorId":"v","visitId":"w","events":{}}`, "events: must be an array, got object"},
		{"too many events", `{"visitorId":"v","visitId":"w","events":[` + events(MaxEvents+1) + `]}`, "events: 1001 events, limit 1000"},
		{"unknown field", `{"visitorId":"v","visitId":"w","events":[],"accountId":"1"}`, `body: unknown field "accountId"`},
		{"duplicate field", `{"visitorId":"v","visitorId":"v","visitId":"w","events":[]}`, "visitorId: duplicate key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var b Batch
			err := new(Decoder).Decode([]byte(c.body), testNow, &b)
			var be *BatchError
			if !errors.As(err, &be) {
				t.Fatalf("err = %v (%T), want a *BatchError", err, err)
			}
			if prefix, ok := strings.CutSuffix(c.msg, "..."); ok {
				if !strings.HasPrefix(be.Msg, prefix) {
					t.Errorf("message %q, want it to start with %q", be.Msg, prefix)
				}
			} else if be.Msg != c.msg {
				t.Errorf("message %q, want %q", be.Msg, c.msg)
			}
			if len(b.Events)+len(b.Rejected) != 0 {
				t.Errorf("a bad batch has events: %+v", b)
			}
		})
	}
}

func TestDecodeLimits(t *testing.T) {
	events := strings.TrimSuffix(strings.Repeat(`{"time":1,"appName":"CHAT","eventName":"open"},`, MaxEvents), ",")
	b := decode(t, []byte(`{"visitorId":"`+strings.Repeat("v", 128)+`","visitId":"a-Z_0.9:x","events":[`+events+`]}`))
	if len(b.Events) != MaxEvents {
		t.Errorf("got %d events, want %d", len(b.Events), MaxEvents)
	}
	b = decode(t, []byte(`{"visitorId":"v","visitId":"w","events":[]}`))
	if len(b.Events)+len(b.Rejected) != 0 {
		t.Errorf("empty batch: %+v", b)
	}
	// Exactly MaxFutureSkew ahead is allowed.
	limit := testNow.Add(MaxFutureSkew).UnixMilli()
	b = decode(t, batchBody(`{"time":`+strconv.FormatInt(limit, 10)+`,"appName":"CHAT","eventName":"open"}`,
		`{"time":`+strconv.FormatInt(limit+1, 10)+`,"appName":"CHAT","eventName":"open"}`))
	if len(b.Events) != 1 || len(b.Rejected) != 1 || b.Rejected[0].Err.Reason != ReasonFutureTime {
		t.Errorf("at and after the time limit: %+v", b)
	}
}

// TestDecodeState checks that the state a tag sends back is kept as it
// is when it is an object, and left out, never refusing the batch, when it
// is not.
func TestDecodeState(t *testing.T) {
	for _, tc := range []struct {
		body, state string
		err         string
	}{
		{`{"visitorId":"v","visitId":"w","events":[]}`, "", ""},
		{`{"visitorId":"v","visitId":"w","state": {"v": "w", "p": [1, {"x": "}"}]} ,"events":[]}`, `{"v": "w", "p": [1, {"x": "}"}]}`, ""},
		{`{"state":"abc","visitorId":"v","visitId":"w","events":[]}`, "", ""},
		{`{"state":null,"visitorId":"v","visitId":"w","events":[]}`, "", ""},
		{`{"state":1,"state":{},"visitorId":"v","visitId":"w","events":[]}`, "", "state: duplicate key"},
	} {
		var d Decoder
		var b Batch
		err := d.Decode([]byte(tc.body), time.Now(), &b)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%s: error %v, want %q", tc.body, err, tc.err)
			}
			continue
		}
		if err != nil || string(b.State) != tc.state || (tc.state == "") != (b.State == nil) {
			t.Errorf("%s: state %q, %v; want %q", tc.body, b.State, err, tc.state)
		}
	}
}

func TestBatchReset(t *testing.T) {
	b := Batch{VisitorID: "v", VisitID: "w", Events: make([]Event, 3, 8), Rejected: make([]Rejection, 1, 4), State: []byte("{}"), InvalidUTF8: 2}
	b.Reset()
	if b.VisitorID != "" || b.VisitID != "" || len(b.Events) != 0 || len(b.Rejected) != 0 || cap(b.Events) != 8 || cap(b.Rejected) != 4 ||
		b.State != nil || b.InvalidUTF8 != 0 {
		t.Errorf("after Reset: %+v (caps %d %d)", b, cap(b.Events), cap(b.Rejected))
	}
}

func TestReasons(t *testing.T) {
	seen := map[Reason]bool{}
	for _, r := range Reasons() {
		if seen[r] || r == "" || strings.ToLower(string(r)) != string(r) {
			t.Errorf("reason %q is duplicated or not a lowercase label", r)
		}
		seen[r] = true
	}
	if len(seen) != 11 {
		t.Errorf("%d reasons, want 11", len(seen))
	}
}

package event

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testNow is the server clock of the tests: shortly after the fixtures' events.
var testNow = time.UnixMilli(1467291800000)

// testTime is an event time 95 s before testNow.
const testTime = 1467291704525

// eventJSON returns one event of a batch with id "e1" and time testTime.
func eventJSON(app, name, data string) string {
	return `{"id":"e1","time":` + strconv.FormatInt(testTime, 10) + `,"appName":` + strconv.Quote(app) +
		`,"eventName":` + strconv.Quote(name) + `,"data":` + data + `}`
}

// batchBody returns a batch holding events.
func batchBody(events ...string) []byte {
	return []byte(`{"visitorId":"pKytlMTwSPCwpJS-RQqtlQ","visitId":"AjvT6hLKTEi3AXgGnYu_mQ","events":[` +
		strings.Join(events, ",") + `]}`)
}

// decode decodes body with a new Decoder at testNow and fails on a BatchError.
func decode(t testing.TB, body []byte) *Batch {
	t.Helper()
	var b Batch
	if err := new(Decoder).Decode(body, testNow, &b); err != nil {
		t.Fatalf("Decode: %v\nbody: %s", err, body)
	}
	return &b
}

// readFile returns a file of testdata.
func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// namedData is an event payload fixture.
type namedData struct {
	name string
	data []byte
}

// sdeFixtures returns the attribute fixtures of testdata/sdes: every file
// holds an array of shapes of one attribute type (JSON numbers, then
// numeric strings).
func sdeFixtures(t testing.TB) []namedData {
	t.Helper()
	files, err := filepath.Glob("testdata/sdes/*.json")
	if err != nil || len(files) != 10 {
		t.Fatalf("want 10 attribute fixtures, found %d (%v)", len(files), err)
	}
	var out []namedData
	for _, f := range files {
		var shapes []json.RawMessage
		if err := json.Unmarshal(readFile(t, filepath.Join("sdes", filepath.Base(f))), &shapes); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for i, s := range shapes {
			out = append(out, namedData{name: strings.TrimSuffix(filepath.Base(f), ".json") + "/" + strconv.Itoa(i), data: s})
		}
	}
	return out
}

// offerFixtures returns the engagement examples of engagement-events.md.
func offerFixtures(t testing.TB) []namedData {
	return []namedData{
		{"START", readFile(t, "offers/start.json")},
		{"OFFER_DISPLAY", readFile(t, "offers/offer-display.json")},
	}
}

// pageViewFixture is a page view payload.
const pageViewFixture = `{"url":"https://shop.example/tv","referrer":"https://www.google.com/search?q=tv","title":"TVs","sections":["tv"],"contextId":"1738225948"}`

// linkClickedFixture is link_clicked with its documented payload.
const linkClickedFixture = `{"process_id":7,"process_name":"Shop assistant","url":"https://example.org"}`

// sameJSON reports whether a and b are equal JSON documents.
func sameJSON(t testing.TB, a, b []byte) bool {
	t.Helper()
	return reflect.DeepEqual(unmarshal(t, a), unmarshal(t, b))
}

// unmarshal decodes a JSON document, keeping numbers as written.
func unmarshal(t testing.TB, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("invalid JSON %q: %v", b, err)
	}
	return v
}

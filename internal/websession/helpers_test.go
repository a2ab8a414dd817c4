package websession

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"testing"

	"github.com/linkedin/goavro/v2"

	"github.com/sightline/sightline/internal/enrich"
)

// fakeEnricher answers every lookup with the same results.
type fakeEnricher struct {
	geo    enrich.Geo
	device enrich.Device
	search enrich.Search
}

func (f fakeEnricher) Geo(string) enrich.Geo       { return f.geo }
func (f fakeEnricher) Device(string) enrich.Device { return f.device }
func (f fakeEnricher) Search(string) enrich.Search { return f.search }

// fullEnricher knows everything.
var fullEnricher = fakeEnricher{
	geo: enrich.Geo{IPv4: "203.0.113.7", Country: "France", CountryCode: "FR", City: "Paris",
		State: "Île-de-France", Org: "Example Org", ISP: "Example ISP"},
	device: enrich.Device{OS: "MAC_OS", Family: "DESKTOP"},
	search: enrich.Search{Engine: "Google", Keywords: "blinds \"cheap\""},
}

var (
	codecOnce sync.Once
	codec     *goavro.Codec
	codecErr  error
)

// schemaCodec returns a goavro codec of Schema.
func schemaCodec(t testing.TB) *goavro.Codec {
	t.Helper()
	codecOnce.Do(func() { codec, codecErr = goavro.NewCodec(string(Schema)) })
	if codecErr != nil {
		t.Fatalf("goavro cannot parse Schema: %v", codecErr)
	}
	return codec
}

// checkDocument checks that doc is one document of Schema in Avro's JSON
// encoding, written whole: goavro decodes it, nothing following, and
// encodes what it decoded back to the same JSON, so that no field was
// missing (goavro would have filled in its default) and every union branch
// is the one written.
func checkDocument(t testing.TB, doc []byte) {
	t.Helper()
	c := schemaCodec(t)
	native, rest, err := c.NativeFromTextual(doc)
	if err != nil {
		t.Fatalf("goavro cannot decode the document: %v\n%s", err, doc)
	}
	if len(rest) != 0 {
		t.Fatalf("the document is followed by %q", rest)
	}
	again, err := c.TextualFromNative(nil, native)
	if err != nil {
		t.Fatalf("goavro cannot encode the document it decoded: %v", err)
	}
	if got, want := parseJSON(t, again), parseJSON(t, doc); !reflect.DeepEqual(got, want) {
		t.Fatalf("the document decoded and encoded again differs:\nwritten: %s\nagain:   %s", doc, again)
	}
}

// parseJSON parses b, which must be JSON.
func parseJSON(t testing.TB, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	return v
}

// records returns the records of a document's recordCollection by the
// name of their body's type (short name): the record's fields.
func records(t testing.TB, doc []byte) map[string]map[string]any {
	t.Helper()
	recs := map[string]map[string]any{}
	for _, r := range parseJSON(t, doc).(map[string]any)["recordCollection"].([]any) {
		for name, body := range r.(map[string]any)["body"].(map[string]any) {
			recs[name[len(ns):]] = body.(map[string]any)
		}
	}
	return recs
}

// recordOrder returns the short names of the body types of a document's
// records, in order.
func recordOrder(t testing.TB, doc []byte) []string {
	t.Helper()
	var names []string
	for _, r := range parseJSON(t, doc).(map[string]any)["recordCollection"].([]any) {
		for name := range r.(map[string]any)["body"].(map[string]any) {
			names = append(names, name[len(ns):])
		}
	}
	return names
}

// list returns the entries of the list field of a record, unwrapped from
// its union.
func list(t testing.TB, rec map[string]any, field string) []any {
	t.Helper()
	u, ok := rec[field].(map[string]any)
	if !ok {
		t.Fatalf("%s is %v, not an array", field, rec[field])
	}
	return u["array"].([]any)
}

// nullPaths returns the paths of the nulls in v, sorted.
func nullPaths(v any, path string) []string {
	var paths []string
	switch v := v.(type) {
	case nil:
		return []string{path}
	case map[string]any:
		for k, x := range v {
			paths = append(paths, nullPaths(x, path+"."+k)...)
		}
	case []any:
		for i, x := range v {
			paths = append(paths, nullPaths(x, fmt.Sprintf("%s[%d]", path, i))...)
		}
	}
	sort.Strings(paths)
	return paths
}

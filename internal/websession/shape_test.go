package websession

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/linkedin/goavro/v2"
)

// TestShapes writes the specification's example visit in each shape and
// reads it back as the clients of each read it: with the shape's own
// schema, and by hand, as the Singer tap for LivePerson does for the
// wrapped shape (record['metaData']['com.liveperson.dataaccess.MetaData'],
// record['recordCollection']['array']). Both hold the same records.
func TestShapes(t *testing.T) {
	type doc = map[string]any
	for _, tc := range []struct {
		shape   Shape
		meta    func(d doc) doc
		records func(d doc) []any
	}{
		{Plain,
			func(d doc) doc { m, _ := d["metaData"].(doc); return m },
			func(d doc) []any { r, _ := d["recordCollection"].([]any); return r }},
		{Wrapped,
			func(d doc) doc { m, _ := d["metaData"].(doc)[ns+"MetaData"].(doc); return m },
			func(d doc) []any { r, _ := d["recordCollection"].(doc)["array"].([]any); return r }},
	} {
		t.Run(tc.shape.String(), func(t *testing.T) {
			if sh, err := ParseShape(tc.shape.String()); err != nil || sh != tc.shape {
				t.Fatalf("ParseShape(%q) = %v, %v", tc.shape, sh, err)
			}
			text := tc.shape.AppendDocument(nil, specVisit(), specEnricher)
			codec, err := goavro.NewCodec(string(tc.shape.Schema()))
			if err != nil {
				t.Fatalf("goavro cannot parse the %s schema: %v", tc.shape, err)
			}
			if _, rest, err := codec.NativeFromTextual(text); err != nil || len(rest) != 0 {
				t.Fatalf("the %s document does not decode with its schema: %v\n%s", tc.shape, err, text)
			}
			var d doc
			if err := json.Unmarshal(text, &d); err != nil {
				t.Fatal(err)
			}
			meta, records := tc.meta(d), tc.records(d)
			if meta["accountId"].(doc)["string"] != "75555851" || meta["schemaVersion"] != SchemaVersion {
				t.Errorf("metaData %v", meta)
			}
			var plain doc
			if err := json.Unmarshal(AppendDocument(nil, specVisit(), specEnricher), &plain); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(records, plain["recordCollection"]) || len(records) == 0 {
				t.Errorf("the %s document's records differ from the plain one's", tc.shape)
			}
		})
	}
	if _, err := ParseShape("boxed"); err == nil {
		t.Error("ParseShape took an unknown shape")
	}
}

// TestShapeJSON keeps a shape in JSON by its name, as account files do,
// and refuses a name that is none.
func TestShapeJSON(t *testing.T) {
	for _, sh := range []Shape{Plain, Wrapped} {
		b, err := json.Marshal(sh)
		var back Shape
		if err == nil {
			err = json.Unmarshal(b, &back)
		}
		if err != nil || back != sh || string(b) != `"`+sh.String()+`"` {
			t.Errorf("%v: %s, back %v, %v", sh, b, back, err)
		}
	}
	var sh Shape
	if err := json.Unmarshal([]byte(`"boxed"`), &sh); err == nil {
		t.Error(`"boxed" read as a shape`)
	}
}

package wire

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in    string
		field string // of the error; "" for none
	}{
		{`{"kind":"req","id":"1","type":"x","body":{}}`, ""},
		{`{"kind":"req","id":7,"type":"x"}`, ""},
		{`{"kind":"resp","id":"1","type":"x"}`, "kind"},
		{`{"kind":"req","type":"x"}`, "id"},
		{`{"kind":"req","id":null,"type":"x"}`, "id"},
		{`{"kind":"req","id":{},"type":"x"}`, "id"},
		{`{"kind":"req","id":"1"}`, "type"},
		{`[1]`, "frame"},
		{`nope`, "frame"},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.in))
		var fe *FieldError
		if tt.field == "" && err != nil || tt.field != "" && (!errors.As(err, &fe) || fe.Field != tt.field) {
			t.Errorf("Parse(%s) = %v, want field %q", tt.in, err, tt.field)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"kind":"req","id":"1","type":".GetClock","body":{}}`))
	f.Add([]byte(`{"kind":"req","id":1,"type":"ms.PublishEvent","body":{"event":{"type":"ContentEvent"}}}`))
	f.Add([]byte(`{"kind":"req"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := Parse(b)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field == "" {
				t.Fatalf("error %v names no field", err)
			}
			return
		}
		if fr.Kind != KindRequest || fr.Type == "" || len(fr.ID) == 0 {
			t.Fatalf("accepted %q as %+v", b, fr)
		}
		var v map[string]any
		if err := DecodeBody(fr, &v); err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("DecodeBody error %v is not a FieldError", err)
			}
		}
		if _, err := json.Marshal(fr); err != nil {
			t.Fatalf("cannot write back %+v: %v", fr, err)
		}
	})
}

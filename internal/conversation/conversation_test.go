package conversation

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestNewAttribute(t *testing.T) {
	const now = 1_800_000_000_000
	tests := []struct {
		data     string
		at       int64
		typ      string // "" for an error
		typeErr  bool   // the error wraps ErrAttributeType
		original int64
	}{
		{`{"type":"cart","total":1}`, now - 5, "CART_STATUS", false, now - 5},
		{`{"type":"ctmrinfo","info":{}}`, 0, "CUSTOMER_INFO", false, now},
		{`{"type":"searchInfo","keywords":["tv"]}`, now + 1, "SEARCH_CONTENT", false, now}, // the future is now
		{`{"type":"basket"}`, 0, "", true, 0},
		{`{}`, 0, "", true, 0},
		{`[1]`, 0, "", false, 0},
	}
	for _, tt := range tests {
		a, err := NewAttribute(json.RawMessage(tt.data), tt.at, now)
		if tt.typ == "" {
			if err == nil || errors.Is(err, ErrAttributeType) != tt.typeErr {
				t.Errorf("NewAttribute(%s) = %+v, %v; want an error (of type: %v)", tt.data, a, err, tt.typeErr)
			}
			continue
		}
		if err != nil || a.Type != tt.typ || a.OriginalTime != tt.original || a.ServerTime != now || a.Authenticated || string(a.Data) != tt.data {
			t.Errorf("NewAttribute(%s, %d) = %+v, %v; want %s set at %d", tt.data, tt.at, a, err, tt.typ, tt.original)
		}
	}
}

package event

import (
	"encoding/json"
	"testing"
)

func TestIsJSONNumber(t *testing.T) {
	for s, want := range map[string]bool{
		"0": true, "-0": true, "12": true, "1.5": true, "-1.5e+3": true, "1E3": true, "0.0": true,
		"": false, "01": false, "-": false, "+1": false, ".5": false, "1.": false, "1e": false, "1e+": false,
		"1.2.3": false, "NaN": false, "nan": false, "Inf": false, "-inf": false, "--1": false, "1-2": false,
	} {
		if got := isJSONNumber(s); got != want || json.Valid([]byte(s)) != want {
			t.Errorf("isJSONNumber(%q) = %v, json.Valid %v, want %v", s, got, json.Valid([]byte(s)), want)
		}
	}
}

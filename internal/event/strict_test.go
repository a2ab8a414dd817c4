package event

import (
	"encoding/json"
	"testing"

	"github.com/valyala/fastjson"
)

// TestCheckStrings checks documents fastjson.Parser accepts: checkStrings
// must agree with encoding/json about their strings.
func TestCheckStrings(t *testing.T) {
	for doc, valid := range map[string]bool{
		`{"a":"b"}`:                  true,
		`["\"\\\/\b\f\n\r\t\u00e9"]`: true,
		`["\\"]`:                     true,
		`["\\\\\""]`:                 true,
		"\n\t{\"a\" :\r\n [1, 2]}\n": true,
		`["\u12AbX"]`:                true,
		`["a\x"]`:                    false,
		`["\u12"]`:                   false,
		`["\u12G4"]`:                 false,
		`["\'"]`:                     false,
		"[\"a\x01b\"]":               false,
		"[\"a\tb\"]":                 false,
		"[\"a\\\\\nb\"]":             false,
		"[\"\x04\\b\"]":              false, // fastjson.Validate v1.6.10 accepts this
		"{\"k\x1f\":1}":              false,
		"[1,\n\"a\",\t2]":            true,
		"[\"a\\\"\n\"]":              false,
	} {
		var p fastjson.Parser
		if _, err := p.Parse(doc); err != nil {
			t.Fatalf("fastjson rejects %q: %v", doc, err)
		}
		if got := checkStrings([]byte(doc)) == nil; got != valid || json.Valid([]byte(doc)) != valid {
			t.Errorf("checkStrings(%q) ok = %v, json.Valid %v, want %v", doc, got, json.Valid([]byte(doc)), valid)
		}
	}
}

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

func TestIndexControl(t *testing.T) {
	for s, want := range map[string]int{
		"":                         -1,
		"abc":                      -1,
		"0123456789abcdef0123":     -1,
		"\x00":                     0,
		"0123456789abcdef\x1f123":  16,
		"01234567\n":               8,
		"\x7f\x80\xff\xfe\xa0\x20": -1,
	} {
		if got := indexControl([]byte(s)); got != want {
			t.Errorf("indexControl(%q) = %d, want %d", s, got, want)
		}
	}
}

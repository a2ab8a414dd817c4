package event

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// scanDocument reads doc with a scanner, as Decode skips what it does not
// check, and reports whether its syntax is valid and whether every number
// token in it is a JSON number.
func scanDocument(doc string) (syntaxOK, numbersOK bool) {
	var sc scanner
	sc.reset(doc)
	numbersOK = true
	var walk func()
	walk = func() {
		switch sc.peek() {
		case typeObject:
			sc.enter('{')
			for n := 0; sc.next('}', &n); {
				sc.key()
				walk()
			}
		case typeArray:
			sc.enter('[')
			for n := 0; sc.next(']', &n); {
				walk()
			}
		case typeNumber:
			text, n, plain := sc.number()
			if !isJSONNumber(text) && sc.err == nil {
				numbersOK = false
			}
			// A plain number is valid and its value read right, so that
			// its text need not be checked or read again.
			if v, err := strconv.ParseInt(text, 10, 64); plain && (err != nil || v != n || !isJSONNumber(text) || len(text) > 16) {
				panic(fmt.Sprintf("number %q read as plain, value %d", text, n))
			}
		default:
			sc.skip()
		}
	}
	walk()
	sc.end()
	return sc.err == nil, numbersOK
}

// jsonMaxDepth is how deeply encoding/json lets values nest; the scanner
// has no limit.
const jsonMaxDepth = 10000

// nested returns open n times, then 0, then close n times.
func nested(n int, open, close string) string {
	return strings.Repeat(open, n) + "0" + strings.Repeat(close, n)
}

// skipDocument reads doc with skip and reports whether its syntax is
// valid.
func skipDocument(doc string) bool {
	var sc scanner
	sc.reset(doc)
	sc.skip()
	sc.end()
	return sc.err == nil
}

// TestScannerSkip checks that skip agrees with encoding/json about which
// documents are JSON, at any depth: where encoding/json stops (10000
// levels), the answer is known.
func TestScannerSkip(t *testing.T) {
	deep := 1 << 20
	for _, c := range []struct {
		name  string
		doc   string
		valid bool
	}{
		{"scalar", `"a"`, true},
		{"empty containers", `[[],{},[{}],{"a":[]}]`, true},
		{"mixed", `{"a":[1,"b",{"c":null,"d":[true,false]}],"e":{}}`, true},
		{"trailing comma", `[1,]`, false},
		{"key not a string", `{1:2}`, false},
		{"missing colon", `{"a" 1}`, false},
		{"array closed as an object", `[1}`, false},
		{"object closed as an array", `{"a":1]`, false},
		{"unterminated", `[[{"a":[`, false},
		{"arrays, encoding/json's limit", nested(jsonMaxDepth, "[", "]"), true},
		{"objects, encoding/json's limit", nested(jsonMaxDepth, `{"a":`, "}"), true},
		{"arrays, 2^20 deep", nested(deep, "[", "]"), true},
		{"objects and arrays, 2^20 deep", nested(deep/2, `{"a":[`, "]}"), true},
		{"items after deep ones", `[` + nested(deep, "[", "]") + `,` + nested(100, `{"b":`, "}") + `,"c"]`, true},
		{"mismatch 2^20 deep", nested(deep, "[", "]")[:deep+1] + "}" + strings.Repeat("]", deep-1), false},
		{"mismatch under 64 objects", strings.Repeat(`{"a":`, 64) + `[0}` + strings.Repeat("}", 64), false},
		{"unclosed 2^20 deep", strings.Repeat("[", deep), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if len(c.doc) < 50*jsonMaxDepth && json.Valid([]byte(c.doc)) != c.valid {
				t.Fatalf("test case disagrees with encoding/json")
			}
			if got := skipDocument(c.doc); got != c.valid {
				t.Errorf("skip: valid %v, want %v", got, c.valid)
			}
		})
	}
}

// TestScannerSyntax checks that the scanner agrees with encoding/json about
// which documents are JSON, but for the number tokens it reads loosely.
func TestScannerSyntax(t *testing.T) {
	for _, doc := range []string{
		`{"a":"b"}`, `["\"\\\/\b\f\n\r\t\u00e9"]`, `["\\"]`, `["\\\\\""]`, "\n\t{\"a\" :\r\n [1, 2]}\n",
		`["\u12AbX"]`, "[1,\n\"a\",\t2]", `{}`, `[]`, `[[],{}]`, `"top"`, `-0.5e+3`, `true`, `null`,
		`{"a":{"b":[true,false,null]}}`, `["é漢🙂"]`, "[\"\xff\"]",
		// Not JSON:
		``, ` `, `{`, `[`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[,1]`, `{,}`, `{"a" 1}`, `{a:1}`,
		`["a\x"]`, `["\u12"]`, `["\u12G4"]`, `["\'"]`, "[\"a\x01b\"]", "[\"a\tb\"]", "[\"a\\\\\nb\"]",
		"[\"\x04\\b\"]", "{\"k\x1f\":1}", "[\"a\\\"\n\"]", `["abc`, `["abc\`, `tru`, `nul`, `fals`, `[truex]`,
		`{} {}`, `[1]]`, `"a"b`, `[-]`, `[-x]`, `[+]`, "\x01[]", `[1 2]`, `{"a":1 "b":2}`, `[}`, `{]`,
		nested(jsonMaxDepth, "[", "]"), nested(jsonMaxDepth, `{"a":`, "}"), nested(jsonMaxDepth, "[", "}"),
	} {
		syntaxOK, numbersOK := scanDocument(doc)
		want := json.Valid([]byte(doc))
		if got := syntaxOK && numbersOK; got != want {
			t.Errorf("scan(%q): syntax ok %v, numbers ok %v; json.Valid %v", doc, syntaxOK, numbersOK, want)
		}
	}
	// Number tokens read loosely, to be checked where they are used.
	for _, doc := range []string{`[01]`, `[+1]`, `[.5]`, `[1.2.3]`, `[NaN]`, `[nan]`, `[-inf]`, `[+Inf]`, `{"a":1e}`, `[-1-]`} {
		if syntaxOK, numbersOK := scanDocument(doc); !syntaxOK || numbersOK {
			t.Errorf("scan(%q): syntax ok %v, numbers ok %v; want a valid document with a malformed number", doc, syntaxOK, numbersOK)
		}
	}
}

func TestScannerStrings(t *testing.T) {
	for doc, want := range map[string]string{
		`"plain"`:                     "plain",
		`"a\"b\\c\/d\be\ff\ng\rh\ti"`: "a\"b\\c/d\be\ff\ng\rh\ti",
		`"\u00e9\u6f22"`:              "é漢",
		`"\ud83d\ude42"`:              "🙂",
		`"x\ud800"`:                   `x\ud800`,               // a lone high surrogate is kept as written
		`"\udc00y"`:                   `\udc00y`,               // so is a lone low one
		`"\ud800\u0041"`:              "\uFFFD",                // a high surrogate with a non-surrogate: one U+FFFD
		`"\ud800\n"`:                  "\\ud800\n",             // a high surrogate before another escape
		`"0123456789abcdef\"xyz"`:     "0123456789abcdef\"xyz", // an escape after the eight-byte skip
	} {
		var sc scanner
		sc.reset(doc)
		if got := sc.str(); got != want || sc.err != nil {
			t.Errorf("str(%s) = %q, %v; want %q", doc, got, sc.err, want)
		}
	}
}

// TestScannerStringsStay checks that strings read earlier stay valid while
// later ones are unescaped.
func TestScannerStringsStay(t *testing.T) {
	var sc scanner
	doc := `["a\tb","` + strings.Repeat(`\n`, 1000) + `","c\"d"]`
	sc.reset(doc)
	sc.enter('[')
	var got []string
	for n := 0; sc.next(']', &n); {
		got = append(got, sc.str())
	}
	if sc.err != nil || len(got) != 3 || got[0] != "a\tb" || got[1] != strings.Repeat("\n", 1000) || got[2] != `c"d` {
		t.Fatalf("strings %q, %v", got, sc.err)
	}
}

func TestScannerLookup(t *testing.T) {
	for doc, want := range map[string]scalar{
		`{"type":"cart","total":1}`:       {t: typeString, text: "cart"},
		`{"total":1,"ty\u0070e":"cart"}`:  {t: typeString, text: "cart"},
		`{"a":{"type":"x"},"type":"y"}`:   {t: typeString, text: "y"},
		`{"type":7}`:                      {t: typeNumber, text: "7"},
		`{"type":null,"type":"z"}`:        {t: typeNull},
		`{"total":1}`:                     {},
		`{}`:                              {},
		`{"a":[1,2,{"type":"no"}],"b":2}`: {},
	} {
		var sc scanner
		sc.reset(doc)
		if got := sc.lookup("type"); got != want || sc.i != 0 || sc.err != nil {
			t.Errorf("lookup in %s = %+v (at %d, %v), want %+v", doc, got, sc.i, sc.err, want)
		}
	}
}

// TestCopyAny checks the compact form free-form data is written in.
func TestCopyAny(t *testing.T) {
	for in, want := range map[string]string{
		`{ "a" : [ 1 , -2.5e3 , true , false , null , "x" ] , "b" : { } , "c" : [ ] }`: `{"a":[1,-2.5e3,true,false,null,"x"],"b":{},"c":[]}`,
		`{"k\"ey":"\u00e9\/\ud83d\ude42"}`:                                             `{"k\"ey":"é/🙂"}`,
		`{"line":"a` + "\u2028" + `b"}`:                                                `{"line":"a\u2028b"}`,
	} {
		var v validator
		v.sc.reset(in)
		got, fe := v.checkData(nil, anyObject, false)
		if fe != nil || v.sc.err != nil || string(got) != want {
			t.Errorf("copy of %s = %s, %v, %v; want %s", in, got, fe, v.sc.err, want)
		}
	}
	for _, in := range []string{`{"a":[01]}`, `{"a":NaN}`, `{"a":[1.2.3]}`, `{"a":+1}`} {
		var v validator
		v.sc.reset(in)
		if got, fe := v.checkData(nil, anyObject, false); fe == nil || fe.Reason != ReasonFormat {
			t.Errorf("copy of %s = %s, %v; want a format error", in, got, fe)
		}
	}
}

// FuzzScanner checks the scanner against encoding/json: a document is
// valid JSON exactly when the scanner reads it without a syntax error and
// all its number tokens are JSON numbers; and skip finds the same syntax
// errors as reading value by value.
func FuzzScanner(f *testing.F) {
	for _, doc := range []string{`{"a":[1,"b",{"c":null}]}`, `["\ud83d\ude42\n"]`, `[01,-inf]`, `{"a":1,}`, nested(100, `{"a":[`, "]}"), nested(70, "[", "}")} {
		f.Add(doc)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		syntaxOK, numbersOK := scanDocument(doc)
		if skipOK := skipDocument(doc); skipOK != syntaxOK {
			t.Fatalf("skip(%q): syntax ok %v; read value by value: %v", doc, skipOK, syntaxOK)
		}
		if strings.Count(doc, "[")+strings.Count(doc, "{") > jsonMaxDepth {
			return // may nest deeper than encoding/json allows
		}
		if valid := json.Valid([]byte(doc)); valid != (syntaxOK && numbersOK) {
			t.Fatalf("scan(%q): syntax ok %v, numbers ok %v; json.Valid %v", doc, syntaxOK, numbersOK, valid)
		}
	})
}

// FuzzStrEcho checks how the scanner echoes a string: as AppendJSONString
// writes its content, whether the document has it in that form, which
// echo copies, or in another, which it rewrites.
func FuzzStrEcho(f *testing.F) {
	for _, s := range []string{`abc"`, `caf\u00e9"`, "café\"", `a\"b"`, "0123456789abcdef\"", "\x7f\"", "line\u2028\"", "\xff\"", "12345678\xc3\xa9\"x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rest string) {
		var sc scanner
		sc.reset(`"` + rest)
		sc.startEcho(nil)
		s := sc.str()
		out := sc.stopEcho()
		if sc.err != nil {
			return
		}
		if got, want := string(out), string(AppendJSONString(nil, s)); got != want {
			t.Fatalf("string %q echoed as %q, AppendJSONString writes %q", sc.s[:sc.i], got, want)
		}
	})
}

func TestKnownKey(t *testing.T) {
	for _, c := range []struct {
		key, doc string
		want     bool
	}{
		{"id", `"id":1,"more":"padding..."`, true},
		{"id", `"id":1}`, true}, // near the end: compared as a string
		{"id", ` "id":"x"`, true},
		{"id", `"idx":1,"more":"padding..."`, false},
		{"id", `"id" :1,"more":"padding..."`, false},
		{"id", `"i`, false},
		{"engagementId", `"engagementId":5,"padding":0`, true},      // 15 bytes with the colon
		{"engagementTyp", `"engagementTyp":5,"padding":0`, true},    // 16
		{"engagementType", `"engagementType":5,"padding":0`, true},  // 17: beyond the words
		{"engagementType", `"engagementTypo":5,"padding":0`, false}, // differs after 16 bytes
		{"engagementTyp", `"engagementTyq":5,"padding":0`, false},   // differs in the last byte of the words
		{"engagementRevision", `"engagementRevision":18}`, true},    // long, near the end
		{"café", `"café":1,"padding":"........"`, true},             // UTF-8
		{"a\"b", `"a\"b":1,"padding":"................"`, true},     // escaped as compact JSON writes it
		{"engagementTyp", `"engagementTyp"`, false},                 // no colon, document ends
		{"x", `"x":` + strings.Repeat(" ", 20), true},
	} {
		var sc scanner
		sc.reset(c.doc)
		k := newKeyText(c.key)
		got := sc.knownKey(&k)
		if got != c.want {
			t.Errorf("knownKey(%q) in %q = %v, want %v", c.key, c.doc, got, c.want)
			continue
		}
		if want := strings.Index(c.doc, `":`) + 2; got && sc.i != want {
			t.Errorf("knownKey(%q) in %q: at %d, want %d", c.key, c.doc, sc.i, want)
		}
	}
}

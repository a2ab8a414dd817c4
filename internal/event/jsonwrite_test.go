package event

import (
	"encoding/json"
	"testing"
)

func TestAppendString(t *testing.T) {
	for in, want := range map[string]string{
		"":                   `""`,
		"plain text":         `"plain text"`,
		`"\`:                 `"\"\\"`,
		"\n\r\t\x00\x1f\x7f": `"\n\r\t\u0000\u001f` + "\x7f" + `"`,
		"café":               `"café"`,
		"\u2028\u2029":       `"\u2028\u2029"`,
		"a\xffb":             "\"a\uFFFDb\"",
		"\xe2\x82":           "\"\uFFFD\uFFFD\"",
		"0123456789abcdef\x01 long enough for eight-byte steps \xff": "\"0123456789abcdef\\u0001 long enough for eight-byte steps \uFFFD\"",
		"<&>":                   `"<&>"`,
		"🙂 \xf0\x9f\x99\x82 ok": `"🙂 🙂 ok"`,
	} {
		got := AppendJSONString(nil, in)
		if string(got) != want {
			t.Errorf("AppendJSONString(%q) = %s, want %s", in, got, want)
		}
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Errorf("AppendJSONString(%q) is not JSON: %v", in, err)
		}
	}
}

package campaign

import (
	"math"
	"strings"
	"testing"
)

// testKey signs the states of the package's tests.
var testKey = NewStateKey(make([]byte, StateKeySize))

// sign returns s signed by testKey for visitor of the account "shop".
func sign(tb testing.TB, s *State, visitor string) []byte {
	tb.Helper()
	raw, err := testKey.AppendJSON(nil, s, "shop", visitor)
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}

// TestStateKey checks which states sent back count: those the key signed
// for the visitor, whatever JSON formatting they went through in the
// browser, and not changed, unsigned, garbled, or another visitor's or
// account's. A missing state is empty but not refused.
func TestStateKey(t *testing.T) {
	st := State{Visit: "v1", Pages: 3, URL: "https://shop.example/a?b=<c>&d", CartTotal: 11.7, Shown: map[string]int{"7": 1, "3": 2}, Campaigns: []int64{1, 2}}
	signed := string(sign(t, &st, "u1"))
	if !strings.Contains(signed, `"sig":"`) || !strings.HasSuffix(signed, `"}`) {
		t.Fatalf("signed state %s", signed)
	}
	other := NewStateKey([]byte(strings.Repeat("k", StateKeySize)))
	for _, c := range []struct {
		name, raw        string
		account, visitor string
		key              *StateKey
		pages            int
		refused          bool
	}{
		{"as answered", signed, "shop", "u1", testKey, 3, false},
		// JSON.stringify writes <, > and & as they are, and Go escapes them.
		{"as a browser writes it", strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(signed), "shop", "u1", testKey, 3, false},
		{"with spaces", strings.ReplaceAll(signed, `,"`, `, "`), "shop", "u1", testKey, 3, false},
		{"changed", strings.Replace(signed, `"p":3`, `"p":4`, 1), "shop", "u1", testKey, 0, true},
		{"another visitor's", signed, "shop", "u2", testKey, 0, true},
		{"another account's", signed, "shop2", "u1", testKey, 0, true},
		{"another key's", signed, "shop", "u1", other, 0, true},
		{"unsigned", `{"v":"v1","p":3}`, "shop", "u1", testKey, 0, true},
		{"signature cut", signed[:strings.Index(signed, `"sig"`)+12] + `"}`, "shop", "u1", testKey, 0, true},
		{"not JSON", `{"p":`, "shop", "u1", testKey, 0, true},
		{"missing", ``, "shop", "u1", testKey, 0, false},
	} {
		got, refused := c.key.Read([]byte(c.raw), c.account, c.visitor)
		if got.Pages != c.pages || refused != c.refused {
			t.Errorf("%s: %d pages, refused %v; want %d, %v", c.name, got.Pages, refused, c.pages, c.refused)
		}
		if got.Sig != "" {
			t.Errorf("%s: signature kept in the state read", c.name)
		}
	}
	empty := string(sign(t, &State{}, "u1"))
	if got, refused := testKey.Read([]byte(empty), "shop", "u1"); refused || got.Pages != 0 || !strings.HasPrefix(empty, `{"sig":"`) {
		t.Errorf("empty state %s: refused %v", empty, refused)
	}
}

// TestStateKeyUnwritable checks that a state JSON cannot hold is an error,
// with nothing appended, and not an empty state signed in its place, which
// the tag would keep instead of the visit's.
func TestStateKeyUnwritable(t *testing.T) {
	for _, x := range []float64{math.Inf(1), math.Inf(-1), math.NaN()} {
		out, err := testKey.AppendJSON([]byte("answer"), &State{Visit: "v1", Pages: 3, Spent: x}, "shop", "u1")
		if err == nil || string(out) != "answer" {
			t.Errorf("spent %v: appended %q, error %v; want nothing appended and an error", x, out, err)
		}
	}
}

package campaign

import (
	"encoding/json"
	"testing"

	"github.com/sightline/sightline/internal/event"
)

// FuzzDecide feeds a decision any state a tag may send back and any event
// data: no panic, and the state answered reads back as itself, with the
// batch's page view counted in it whatever the data.
func FuzzDecide(f *testing.F) {
	f.Add([]byte(`{"v":"v1","p":3,"ci":1,"cp":1,"sh":{"2":1},"c":[1],"g":[3]}`), []byte(`{"type":"cart","total":"12","numItems":2}`))
	f.Add([]byte(`{"v":"v1","p":3,"ct":1.7976931348623157e308}`), []byte(`{"type":"cart","total":1e309,"numItems":-5}`))
	f.Add([]byte(`{"v":"v1","sp":1.7976931348623157e308,"pu":1}`), []byte(`{"type":"purchase","total":"1.7976931348623157e308"}`))
	f.Add([]byte(`{"v":"v1","sc":["tv"]}`), []byte(`{"type":"purchase","total":1,"cart":{"products":[]}}`))
	f.Add([]byte(`[]`), []byte(`{"type":"mrktInfo","info":{"channel":99}}`))
	f.Add([]byte(`{"v":"v1","s":-9223372036854775808,"pt":9223372036854775807}`), []byte(`{"type":"lead","lead":{"topic":{"x":1}}}`))
	en := newEnricher(f)
	e, err := Compile(oneRule(Rule{Kind: "abandoningCart", Pages: 1}))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, state, data []byte) {
		events := []event.Event{pv(ms0, "https://shop.example/tv", "tv"), sde(ms0+1, string(data)),
			ev(ms0+2, "LP_OFFERS", "OFFER_DISPLAY", string(data)), ev(ms0+3, "LP_OFFERS", "OFFER_CLICK", string(data))}
		d := e.Decide(&Request{VisitorID: "u", VisitID: "v1", State: ReadState(state), Events: events, IP: visitorIP, UserAgent: visitorUA, Now: t0}, en)
		raw := sign(t, &d.State, "u")
		if len(raw) > maxStateBytes {
			t.Fatalf("state of %d bytes", len(raw))
		}
		back, refused := testKey.Read(raw, "shop", "u")
		if again := sign(t, &back, "u"); refused || string(again) != string(raw) {
			t.Fatalf("state does not read back (refused %v):\n%s\n%s", refused, raw, again)
		}
		if back.Visit != "v1" || back.Pages < 1 {
			t.Fatalf("state %s lost the batch's page view", raw)
		}
		if _, refused := testKey.Read(state, "shop", "u"); !refused && len(state) > 0 {
			t.Fatalf("state %q, which the key did not sign, taken", state)
		}
		for _, r := range d.Records {
			if !json.Valid(r.Data) {
				t.Fatalf("record %s: invalid JSON %s", r.EventName, r.Data)
			}
		}
	})
}

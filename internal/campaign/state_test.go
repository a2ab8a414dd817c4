package campaign

import (
	"math"
	"testing"

	"github.com/sightline/sightline/internal/event"
)

// TestStateKeptAcrossBadEvents runs a visit whose second batch carries an
// attribute with numbers a state cannot hold (beyond a float64, NaN,
// negative counts) as if it had passed validation, and totals that add up
// beyond a float64: the state answered, as the tag reads it back, keeps the
// visit's pages, displays and campaigns, and takes what it can of the
// attribute.
func TestStateKeptAcrossBadEvents(t *testing.T) {
	en := newEnricher(t)
	e := mustCompile(t, oneRule(Rule{Kind: "pagesViewed", Min: f(1)}))
	first := []event.Event{
		pv(ms0, "https://shop.example/"),
		sde(ms0+1, `{"type":"purchase","total":1.5e308}`),
		sde(ms0+2, `{"type":"cart","total":50,"numItems":2}`),
		ev(ms0+3, "LP_OFFERS", "OFFER_DISPLAY", `{"campaignId":1,"engagementId":2}`),
	}
	for _, c := range []struct {
		name      string
		data      string // the attribute of the second batch
		total     float64
		items     int
		purchases int
		spent     float64
	}{
		{"cart total beyond a float64", `{"type":"cart","total":1e309,"numItems":3}`, 0, 3, 1, 1.5e308},
		{"cart total below a float64, as a string", `{"type":"cart","total":"-1e400","numItems":3}`, 0, 3, 1, 1.5e308},
		{"cart total NaN", `{"type":"cart","total":"NaN","numItems":3}`, 0, 3, 1, 1.5e308},
		{"cart total Infinity", `{"type":"cart","total":"Infinity","numItems":3}`, 0, 3, 1, 1.5e308},
		{"numItems negative: the products count", `{"type":"cart","total":5,"numItems":-5,"products":[{"quantity":-2},{"quantity":"4"}]}`, 5, 5, 1, 1.5e308},
		{"numItems beyond an int", `{"type":"cart","total":5,"numItems":1e300}`, 5, 0, 1, 1.5e308},
		{"quantities beyond an int", `{"type":"cart","products":[{"quantity":9007199254740992},{"quantity":9007199254740992}]}`, 0, 1 << 53, 1, 1.5e308},
		{"purchase total beyond a float64", `{"type":"purchase","total":1e309}`, 0, 0, 2, 1.5e308},
		{"purchases adding up beyond a float64", `{"type":"purchase","total":1.5e308}`, 0, 0, 2, math.MaxFloat64},
	} {
		t.Run(c.name, func(t *testing.T) {
			ds := visit(t, en, e, "visitor-1", false, first, []event.Event{pv(ms0+10, "https://shop.example/cart"), sde(ms0+11, c.data)})
			st, refused := testKey.Read(sign(t, &ds[1].State, "visitor-1"), "shop", "visitor-1")
			if refused || st.Visit != "v1" || st.Pages != 2 || st.Shown["2"] != 1 || len(st.Campaigns) != 1 || st.Campaigns[0] != 1 {
				t.Fatalf("state %+v (refused %v): want 2 pages, engagement 2 shown once, campaign 1", st, refused)
			}
			if st.CartTotal != c.total || st.CartItems != c.items || st.Purchases != c.purchases || st.Spent != c.spent {
				t.Errorf("cart %v, %d items, %d purchases, %v spent; want %v, %d, %d, %v",
					st.CartTotal, st.CartItems, st.Purchases, st.Spent, c.total, c.items, c.purchases, c.spent)
			}
		})
	}
}

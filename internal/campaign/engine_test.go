package campaign

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/sightline/sightline/internal/enrich"
	"github.com/sightline/sightline/internal/enrich/enrichtest"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/websession"
)

var (
	t0  = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	ms0 = t0.UnixMilli()
)

// newEnricher returns a real enricher whose geo database puts visitorIP in
// London.
func newEnricher(tb testing.TB) *enrich.Enricher {
	tb.Helper()
	city := enrichtest.WriteMMDB(tb, "GeoIP2-City", map[string]mmdbtype.Map{
		"81.2.69.0/24": enrichtest.CityRecord("GB", "United Kingdom", "London", "England"),
	})
	en, err := enrich.New(enrich.Config{GeoCityPath: city})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { en.Close() })
	return en
}

// The tests' visitor's address and browser.
const (
	visitorIP = "81.2.69.142"
	visitorUA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)

func f(v float64) *float64 { return &v }

func ev(at int64, app, name, data string) event.Event {
	return event.Event{Time: at, AppName: app, EventName: name, Data: []byte(data)}
}

func pv(at int64, url string, sections ...string) event.Event {
	sec, _ := json.Marshal(sections)
	return ev(at, "LP_MONITORING", "PAGE_VIEW", fmt.Sprintf(`{"url":%q,"referrer":"https://www.google.com/search?q=oled+tv","sections":%s,"contextId":"%d"}`, url, sec, at))
}

func sde(at int64, data string) event.Event { return ev(at, "lp_sdes", "VAR_ADDED", data) }

// oneRule is an account with one campaign whose profile (or, for a
// behavior kind, whose engagement's behavior) is rule.
func oneRule(rule Rule) *Definitions {
	d := &Definitions{
		Availability: Availability{"sales": "online"},
		Goals:        []Goal{{ID: 3, Name: "g", Type: "purchase"}},
		Campaigns: []Campaign{{ID: 1, Name: "c", Status: "active", GoalID: 3, Engagements: []Engagement{{
			ID: 2, Revision: 1, Name: "e", Type: 3, Interaction: "chat", SkillName: "sales", Availability: "online",
			Content: Content{Title: "t", Button: "b"}}}}},
	}
	if _, ok := profileRule[rule.Kind]; ok {
		d.Profiles = []Profile{{ID: 4, Revision: 1, Name: "p", Rules: []Rule{rule}}}
		d.Campaigns[0].ProfileIDs = []int64{4}
	} else {
		d.Behaviors = []Behavior{{ID: 5, Revision: 1, Name: "b", Rules: []Rule{rule}}}
		d.Campaigns[0].Engagements[0].BehaviorIDs = []int64{5}
	}
	return d
}

func mustCompile(t testing.TB, d *Definitions) *Engine {
	t.Helper()
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	e, err := Compile(d)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// visit runs the batches of one visit through e, each with the state the
// last answered, and returns the decisions.
func visit(tb testing.TB, en Enricher, e *Engine, visitor string, returning bool, batches ...[]event.Event) []Decision {
	tb.Helper()
	var st State
	if returning {
		st = State{Visit: "earlier"}
	}
	var out []Decision
	for _, b := range batches {
		at := b[len(b)-1].Time
		sent, _ := testKey.Read(sign(tb, &st, visitor), "shop", visitor)
		d := e.Decide(&Request{VisitorID: visitor, VisitID: "v1", State: sent, Events: b,
			IP: visitorIP, UserAgent: visitorUA, Now: time.UnixMilli(at)}, en)
		st = d.State
		out = append(out, d)
	}
	return out
}

func TestRules(t *testing.T) {
	en := newEnricher(t)
	min := func(n float64) Rule { return Rule{Min: f(n)} }
	with := func(r Rule, kind string) Rule { r.Kind = kind; return r }
	home := []event.Event{pv(ms0, "https://shop.example/", "home")}
	tvPage := func(at int64) []event.Event {
		return []event.Event{pv(at, "https://shop.example/tv/oled?x=1", "electronics", "tv")}
	}
	cart := func(at int64, items int) []event.Event {
		return []event.Event{sde(at, fmt.Sprintf(`{"type":"cart","total":"1299.99","numItems":%d}`, items))}
	}
	tests := []struct {
		name      string
		rule      Rule
		returning bool
		batches   [][]event.Event
		show      bool
		delay     int64
	}{
		{"customerType matches", Rule{Kind: "customerType", Values: []string{"VIP"}}, false,
			[][]event.Event{home, {sde(ms0+1, `{"type":"ctmrinfo","info":{"ctype":"vip","cstatus":"gold"}}`)}}, true, 0},
		{"customerType other", Rule{Kind: "customerType", Values: []string{"vip"}}, false,
			[][]event.Event{home, {sde(ms0+1, `{"type":"ctmrinfo","info":{"ctype":"new"}}`)}}, false, 0},
		{"customerStatus", Rule{Kind: "customerStatus", Values: []string{"gold"}}, false,
			[][]event.Event{home, {sde(ms0+1, `{"type":"ctmrinfo","info":{"cstatus":"gold"}}`)}}, true, 0},
		{"cartTotal within", with(Rule{Min: f(1000), Max: f(2000)}, "cartTotal"), false, [][]event.Event{home, cart(ms0+1, 1)}, true, 0},
		{"cartTotal below", with(min(1500), "cartTotal"), false, [][]event.Event{home, cart(ms0+1, 1)}, false, 0},
		{"cartTotal of an empty cart", with(Rule{Max: f(5000)}, "cartTotal"), false, [][]event.Event{home, cart(ms0+1, 0)}, false, 0},
		{"cartItems", with(min(2), "cartItems"), false, [][]event.Event{home, cart(ms0+1, 2)}, true, 0},
		{"purchased", Rule{Kind: "purchased"}, false,
			[][]event.Event{home, {sde(ms0+1, `{"type":"purchase","total":50,"orderId":"o1"}`)}}, true, 0},
		{"purchased too little", with(min(100), "purchased"), false,
			[][]event.Event{home, {sde(ms0+1, `{"type":"purchase","total":50,"orderId":"o1"}`)}}, false, 0},
		{"lead any", Rule{Kind: "lead"}, false, [][]event.Event{home, {sde(ms0+1, `{"type":"lead","lead":{"topic":"loan"}}`)}}, true, 0},
		{"lead topic", Rule{Kind: "lead", Values: []string{"mortgage"}}, false,
			[][]event.Event{home, {sde(ms0+1, `{"type":"lead","lead":{"topic":"loan"}}`)}}, false, 0},
		{"service", Rule{Kind: "service", Values: []string{"repair"}}, false,
			[][]event.Event{home, {sde(ms0+1, `{"type":"service","service":{"topic":"Repair","status":2}}`)}}, true, 0},
		{"error", Rule{Kind: "error"}, false, [][]event.Event{home, {sde(ms0+1, `{"type":"error","error":{"message":"card declined"}}`)}}, true, 0},
		{"no error", Rule{Kind: "error"}, false, [][]event.Event{home}, false, 0},
		{"country code", Rule{Kind: "country", Values: []string{"gb"}}, false, [][]event.Event{home}, true, 0},
		{"country name", Rule{Kind: "country", Values: []string{"United Kingdom"}}, false, [][]event.Event{home}, true, 0},
		{"other country", Rule{Kind: "country", Values: []string{"FR"}}, false, [][]event.Event{home}, false, 0},
		{"city", Rule{Kind: "city", Values: []string{"London"}}, false, [][]event.Event{home}, true, 0},
		{"deviceFamily", Rule{Kind: "deviceFamily", Values: []string{"MOBILE"}}, false, [][]event.Event{home}, true, 0},
		{"deviceOS other", Rule{Kind: "deviceOS", Values: []string{"ANDROID"}}, false, [][]event.Event{home}, false, 0},
		{"marketingChannel", Rule{Kind: "marketingChannel", Values: []string{"email"}}, false,
			[][]event.Event{home, {sde(ms0+1, `{"type":"mrktInfo","info":{"channel":"3","affiliate":"x"}}`)}}, true, 0},
		{"new visitor", Rule{Kind: "visitorType", Values: []string{"new"}}, false, [][]event.Event{home}, true, 0},
		{"returning visitor", Rule{Kind: "visitorType", Values: []string{"returning"}}, true, [][]event.Event{home}, true, 0},
		{"returning, not new", Rule{Kind: "visitorType", Values: []string{"new"}}, true, [][]event.Event{home}, false, 0},

		{"url contains", Rule{Kind: "url", Values: []string{"/TV/"}}, false, [][]event.Event{tvPage(ms0)}, true, 0},
		{"url exact", Rule{Kind: "url", Match: "exact", Values: []string{"https://shop.example/tv/oled"}}, false, [][]event.Event{tvPage(ms0)}, false, 0},
		{"url prefix", Rule{Kind: "url", Match: "prefix", Values: []string{"https://shop.example/tv"}}, false, [][]event.Event{tvPage(ms0)}, true, 0},
		{"url regex", Rule{Kind: "url", Match: "regex", Values: []string{`/tv/[a-z]+\?`}}, false, [][]event.Event{tvPage(ms0)}, true, 0},
		{"url regex no match", Rule{Kind: "url", Match: "regex", Values: []string{`^/tv`}}, false, [][]event.Event{tvPage(ms0)}, false, 0},
		{"referrer", Rule{Kind: "referrer", Values: []string{"google.com"}}, false, [][]event.Event{home}, true, 0},
		{"searchKeywords", Rule{Kind: "searchKeywords", Values: []string{"oled"}}, false, [][]event.Event{home}, true, 0},
		{"searchKeywords other", Rule{Kind: "searchKeywords", Match: "exact", Values: []string{"qled"}}, false, [][]event.Event{home}, false, 0},
		{"section", Rule{Kind: "section", Values: []string{"tv"}}, false, [][]event.Event{home, tvPage(ms0 + 1)}, true, 0},
		{"section not on this page", Rule{Kind: "section", Values: []string{"tv"}}, false, [][]event.Event{tvPage(ms0), home}, false, 0},
		{"pagesViewed", with(min(3), "pagesViewed"), false, [][]event.Event{home, home, home}, true, 0},
		{"pagesViewed too few", with(min(3), "pagesViewed"), false, [][]event.Event{home, home}, false, 0},
		{"timeOnSite waits", with(min(30), "timeOnSite"), false,
			[][]event.Event{home, {pv(ms0+10_000, "https://shop.example/")}}, true, 20_000},
		{"timeOnSite passed", with(min(30), "timeOnSite"), false,
			[][]event.Event{home, {pv(ms0+40_000, "https://shop.example/")}}, true, 0},
		{"timeOnPage waits for the page", with(min(5), "timeOnPage"), false,
			[][]event.Event{home, {pv(ms0+40_000, "https://shop.example/")}}, true, 5_000},
		{"abandoningCart after 2 pages", Rule{Kind: "abandoningCart", Pages: 2}, false,
			[][]event.Event{home, cart(ms0+1, 1), home, home}, true, 0},
		{"abandoningCart too soon", Rule{Kind: "abandoningCart", Pages: 2}, false,
			[][]event.Event{home, cart(ms0+1, 1), home}, false, 0},
		{"abandoningCart, bought", Rule{Kind: "abandoningCart", Pages: 1}, false,
			[][]event.Event{home, cart(ms0+1, 1), {sde(ms0+2, `{"type":"purchase","total":1299.99}`)}, home, home}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustCompile(t, oneRule(tt.rule))
			// Later batches' events come later.
			batches := make([][]event.Event, len(tt.batches))
			for i, b := range tt.batches {
				b = slices.Clone(b)
				batches[i] = b
				for j := range b {
					if b[j].Time < ms0+int64(i) {
						b[j].Time = ms0 + int64(i)
					}
				}
			}
			ds := visit(t, en, e, "visitor-1", tt.returning, batches...)
			last := ds[len(ds)-1]
			if got := len(last.Offers) == 1; got != tt.show {
				t.Fatalf("shown %v, want %v (offers %+v)", got, tt.show, last.Offers)
			}
			if tt.show {
				o := last.Offers[0]
				if o.Delay != tt.delay || o.ConfKey != "1_2_1" || o.State != 1 || o.TglName != "slider" || o.Interaction != "chat" {
					t.Errorf("offer %+v: want delay %d, confKey 1_2_1, state 1, tglName slider, interactionType chat", o, tt.delay)
				}
				if len(last.Records) == 0 || last.Records[0].EventName != websession.EventEligibility {
					t.Errorf("no eligibility recorded: %+v", last.Records)
				}
			}
		})
	}
}

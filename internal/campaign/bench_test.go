package campaign

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/event"
)

// bigDefinitions is an account of 1,000 active campaigns of 10 engagements
// each, over 50 visitor profiles and 100 visitor behaviors. selective
// gives each profile and behavior its own values, so that a visitor is in
// a few of them, as on a real site; otherwise most rules hold for the
// benchmark's visitor, the worst case: hundreds of eligible campaigns.
func bigDefinitions(selective bool) *Definitions {
	d := &Definitions{Availability: Availability{"sales": "online", "support": "busy"}, Settings: Settings{SiteControlGroup: 5}}
	profile := func(i int) Rule {
		all := []Rule{{Kind: "cartTotal", Min: f(100)}, {Kind: "customerType", Values: []string{"vip"}}, {Kind: "country", Values: []string{"GB", "FR"}},
			{Kind: "deviceFamily", Values: []string{"MOBILE"}}, {Kind: "visitorType", Values: []string{"returning"}}}
		if !selective {
			return all[i%len(all)]
		}
		return []Rule{{Kind: "cartTotal", Min: f(float64(i * 40))}, {Kind: "customerType", Values: []string{fmt.Sprintf("seg-%d", i)}},
			{Kind: "country", Values: []string{[]string{"GB", "FR", "DE", "ES", "IT", "NL", "SE", "PL", "US", "CA"}[i%10]}},
			{Kind: "deviceFamily", Values: []string{[]string{"MOBILE", "DESKTOP", "TABLET"}[i%3]}},
			{Kind: "marketingChannel", Values: []string{channels[i%5]}}}[i%5]
	}
	behavior := func(i int) Rule {
		all := []Rule{{Kind: "url", Values: []string{"/product/"}}, {Kind: "url", Match: "regex", Values: []string{`/product/[0-9]+`}},
			{Kind: "section", Values: []string{"tv", "cart"}}, {Kind: "pagesViewed", Min: f(3)}, {Kind: "timeOnSite", Min: f(30)},
			{Kind: "searchKeywords", Values: []string{"oled"}}, {Kind: "abandoningCart", Pages: 2}, {Kind: "referrer", Match: "prefix", Values: []string{"https://www.google."}}}
		if !selective {
			return all[i%len(all)]
		}
		k := i / 5 // the value, independent of the kind
		return []Rule{{Kind: "url", Values: []string{fmt.Sprintf("/category-%d/", k%5)}},
			{Kind: "url", Match: "regex", Values: []string{fmt.Sprintf(`/category-%d/product/[0-9]+`, k%5)}},
			{Kind: "section", Values: []string{fmt.Sprintf("sec-%d", k%4)}}, {Kind: "pagesViewed", Min: f(float64(5 + k%4))},
			{Kind: "searchKeywords", Match: "exact", Values: []string{fmt.Sprintf("kw %d", k%4)}}}[i%5]
	}
	for i := range 50 {
		d.Profiles = append(d.Profiles, Profile{ID: int64(10000 + i), Name: "p", Rules: []Rule{profile(i)}})
	}
	for i := range 100 {
		d.Behaviors = append(d.Behaviors, Behavior{ID: int64(20000 + i), Name: "b", Rules: []Rule{behavior(i)}})
	}
	d.Goals = []Goal{{ID: 30000, Name: "g", Type: "purchase"}, {ID: 30001, Name: "u", Type: "url", URL: &Rule{Values: []string{"/thanks"}}}}
	id := int64(100000)
	for i := range 1000 {
		c := Campaign{ID: int64(i + 1), Name: "c", Status: "active", Priority: i % 7, GoalID: 30000 + int64(i%2), ControlGroup: i % 3 * 5,
			ProfileIDs: []int64{int64(10000 + i%50)}}
		for j := range 10 {
			id++
			c.Engagements = append(c.Engagements, Engagement{ID: id, Name: "e", Type: []int{0, 1, 2, 3, 6}[j%5], Zone: int64(j % 4),
				Interaction: "chat", SkillName: []string{"sales", "sales", "support"}[j%3], Availability: []string{"always", "always", "always", "online"}[j%4],
				FrequencyCap: 2, BehaviorIDs: []int64{int64(20000 + (i*10+j)%100)}, Content: Content{Title: "t", Button: "b"}})
		}
		d.Campaigns = append(d.Campaigns, c)
	}
	return d
}

// BenchmarkDecide decides a page view of a visit in its fifth page, with a
// cart, for an account of 1,000 campaigns of 10 engagements: the work of
// one ingest batch (state read, fold, decision, records, state written).
// It reports the p50 and p99 latency of single decisions.
func BenchmarkDecide(b *testing.B) {
	b.Run("typical", func(b *testing.B) { benchDecide(b, true) })
	b.Run("all-eligible", func(b *testing.B) { benchDecide(b, false) })
}

func benchDecide(b *testing.B, selective bool) {
	d := bigDefinitions(selective)
	if err := d.Validate(); err != nil {
		b.Fatal(err)
	}
	e, err := Compile(d)
	if err != nil {
		b.Fatal(err)
	}
	en := newEnricher(b)
	st := State{Visit: "v1", Start: ms0, Pages: 4, PageAt: ms0 + 50_000, Referrer: "https://www.google.com/search?q=oled+tv",
		CartTotal: 1299.99, CartItems: 1, CartPage: 2, CType: "vip", Returning: true, Channel: "search", Campaigns: []int64{1, 2, 3}}
	if selective {
		st.CType, st.Referrer = "seg-7", "https://www.google.com/search?q=kw+3"
	}
	// The states tags send back, signed for their visitors.
	const visitors = 5000
	raws := make([][]byte, visitors)
	for i := range raws {
		raws[i] = sign(b, &st, fmt.Sprintf("visitor-%d", i))
	}
	batch := []event.Event{pv(ms0+60_000, "https://shop.example/category-3/product/123?ref=tv", "tv", "sec-3")}
	var lat []time.Duration
	eligible := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		visitor := fmt.Sprintf("visitor-%d", i%visitors)
		sent, refused := testKey.Read(raws[i%visitors], "shop", visitor)
		if refused {
			b.Fatal("state refused")
		}
		d := e.Decide(&Request{VisitorID: visitor, VisitID: "v1", State: sent, Events: batch,
			IP: visitorIP, UserAgent: visitorUA, Now: t0.Add(time.Minute)}, en)
		if _, err := testKey.AppendJSON(nil, &d.State, "shop", visitor); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		if i == 0 {
			if len(d.Records) == 0 {
				b.Fatal("nothing eligible")
			}
			eligible = strings.Count(string(d.Records[0].Data), `"controlGroupType"`)
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(eligible), "eligible-campaigns")
}

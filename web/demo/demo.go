// Package demo serves the demo shop at /demo/: a few pages of a TV shop
// for the demo account, each with the tag, sections and the attributes a
// real shop pushes (a product view, a cart, a purchase), so that a
// newcomer who runs `make run` sees page views, attributes and
// engagements flow within a minute.
package demo

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"strings"

	"github.com/sightline/sightline/internal/campaign"
	"github.com/sightline/sightline/web/tag"
)

// Account is the account the demo pages send to.
const Account = "demo"

// page is one page of the shop.
type page struct {
	title    string
	sections []string
	body     string // HTML
	sdes     string // a JavaScript array of attributes to push, or ""
}

// pages are the shop's pages by path under /demo/.
var pages = map[string]page{
	"": {title: "Sightline demo shop", sections: []string{"home"},
		body: `<p>A demo shop for the <code>demo</code> account. Browse to a TV, add it to the cart and buy it: every page
view, attribute and engagement event goes to Sightline (<code>bin/sightline events tail --account demo --follow</code>).</p>`},
	"tv": {title: "TVs", sections: []string{"electronics", "tv"},
		body: `<p>Our TVs.</p><ul><li><a href="/demo/tv/oled">LG OLED55C3, 55 inch</a> — $1,299.99</li></ul><div id="demo-offer"></div>`,
		sdes: `[{"type": "searchInfo", "keywords": ["oled tv"]}]`},
	"tv/oled": {title: "LG OLED55C3 55 inch 4K TV", sections: []string{"electronics", "tv"},
		body: `<p>LG OLED55C3, 55 inch, 4K. $1,299.99</p><p><a href="/demo/cart">Add to cart</a></p><div id="demo-offer"></div>`,
		sdes: `[{"type": "prodView", "currency": "USD", "products": [{"product": {"name": "LG OLED55C3", "category": "tv", "sku": "LG-OLED55C3", "price": 1299.99}}]}]`},
	"cart": {title: "Your cart", sections: []string{"cart"},
		body: `<p>1 × LG OLED55C3 — $1,299.99</p><p><a href="/demo/checkout">Buy</a></p>`,
		sdes: `[{"type": "cart", "total": 1299.99, "currency": "USD", "numItems": 1, "products": [{"product": {"name": "LG OLED55C3", "category": "tv", "sku": "LG-OLED55C3", "price": 1299.99}, "quantity": 1}]}]`},
	"checkout": {title: "Thank you", sections: []string{"checkout"},
		body: `<p>Order DEMO-1 is placed. <a href="/demo/">Back to the shop</a></p>`,
		sdes: `[{"type": "purchase", "total": 1299.99, "currency": "USD", "orderId": "DEMO-1", "cart": {"products": [{"product": {"name": "LG OLED55C3", "category": "tv", "sku": "LG-OLED55C3", "price": 1299.99}, "quantity": 1}], "numItems": 1}}]`},
}

// Definitions are the demo account's campaigns: a cart-abandonment
// slide-out chat button (visitors with a cart who browse on without buying,
// goal: a purchase), under a site control group of 10% that sees nothing,
// and an offer embedded in the TV pages (goal: reaching the cart).
func Definitions() *campaign.Definitions {
	one := 1.0
	return &campaign.Definitions{
		Settings:     campaign.Settings{SiteControlGroup: 10},
		Availability: campaign.Availability{"tv-experts": "online"},
		Profiles: []campaign.Profile{
			{ID: 101, Name: "Cart holders", Rules: []campaign.Rule{{Kind: "cartItems", Min: &one}}},
		},
		Behaviors: []campaign.Behavior{
			{ID: 201, Name: "Abandoning the cart", Rules: []campaign.Rule{{Kind: "abandoningCart", Pages: 1}}},
			{ID: 202, Name: "Browsing TVs", Rules: []campaign.Rule{{Kind: "section", Values: []string{"tv"}}}},
		},
		Goals: []campaign.Goal{
			{ID: 301, Name: "Purchase", Type: "purchase"},
			{ID: 302, Name: "Reach the cart", Type: "url", URL: &campaign.Rule{Match: "contains", Values: []string{"/demo/cart"}}},
		},
		Campaigns: []campaign.Campaign{
			{ID: 1001, Name: "Cart abandonment", Status: "active", Priority: 10, GoalID: 301, ProfileIDs: []int64{101},
				Engagements: []campaign.Engagement{{ID: 2001, Name: "Slide-out chat button", Type: 3, Zone: 1,
					Interaction: "chat", SkillID: 11, SkillName: "tv-experts", Availability: "always", BehaviorIDs: []int64{201}, FrequencyCap: 3,
					Content: campaign.Content{Title: "Still thinking it over?", Text: "Our TV experts answer in a minute.", Button: "Chat now",
						Background: "#fffbe6", ButtonColor: "#ffd24d"}}}},
			{ID: 1002, Name: "OLED week", Status: "active", Priority: 5, GoalID: 302,
				Engagements: []campaign.Engagement{{ID: 2002, Name: "OLED offer", Type: 5, Zone: 2,
					Interaction: "content", Availability: "always", BehaviorIDs: []int64{202},
					Content: campaign.Content{Title: "10% off OLED TVs this week", Text: "The discount shows in your cart.", Button: "Get the offer",
						ElementID: "demo-offer"}}}},
		},
	}
}

// Register adds GET /demo/ and its pages to mux.
func Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /demo/{path...}", serve)
}

func serve(w http.ResponseWriter, r *http.Request) {
	p, ok := pages[strings.TrimSuffix(r.PathValue("path"), "/")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, render(p))
}

// render writes the HTML of p.
func render(p page) string {
	var b strings.Builder
	b.WriteString("<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport content=\"width=device-width\">")
	sections, _ := json.Marshal(p.sections) // escapes <, > and &: safe in a <script>
	fmt.Fprintf(&b, "<title>%s</title><script>window.lpTag=window.lpTag||{};lpTag.section=%s;</script>", html.EscapeString(p.title), sections)
	b.WriteString(tag.Snippet(Account, "/tag/"+Account+".js"))
	if p.sdes != "" {
		fmt.Fprintf(&b, "<script>lpTag.sdes.push(%s);</script>", p.sdes)
	}
	b.WriteString(`<style>body{font:16px/1.5 system-ui,sans-serif;max-width:720px;margin:2em auto;padding:0 1em}nav a{margin-right:1em}</style></head><body>`)
	b.WriteString(`<nav><a href="/demo/">Home</a><a href="/demo/tv">TVs</a><a href="/demo/cart">Cart</a></nav>`)
	fmt.Fprintf(&b, "<h1>%s</h1>%s</body></html>", html.EscapeString(p.title), p.body)
	return b.String()
}

package demo

import (
	"fmt"
	"strings"
)

// Currency is the currency of the shop's prices and attributes.
const Currency = "USD"

// category is a department of the shop: its page is /demo/{slug}, its
// products' /demo/{slug}/{product slug}.
type category struct {
	Slug     string   // "tv"
	Name     string   // "TVs"
	Intro    string   // a line under the heading
	Sections []string // lpTag.section of its pages
	Keywords []string // the searchInfo its page pushes
}

// product is an item of the catalog.
type product struct {
	Slug     string
	Category string // a category's Slug
	Name     string
	SKU      string
	Cents    int64  // the price
	OLED     bool   // the OLED week offer applies
	Image    string // an asset's name
	Alt      string // the image's text alternative
	Summary  string
	Features []string
}

// URL is the product's page.
func (p product) URL() string { return "/demo/" + p.Category + "/" + p.Slug }

// Price is the price in the currency's units, as attributes carry it.
func (p product) Price() float64 { return float64(p.Cents) / 100 }

var categories = []category{
	{Slug: "tv", Name: "TVs", Intro: "4K TVs from 43 to 65 inches, delivered free and set up on the wall if you like.",
		Sections: []string{"electronics", "tv"}, Keywords: []string{"tv"}},
	{Slug: "audio", Name: "Sound", Intro: "Give the picture the sound it deserves.",
		Sections: []string{"electronics", "audio"}, Keywords: []string{"soundbar"}},
}

// products are the catalog, in the order pages list them. The OLED TV's
// page is /demo/tv/oled, which tests and the README name.
var products = []product{
	{Slug: "oled", Category: "tv", Name: "Aurora 55-inch 4K OLED TV", SKU: "AUR-OLED55", Cents: 129999, OLED: true,
		Image: "tv-oled55.svg", Alt: "A slim 55-inch TV on a pedestal stand, showing northern lights over mountains",
		Summary:  "Perfect blacks and vivid colour in a panel thinner than a pencil.",
		Features: []string{"Self-lit OLED pixels", "4K at 120 Hz with Dolby Vision", "Four HDMI 2.1 inputs", "Pedestal stand, wall mount ready"}},
	{Slug: "oled-65", Category: "tv", Name: "Aurora 65-inch 4K OLED TV", SKU: "AUR-OLED65", Cents: 189999, OLED: true,
		Image: "tv-oled65.svg", Alt: "A wide 65-inch TV on two slim feet, showing a sunset over the sea",
		Summary:  "The big screen for movie nights, with the same perfect blacks.",
		Features: []string{"Self-lit OLED pixels", "4K at 120 Hz with Dolby Vision", "Dolby Atmos sound", "Slim feet, wall mount ready"}},
	{Slug: "qled-55", Category: "tv", Name: "Nova 55-inch 4K QLED TV", SKU: "NOV-Q55", Cents: 74999,
		Image: "tv-qled55.svg", Alt: "A 55-inch TV on a centre stand, showing a city skyline at night",
		Summary:  "Bright quantum-dot colour for sunny living rooms.",
		Features: []string{"Quantum-dot colour", "4K HDR10+", "Three HDMI inputs", "Centre stand"}},
	{Slug: "led-43", Category: "tv", Name: "Nova 43-inch 4K LED TV", SKU: "NOV-L43", Cents: 32999,
		Image: "tv-led43.svg", Alt: "A compact 43-inch TV on two feet, showing green hills under a blue sky",
		Summary:  "A sharp 4K picture for the bedroom or the kitchen.",
		Features: []string{"4K HDR", "Built-in streaming apps", "Two HDMI inputs", "Light enough to carry"}},
	{Slug: "soundbar", Category: "audio", Name: "Aurora Bar 3.1 soundbar", SKU: "AUR-BAR31", Cents: 34999,
		Image: "soundbar.svg", Alt: "A long black soundbar with a wireless subwoofer beside it",
		Summary:  "Clear dialogue and deep bass from one bar and a wireless subwoofer.",
		Features: []string{"3.1 channels, 400 W", "Wireless subwoofer", "HDMI eARC and Bluetooth", "Night mode"}},
}

// offer is what the OLED week campaign's engagement gives the visitor who
// clicks its button: the page keeps the coupon, and the cart takes Percent
// off its OLED products.
type offer struct {
	CampaignID   int64  `json:"campaignId"`
	EngagementID int64  `json:"engagementId"`
	Code         string `json:"code"`
	Percent      int    `json:"percent"`
	Label        string `json:"label"`
}

var oledWeek = offer{CampaignID: oledCampaignID, EngagementID: oledEngagementID, Code: "OLEDWEEK", Percent: 10,
	Label: "OLED week −10%"}

func findCategory(slug string) (category, bool) {
	for _, c := range categories {
		if c.Slug == slug {
			return c, true
		}
	}
	return category{}, false
}

func findProduct(categorySlug, slug string) (product, bool) {
	for _, p := range products {
		if p.Category == categorySlug && p.Slug == slug {
			return p, true
		}
	}
	return product{}, false
}

// inCategory returns the products of the category slug.
func inCategory(slug string) []product {
	var out []product
	for _, p := range products {
		if p.Category == slug {
			out = append(out, p)
		}
	}
	return out
}

// formatPrice writes cents as the shop shows a price: $1,299.99.
func formatPrice(cents int64) string {
	units := fmt.Sprint(cents / 100)
	var b strings.Builder
	for i, r := range units {
		if i > 0 && (len(units)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return fmt.Sprintf("$%s.%02d", b.String(), cents%100)
}

// Package demo serves the demo shop at /demo/: Lumen, a small shop of TVs
// and a soundbar for the demo account, so that a newcomer who runs
// `make run` sees page views, attributes and engagements flow within a
// minute.
//
// The pages (a home page, a page per category, a page per product, the
// cart and the checkout) are html/template pages with one stylesheet, one
// script and SVG pictures, all embedded in the binary (assets/). Each page
// carries the tag's snippet for the demo account and its sections, and
// reaches Sightline only through the tag: a product page pushes prodView,
// a category page searchInfo. The cart lives in the browser (localStorage,
// shop.js): each change of it pushes the cart attribute, and placing the
// order pushes purchase and empties it. The OLED week campaign embeds an
// offer in the TV pages; shop.js hears its button's click on lpTag.events
// (LP_OFFERS OFFER_CLICK), keeps the coupon, and the cart takes 10% off
// its OLED TVs from then on, in what it shows and in the totals it pushes.
package demo

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/sightline/sightline/web/tag"
)

// Account is the account the demo pages send to.
const Account = "demo"

//go:embed pages.html
var pagesHTML string

var pageTemplates = template.Must(template.New("pages").Funcs(template.FuncMap{
	"asset":        assetURL,
	"price":        formatPrice,
	"offerElement": func() string { return offerElementID },
}).Parse(pagesHTML))

// view is what a page shows.
type view struct {
	Title    string
	Sections []string // lpTag.section
	SDEs     []any    // the attributes the page pushes as it loads
	Current  string   // the category (or "cart") the header marks as where the page is
	Category category
	Product  product
	Products []product
	body     string // the template of the page's body
}

// layout is what the template "layout" writes: the page's view, its body
// and what every page carries.
type layout struct {
	view
	Body       template.HTML
	Snippet    template.HTML
	Categories []category
	Data       shopData
}

// shopData is what shop.js knows of the shop, in the page as JSON.
type shopData struct {
	Currency string        `json:"currency"`
	Offer    offer         `json:"offer"`
	Products []productData `json:"products"`
}

type productData struct {
	SKU      string `json:"sku"`
	Name     string `json:"name"`
	Category string `json:"category"`
	Cents    int64  `json:"cents"`
	OLED     bool   `json:"oled"`
	URL      string `json:"url"`
	Image    string `json:"image"`
}

var data = func() shopData {
	d := shopData{Currency: Currency, Offer: oledWeek}
	for _, p := range products {
		img, err := assetURL(p.Image)
		if err != nil {
			panic("web/demo: product " + p.Slug + ": " + err.Error())
		}
		d.Products = append(d.Products, productData{SKU: p.SKU, Name: p.Name, Category: p.Category, Cents: p.Cents,
			OLED: p.OLED, URL: p.URL(), Image: img})
	}
	return d
}()

// Register adds GET /demo/, its pages and their assets to mux.
func Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /demo/{path...}", serve)
}

func serve(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(r.PathValue("path"), "/")
	if name, ok := strings.CutPrefix(path, "assets/"); ok {
		serveAsset(w, r, name)
		return
	}
	v, ok := route(path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	page, err := render(v)
	if err != nil {
		http.Error(w, "cannot render the page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(page)
}

// route finds the page at path, under /demo/.
func route(path string) (view, bool) {
	switch path {
	case "":
		return view{Title: "TVs and sound", Sections: []string{"home"}, Products: products, body: "home"}, true
	case "cart":
		return view{Title: "Your cart", Sections: []string{"cart"}, Current: "cart", body: "cart"}, true
	case "checkout":
		return view{Title: "Checkout", Sections: []string{"checkout"}, body: "checkout"}, true
	}
	catSlug, slug, _ := strings.Cut(path, "/")
	c, ok := findCategory(catSlug)
	if !ok {
		return view{}, false
	}
	if slug == "" {
		return view{Title: c.Name, Sections: c.Sections, Current: c.Slug, Category: c, Products: inCategory(c.Slug), body: "category",
			SDEs: []any{map[string]any{"type": "searchInfo", "keywords": c.Keywords}}}, true
	}
	p, ok := findProduct(c.Slug, slug)
	if !ok {
		return view{}, false
	}
	viewed := map[string]any{"product": map[string]any{"name": p.Name, "category": p.Category, "sku": p.SKU, "price": p.Price()}}
	return view{Title: p.Name, Sections: c.Sections, Current: c.Slug, Category: c, Product: p, body: "product",
		SDEs: []any{map[string]any{"type": "prodView", "currency": Currency, "products": []any{viewed}}}}, true
}

// render writes the HTML of v.
func render(v view) ([]byte, error) {
	var body, page bytes.Buffer
	if err := pageTemplates.ExecuteTemplate(&body, v.body, v); err != nil {
		return nil, fmt.Errorf("page %s: %w", v.body, err)
	}
	l := layout{view: v, Body: template.HTML(body.String()), Snippet: template.HTML(tag.Snippet(Account, "/tag/"+Account+".js")),
		Categories: categories, Data: data}
	if err := pageTemplates.ExecuteTemplate(&page, "layout", l); err != nil {
		return nil, fmt.Errorf("layout of %s: %w", v.body, err)
	}
	return page.Bytes(), nil
}

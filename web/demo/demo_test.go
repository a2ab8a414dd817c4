package demo

import (
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/campaign"
)

// get serves a GET of target (with headers, "Name: value") from the shop.
func get(t *testing.T, target string, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	mux := http.NewServeMux()
	Register(mux)
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ": ")
		req.Header.Set(name, value)
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	return rec
}

// pagePaths are the shop's pages.
var pagePaths = []string{"/demo/", "/demo/tv", "/demo/audio", "/demo/tv/oled", "/demo/tv/oled-65", "/demo/tv/qled-55",
	"/demo/tv/led-43", "/demo/audio/soundbar", "/demo/cart", "/demo/checkout"}

func TestServe(t *testing.T) {
	const html = "text/html; charset=utf-8"
	for _, tc := range []struct {
		path        string
		wantCode    int
		contentType string
		want        []string
	}{
		{"/demo/", 200, html, []string{`lpTag.site="demo"`, `src="/tag/demo.js"`, `lpTag.section=["home"]`, `<meta name="viewport"`,
			`data-add="AUR-OLED55"`, `data-add="AUR-BAR31"`, `data-cart-count`}},
		{"/demo/tv", 200, html, []string{`lpTag.section=["electronics","tv"]`, `"type":"searchInfo"`, `id="demo-offer"`,
			`href="/demo/tv/oled"`, `href="/demo/tv/led-43"`}},
		{"/demo/tv/oled", 200, html, []string{`lpTag.section=["electronics","tv"]`, `"type":"prodView"`, `"sku":"AUR-OLED55"`, `"price":1299.99`,
			`id="demo-offer"`, `<button type="button" class="btn btn-primary" data-add="AUR-OLED55" data-qty="qty">Add to cart</button>`,
			`<label for="qty">Quantity</label>`, `data-offer-price="AUR-OLED55"`}},
		{"/demo/tv/oled/", 200, html, []string{`"sku":"AUR-OLED55"`}},
		{"/demo/tv/qled-55", 200, html, []string{`"sku":"NOV-Q55"`, `$749.99`}},
		{"/demo/audio/soundbar", 200, html, []string{`lpTag.section=["electronics","audio"]`, `"type":"prodView"`, `"sku":"AUR-BAR31"`}},
		{"/demo/cart", 200, html, []string{`lpTag.section=["cart"]`, `data-cart`, `id="shop-data"`, `"campaignId":1002`}},
		{"/demo/checkout/", 200, html, []string{`lpTag.section=["checkout"]`, `data-checkout`}},
		{"/demo/assets/shop.css", 200, "text/css; charset=utf-8", []string{":focus-visible"}},
		{"/demo/assets/shop.js", 200, "text/javascript; charset=utf-8", []string{`lpTag.sdes.push`, `"OFFER_CLICK"`}},
		{"/demo/assets/tv-oled55.svg", 200, "image/svg+xml", []string{"<svg"}},
		{"/demo/nothing", 404, "", nil},
		{"/demo/tv/nothing", 404, "", nil},
		{"/demo/audio/oled", 404, "", nil}, // a product under another category
		{"/demo/tv/oled/more", 404, "", nil},
		{"/demo/cart/more", 404, "", nil},
		{"/demo/assets/", 404, "", nil},
		{"/demo/assets/nothing.svg", 404, "", nil},
	} {
		t.Run(tc.path, func(t *testing.T) {
			rec := get(t, tc.path)
			if rec.Code != tc.wantCode {
				t.Fatalf("status %d, want %d", rec.Code, tc.wantCode)
			}
			if ct := rec.Header().Get("Content-Type"); tc.contentType != "" && ct != tc.contentType {
				t.Errorf("Content-Type %q, want %q", ct, tc.contentType)
			}
			for _, w := range tc.want {
				if !strings.Contains(rec.Body.String(), w) {
					t.Errorf("lacks %s", w)
				}
			}
		})
	}
}

var (
	assetRef = regexp.MustCompile(`/demo/assets/[^"?]+\?v=[0-9a-f]+`)
	imgTag   = regexp.MustCompile(`<img [^>]*>`)
)

// TestAssetsServed checks that every asset a page links to (pictures,
// stylesheet, script, and the pictures shop.js shows from the page's data)
// is served, with its type and for good, that every product's picture is
// among them, and that every picture in a page has a text alternative.
func TestAssetsServed(t *testing.T) {
	linked := map[string]bool{}
	for _, p := range pagePaths {
		body := get(t, p).Body.String()
		for _, ref := range assetRef.FindAllString(body, -1) {
			linked[ref] = true
		}
		for _, img := range imgTag.FindAllString(body, -1) {
			if !strings.Contains(img, ` alt="`) {
				t.Errorf("%s: %s has no alt", p, img)
			}
		}
	}
	served := map[string]bool{}
	for ref := range linked {
		rec := get(t, ref)
		name := path.Base(strings.SplitN(ref, "?", 2)[0])
		served[name] = true
		if rec.Code != 200 || rec.Body.Len() == 0 {
			t.Errorf("%s: status %d, %d bytes", ref, rec.Code, rec.Body.Len())
		}
		if ct, want := rec.Header().Get("Content-Type"), contentTypes[path.Ext(name)]; ct != want {
			t.Errorf("%s: Content-Type %q, want %q", ref, ct, want)
		}
		if cc := rec.Header().Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
			t.Errorf("%s: Cache-Control %q", ref, cc)
		}
	}
	for _, name := range []string{"shop.css", "shop.js", "logo.svg"} {
		if !served[name] {
			t.Errorf("no page links %s", name)
		}
	}
	for _, p := range products {
		if !served[p.Image] {
			t.Errorf("the picture of %s, %s, is not linked", p.Slug, p.Image)
		}
	}
}

// TestAssetCaching checks that an asset asked for without its current
// version is revalidated, and answered 304 while it is unchanged.
func TestAssetCaching(t *testing.T) {
	rec := get(t, "/demo/assets/shop.css?v=old")
	etag := rec.Header().Get("ETag")
	if rec.Code != 200 || etag == "" || rec.Header().Get("Cache-Control") != "public, no-cache" {
		t.Fatalf("an old version: status %d, ETag %q, Cache-Control %q", rec.Code, etag, rec.Header().Get("Cache-Control"))
	}
	if rec := get(t, "/demo/assets/shop.css", "If-None-Match: "+etag); rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
		t.Errorf("revalidated: status %d, %d bytes; want 304", rec.Code, rec.Body.Len())
	}
}

func TestDefinitionsValid(t *testing.T) {
	d := Definitions()
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := campaign.Compile(d); err != nil {
		t.Fatal(err)
	}
}

// TestOfferInDefinitions checks that the offer the pages apply on a click
// is the OLED week engagement of Definitions, embedded in an element the
// TV pages have.
func TestOfferInDefinitions(t *testing.T) {
	var found *campaign.Engagement
	for _, c := range Definitions().Campaigns {
		for i, e := range c.Engagements {
			if c.ID == oledWeek.CampaignID && e.ID == oledWeek.EngagementID {
				found = &c.Engagements[i]
			}
		}
	}
	if found == nil || found.Type != 5 || found.Content.ElementID != offerElementID {
		t.Fatalf("engagement %d of campaign %d: %+v; want an embedded one in #%s", oledWeek.EngagementID, oledWeek.CampaignID, found, offerElementID)
	}
	for _, p := range []string{"/demo/tv", "/demo/tv/oled"} {
		if !strings.Contains(get(t, p).Body.String(), `id="`+offerElementID+`"`) {
			t.Errorf("%s has no #%s", p, offerElementID)
		}
	}
}

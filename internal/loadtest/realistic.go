package loadtest

import (
	"encoding/base64"
	"encoding/binary"
	"math/rand/v2"
	"strconv"
	"time"
)

// siteVisitors is how many distinct visitors a realistic load spreads its
// batches over.
const siteVisitors = 100_000

// A site is the world a realistic load's visitors browse: their ids and a
// catalog of pages, products and campaigns. It is built once, from a fixed
// seed, and shared read-only by every client of a run.
type site struct {
	visitors []visitor
	products []product
	// campaigns are the engagements a page may show.
	campaigns []engagement
}

// visitor is one visitor of a site and its visit: ids as the tag writes
// them, 16 random bytes in base64url.
type visitor struct {
	id, visit string
	customer  string // customer id once signed in
}

type product struct {
	name, sku, slug, category string
	cents                     int
}

// appendJSON appends the product as the attributes' product object.
func (p *product) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"name":"`...)
	dst = append(dst, p.name...)
	dst = append(dst, `","category":"`...)
	dst = append(dst, p.category...)
	dst = append(dst, `","sku":"`...)
	dst = append(dst, p.sku...)
	dst = append(dst, `","price":`...)
	dst = appendCents(dst, p.cents)
	return append(dst, '}')
}

// appendCents appends cents as a JSON number of the currency's units,
// with two decimals.
func appendCents(dst []byte, cents int) []byte {
	dst = strconv.AppendInt(dst, int64(cents/100), 10)
	return append(dst, '.', byte('0'+cents/10%10), byte('0'+cents%10))
}

type engagement struct {
	campaign, engagement, zone, revision int
	typ                                  int
	name                                 string
}

var (
	siteCategories = []string{"tv", "audio", "laptops", "phones", "cameras", "gaming", "kitchen", "garden", "toys", "books", "fashion", "sports"}
	siteAdjectives = []string{"Smart", "Ultra", "Compact", "Pro", "Classic", "Wireless", "Portable", "Premium", "Eco", "Max", "Mini", "Family"}
	siteNouns      = []string{"Television", "Soundbar", "Notebook", "Phone", "Camera", "Console", "Blender", "Mower", "Robot", "Novel", "Jacket", "Bike"}
	siteReferrers  = []string{"https://www.google.com/search?q=", "https://www.bing.com/search?q=", "https://duckduckgo.com/?q=", "https://www.facebook.com/", "https://t.co/"}
	siteSources    = []string{"newsletter", "google", "facebook", "affiliate", "display", "direct"}
	siteEngNames   = []string{"Slide-out chat button", "Sticky offer: free delivery", "Exit offer 10%", "Embedded help banner", "Overlay: newsletter", "Toaster: price match"}
	siteStatuses   = []string{"gold", "silver", "bronze", "new"}
	siteTypes      = []string{"vip", "regular", "business"}
	// engagementTypes are the engagement types of the events spec.
	engagementTypes = []int{0, 1, 2, 3, 5, 6}
	tglNames        = [...]string{0: "overlay", 1: "slider", 2: "toaster", 3: "slider", 5: "embedded", 6: "overlay"}
)

// newSite builds the site of a realistic load: siteVisitors visitors, 2,000
// products in 12 categories, 60 engagements of 20 campaigns.
func newSite() *site {
	rng := rand.New(rand.NewPCG(1, 2))
	s := &site{visitors: make([]visitor, siteVisitors)}
	for i := range s.visitors {
		v := &s.visitors[i]
		v.id, v.visit = randomID(rng), randomID(rng)
		if i%4 == 0 {
			v.customer = "cust-" + strconv.Itoa(1_000_000+rng.IntN(9_000_000))
		}
	}
	for i := 0; i < 2000; i++ {
		cat := siteCategories[rng.IntN(len(siteCategories))]
		name := siteAdjectives[rng.IntN(len(siteAdjectives))] + " " + siteNouns[rng.IntN(len(siteNouns))] + " " + strconv.Itoa(100+rng.IntN(900))
		cents := 499 + rng.IntN(250_000)
		s.products = append(s.products, product{
			name: name, category: cat,
			sku:   cat[:2] + "-" + strconv.Itoa(10_000+i),
			slug:  slug(name),
			cents: cents,
		})
	}
	for c := 0; c < 20; c++ {
		campaign := 200_000_000 + rng.IntN(100_000_000)
		for e := 0; e < 3; e++ {
			s.campaigns = append(s.campaigns, engagement{
				campaign: campaign, engagement: campaign + 1000 + e*100, zone: 471_000_000 + rng.IntN(1_000_000),
				revision: 1 + rng.IntN(30), typ: engagementTypes[rng.IntN(len(engagementTypes))], name: siteEngNames[rng.IntN(len(siteEngNames))],
			})
		}
	}
	return s
}

func randomID(rng *rand.Rand) string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rng.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rng.Uint64())
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func slug(name string) string {
	b := []byte(name)
	for i, c := range b {
		switch {
		case c == ' ':
			b[i] = '-'
		case 'A' <= c && c <= 'Z':
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// realisticWriter writes the batches of one client of a realistic load:
// each batch one of the site's visitors picked at random, its events with
// UUID version 4 ids, their content drawn from the site's catalog. Events
// average about 400 bytes.
type realisticWriter struct {
	site *site
	rng  *rand.Rand
}

func newRealisticWriter(s *site, seed uint64) *realisticWriter {
	return &realisticWriter{site: s, rng: rand.New(rand.NewPCG(seed, uint64(time.Now().UnixNano())))}
}

// Append appends one batch body of n events of a random visitor to dst.
func (w *realisticWriter) Append(dst []byte, n int, now time.Time) []byte {
	v := &w.site.visitors[w.rng.IntN(len(w.site.visitors))]
	dst = append(dst, `{"visitorId":"`...)
	dst = append(dst, v.id...)
	dst = append(dst, `","visitId":"`...)
	dst = append(dst, v.visit...)
	dst = append(dst, `","events":[`...)
	ms := now.UnixMilli() - int64(n)*500
	for i := 0; i < n; i++ {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"id":"`...)
		dst = w.appendUUID(dst)
		dst = append(dst, `","time":`...)
		dst = strconv.AppendInt(dst, ms+int64(i)*500+int64(w.rng.IntN(400)), 10)
		dst = append(dst, ',')
		dst = w.appendEvent(dst, v)
		dst = append(dst, '}')
	}
	return append(dst, "]}"...)
}

// appendUUID appends a random version 4 UUID, as the tag writes event ids.
func (w *realisticWriter) appendUUID(dst []byte) []byte {
	const hex = "0123456789abcdef"
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], w.rng.Uint64())
	binary.LittleEndian.PutUint64(b[8:], w.rng.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hex[c>>4], hex[c&15])
	}
	return dst
}

// appendEvent appends the app, name and data of one event: a third page
// views, a third engagement events, a third engagement attributes.
func (w *realisticWriter) appendEvent(dst []byte, v *visitor) []byte {
	s, rng := w.site, w.rng
	p := &s.products[rng.IntN(len(s.products))]
	switch k := rng.IntN(12); {
	case k < 4:
		dst = append(dst, `"appName":"LP_MONITORING","eventName":"PAGE_VIEW","data":{"url":"https://www.shop.example/`...)
		dst = append(dst, p.category...)
		dst = append(dst, '/')
		dst = append(dst, p.slug...)
		dst = append(dst, `?utm_source=`...)
		dst = append(dst, siteSources[rng.IntN(len(siteSources))]...)
		dst = append(dst, `&utm_campaign=`...)
		dst = strconv.AppendInt(dst, int64(rng.IntN(500)), 10)
		dst = append(dst, `","referrer":"`...)
		// A referrer of another site, or none (a direct visit).
		if r := rng.IntN(len(siteReferrers) + 1); r < len(siteReferrers) {
			dst = append(dst, siteReferrers[r]...)
			dst = append(dst, p.slug...)
		}
		dst = append(dst, `","title":"`...)
		dst = append(dst, p.name...)
		dst = append(dst, ` - Shop Example","sections":["`...)
		dst = append(dst, p.category...)
		dst = append(dst, `","products"]}`...)
	case k < 8:
		e := &s.campaigns[rng.IntN(len(s.campaigns))]
		names := [...]string{"OFFER_DISPLAY", "OFFER_IMPRESSION", "OFFER_IMPRESSION", "OFFER_CLICK"}
		dst = append(dst, `"appName":"LP_OFFERS","eventName":"`...)
		dst = append(dst, names[k-4]...)
		dst = append(dst, `","data":{"contexts":[{"EngagementContext":{"id":"`...)
		ctx := strconv.Itoa(1 + rng.IntN(9))
		dst = append(dst, ctx...)
		dst = append(dst, `"}},{"pageContext":{"id":"`...)
		dst = strconv.AppendInt(dst, int64(1_000_000_000+rng.IntN(1_000_000_000)), 10)
		dst = append(dst, `"}}],"campaignId":`...)
		dst = strconv.AppendInt(dst, int64(e.campaign), 10)
		dst = append(dst, `,"engagementId":`...)
		dst = strconv.AppendInt(dst, int64(e.engagement), 10)
		dst = append(dst, `,"engagementRevision":`...)
		dst = strconv.AppendInt(dst, int64(e.revision), 10)
		dst = append(dst, `,"engagementType":`...)
		dst = strconv.AppendInt(dst, int64(e.typ), 10)
		dst = append(dst, `,"contextId":"`...)
		dst = append(dst, ctx...)
		dst = append(dst, `","zoneId":`...)
		dst = strconv.AppendInt(dst, int64(e.zone), 10)
		dst = append(dst, `,"state":`...)
		dst = strconv.AppendInt(dst, int64(1+rng.IntN(2)), 10)
		dst = append(dst, `,"confKey":"`...)
		dst = strconv.AppendInt(dst, int64(e.campaign), 10)
		dst = append(dst, '_')
		dst = strconv.AppendInt(dst, int64(e.engagement), 10)
		dst = append(dst, '_')
		dst = strconv.AppendInt(dst, int64(e.revision), 10)
		dst = append(dst, `","tglName":"`...)
		dst = append(dst, tglNames[e.typ]...)
		dst = append(dst, `","done":true,"engagementName":"`...)
		dst = append(dst, e.name...)
		dst = append(dst, `"}`...)
	case k < 10:
		// One or two products.
		q, p2 := 1+rng.IntN(3), &s.products[rng.IntN(len(s.products))]
		items := []*product{p}
		if rng.IntN(2) == 0 {
			items = append(items, p2)
		}
		total := 0
		for _, p := range items {
			total += q * p.cents
		}
		dst = append(dst, `"appName":"lp_sdes","eventName":"VAR_ADDED","data":{"type":"cart","total":`...)
		dst = appendCents(dst, total)
		dst = append(dst, `,"currency":"USD","numItems":`...)
		dst = strconv.AppendInt(dst, int64(q*len(items)), 10)
		dst = append(dst, `,"products":[`...)
		for i, p := range items {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"product":`...)
			dst = p.appendJSON(dst)
			dst = append(dst, `,"quantity":`...)
			dst = strconv.AppendInt(dst, int64(q), 10)
			dst = append(dst, '}')
		}
		dst = append(dst, `]}`...)
	case k == 10:
		dst = append(dst, `"appName":"lp_sdes","eventName":"VAR_ADDED","data":{"type":"prodView","currency":"USD","products":[{"product":`...)
		dst = p.appendJSON(dst)
		dst = append(dst, `}]}`...)
	default:
		customer := v.customer
		if customer == "" {
			customer = "guest-" + v.id[:8]
		}
		dst = append(dst, `"appName":"lp_sdes","eventName":"VAR_ADDED","data":{"type":"ctmrinfo","info":{"cstatus":"`...)
		dst = append(dst, siteStatuses[rng.IntN(len(siteStatuses))]...)
		dst = append(dst, `","ctype":"`...)
		dst = append(dst, siteTypes[rng.IntN(len(siteTypes))]...)
		dst = append(dst, `","customerId":"`...)
		dst = append(dst, customer...)
		dst = append(dst, `","balance":`...)
		dst = strconv.AppendInt(dst, int64(rng.IntN(5000)-2500), 10)
		dst = append(dst, `.50,"currency":"USD","userName":"user`...)
		dst = strconv.AppendInt(dst, int64(rng.IntN(100_000)), 10)
		dst = append(dst, `","companySize":`...)
		dst = strconv.AppendInt(dst, int64(1+rng.IntN(5000)), 10)
		dst = append(dst, `,"accountName":"Example Corp","role":"buyer","lastPaymentDate":{"day":`...)
		dst = strconv.AppendInt(dst, int64(1+rng.IntN(28)), 10)
		dst = append(dst, `,"month":`...)
		dst = strconv.AppendInt(dst, int64(1+rng.IntN(12)), 10)
		dst = append(dst, `,"year":2026}}}`...)
	}
	return dst
}

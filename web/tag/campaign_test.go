package tag_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/campaign"
	"github.com/sightline/sightline/internal/server"
	"github.com/sightline/sightline/internal/websession"
	"github.com/sightline/sightline/web/tag"
)

// TestCampaignEndToEnd runs a campaign that targets cart abandoners on
// the TV section in a real browser: the tag shows its slide-out on the
// third page (a TV page, one page after the cart), not before; the
// visitor accepts it and buys; and the hour's web-session file holds the
// eligibility assessment, the Show and Accept impressions and the purchase
// goal with its metadata.
func TestCampaignEndToEnd(t *testing.T) {
	var offset atomic.Int64 // how far the server's clock is ahead
	cfg := server.DefaultConfig()
	cfg.Addr, cfg.DataDir, cfg.DemoAccount = "127.0.0.1:0", t.TempDir(), false
	cfg.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	cfg.Sessionizer.CheckpointInterval = 50 * time.Millisecond
	cfg.Sessionizer.Poll = 20 * time.Millisecond
	srv, err := server.Start(context.Background(), nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown() })
	if err := srv.Accounts().Add(account.Account{ID: "shop", Origins: []string{account.AnyOrigin}}); err != nil {
		t.Fatal(err)
	}
	one := 1.0
	if _, err := srv.Campaigns().Update(context.Background(), "shop", func(d *campaign.Definitions) error {
		d.Availability = campaign.Availability{"tv-sales": "online"}
		d.Profiles = []campaign.Profile{{ID: 40, Name: "Cart holders", Rules: []campaign.Rule{{Kind: "cartItems", Min: &one}}}}
		d.Behaviors = []campaign.Behavior{
			{ID: 50, Name: "Abandoning", Rules: []campaign.Rule{{Kind: "abandoningCart", Pages: 1}}},
			{ID: 51, Name: "On TVs", Rules: []campaign.Rule{{Kind: "section", Values: []string{"tv"}}}},
		}
		d.Goals = []campaign.Goal{{ID: 60, Name: "Purchase", Type: "purchase"}}
		d.Campaigns = []campaign.Campaign{{ID: 70, Name: "Cart rescue", Status: "active", GoalID: 60, ProfileIDs: []int64{40},
			Engagements: []campaign.Engagement{{ID: 80, Name: "Slide-out", Type: 3, Zone: 1, Interaction: "chat",
				SkillID: 11, SkillName: "tv-sales", Availability: "online", BehaviorIDs: []int64{50, 51},
				Content: campaign.Content{Title: "Still deciding?", Button: "Chat now", ButtonColor: "#ffd24d"}}}}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	pages := map[string]struct{ section, sdes string }{
		"/tv":   {"tv", ""},
		"/cart": {"cart", `{"type":"cart","total":1299.99,"currency":"USD","numItems":1,"products":[{"product":{"name":"OLED","sku":"o55","price":1299.99},"quantity":1}]}`},
		"/checkout": {"checkout", `{"type":"purchase","total":1299.99,"currency":"USD","orderId":"ORD-7",` +
			`"cart":{"numItems":1,"products":[{"product":{"name":"OLED","sku":"o55","price":1299.99},"quantity":1}]}}`},
	}
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		html := `<!doctype html><html><head><script>window.lpTag={section:["` + p.section + `"]};</script>` +
			tag.Snippet("shop", "http://"+srv.Addr()+"/tag/shop.js")
		if p.sdes != "" {
			html += `<script>lpTag.sdes.push(` + p.sdes + `);</script>`
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(html + `</head><body><p>` + r.URL.Path + `</p></body></html>`))
	}))
	t.Cleanup(site.Close)

	ctx := newBrowser(t)
	shown := `document.querySelector('[data-lpsl-engagement="70_80_1"]')`
	visit := func(path string, settle string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(site.URL+path)); err != nil {
			t.Fatal(err)
		}
		// The page view's answer has come back when the state is saved.
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](settle, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	answered := func(pages int) string {
		return fmt.Sprintf(`(JSON.parse(localStorage.getItem("lpsl_state_shop") || "{}").p || 0) >= %d`, pages)
	}
	visit("/tv", answered(1))
	visit("/cart", answered(2)+` && (JSON.parse(localStorage.getItem("lpsl_state_shop")).ci || 0) === 1`)
	if present, err := chromedp.Run(ctx, chromedp.Evaluate[bool](shown+` !== null`)); err != nil || present {
		t.Fatalf("engagement shown before the visitor abandoned the cart (%v)", err)
	}
	visit("/tv", shown+` !== null && lpTag.events.hasFired("LP_OFFERS", "OFFER_IMPRESSION").length === 1`)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](shown+`.shadowRoot.querySelector(".accept").click(); true`)); err != nil {
		t.Fatal(err)
	}
	visit("/checkout", answered(4))

	// Every event is stored, with the assessments and the goal.
	var names []string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		names = names[:0]
		for _, s := range storedEvents(t, cfg.DataDir) {
			names = append(names, s.AppName+"/"+s.EventName)
		}
		if strings.Contains(strings.Join(names, " "), "sightline/GOAL_ACHIEVED") && strings.Contains(strings.Join(names, " "), "OFFER_CLICK") {
			break
		}
	}
	if !strings.Contains(strings.Join(names, " "), "sightline/GOAL_ACHIEVED") {
		t.Fatalf("no goal stored: %v", names)
	}

	// Two hours later the visit has closed and its hour is written.
	offset.Store(int64(2 * time.Hour))
	doc := waitForDocument(t, filepath.Join(server.WebSessionFilesDir(cfg.DataDir), "shop"))
	for _, want := range []string{
		`"com.liveperson.dataaccess.WebSessionEligibilityData"`,
		`"campaign":{"com.liveperson.dataaccess.Campaign":{"id":{"long":70},"visitorProfiles":{"array":[{"id":{"long":40},"revision":{"long":1}}]}}}`,
		`"visitorBehaviors":{"array":[{"id":{"long":50},"revision":{"long":1}},{"id":{"long":51},"revision":{"long":1}}]}`,
		`"impressionType":{"string":"Show"},"state":{"string":"1"}`,
		`"impressionType":{"string":"Accept"},"state":{"string":"1"}`,
		`"skillName":{"string":"tv-sales"}`,
		`"campaignGoalId":{"long":60},"campaignGoalType":{"int":0}`,
		`"com.liveperson.dataaccess.PurchaseMetadata":{"total":{"double":1299.99},"orderId":{"string":"ORD-7"}`,
		`"sku":{"string":"o55"}`,
		`"siteControlGroup":{"string":"NA"}`,
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("the hour's document lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("document: %s", doc)
	}
}

// waitForDocument waits until an hour file is in dir and returns its one
// document.
func waitForDocument(t *testing.T, dir string) string {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		files, _ := filepath.Glob(filepath.Join(dir, "WebSession.*.gz"))
		for _, name := range files {
			if _, err := websession.ParseFileName(filepath.Base(name)); err != nil {
				continue
			}
			f, err := os.Open(name)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var docs []string
			if err := websession.ForEachDocument(f, func(_ int, doc []byte) error {
				docs = append(docs, string(doc))
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if len(docs) != 1 {
				t.Fatalf("%s: %d documents, want 1", name, len(docs))
			}
			return docs[0]
		}
	}
	t.Fatal("no web-session file written")
	return ""
}

// TestTimeRule runs an engagement behind a time-on-page rule of 3 s: the
// answer to a page view carries the delay, and the tag shows the
// engagement only once it has passed, and only if the page is still the
// one it was decided for. The visitor leaves the first page (newPage) before
// its delay ends: that page's engagement never shows, the second page's
// does, 3 s after its page view.
func TestTimeRule(t *testing.T) {
	srv, dir := startServer(t)
	if err := srv.Accounts().Add(account.Account{ID: "shop", Origins: []string{account.AnyOrigin}}); err != nil {
		t.Fatal(err)
	}
	three := 3.0
	if _, err := srv.Campaigns().Update(context.Background(), "shop", func(d *campaign.Definitions) error {
		d.Behaviors = []campaign.Behavior{{ID: 50, Name: "Reading", Rules: []campaign.Rule{{Kind: "timeOnPage", Min: &three}}}}
		d.Goals = []campaign.Goal{{ID: 60, Name: "Chats", Type: "increaseInteraction"}}
		d.Campaigns = []campaign.Campaign{{ID: 70, Name: "Patient", Status: "active", GoalID: 60,
			Engagements: []campaign.Engagement{{ID: 80, Name: "Toaster", Type: 2, Zone: 1, Interaction: "content",
				Availability: "always", BehaviorIDs: []int64{50}, Content: campaign.Content{Title: "Still reading?", Button: "Yes"}}}}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	page := `<!doctype html><html><head>` + tag.Snippet("shop", "http://"+srv.Addr()+"/tag/shop.js") + `</head><body></body></html>`
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(serveSite(t, page))); err != nil {
		t.Fatal(err)
	}
	// The first page's answer (its page view stored, and its eligibility).
	if got := len(waitForEvents(t, dir, 2)); got != 2 {
		t.Fatalf("%d events stored, want the page view and its assessment", got)
	}
	second := `var first = lpTag.pageContextId; window.viewedAt = performance.now(); lpTag.newPage("/next"); first`
	first, err := chromedp.Run(ctx, chromedp.Evaluate[string](second))
	if err != nil {
		t.Fatal(err)
	}
	shown := `(function () { var d = lpTag.events.hasFired("LP_OFFERS", "OFFER_DISPLAY");
  return d.length ? JSON.stringify({n: d.length, page: d[0].data.contexts[1].pageContext.id, after: performance.now() - window.viewedAt}) : ""; })()`
	got, err := chromedp.Run(ctx, chromedp.Poll[string](shown, chromedp.WithPollingTimeout(15*time.Second)))
	if err != nil {
		t.Fatalf("no engagement shown on the second page: %v", err)
	}
	time.Sleep(500 * time.Millisecond) // the first page's delay would have ended by now too
	got, err = chromedp.Run(ctx, chromedp.Evaluate[string](shown))
	var d struct {
		N     int
		Page  string
		After float64
	}
	if err != nil || json.Unmarshal([]byte(got), &d) != nil {
		t.Fatalf("displays %q: %v", got, err)
	}
	if d.N != 1 || d.Page == first || d.After < 2900 {
		t.Errorf("displays: %d, the first on page %s (the first page was %s) %.0f ms after the second page view; want one, on the second page, after 3 s",
			d.N, d.Page, first, d.After)
	}
}

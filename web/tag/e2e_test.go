package tag_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/campaign"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/eventlog"
	"github.com/sightline/sightline/internal/eventlog/embedded"
	"github.com/sightline/sightline/internal/server"
	"github.com/sightline/sightline/web/tag"
)

// startServer starts Sightline on 127.0.0.1 with the account 75555851,
// which pages of any origin may send to.
func startServer(t testing.TB) (*server.Server, string) {
	t.Helper()
	dir := t.TempDir()
	srv := startServerAt(t, "127.0.0.1:0", dir)
	if err := srv.Accounts().Add(account.Account{ID: "75555851", Origins: []string{account.AnyOrigin}}); err != nil {
		t.Fatal(err)
	}
	return srv, dir
}

// startServerAt starts Sightline at addr on the data directory dir.
func startServerAt(t testing.TB, addr, dir string) *server.Server {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.Addr, cfg.DataDir, cfg.DemoAccount, cfg.NoWebSessions = addr, dir, false, true
	srv, err := server.Start(context.Background(), nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown() })
	return srv
}

// pageWithTag returns a page whose <head> has the snippet of account
// 75555851 loading the tag from the server at addr, then head.
func pageWithTag(addr, head string) string {
	return `<!doctype html><html><head>` + tag.Snippet("75555851", "http://"+addr+"/tag/75555851.js") + head + `</head><body></body></html>`
}

// serveSite serves html at every path of a new origin and returns its URL.
func serveSite(t testing.TB, html string) string {
	t.Helper()
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(html))
	}))
	t.Cleanup(site.Close)
	return site.URL
}

// waitForEvents polls the log in dir until it holds n events, or 60 s
// have passed, and returns them.
func waitForEvents(t testing.TB, dir string, n int) []event.Stored {
	t.Helper()
	return waitForStored(t, dir, func(got []event.Stored) bool { return len(got) >= n })
}

// waitForStored polls the log in dir until done says its events are all
// there, or 60 s have passed, and returns them.
func waitForStored(t testing.TB, dir string, done func([]event.Stored) bool) []event.Stored {
	t.Helper()
	var got []event.Stored
	for deadline := time.Now().Add(60 * time.Second); !done(got) && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		got = storedEvents(t, dir)
	}
	return got
}

// openEmptyPage opens, in a new browser, an empty page of another origin
// with the snippet of account 75555851 pointing at the server at addr,
// and waits until its page view is in the log in dir. It returns the tab
// and the page's URL.
func openEmptyPage(t testing.TB, addr, dir string) (context.Context, string) {
	t.Helper()
	site := serveSite(t, pageWithTag(addr, ""))
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(site)); err != nil {
		t.Fatal(err)
	}
	if got := len(waitForEvents(t, dir, 1)); got != 1 {
		t.Fatalf("%d events stored after the page loaded, want its page view", got)
	}
	return ctx, site
}

// TestTagRetriesWhileServerDown sends attributes while the server is down:
// the tag keeps them and retries with backoff, and once the server is back
// every event is stored exactly once.
func TestTagRetriesWhileServerDown(t *testing.T) {
	srv, dir := startServer(t)
	addr := srv.Addr()
	ctx, _ := openEmptyPage(t, addr, dir)
	if err := srv.Shutdown(); err != nil {
		t.Fatal(err)
	}
	push := `for (var i = 0; i < 30; i++) lpTag.sdes.push({type: "searchInfo", keywords: ["kw" + i]}); true`
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](push)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond) // a few failed attempts
	startServerAt(t, addr, dir)
	got := waitForEvents(t, dir, 31)
	ids := map[string]int{}
	for _, s := range got {
		ids[s.ID]++
	}
	if len(got) != 31 || len(ids) != 31 {
		t.Fatalf("stored %d events, %d distinct ids; want 31 (the page view and 30 attributes, once each)", len(got), len(ids))
	}
}

// TestTagBeaconOnPageHide pushes an attribute and leaves the page at once,
// before the batch's timer: the tag sends it with sendBeacon as the page
// goes away.
func TestTagBeaconOnPageHide(t *testing.T) {
	srv, dir := startServer(t)
	ctx, _ := openEmptyPage(t, srv.Addr(), dir)
	leave := `lpTag.sdes.push({type: "error", error: {contextId: "c1", message: "out of stock", code: "E42", level: 1, resolved: false}}); true`
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](leave)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	got := waitForEvents(t, dir, 2)
	if len(got) != 2 || got[1].EventName != "VAR_ADDED" && got[0].EventName != "VAR_ADDED" {
		t.Fatalf("stored %d events, want the page view and the attribute sent as the page went away", len(got))
	}
}

// TestTagBeaconWhenHidden hides the page (visibilitychange) while the
// tag's requests cannot get through: the attribute pushed just before
// reaches the server by sendBeacon, once.
func TestTagBeaconWhenHidden(t *testing.T) {
	srv, dir := startServer(t)
	ctx, _ := openEmptyPage(t, srv.Addr(), dir)
	hide := `window.fetch = function () { return new Promise(function () {}); }; // requests hang
window.beacons = 0;
var beacon = navigator.sendBeacon.bind(navigator);
navigator.sendBeacon = function (url, body) { window.beacons++; return beacon(url, body); };
lpTag.sdes.push({type: "searchInfo", keywords: ["hidden"]});
Object.defineProperty(document, "visibilityState", {value: "hidden", configurable: true});
document.dispatchEvent(new Event("visibilitychange"));
window.beacons`
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](hide)); err != nil || n != 1 {
		t.Fatalf("sendBeacon called %d times (%v), want once", n, err)
	}
	got := waitForEvents(t, dir, 2)
	if len(got) != 2 || got[1].EventName != "VAR_ADDED" {
		t.Fatalf("stored %d events, want the page view and the attribute the beacon carried", len(got))
	}
}

// storedEvents returns the events of the log in dir.
func storedEvents(t testing.TB, dir string) []event.Stored {
	t.Helper()
	r, err := embedded.OpenReader(server.LogDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []event.Stored
	for p := range r.Partitions() {
		_, err := r.Read(context.Background(), p, 0, 64<<20, func(m eventlog.Message) bool {
			s, err := event.ParseRecord(m.Value)
			if err != nil {
				t.Fatalf("partition %d offset %d: %v", p, m.Offset, err)
			}
			out = append(out, s)
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestTagSendsToServer loads a page of another origin in Chromium with the
// snippet pointing at a real server, and checks what reaches the server's
// log: the page view with its sections, an attribute pushed before the tag
// loaded, one sent with lpTag.sdes.send (whose callback hears the server),
// and a single-page app's second page view from lpTag.newPage, with the
// attribute it pushes, all of one visitor and visit.
func TestTagSendsToServer(t *testing.T) {
	srv, dir := startServer(t)
	page := `<!doctype html><html><head><meta charset=utf-8><title>TVs</title>
<script>window.lpTag = window.lpTag || {}; lpTag.section = ["electronics", "tv"]; lpTag.sdes = lpTag.sdes || [];
lpTag.sdes.push({type: "cart", total: 11.7, currency: "USD", numItems: 1, products: [{product: {name: "TV", category: "tv", sku: "TV-1", price: 11.7}, quantity: 1}]});</script>` +
		tag.Snippet("75555851", "http://"+srv.Addr()+"/tag/75555851.js") + `</head><body><script>
lpTag.newPage("/tv/compare", {section: ["tv"]}); // queued: the tag has not loaded yet
function whenLoaded(f) { if (lpTag._sightline) { f(); } else { setTimeout(function () { whenLoaded(f); }, 10); } }
whenLoaded(function () {
  lpTag.sdes.send({type: "lead", lead: {topic: "warranty", value: 199, currency: "USD", leadId: "L-1"}}, function (ok) {
    window.sent = ok;
    lpTag.newPage("/checkout", {section: ["checkout"], sdes: {type: "purchase", total: 11.7, currency: "USD", orderId: "O-1"}});
    setTimeout(function () { window.done = true; }, 800);
  });
});
</script></body></html>`
	siteURL := serveSite(t, page)
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(siteURL+"/tv")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`window.done === true`, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatal(err)
	}
	if sent, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.sent`)); err != nil || !sent {
		t.Fatalf("sdes.send callback: %v %v", sent, err)
	}

	got := waitForEvents(t, dir, 6)
	byName := map[string][]event.Stored{}
	for _, s := range got {
		byName[s.AppName+"/"+s.EventName] = append(byName[s.AppName+"/"+s.EventName], s)
		if s.AccountID != "75555851" || s.VisitorID != got[0].VisitorID || s.VisitID != got[0].VisitID || len(s.VisitorID) != 22 {
			t.Errorf("event %s: account %s visitor %s visit %s", s.EventName, s.AccountID, s.VisitorID, s.VisitID)
		}
	}
	views := byName["LP_MONITORING/PAGE_VIEW"]
	if len(views) != 3 {
		t.Fatalf("page views stored: %d, want 3 (load, a newPage queued before the tag loaded, and one after); all: %d events", len(views), len(got))
	}
	// In the order the page sent them: a visitor's events are in one
	// partition, in order.
	var queued struct {
		URL string `json:"url"`
	}
	json.Unmarshal(views[1].Data, &queued)
	if queued.URL != siteURL+"/tv/compare" {
		t.Errorf("queued newPage: url %q", queued.URL)
	}
	views = []event.Stored{views[0], views[2]}
	var first, second struct {
		URL       string   `json:"url"`
		Title     string   `json:"title"`
		Sections  []string `json:"sections"`
		ContextID string   `json:"contextId"`
	}
	json.Unmarshal(views[0].Data, &first)
	json.Unmarshal(views[1].Data, &second)
	if first.URL != siteURL+"/tv" || first.Title != "TVs" || len(first.Sections) != 2 || first.ContextID == "" {
		t.Errorf("first page view %+v", first)
	}
	if second.URL != siteURL+"/checkout" || len(second.Sections) != 1 || second.Sections[0] != "checkout" || second.ContextID == first.ContextID {
		t.Errorf("newPage view %+v", second)
	}
	sdes := byName["lp_sdes/VAR_ADDED"]
	if len(sdes) != 3 || !strings.Contains(string(sdes[2].Data), `"orderId":"O-1"`) {
		t.Fatalf("attributes stored: %d, want the cart, the lead and the purchase newPage pushed", len(sdes))
	}
}

// TestEngagements has the server send one engagement of each display type
// for the page; the tag renders them, and the test acts on them only as a
// visitor would (accept, close, Escape, waiting) or as the page might
// (removing one). Each engagement's LP_OFFERS events must fire on
// lpTag.events in their order, with the documented payload, and reach the
// server's log, which validates them (confKey included).
func TestEngagements(t *testing.T) {
	srv, dir := startServer(t)
	engagement := func(id int64, typ int, duration int) campaign.Engagement {
		e := campaign.Engagement{ID: id, Name: fmt.Sprintf("type %d", typ), Type: typ, Zone: id, Interaction: "chat",
			SkillName: "experts", Availability: "online", Duration: duration,
			Content: campaign.Content{Title: "Need help?", Text: "Our experts are online.", Button: "Chat now"}}
		if typ == 5 {
			e.Content.ElementID = "offer-slot"
		}
		return e
	}
	if err := srv.Accounts().Add(account.Account{ID: "shop1", Origins: []string{account.AnyOrigin}}); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Campaigns().Update(context.Background(), "shop1", func(d *campaign.Definitions) error {
		d.Availability = campaign.Availability{"experts": "online"}
		d.Goals = []campaign.Goal{{ID: 1, Name: "Chats", Type: "increaseInteraction"}}
		d.Campaigns = []campaign.Campaign{{ID: 210599710, Name: "Help", Status: "active", GoalID: 1, Engagements: []campaign.Engagement{
			engagement(100, 0, 0), engagement(101, 1, 0), engagement(102, 2, 1), engagement(103, 3, 0), engagement(105, 5, 0), engagement(106, 6, 0),
		}}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	page := `<!doctype html><html><head><style>div, button, p { color: red !important; font-size: 40px !important; }
body > * { position: static !important; opacity: .5 !important; }</style>` +
		tag.Snippet("shop1", "http://"+srv.Addr()+"/tag/shop1.js") + `</head><body><div id="offer-slot"></div></body></html>`
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(serveSite(t, page))); err != nil {
		t.Fatal(err)
	}
	host := func(id int) string {
		return fmt.Sprintf(`document.querySelector('[data-lpsl-engagement="210599710_%d_1"]')`, id)
	}
	// All six shown and seen.
	all := `lpTag.events.hasFired("LP_OFFERS", "OFFER_IMPRESSION").length === 6`
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](all, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("six engagements not all seen: %v", err)
	}
	// Isolated from the page's CSS: the title keeps its own color, the
	// slide-out its place.
	look := `(function (h) { var s = getComputedStyle(h), t = getComputedStyle(h.shadowRoot.querySelector(".title"));
  return [t.color, s.position, s.opacity].join(" "); })(` + host(103) + `)`
	if got, err := chromedp.Run(ctx, chromedp.Evaluate[string](look)); err != nil || got != "rgb(17, 17, 17) fixed 1" {
		t.Errorf("slide-out title color, position, opacity: %q (%v): the page's CSS reaches the engagement", got, err)
	}
	// Roles: the overlay is a modal dialog, the others regions; each has a
	// label, and a close button that says what it does.
	roles := `[100, 101, 102, 103, 105, 106].map(function (id) {
  var b = document.querySelector('[data-lpsl-engagement="210599710_' + id + '_1"]').shadowRoot.querySelector(".box");
  return [b.getAttribute("role"), b.getAttribute("aria-modal") || "-", b.getAttribute("aria-label"), b.querySelector(".close").getAttribute("aria-label")].join("/");
}).join(" ")`
	wantRoles := "region/-/Need help?/Close dialog/true/Need help?/Close region/-/Need help?/Close region/-/Need help?/Close region/-/Need help?/Close region/-/Need help?/Close"
	if got, err := chromedp.Run(ctx, chromedp.Evaluate[string](roles)); err != nil || got != wantRoles {
		t.Errorf("roles: %s (%v), want %s", got, err, wantRoles)
	}
	// The keyboard, with real key presses: the overlay has the focus on its
	// accept button; Tab goes to its close button, Tab again back to accept
	// (the focus stays in the dialog), and Escape closes it.
	focused := host(101) + `.shadowRoot.activeElement.className`
	for i, key := range []string{"", kb.Tab, kb.Tab} {
		if key != "" {
			if err := chromedp.Do(ctx, chromedp.KeyEvent(key)); err != nil {
				t.Fatal(err)
			}
		}
		want := []string{"accept", "close", "accept"}[i]
		if got, err := chromedp.Run(ctx, chromedp.Evaluate[string](focused)); err != nil || got != want {
			t.Errorf("after %d Tab presses the focus is on %q (%v), want %s", i, got, err, want)
		}
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Escape)); err != nil {
		t.Fatal(err)
	}
	act := host(103) + `.shadowRoot.querySelector(".accept").click();` + // accept the slide-out
		host(106) + `.shadowRoot.querySelector(".close").click();` + // close the sticky one
		host(105) + `.remove(); true` // the page removes the embedded one
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](act)); err != nil {
		t.Fatal(err)
	}
	// The toaster times out after 1 s.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`lpTag.events.hasFired("LP_OFFERS", "OFFER_REMOVE").length === 5`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("removals: %v", err)
	}
	order, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify(lpTag.events.hasFired("LP_OFFERS", "*").map(function (e) { return e.data.engagementId + ":" + e.eventName; }))`))
	if err != nil {
		t.Fatal(err)
	}
	var fired []string
	json.Unmarshal([]byte(order), &fired)
	want := map[int64]string{
		100: "START OFFER_DISPLAY OFFER_IMPRESSION",
		101: "START OFFER_DISPLAY OFFER_IMPRESSION OFFER_DECLINED OFFER_REMOVE",
		102: "START OFFER_DISPLAY OFFER_IMPRESSION OFFER_TIMEOUT OFFER_REMOVE",
		103: "START OFFER_DISPLAY OFFER_IMPRESSION OFFER_CLICK OFFER_REMOVE",
		105: "START OFFER_DISPLAY OFFER_IMPRESSION OFFER_REMOVE",
		106: "START OFFER_DISPLAY OFFER_IMPRESSION OFFER_DECLINED OFFER_REMOVE",
	}
	checkOrder := func(where string, events map[int64][]string) {
		for id, w := range want {
			if got := strings.Join(events[id], " "); got != w {
				t.Errorf("%s: engagement %d: %s, want %s", where, id, got, w)
			}
		}
	}
	inPage := map[int64][]string{}
	for _, f := range fired {
		var id int64
		var name string
		fmt.Sscanf(strings.Replace(f, ":", " ", 1), "%d %s", &id, &name)
		inPage[id] = append(inPage[id], name)
	}
	checkOrder("lpTag.events", inPage)

	// The server stored the same events, each with the START payload.
	// The page view, START, DISPLAY and IMPRESSION of each, the 9 endings,
	// the eligibility and the click's goal; and the CHAT events of the chat
	// window the slide-out's click opened, which these do not count.
	got := waitForStored(t, dir, func(got []event.Stored) bool {
		n := 0
		for _, s := range got {
			if s.AppName != "CHAT" {
				n++
			}
		}
		return n >= 1+6*3+9+2
	})
	stored := map[int64][]string{}
	contexts := map[int64]string{}
	for _, s := range got {
		if s.AppName != "LP_OFFERS" {
			continue
		}
		var p struct {
			Contexts           []map[string]map[string]string `json:"contexts"`
			CampaignID         int64                          `json:"campaignId"`
			ZoneID             int64                          `json:"zoneId"`
			EngagementID       int64                          `json:"engagementId"`
			EngagementType     int                            `json:"engagementType"`
			ContextID          string                         `json:"contextId"`
			State              int                            `json:"state"`
			ConfKey            string                         `json:"confKey"`
			TglName            string                         `json:"tglName"`
			Done               bool                           `json:"done"`
			EngagementName     string                         `json:"engagementName"`
			EngagementRevision int                            `json:"engagementRevision"`
		}
		if err := json.Unmarshal(s.Data, &p); err != nil {
			t.Fatal(err)
		}
		if len(p.Contexts) != 2 || p.Contexts[0]["EngagementContext"]["id"] != p.ContextID || p.Contexts[1]["pageContext"]["id"] == "" ||
			p.ConfKey != fmt.Sprintf("210599710_%d_1", p.EngagementID) || p.State != 1 || !p.Done || p.TglName == "" || p.EngagementName == "" ||
			p.CampaignID != 210599710 || p.ZoneID != p.EngagementID || p.EngagementType != int(p.EngagementID-100) || p.EngagementRevision != 1 {
			t.Errorf("%s payload %s", s.EventName, s.Data)
		}
		stored[p.EngagementID] = append(stored[p.EngagementID], s.EventName)
		if c, ok := contexts[p.EngagementID]; ok && c != p.ContextID {
			t.Errorf("engagement %d: context %s, then %s", p.EngagementID, c, p.ContextID)
		}
		contexts[p.EngagementID] = p.ContextID
	}
	checkOrder("server log", stored)
	// Each impression has its own context, numbered in the visit.
	numbers := map[string]bool{}
	for _, c := range contexts {
		numbers[c] = true
	}
	if len(numbers) != 6 || !numbers["1"] || !numbers["6"] {
		t.Errorf("engagement contexts %v, want 1 to 6", contexts)
	}

	// A new page (single-page app): the peeling corner still shown goes
	// (OFFER_REMOVE), and the engagements the new page shows count their
	// contexts on from 7.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`lpTag.newPage("/next"); true`)); err != nil {
		t.Fatal(err)
	}
	again := `lpTag.events.hasFired("LP_OFFERS", "OFFER_DISPLAY").length > 6 &&
  lpTag.events.hasFired("LP_OFFERS", "OFFER_REMOVE").some(function (e) { return e.data.engagementId === 100; })`
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](again, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("after newPage: %v", err)
	}
	later, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`lpTag.events.hasFired("LP_OFFERS", "OFFER_DISPLAY").slice(6).map(function (e) { return e.data.contextId; })`))
	if err != nil || len(later) == 0 || later[0] != "7" {
		t.Errorf("contexts on the next page: %v (%v), want from 7 on", later, err)
	}

	// Leaving the page (not into the back/forward cache) takes the
	// engagements still shown with it: OFFER_REMOVE for each, sent with
	// the page's last beacon.
	time.Sleep(time.Second) // the new page's engagements all shown
	leave := `(function () {
  var before = lpTag.events.hasFired("LP_OFFERS", "OFFER_REMOVE").length, onPage = document.querySelectorAll("lpsl-engagement").length;
  window.dispatchEvent(new Event("pagehide"));
  return [onPage, lpTag.events.hasFired("LP_OFFERS", "OFFER_REMOVE").length - before, document.querySelectorAll("lpsl-engagement").length];
})()`
	counts, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](leave))
	if err != nil || len(counts) != 3 || counts[0] == 0 || counts[1] != counts[0] || counts[2] != 0 {
		t.Fatalf("leaving the page with [shown, removed, left] engagements %v (%v): want every one shown removed", counts, err)
	}
	removals, err := chromedp.Run(ctx, chromedp.Evaluate[int](`lpTag.events.hasFired("LP_OFFERS", "OFFER_REMOVE").length`))
	if err != nil {
		t.Fatal(err)
	}
	storedRemovals := 0
	for deadline := time.Now().Add(30 * time.Second); storedRemovals != removals && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		storedRemovals = 0
		for _, s := range storedEvents(t, dir) {
			if s.EventName == "OFFER_REMOVE" {
				storedRemovals++
			}
		}
	}
	if storedRemovals != removals {
		t.Errorf("%d OFFER_REMOVE stored, want the %d the page fired", storedRemovals, removals)
	}
}

// TestEveryAttributeType pushes one attribute of each of the ten types, in
// the shapes pages push them (numbers as strings where pages write them
// so), and checks that the server stored each one as it was pushed.
func TestEveryAttributeType(t *testing.T) {
	srv, dir := startServer(t)
	sdes := `[
  {"type": "cart", "total": "11.7", "currency": "USD", "numItems": "6", "products": [{"product": {"name": "prod1", "category": "category", "sku": "sku", "price": 7.8}, "quantity": 1}]},
  {"type": "purchase", "total": 11.7, "currency": "USD", "orderId": "DRV1534XC", "cart": {"products": [{"product": {"name": "prod1", "category": "category", "sku": "sku", "price": 7.8}, "quantity": 3}], "numItems": 3}},
  {"type": "prodView", "currency": "USD", "products": [{"product": {"name": "red high heel shoe", "category": "women shoes", "sku": "xyz567", "price": 77.8, "statusInStock": "true", "quantityInStock": "23"}}]},
  {"type": "ctmrinfo", "info": {"cstatus": "cancelled", "ctype": "vip", "customerId": "138766AC", "balance": -400.99, "currency": "USD", "socialId": "11256324780", "imei": "3543546543545688", "userName": "user000", "companySize": 500, "companyBranch": "Acme", "accountName": "bank corp", "role": "broker", "lastPaymentDate": {"day": 15, "month": 10, "year": 2014}, "registrationDate": {"day": 23, "month": 5, "year": 2013}, "loginStatus": 4, "storeNumber": "123865", "storeZipCode": "20505"}},
  {"type": "personal", "personal": {"firstname": "John", "lastname": "Doe", "age": {"age": 34, "year": 1980, "month": 4, "day": 15}, "contacts": [{"email": "myname@example.com", "phone": "+1 212-788-8877"}], "gender": "MALE", "language": "en-US", "company": "company"}},
  {"type": "mrktInfo", "info": {"channel": "1", "affiliate": "Yahoo", "campaignId": "US coupon campaign"}},
  {"type": "lead", "lead": {"topic": "luxury car test drive 2015", "value": 22.22, "currency": "USD", "leadId": "xyz123"}},
  {"type": "service", "service": {"topic": "order checkbook", "status": 0, "category": "finance", "serviceId": "service12"}},
  {"type": "error", "error": {"contextId": "2", "message": "Expiration date missing", "code": "er100004", "level": 10, "resolved": false}},
  {"type": "searchInfo", "keywords": ["summer", "long sleeve"]}
]`
	page := pageWithTag(srv.Addr(), `<script>lpTag.sdes.push(`+sdes+`);</script>`)
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(serveSite(t, page))); err != nil {
		t.Fatal(err)
	}
	got := waitForEvents(t, dir, 11)
	var want []json.RawMessage
	json.Unmarshal([]byte(sdes), &want)
	var stored []string
	for _, s := range got {
		if s.EventName == "VAR_ADDED" {
			stored = append(stored, string(s.Data))
		}
	}
	if len(stored) != len(want) {
		t.Fatalf("stored %d attributes, want %d: %v", len(stored), len(want), stored)
	}
	for i, w := range want {
		var a, b any
		json.Unmarshal(w, &a)
		json.Unmarshal([]byte(stored[i]), &b)
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("attribute %d stored as %s, pushed %s", i, stored[i], w)
		}
	}
}

// TestBurst pushes 1,000 attributes at once, what the tag keeps waiting at
// most: they go in merged requests, none of which the browser refuses
// (keepalive requests have a 64 KB quota), and all are stored.
func TestBurst(t *testing.T) {
	srv, dir := startServer(t)
	ctx, _ := openEmptyPage(t, srv.Addr(), dir)
	burst := `var send = window.fetch; window.failed = [];
window.fetch = function (url, opts) {
  return send(url, opts).catch(function (e) { window.failed.push(e + " (" + opts.body.length + " bytes)"); throw e; });
};
for (var i = 0; i < 1000; i++) lpTag.sdes.push({type: "searchInfo", keywords: ["k" + i]});
true`
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](burst)); err != nil {
		t.Fatal(err)
	}
	if got := len(waitForEvents(t, dir, 1001)); got != 1001 {
		t.Fatalf("%d events stored, want 1001", got)
	}
	failed, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify(window.failed)`))
	if err != nil || failed != "[]" {
		t.Errorf("requests the browser refused: %s %v", failed, err)
	}
}

// startDemo starts the server as `make run` does on a new data directory,
// with the demo account and its campaigns (without web sessions, unless
// an option of the config puts them back), and returns it and the data
// directory.
func startDemo(t testing.TB, opts ...func(*server.Config)) (*server.Server, string) {
	t.Helper()
	dir := t.TempDir()
	cfg := server.DefaultConfig()
	cfg.Addr, cfg.DataDir, cfg.NoWebSessions = "127.0.0.1:0", dir, true
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := server.Start(context.Background(), nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown() })
	// The demo's site control group (10%) would hide everything from some
	// visitors: this one is in no control group.
	if _, err := srv.Campaigns().Update(context.Background(), "demo", func(d *campaign.Definitions) error {
		d.Settings.SiteControlGroup = 0
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return srv, dir
}

// TestDemoShop runs the server as `make run` does on a new data
// directory: the demo account's TV page shows the offer embedded in the
// page (the slide-out waits for a cart left behind), and its product view
// reaches the log.
func TestDemoShop(t *testing.T) {
	srv, dir := startDemo(t)
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate("http://"+srv.Addr()+"/demo/tv/oled")); err != nil {
		t.Fatal(err)
	}
	shown := `lpTag.events.hasFired("LP_OFFERS", "OFFER_DISPLAY").map(function (e) { return e.data.engagementName; }).sort().join(",")`
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](shown+` === "OLED offer"`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](shown))
		t.Fatalf("engagements shown on the TV page: %q (%v)", got, err)
	}
	prodViews := 0
	for _, s := range waitForEvents(t, dir, 5) { // page view, prodView, eligibility, START, OFFER_DISPLAY at least
		if s.AccountID != "demo" {
			t.Errorf("event of account %s", s.AccountID)
		}
		if s.EventName == "VAR_ADDED" && strings.Contains(string(s.Data), `"type":"prodView"`) {
			prodViews++
		}
	}
	if prodViews != 1 {
		t.Errorf("%d product views stored, want 1", prodViews)
	}
}

// TestDemoShopPurchase buys OLED TVs in the demo shop as a visitor does: on
// the product page the OLED week offer shows, its button is clicked, the
// TV goes into the cart with the page's button, and a QLED TV from the TV
// list (from the keyboard, as the rest: the cart-abandonment slide-out may
// cover buttons from then on); the cart shows the offer's discount on the
// OLED TV only and the discounted total, takes a second OLED TV (the focus
// staying on the line) and lets the QLED TV go; placing the order leaves
// the cart empty. What reaches the log is what the shop pushed through the
// tag: the cart at its discounted total and the purchase of that total
// under the order id the page showed, then the emptied cart.
func TestDemoShopPurchase(t *testing.T) {
	srv, dir := startDemo(t)
	ctx := newBrowser(t)
	shop := "http://" + srv.Addr() + "/demo"
	wait := func(what, cond string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(selector string) string {
		t.Helper()
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(function (e) { return e ? e.textContent.trim() : "(none)"; })(document.querySelector(`+
			strconv.Quote(selector)+`))`))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatal(err)
		}
	}

	do(chromedp.Navigate(shop + "/tv/oled"))
	offer := `document.querySelector("#demo-offer lpsl-engagement")`
	wait("the OLED offer in the page", `(function (h) { return !!h && !!h.shadowRoot.querySelector(".accept"); })(`+offer+`)`)
	do(chromedp.Click(chromedp.JSPath(offer + `.shadowRoot.querySelector(".accept")`)))
	wait("the offer applied", `lpTag.events.hasFired("LP_OFFERS", "OFFER_CLICK").length === 1 && !document.querySelector("[data-offer-note]").hidden`)
	do(chromedp.Click(chromedp.CSS(`button[data-add="AUR-OLED55"]`)))
	wait("the cart badge", `document.querySelector("[data-cart-count]").textContent === "1"`)
	do(chromedp.Navigate(shop + "/tv"))
	// From here on the cart-abandonment slide-out may cover buttons: the
	// visitor uses the keyboard.
	do(chromedp.Focus(chromedp.CSS(`button[data-add="NOV-Q55"]`)), chromedp.KeyEvent(kb.Enter))
	wait("the cart badge", `document.querySelector("[data-cart-count]").textContent === "2"`)

	do(chromedp.Navigate(shop + "/cart"))
	wait("the cart's lines", `document.querySelectorAll("[data-line]").length === 2`)
	if got := text("[data-line='AUR-OLED55'] [data-discount]"); got != "OLED week −10%: −$130.00" {
		t.Errorf("the OLED TV's discount line: %q", got)
	}
	if got := text("[data-line='NOV-Q55'] [data-discount]"); got != "" {
		t.Errorf("the QLED TV's discount line: %q, want none", got)
	}
	if got := text("[data-total]"); got != "$1,919.98" {
		t.Errorf("the cart's total: %q, want $1,919.98 ($1,169.99 + $749.99)", got)
	}
	do(chromedp.Focus(chromedp.CSS("#qty-AUR-OLED55")), chromedp.KeyEvent(kb.ArrowUp), chromedp.KeyEvent(kb.Tab))
	wait("two OLED TVs", `document.querySelector("[data-total]").textContent === "$3,089.97"`)
	if got := text("[data-line='AUR-OLED55'] [data-discount]"); got != "OLED week −10%: −$260.00" {
		t.Errorf("two OLED TVs' discount line: %q", got)
	}
	if got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.getAttribute("data-remove")`)); err != nil || got != "AUR-OLED55" {
		t.Errorf("the focus after Tab from the quantity: on Remove of %q (%v), want the OLED TV's", got, err)
	}
	do(chromedp.Focus(chromedp.CSS(`button[data-remove="NOV-Q55"]`)), chromedp.KeyEvent(kb.Enter))
	wait("the QLED TV removed", `document.querySelectorAll("[data-line]").length === 1 && document.querySelector("[data-total]").textContent === "$2,339.98"`)
	if got := text("[data-cart-count]"); got != "2" {
		t.Errorf("cart badge %q, want 2", got)
	}

	do(chromedp.Navigate(shop + "/checkout"))
	wait("the checkout", `document.querySelector("form[data-place-order] button[type=submit]") !== null`)
	do(chromedp.Focus(chromedp.CSS(`form[data-place-order] button[type=submit]`)), chromedp.KeyEvent(kb.Enter))
	wait("the thank-you", `document.querySelector("[data-order-id]") !== null`)
	orderID := text("[data-order-id]")
	if !strings.HasPrefix(orderID, "DEMO-") || len(orderID) < 10 {
		t.Errorf("order id %q", orderID)
	}
	do(chromedp.Navigate(shop + "/cart"))
	wait("the empty cart", `document.querySelector("[data-empty-cart]") !== null && document.querySelector("[data-cart-count]").textContent === "0"`)

	type cart struct {
		Total    float64 `json:"total"`
		Currency string  `json:"currency"`
		NumItems int     `json:"numItems"`
		Products []struct {
			Product struct {
				SKU   string  `json:"sku"`
				Price float64 `json:"price"`
			} `json:"product"`
			Quantity int `json:"quantity"`
		} `json:"products"`
	}
	type sde struct {
		Type    string `json:"type"`
		OrderID string `json:"orderId"`
		cart
		Cart cart `json:"cart"`
	}
	var carts, purchases []sde
	got := waitForStored(t, dir, func(got []event.Stored) bool {
		carts, purchases = nil, nil
		for _, s := range got {
			var a sde
			if s.EventName != "VAR_ADDED" || json.Unmarshal(s.Data, &a) != nil {
				continue
			}
			switch a.Type {
			case "cart":
				carts = append(carts, a)
			case "purchase":
				purchases = append(purchases, a)
			}
		}
		return len(purchases) > 0 && len(carts) > 0 && carts[len(carts)-1].NumItems == 0
	})
	for _, s := range got {
		if s.AccountID != "demo" {
			t.Errorf("event %s of account %s", s.EventName, s.AccountID)
		}
	}
	// The cart attributes pushed as the cart changed: the OLED TV, then the
	// QLED TV added, then two OLED TVs, then the QLED TV removed (and the
	// cart page's); the last before the purchase is the one bought.
	oledOnly := func(c cart, quantity int) bool {
		return len(c.Products) == 1 && c.Products[0].Product.SKU == "AUR-OLED55" && c.Products[0].Product.Price == 1299.99 &&
			c.Products[0].Quantity == quantity
	}
	var totals []float64
	for _, c := range carts {
		totals = append(totals, c.Total)
	}
	if len(carts) < 5 || !oledOnly(carts[0].cart, 1) || carts[0].Total != 1169.99 || carts[0].NumItems != 1 || carts[0].Currency != "USD" {
		t.Errorf("cart attributes stored: totals %v; want first the OLED TV at its discounted total 1169.99 (%+v)", totals, carts)
	}
	if last := carts[len(carts)-2]; !oledOnly(last.cart, 2) || last.Total != 2339.98 || last.NumItems != 2 {
		t.Errorf("the cart attribute before the purchase: %+v, want two OLED TVs at 2339.98", last)
	}
	if last := carts[len(carts)-1]; last.NumItems != 0 || last.Total != 0 || len(last.Products) != 0 {
		t.Errorf("the last cart attribute stored is not the empty cart: %+v", last)
	}
	if len(purchases) != 1 {
		t.Fatalf("%d purchases stored, want 1: %+v", len(purchases), purchases)
	}
	if p := purchases[0]; p.Total != 2339.98 || p.OrderID != orderID || p.Currency != "USD" || p.Cart.NumItems != 2 || !oledOnly(p.Cart, 2) {
		t.Errorf("purchase stored %+v, want order %s of two OLED TVs at 2339.98", p, orderID)
	}
}

// TestIdentity checks the ids the tag keeps: the same visitor and visit on
// the next page, even with the visitor cookie deleted; a new visit, same visitor, after 30 minutes without
// activity; the visit of another tab active since; and nothing sent nor
// stored after lpTag.consent(false).
func TestIdentity(t *testing.T) {
	srv, dir := startServer(t)
	url := serveSite(t, pageWithTag(srv.Addr(), ""))
	ctx := newBrowser(t)
	load := func(n int) event.Stored {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
			t.Fatal(err)
		}
		got := waitForEvents(t, dir, n)
		if len(got) != n {
			t.Fatalf("%d events stored, want %d", len(got), n)
		}
		return got[n-1]
	}
	first := load(1)
	// The cookie gone, the ids come back from localStorage.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.cookie = "lpsl_vid=; path=/; max-age=0"; true`)); err != nil {
		t.Fatal(err)
	}
	second := load(2)
	if second.VisitorID != first.VisitorID || second.VisitID != first.VisitID {
		t.Errorf("next page: visitor %s visit %s, want %s %s", second.VisitorID, second.VisitID, first.VisitorID, first.VisitID)
	}
	// The last activity 31 minutes ago.
	idle := `var ago = Date.now() - 31 * 60 * 1000;
localStorage.setItem("lpsl_visit", localStorage.getItem("lpsl_visit").split("|")[0] + "|" + ago);
document.cookie = "lpsl_visit=; path=/; max-age=0"; true`
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](idle)); err != nil {
		t.Fatal(err)
	}
	third := load(3)
	if third.VisitorID != first.VisitorID || third.VisitID == first.VisitID {
		t.Errorf("after 31 idle minutes: visitor %s visit %s; want the same visitor in a new visit", third.VisitorID, third.VisitID)
	}
	// Another tab of the site was active since, in another visit: the next
	// event is of that visit (the tabs share it through localStorage).
	otherTab := `localStorage.setItem("lpsl_visit", "visitOfAnotherTab00000|" + (Date.now() + 500));
lpTag.sdes.push({type: "searchInfo", keywords: ["shared"]}); true`
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](otherTab)); err != nil {
		t.Fatal(err)
	}
	if got := waitForEvents(t, dir, 4); len(got) != 4 || got[3].VisitID != "visitOfAnotherTab00000" || got[3].VisitorID != first.VisitorID {
		t.Fatalf("after another tab's activity: %d events, the last of visit %s", len(got), got[len(got)-1].VisitID)
	}
	optOut := `lpTag.consent(false); lpTag.sdes.push({type: "searchInfo", keywords: ["private"]});
!localStorage.getItem("lpsl_vid") && document.cookie.indexOf("lpsl_vid=") < 0`
	cleared, err := chromedp.Run(ctx, chromedp.Evaluate[bool](optOut))
	if err != nil || !cleared {
		t.Errorf("ids still stored after consent(false): %v %v", cleared, err)
	}
	time.Sleep(time.Second) // past the batch timer
	if got := storedEvents(t, dir); len(got) != 4 {
		t.Errorf("%d events stored after consent(false), want 4", len(got))
	}
}

// TestConsent has a page refuse consent before the tag loads, through the
// snippet's queue: nothing is sent or stored, no cookie is set. Consent
// given later sends the page's view and sets the ids' cookies for
// lpTag.cookieDomain; consent taken back deletes them. The snippet's stubs
// answer as the API does while the tag loads.
func TestConsent(t *testing.T) {
	srv, dir := startServer(t)
	page := pageWithTag(srv.Addr(), `<script>
lpTag.cookieDomain = "sightline.test";
window.early = {consent: lpTag.consent(false), trigger: lpTag.events.trigger("a", "b"), unbind: lpTag.events.unbind("x"),
  fired: lpTag.events.hasFired("*", "*")};
</script>`)
	site := strings.Replace(serveSite(t, page), "127.0.0.1", "shop.sightline.test", 1)
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(site)); err != nil {
		t.Fatal(err)
	}
	early, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify(window.early)`))
	if err != nil || early != `{"consent":false,"trigger":false,"unbind":false,"fired":[]}` {
		t.Errorf("the stubs answered %s (%v)", early, err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`lpTag._sightline === true`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatal(err)
	}
	cookies := func() map[string]string {
		t.Helper()
		res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{site}})
		if err != nil {
			t.Fatal(err)
		}
		domains := map[string]string{}
		for _, c := range res.Cookies {
			domains[c.Name] = c.Domain
		}
		return domains
	}
	time.Sleep(time.Second) // past the batch timer
	if n := len(storedEvents(t, dir)); n != 0 || len(cookies()) != 0 {
		t.Fatalf("before consent: %d events stored, cookies %v", n, cookies())
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`lpTag.consent(true)`)); err != nil {
		t.Fatal(err)
	}
	if got := waitForEvents(t, dir, 1); len(got) != 1 || got[0].EventName != "PAGE_VIEW" {
		t.Fatalf("after consent: %d events stored, want the page view", len(got))
	}
	if c := cookies(); c["lpsl_vid"] != ".sightline.test" || c["lpsl_visit"] != ".sightline.test" {
		t.Errorf("after consent: cookies %v, want the ids' for .sightline.test", c)
	}
	withdraw := `lpTag.consent(false); lpTag.sdes.push({type: "searchInfo", keywords: ["private"]}); true`
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](withdraw)); err != nil {
		t.Fatal(err)
	}
	if c := cookies(); len(c) != 0 {
		t.Errorf("after consent(false): cookies %v", c)
	}
	time.Sleep(time.Second)
	if n := len(storedEvents(t, dir)); n != 1 {
		t.Errorf("after consent(false): %d events stored, want 1", n)
	}
}

// TestKeptOffline pushes 1,200 attributes while the browser is offline and
// hides the page: nothing is lost to sendBeacon, the newest 1,000 events
// wait in localStorage, and the next page, online, sends them, each once.
func TestKeptOffline(t *testing.T) {
	srv, dir := startServer(t)
	ctx, site := openEmptyPage(t, srv.Addr(), dir)
	offline := func(off bool) {
		t.Helper()
		if err := setOffline(ctx, off); err != nil {
			t.Fatal(err)
		}
	}
	offline(true)
	push := `for (var i = 0; i < 1200; i++) lpTag.sdes.push({type: "searchInfo", keywords: ["kw" + i]});
window.dispatchEvent(new Event("pagehide")); true`
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](push)); err != nil {
		t.Fatal(err)
	}
	kept := `JSON.parse(localStorage.getItem("lpsl_outbox_75555851")).reduce(function (n, b) { return n + b.events.length; }, 0)`
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](kept)); err != nil || n != 1000 {
		t.Fatalf("kept %d events (%v), want 1,000", n, err)
	}
	time.Sleep(time.Second)
	if n := len(storedEvents(t, dir)); n != 1 {
		t.Fatalf("%d events stored while offline", n)
	}
	offline(false)
	if err := chromedp.Do(ctx, chromedp.Navigate(site)); err != nil {
		t.Fatal(err)
	}
	got := waitForEvents(t, dir, 1002)
	seen := map[string]int{}
	for _, e := range got {
		if e.EventName == "VAR_ADDED" {
			var sde struct{ Keywords []string }
			json.Unmarshal(e.Data, &sde)
			seen[sde.Keywords[0]]++
		}
	}
	if len(got) != 1002 || len(seen) != 1000 || seen["kw200"] != 1 || seen["kw1199"] != 1 || seen["kw199"] != 0 {
		t.Fatalf("stored %d events, %d distinct attributes (kw199 %d, kw200 %d, kw1199 %d); want two page views and kw200 to kw1199 once each",
			len(got), len(seen), seen["kw199"], seen["kw200"], seen["kw1199"])
	}
}

package tag_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sightline/sightline/web/tag"
)

// chromiumPath is Debian's Chromium, which scripts/chromium.sh installs
// (make test runs it first).
const chromiumPath = "/usr/bin/chromium"

// newBrowser starts a headless Chromium for the test and returns a tab,
// good for 60 s.
func newBrowser(t testing.TB) context.Context {
	t.Helper()
	return newBrowserFor(t, 60*time.Second)
}

// newBrowserFor is newBrowser for a test that takes up to timeout.
func newBrowserFor(t testing.TB, timeout time.Duration) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("no Chromium at %s: run scripts/chromium.sh (make test does)", chromiumPath)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		// Pages of any *.sightline.test origin are served on 127.0.0.1, so
		// that tests can set cookies for a parent domain.
		chromedp.Flag("host-resolver-rules", "MAP *.sightline.test 127.0.0.1"),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() { cancelTimeout(); cancelTab(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// servePage starts Sightline (startServer) and serves one page, at
// /page.html, with the snippet of account 75555851 loading the tag through
// the page's own origin, which passes the tag and the events on to the
// server. head is put in the page's <head> before the snippet, body after
// it. The tag comes 200 ms late, so that the page's scripts surely run
// before it loads, as they do on a real page whose tag comes from farther
// away. It returns the page's URL and the server's data directory.
func servePage(t *testing.T, head, body string) (pageURL, dir string) {
	t.Helper()
	srv, dir := startServer(t)
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: srv.Addr()})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /tag/", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(200 * time.Millisecond)
		proxy.ServeHTTP(w, r)
	})
	mux.Handle("/api/", proxy)
	site := httptest.NewServer(mux)
	t.Cleanup(site.Close)
	page := "<!doctype html><html><head><meta charset=utf-8>" + head +
		tag.Snippet("75555851", site.URL+"/tag/75555851.js") + "</head><body>" + body + "</body></html>"
	mux.HandleFunc("GET /page.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(page))
	})
	return site.URL + "/page.html", dir
}

// runPage loads the page and returns window.results, as JSON, once the
// page has set window.done.
func runPage(t *testing.T, ctx context.Context, url string) map[string]any {
	t.Helper()
	err := chromedp.Do(ctx, chromedp.Navigate(url))
	if err == nil {
		_, err = chromedp.Run(ctx, chromedp.Poll[bool](`window.done === true`, chromedp.WithPollingTimeout(20*time.Second)))
	}
	var out string
	if err == nil {
		out, err = chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify(window.results)`))
	}
	if err != nil {
		t.Fatalf("page %s: %v", url, err)
	}
	var results map[string]any
	if err := json.Unmarshal([]byte(out), &results); err != nil {
		t.Fatalf("results %s: %v", out, err)
	}
	return results
}

// TestEventsAPI drives lpTag.events in Chromium, only through the
// documented API: calls queued by the snippet before the tag loads, both
// forms of bind, unbind and trigger, triggerOnce, context, async
// listeners, wildcards, hasFired, a listener that throws, and attributes
// pushed before the tag loads (lp_sdes VAR_ADDED) and after, which
// lpTag.sdes.get merges, replaces or appends by type. The server's log must
// hold the page view and every attribute as pushed, even when a listener
// changed it, and nothing of what the page triggered on lpTag.events.
func TestEventsAPI(t *testing.T) {
	ctx := newBrowser(t)
	head := `<script>
var results = {early: [], log: []};
// Attributes pushed before the snippet, into an array the tag reads.
window.lpTag = window.lpTag || {};
lpTag.sdes = lpTag.sdes || [];
</script>`
	body := `<script>
results.earlyId = lpTag.events.bind("LP_OFFERS", "OFFER_CLICK", function (data, info) {
  results.early.push({data: data, info: info});
});
lpTag.events.trigger("LP_OFFERS", "OFFER_CLICK", {engagementId: 1});
lpTag.sdes.push({type: "cart", total: 11.7, currency: "USD", numItems: 1});
lpTag.events.bind("lp_sdes", "VAR_ADDED", function (sde) { results.log.push("sde:" + sde.type); });
function whenLoaded(f) { if (lpTag._sightline) { f(); } else { setTimeout(function () { whenLoaded(f); }, 10); } }
whenLoaded(function () {
  var ev = lpTag.events;
  results.queuedIdKept = ev.unbind(results.earlyId);
  results.afterUnbind = ev.trigger("LP_OFFERS", "OFFER_CLICK", {engagementId: 2});

  var ctxObj = {name: "ctx"};
  ev.bind({eventName: "once", appName: "app", triggerOnce: true, context: ctxObj,
    func: function (d) { results.log.push("once:" + d + ":" + this.name); }});
  results.onceFirst = ev.trigger("app", "once", 1);
  results.onceSecond = ev.trigger({appName: "app", eventName: "once", data: 2});

  ev.bind("*", "wild", function (d, info) { results.log.push("anyApp:" + info.appName); });
  ev.bind({eventName: "*", func: function (d, info) { if (info.eventName !== "VAR_ADDED") results.log.push("anyEvent:" + info.eventName); }});
  ev.bind("x", "boom", function () { throw new Error("listener fails"); });
  ev.bind("x", "boom", function () { results.log.push("after-throw"); });
  ev.trigger("x", "boom");
  ev.trigger("y", "wild");

  var f = function () { results.log.push("removed-by-object"); };
  ev.bind("z", "obj", f);
  results.unbindObject = ev.unbind({appName: "z", eventName: "obj", func: f});
  results.unbindNothing = ev.unbind("evId_999");
  results.noListener = ev.trigger("nobody", "listens");

  ev.bind({appName: "a", eventName: "async", async: true, func: function () { results.log.push("async"); results.done2 = true; }});
  ev.trigger("a", "async");
  results.log.push("after-async-trigger");

  results.firedClicks = ev.hasFired("LP_OFFERS", "OFFER_CLICK");
  results.firedAll = ev.hasFired("*", "*").length;
  results.sdes = lpTag.sdes.get("cart");
  lpTag.sdes.push({type: "ctmrinfo", info: {cstatus: "gold", customerId: "c1"}});
  lpTag.sdes.push({type: "ctmrinfo", info: {ctype: "vip", customerId: "c2"}});
  lpTag.sdes.push([{type: "cart", total: 1}, {type: "cart", total: 2}]);
  lpTag.sdes.push({type: "searchInfo", keywords: ["a"]});
  lpTag.sdes.push({type: "searchInfo", keywords: ["b"]});
  results.ctmr = lpTag.sdes.get("ctmrinfo");
  results.carts = lpTag.sdes.get("cart");
  results.searches = lpTag.sdes.get("searchInfo").length;
  // A listener that changes what it hears changes nothing sent.
  lpTag.events.bind("lp_sdes", "VAR_ADDED", function (sde) { if (sde.type === "prodView") sde.injected = true; });
  // A payload with a cycle cannot be sent: it is left out, without an
  // exception in the page, and the next one still goes.
  var loop = {type: "searchInfo", keywords: ["loop"]};
  loop.self = loop;
  try { lpTag.sdes.push(loop); } catch (e) { results.pushThrew = String(e); }
  lpTag.sdes.push({type: "personal", personal: {firstname: "John", contacts: [{email: "j@example.com"}]}});
  lpTag.sdes.push({type: "personal", personal: {lastname: "Doe"}});
  lpTag.sdes.push({type: "mrktInfo", info: {channel: "1"}});
  lpTag.sdes.push({type: "mrktInfo", info: {affiliate: "Yahoo"}});
  lpTag.sdes.push({type: "prodView", products: [{product: {name: "a", sku: "A"}}]});
  lpTag.sdes.push({type: "prodView", products: [{product: {name: "b", sku: "B"}}]});
  results.personal = lpTag.sdes.get("personal");
  results.mrkt = lpTag.sdes.get("mrktInfo");
  results.prodViews = lpTag.sdes.get("prodView").length;
  results.types = lpTag.sdes.get().map(function (s) { return s.type; }).join(",");
  setTimeout(function () { window.done = true; }, 50);
});
</script>`
	pageURL, dir := servePage(t, head, body)
	r := runPage(t, ctx, pageURL)

	early, _ := r["early"].([]any)
	if len(early) != 1 {
		t.Fatalf("listener bound before load ran %d times, want once (queued trigger only): %v", len(early), r["early"])
	}
	first := early[0].(map[string]any)
	if info := first["info"].(map[string]any); info["appName"] != "LP_OFFERS" || info["eventName"] != "OFFER_CLICK" {
		t.Errorf("eventInfo %v", info)
	}
	if id, _ := r["earlyId"].(string); !strings.HasPrefix(id, "q") || r["queuedIdKept"] != true || r["afterUnbind"] != false {
		t.Errorf("queued bind id %v: unbind %v, trigger after it %v", r["earlyId"], r["queuedIdKept"], r["afterUnbind"])
	}
	if r["onceFirst"] != true || r["onceSecond"] != false {
		t.Errorf("triggerOnce: first trigger %v, second %v", r["onceFirst"], r["onceSecond"])
	}
	if r["unbindObject"] != true || r["unbindNothing"] != false {
		t.Errorf("unbind by object %v, by unknown id %v", r["unbindObject"], r["unbindNothing"])
	}
	if r["noListener"] != true { // the "*" event listener hears it
		t.Errorf("trigger with a wildcard listener = %v", r["noListener"])
	}
	want := []string{"sde:cart", "once:1:ctx", "anyEvent:boom", "after-throw", "anyApp:y", "anyEvent:wild",
		"anyEvent:listens", "anyEvent:async", "after-async-trigger",
		"sde:ctmrinfo", "sde:ctmrinfo", "sde:cart", "sde:cart", "sde:searchInfo", "sde:searchInfo",
		"sde:searchInfo", "sde:personal", "sde:personal", "sde:mrktInfo", "sde:mrktInfo", "sde:prodView", "sde:prodView", "async"}
	var got []string
	for _, l := range r["log"].([]any) {
		got = append(got, l.(string))
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("listeners ran\n %v\nwant\n %v", got, want)
	}
	if clicks := r["firedClicks"].([]any); len(clicks) != 2 {
		t.Errorf("hasFired(LP_OFFERS, OFFER_CLICK) = %v, want both triggers", clicks)
	}
	if sdes := r["sdes"].([]any); len(sdes) != 1 || sdes[0].(map[string]any)["total"] != 11.7 {
		t.Errorf("sdes.get(cart) = %v", sdes)
	}
	// get: ctmrinfo, personal and mrktInfo merged property by property,
	// cart replaced, searchInfo and prodView appended.
	ctmr, _ := json.Marshal(r["ctmr"])
	carts, _ := json.Marshal(r["carts"])
	personal, _ := json.Marshal(r["personal"])
	mrkt, _ := json.Marshal(r["mrkt"])
	if string(ctmr) != `[{"info":{"cstatus":"gold","ctype":"vip","customerId":"c2"},"type":"ctmrinfo"}]` ||
		string(carts) != `[{"total":2,"type":"cart"}]` || r["searches"] != 2.0 || r["prodViews"] != 2.0 ||
		string(personal) != `[{"personal":{"contacts":[{"email":"j@example.com"}],"firstname":"John","lastname":"Doe"},"type":"personal"}]` ||
		string(mrkt) != `[{"info":{"affiliate":"Yahoo","channel":"1"},"type":"mrktInfo"}]` ||
		r["types"] != "cart,ctmrinfo,searchInfo,searchInfo,searchInfo,personal,mrktInfo,prodView,prodView" {
		t.Errorf("sdes.get: ctmrinfo %s, cart %s, personal %s, mrktInfo %s, %v searchInfo, %v prodView, all %v",
			ctmr, carts, personal, mrkt, r["searches"], r["prodViews"], r["types"])
	}
	if r["pushThrew"] != nil {
		t.Errorf("pushing a payload with a cycle threw %v", r["pushThrew"])
	}
	if n := r["firedAll"].(float64); n < 9 {
		t.Errorf("hasFired(*, *) has %v events", n)
	}

	// The server's log: the page view and the 13 attributes, in the order
	// pushed (one visitor: one partition), as pushed.
	stored := waitForEvents(t, dir, 14)
	var kinds []string
	for _, e := range stored {
		switch {
		case e.EventName == "PAGE_VIEW":
			kinds = append(kinds, "view")
		case e.EventName == "VAR_ADDED":
			var sde struct{ Type string }
			json.Unmarshal(e.Data, &sde)
			kinds = append(kinds, sde.Type)
			if strings.Contains(string(e.Data), "injected") {
				t.Errorf("stored %s: a listener's change was sent", e.Data)
			}
		default:
			t.Errorf("stored %s/%s: only page views and attributes are sent", e.AppName, e.EventName)
		}
	}
	want = []string{"view", "cart", "ctmrinfo", "ctmrinfo", "cart", "cart", "searchInfo", "searchInfo",
		"personal", "personal", "mrktInfo", "mrktInfo", "prodView", "prodView"}
	if strings.Join(kinds, " ") != strings.Join(want, " ") {
		t.Errorf("stored\n %v\nwant\n %v", kinds, want)
	}
}

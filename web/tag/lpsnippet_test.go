package tag_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// livePersonSnippet is a page snippet that behaves as LivePerson's
// published embed snippet (versions 1.5 to 1.10) does, written from its
// public facts, with its default tag host, lptag.liveperson.net, changed to
// host: all a brand changes to move to Sightline. It defines window.lpTag
// (unless a snippet did already: then it only counts itself in _tagCount),
// whose events.bind and events.trigger defer to lpTag.defer until the tag
// has loaded, and loads the tag from {protocol}//{ovr.domain or
// host}/tag/tag.js?site={site}.
func livePersonSnippet(site, host string) string {
	return `<script>
window.lpTag = window.lpTag || {};
if (typeof window.lpTag._tagCount === "undefined") {
  window.lpTag = {
    site: "` + site + `" || "",
    section: lpTag.section || "",
    tagletSection: lpTag.tagletSection || null,
    autoStart: lpTag.autoStart !== false,
    ovr: lpTag.ovr || {},
    _v: "1.10.0",
    _tagCount: 1,
    protocol: location.protocol,
    events: {
      bind: function (app, ev, fn) { lpTag.defer(function () { lpTag.events.bind(app, ev, fn); }, 0); },
      trigger: function (app, ev, json) { lpTag.defer(function () { lpTag.events.trigger(app, ev, json); }, 1); }
    },
    defer: function (fn, kind) {
      if (kind === 0) { this._defB = this._defB || []; this._defB.push(fn); }
      else if (kind === 1) { this._defT = this._defT || []; this._defT.push(fn); }
      else { this._defL = this._defL || []; this._defL.push(fn); }
    },
    load: function (src, charset, id) {
      var self = this;
      setTimeout(function () { self._load(src, charset, id); }, 0);
    },
    _load: function (src, charset, id) {
      var url = src || this.protocol + "//" + (this.ovr && this.ovr.domain ? this.ovr.domain : "` + host + `") + "/tag/tag.js?site=" + this.site;
      var s = document.createElement("script");
      s.setAttribute("charset", charset || "UTF-8");
      if (id) { s.setAttribute("id", id); }
      s.setAttribute("src", url);
      document.getElementsByTagName("head").item(0).appendChild(s);
    },
    init: function () {
      this._timing = this._timing || {};
      this._timing.start = new Date().getTime();
      var self = this;
      window.addEventListener("DOMContentLoaded", function () { self._domReady("contReady"); }, false);
      window.addEventListener("load", function () { self._domReady("domReady"); }, false);
      if (typeof window._lptStop === "undefined") { this.load(); }
    },
    start: function () { this.autoStart = true; },
    _domReady: function (name) {
      if (!this.isDom) { this.isDom = true; this.events.trigger("LPT", "DOM_READY", {t: name}); }
      this._timing[name] = new Date().getTime();
    },
    vars: lpTag.vars || [], dbs: lpTag.dbs || [], ctn: lpTag.ctn || [], sdes: lpTag.sdes || [],
    hooks: lpTag.hooks || [], identities: lpTag.identities || [], ev: lpTag.ev || []
  };
  lpTag.init();
} else {
  window.lpTag._tagCount += 1;
}
</script>`
}

// TestLivePersonSnippet loads the tag through LivePerson's snippet, with
// nothing but its host changed, on a page that calls the API before the
// tag has loaded, as pages written for LivePerson do: a listener bound
// before load hears a trigger queued before load, the section and the
// attributes pushed before load are sent, an identity function is called
// and its identity kept, a second snippet loads nothing more, and
// lpTag.defer runs at once once the tag is there.
func TestLivePersonSnippet(t *testing.T) {
	srv, dir := startServer(t)
	snippet := livePersonSnippet("75555851", srv.Addr())
	page := `<!doctype html><html><head><script>window.lpTag = {section: ["tv", "oled"]};</script>` + snippet + snippet + `<script>
window.heard = [];
lpTag.events.bind("shop", "ADDED", function (data) { heard.push(data.sku); });
lpTag.events.trigger("shop", "ADDED", {sku: "s1"});
lpTag.sdes = lpTag.sdes || [];
lpTag.sdes.push({type: "cart", total: 11.7, currency: "USD", numItems: 1,
  products: [{product: {name: "tv", category: "tv", sku: "s1", price: 11.7}, quantity: 1}]});
lpTag.identities.push(function (callback) { callback({iss: "https://idp.shop.example", acr: "loa1", sub: "customer-42"}); });
lpTag.defer(function () { window.lateRan = true; }, 2);
</script></head><body></body></html>`
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(serveSite(t, page))); err != nil {
		t.Fatal(err)
	}
	got := waitForEvents(t, dir, 2)
	if len(got) != 2 {
		t.Fatalf("%d events stored, want the page view and the cart", len(got))
	}
	view, cart := got[0], got[1]
	if view.EventName != "PAGE_VIEW" || !strings.Contains(string(view.Data), `"sections":["tv","oled"]`) {
		t.Errorf("first event %s %s, want the page view with its sections", view.EventName, view.Data)
	}
	if cart.AppName != "lp_sdes" || !strings.Contains(string(cart.Data), `"type":"cart"`) {
		t.Errorf("second event %s %s, want the cart pushed before load", cart.AppName, cart.Data)
	}
	check := `JSON.stringify({
  heard: heard,
  fired: lpTag.events.hasFired("shop", "ADDED").length,
  domReady: lpTag.events.hasFired("LPT", "DOM_READY").length,
  tagCount: lpTag._tagCount,
  scripts: document.querySelectorAll('script[src*="/tag/tag.js"]').length,
  lateRan: !!window.lateRan,
  deferNow: (function () { var ran = false; lpTag.defer(function () { ran = true; }, 0); return ran; })(),
  identity: JSON.parse(localStorage.getItem("lpsl_identity") || "null")
})`
	var state struct {
		Heard                     []string
		Fired, DomReady, TagCount int
		Scripts                   int
		LateRan, DeferNow         bool
		Identity                  struct{ VisitID, Iss, Acr, Sub string }
	}
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](check))
	if err == nil {
		err = json.Unmarshal([]byte(out), &state)
	}
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case len(state.Heard) != 1 || state.Heard[0] != "s1" || state.Fired != 1:
		t.Errorf("the listener bound before load heard %v, hasFired %d; want the trigger queued before load once", state.Heard, state.Fired)
	case state.DomReady != 1:
		t.Errorf("LPT DOM_READY fired %d times, want once", state.DomReady)
	case state.TagCount != 2 || state.Scripts != 1:
		t.Errorf("two snippets: _tagCount %d, %d tag scripts; want 2 and 1", state.TagCount, state.Scripts)
	case !state.LateRan || !state.DeferNow:
		t.Errorf("deferred before load ran: %v, lpTag.defer after load ran at once: %v", state.LateRan, state.DeferNow)
	case state.Identity.Sub != "customer-42" || state.Identity.Iss != "https://idp.shop.example" || state.Identity.Acr != "loa1" ||
		state.Identity.VisitID != view.VisitID:
		t.Errorf("identity kept %+v, want customer-42's for visit %s", state.Identity, view.VisitID)
	}
}

// TestLivePersonSnippetAutoStart has a page set lpTag.autoStart = false
// before LivePerson's snippet: the tag sends nothing until the page calls
// lpTag.start().
func TestLivePersonSnippetAutoStart(t *testing.T) {
	srv, dir := startServer(t)
	page := `<!doctype html><html><head><script>window.lpTag = {autoStart: false};</script>` + livePersonSnippet("75555851", srv.Addr()) +
		`<script>lpTag.sdes = lpTag.sdes || []; lpTag.sdes.push({type: "searchInfo", keywords: ["held"]});</script></head><body></body></html>`
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(serveSite(t, page))); err != nil {
		t.Fatal(err)
	}
	loaded := `typeof lpTag.events.hasFired === "function"` // the tag's bus, not the snippet's
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](loaded, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Fatalf("the tag did not load: %v", err)
	}
	time.Sleep(1500 * time.Millisecond) // past the batch timer
	if n := len(storedEvents(t, dir)); n != 0 {
		t.Fatalf("%d events stored before lpTag.start()", n)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`lpTag.start(); true`)); err != nil {
		t.Fatal(err)
	}
	got := waitForEvents(t, dir, 2)
	var names []string
	for _, e := range got {
		names = append(names, e.EventName)
	}
	if slices.Sort(names); !slices.Equal(names, []string{"PAGE_VIEW", "VAR_ADDED"}) {
		t.Fatalf("after lpTag.start(): events %v stored, want the held attribute and the page view", names)
	}
}

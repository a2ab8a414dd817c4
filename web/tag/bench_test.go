package tag_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// BenchmarkTag measures the tag in Chromium against a real server on
// 127.0.0.1: each iteration loads a page and reports how long after the
// tag's script arrived its first events request started (the page view,
// sent at once), then has the page push 1,000 attributes at once (what the
// tag keeps waiting at most), the last with lpTag.sdes.send, whose
// callback hears the server's answer to the last batch: events/s is 1,000
// over the time from the first push to that answer, measured in the page.
// The log must then hold them all.
//
//	go test -run '^$' -bench Tag -benchtime 10x ./web/tag
func BenchmarkTag(b *testing.B) {
	srv, dir := startServer(b)
	page := pageWithTag(srv.Addr(), "")
	url := serveSite(b, page)
	ctx := newBrowser(b) // pages are loaded again in the loop, to time each load
	const pushed = 1000  // what the tag keeps waiting at most
	var firstSend []float64
	var rates []float64
	stored := len(storedEvents(b, dir))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
			b.Fatal(err)
		}
		first := `(function () {
  var r = performance.getEntriesByType("resource");
  var tag = r.find(function (e) { return e.name.indexOf("/tag/") >= 0; });
  var ev = r.find(function (e) { return e.name.indexOf("/events") >= 0; });
  return tag && ev ? ev.startTime - tag.responseEnd : -1;
})()`
		ms, err := chromedp.Run(ctx, chromedp.Poll[float64](first+` >= 0 && `+first, chromedp.WithPollingTimeout(10*time.Second)))
		if err != nil {
			b.Fatal(err)
		}
		firstSend = append(firstSend, ms)
		stored++
		waitForEvents(b, dir, stored)

		push := fmt.Sprintf(`window.burstMs = 0; var t0 = performance.now();
for (var i = 0; i < %d; i++) lpTag.sdes.push({type: "searchInfo", keywords: ["k" + i]});
lpTag.sdes.send({type: "searchInfo", keywords: ["last"]}, function (ok) { window.burstMs = ok ? performance.now() - t0 : -1; });
true`, pushed-1)
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](push)); err != nil {
			b.Fatal(err)
		}
		ms, err = chromedp.Run(ctx, chromedp.Poll[float64](`window.burstMs !== 0 && window.burstMs`, chromedp.WithPollingTimeout(20*time.Second)))
		if err != nil || ms < 0 {
			b.Fatalf("burst: %v ms, %v", ms, err)
		}
		rates = append(rates, pushed/(ms/1000))
		stored += pushed
		if got := len(waitForEvents(b, dir, stored)); got != stored {
			b.Fatalf("%d events stored, want %d", got, stored)
		}
	}
	b.StopTimer()
	slices.Sort(firstSend)
	slices.Sort(rates)
	b.ReportMetric(firstSend[len(firstSend)/2], "ms-load-to-first-send")
	b.ReportMetric(rates[len(rates)/2], "events/s")
}

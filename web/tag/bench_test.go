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
// tag keeps waiting at most) and reports how many a second reach the
// server's log.
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

		start := time.Now()
		push := fmt.Sprintf(`for (var i = 0; i < %d; i++) lpTag.sdes.push({type: "searchInfo", keywords: ["k" + i]}); true`, pushed)
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](push)); err != nil {
			b.Fatal(err)
		}
		stored += pushed
		if got := len(waitForEvents(b, dir, stored)); got != stored {
			b.Fatalf("%d events stored, want %d", got, stored)
		}
		rates = append(rates, pushed/time.Since(start).Seconds())
	}
	b.StopTimer()
	slices.Sort(firstSend)
	slices.Sort(rates)
	b.ReportMetric(firstSend[len(firstSend)/2], "ms-load-to-first-send")
	b.ReportMetric(rates[len(rates)/2], "events/s")
}

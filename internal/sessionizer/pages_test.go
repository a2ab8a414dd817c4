package sessionizer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/eventlog"
)

// TestVisitPages looks up the pages of open visits while Run runs: a
// visit's page views only, in its order, those received last when limited; another
// account's visit of the same visitor and visit ids stays its own; a
// closed visit, an unknown one and a stopped sessionizer have none.
func TestVisitPages(t *testing.T) {
	for _, cache := range []int64{0, -1} { // visits that keep their events, and visits read from the log
		t.Run(fmt.Sprintf("cache %d", cache), func(t *testing.T) {
			r := newRig(t)
			page := func(account, visit string, minute int, url string) {
				at := t0.Add(time.Duration(minute) * time.Minute)
				r.sendData(account, "u1", visit, at, at, `{"url":"`+url+`","title":"T `+url+`","sections":["tv"],"referrer":"https://www.google.com/"}`)
			}
			page("acme", "v1", 1, "https://shop.example/")
			page("other", "v1", 2, "https://other.example/secret")
			other := event.Stored{ID: "sde-1", AccountID: "acme", VisitorID: "u1", VisitID: "v1", Time: t0.Add(3 * time.Minute).UnixMilli(),
				ServerTime: t0.Add(3 * time.Minute).UnixMilli(), AppName: "lp_sdes", EventName: "VAR_ADDED", Data: []byte(`{"type":"cart","total":1}`)}
			if err := eventlog.Append(context.Background(), r.log, []byte("acme/u1"), [][]byte{event.AppendRecord(nil, &other)}); err != nil {
				t.Fatal(err)
			}
			page("acme", "v1", 4, "https://shop.example/tv")
			page("acme", "v2", 5, "https://shop.example/other-visit")
			// Client times out of order: a page is placed by its own time.
			r.sendData("acme", "u1", "v1", t0.Add(6*time.Minute), t0.Add(150*time.Second), `{"url":"https://shop.example/late"}`)

			cfg := r.config()
			cfg.CacheBytes = cache
			s, ctx, stop := r.running(cfg, t0.Add(10*time.Minute))

			urls := func(pages []Page) string {
				var u []string
				for _, p := range pages {
					u = append(u, p.URL)
				}
				return strings.Join(u, " ")
			}
			var pages []Page
			var open bool
			var err error
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				if pages, open, err = s.VisitPages(ctx, "acme", "u1", "v1", 0); err != nil {
					t.Fatal(err)
				}
				if len(pages) == 3 {
					break
				}
			}
			if want := "https://shop.example/ https://shop.example/late https://shop.example/tv"; !open || urls(pages) != want {
				t.Fatalf("pages of acme's visit: open %v, %q; want %q", open, urls(pages), want)
			}
			if p := pages[0]; p.Title != "T https://shop.example/" || p.Referrer != "https://www.google.com/" || len(p.Sections) != 1 ||
				p.Time != t0.Add(time.Minute).UnixMilli() || p.ServerTime != p.Time {
				t.Errorf("first page %+v", p)
			}
			// Limited, the pages received last, in the visit's order.
			if pages, _, _ := s.VisitPages(ctx, "acme", "u1", "v1", 2); urls(pages) != "https://shop.example/late https://shop.example/tv" {
				t.Errorf("the last two pages: %q", urls(pages))
			}
			if pages, open, _ := s.VisitPages(ctx, "other", "u1", "v1", 0); !open || urls(pages) != "https://other.example/secret" {
				t.Errorf("pages of other's visit: %v %q", open, urls(pages))
			}
			for _, k := range [][3]string{{"acme", "u2", "v1"}, {"acme", "u1", "v3"}, {"nobody", "u1", "v1"}, {"acme", "u1", ""}} {
				if pages, open, err := s.VisitPages(ctx, k[0], k[1], k[2], 0); err != nil || open || len(pages) != 0 {
					t.Errorf("pages of %v: %v %v %v", k, pages, open, err)
				}
			}

			// Closed, the visit has no pages.
			if _, err := s.Flush(ctx, t0.Add(2*time.Hour)); err != nil {
				t.Fatal(err)
			}
			if pages, open, err := s.VisitPages(ctx, "acme", "u1", "v1", 0); err != nil || open || len(pages) != 0 {
				t.Errorf("pages of a closed visit: %v %v %v", pages, open, err)
			}
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.VisitPages(context.Background(), "acme", "u1", "v1", 0); !errors.Is(err, ErrStopped) {
				t.Errorf("lookup after Run returned: %v, want ErrStopped", err)
			}
		})
	}
}

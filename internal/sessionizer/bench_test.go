package sessionizer

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/sightline/sightline/internal/enrich"
	"github.com/sightline/sightline/internal/filestore"
	"github.com/sightline/sightline/internal/websession"
)

// benchVisit returns visit i: 20 events, 10 page views, 5 attributes and 5
// engagement events, as a tag sends them.
func benchVisit(i int, hour int64) *trackedVisit {
	v := &trackedVisit{}
	v.AccountID, v.VisitorID, v.VisitID = "75555851", fmt.Sprintf("pKytlMTwSPCwpJS-%08d", i), fmt.Sprintf("AjvT6hLKTEi3AXgGnYu_%08d", i)
	v.IP = "81.2.69.170"
	v.UserAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	at := hour + int64(i%1000)
	for e := range 20 {
		t := at + int64(e)*20_000
		ev := websession.Event{Time: t, ServerTime: t}
		switch {
		case e%2 == 0:
			ev.App, ev.Name = "LP_MONITORING", "PAGE_VIEW"
			ev.Data = fmt.Appendf(nil, `{"url":"https://shop.example.com/tv/oled/lg-oled55c3-55-inch-4k-smart-tv?item=%d","referrer":"https://www.google.com/search?q=oled+tv","title":"LG OLED55C3 55 inch 4K Smart TV | Shop Example","sections":["electronics","tv"],"contextId":"%d"}`, e, 1738225948+e)
		case e%4 == 1:
			ev.App, ev.Name = "lp_sdes", "VAR_ADDED"
			ev.Data = []byte(`{"type":"cart","total":11.7,"currency":"USD","numItems":6,"products":[{"product":{"name":"prod1","category":"tv","sku":"sku-1","price":7.8},"quantity":1}]}`)
		default:
			ev.App, ev.Name = "LP_OFFERS", "OFFER_IMPRESSION"
			ev.Data = []byte(`{"contexts":[{"EngagementContext":{"id":"1"}},{"pageContext":{"id":"1738225948"}}],"campaignId":210599710,"engagementId":210600711,"engagementRevision":18,"engagementType":3,"contextId":"1","zoneId":471288710,"state":1,"confKey":"210599710_210600711_18","tglName":"slider","done":true,"engagementName":"Slide-out chat button"}`)
		}
		v.Events = append(v.Events, ev)
	}
	v.first, v.last = v.Events[0].ServerTime, v.Events[19].ServerTime
	v.closeAt = v.last + 30*60_000
	return v
}

// BenchmarkWriteHour builds and writes the files of one hour of b.N visits
// of 20 events from its spool (run it with -benchtime 1000000x for the
// figure of the issue), then gzips the same document bytes alone, read
// from and written to files as the job does (the ceiling), and reports
// both and their ratio.
func BenchmarkWriteHour(b *testing.B) {
	dir := b.TempDir()
	ctx := context.Background()
	hour := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC).UnixMilli()
	sp := spool{dir: filepath.Join(dir, "state", "spool")}
	for i := range b.N {
		if err := sp.add(benchVisit(i, hour), 0); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := sp.sync(); err != nil {
		b.Fatal(err)
	}
	sp.closeAll()
	store, err := filestore.NewDir(filepath.Join(dir, "files"))
	if err != nil {
		b.Fatal(err)
	}
	en, err := enrich.New(enrich.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer en.Close()
	h := NewHours(slog.New(slog.DiscardHandler), store, HoursConfig{Dir: filepath.Join(dir, "state")}, nil,
		func(dst []byte, v *websession.Visit) []byte { return websession.AppendDocument(dst, v, en) })

	b.ResetTimer()
	if _, err := h.WriteHour(ctx, hour+time.Hour.Milliseconds()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	elapsed := b.Elapsed()

	// The same documents, uncompressed, in one file: the ceiling's input.
	raw := filepath.Join(dir, "raw")
	rawSize := unzipAll(b, store, "75555851", raw)
	start := time.Now()
	gzipFile(b, raw, filepath.Join(dir, "raw.gz"))
	ceiling := time.Since(start)

	mb := float64(rawSize) / 1e6
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "visits/s")
	b.ReportMetric(mb/elapsed.Seconds(), "MB/s")
	b.ReportMetric(mb/ceiling.Seconds(), "gzip-MB/s")
	b.ReportMetric(100*ceiling.Seconds()/elapsed.Seconds(), "%-of-gzip")
}

// unzipAll writes the decompressed content of every file of account to path
// and returns its size.
func unzipAll(b *testing.B, store *filestore.Dir, account, path string) int64 {
	ctx := context.Background()
	out, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close()
	infos, err := store.List(ctx, account)
	if err != nil {
		b.Fatal(err)
	}
	var n int64
	for _, info := range infos {
		f, _, err := store.Open(ctx, account, info.Name)
		if err != nil {
			b.Fatal(err)
		}
		gz, err := gzip.NewReader(f)
		if err != nil {
			b.Fatal(err)
		}
		m, err := io.Copy(out, gz)
		if err != nil {
			b.Fatal(err)
		}
		n += m
		f.Close()
	}
	return n
}

// gzipFile compresses src into dst at the level the job uses, and fsyncs it.
func gzipFile(b *testing.B, src, dst string) {
	in, err := os.Open(src)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close()
	gz, _ := gzip.NewWriterLevel(out, gzip.DefaultCompression)
	if _, err := io.Copy(gz, in); err != nil {
		b.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		b.Fatal(err)
	}
	if err := out.Sync(); err != nil {
		b.Fatal(err)
	}
}

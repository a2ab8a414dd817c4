// Package uabench measures the User-Agent parsers considered for package
// enrich on ../testdata/useragents.txt:
//
//	cd internal/enrich/uabench && go test -bench . -benchtime 1s
//
// "uncached" parses every User-Agent; uap-go's built-in cache is shrunk to
// one entry and the User-Agents taken in turn, so that every parse misses.
// "cached" is uap-go with its default cache, every parse a hit (mileusna
// has no cache; enrich puts its own in front of whichever parser).
package uabench

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/mileusna/useragent"
	"github.com/ua-parser/uap-go/uaparser"
)

func userAgents(tb testing.TB) []string {
	tb.Helper()
	f, err := os.Open("../testdata/useragents.txt")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var uas []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		if l := s.Text(); l != "" && !strings.HasPrefix(l, "#") {
			uas = append(uas, l)
		}
	}
	if err := s.Err(); err != nil {
		tb.Fatal(err)
	}
	return uas
}

func BenchmarkMileusna(b *testing.B) {
	uas := userAgents(b)
	b.Run("uncached", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			_ = useragent.Parse(uas[i%len(uas)])
			i++
		}
	})
}

func BenchmarkUAPGo(b *testing.B) {
	uas := userAgents(b)
	b.Run("new", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := uaparser.New(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("uncached", func(b *testing.B) {
		p, err := uaparser.New(uaparser.WithCacheSize(1))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			_ = p.Parse(uas[i%len(uas)])
			i++
		}
	})
	b.Run("uncached-os-device", func(b *testing.B) {
		// Only the parts enrich would need: no browser.
		p, err := uaparser.New(uaparser.WithCacheSize(1))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			_ = p.ParseOs(uas[i%len(uas)])
			_ = p.ParseDevice(uas[i%len(uas)])
			i++
		}
	})
	b.Run("cached", func(b *testing.B) {
		p, err := uaparser.New()
		if err != nil {
			b.Fatal(err)
		}
		for _, ua := range uas {
			p.Parse(ua)
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			_ = p.Parse(uas[i%len(uas)])
			i++
		}
	})
}

package enrich

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
)

func TestParseDevice(t *testing.T) {
	var (
		windowsDesktop = Device{OSWindows, FamilyDesktop}
		macDesktop     = Device{OSMacOS, FamilyDesktop}
		linuxDesktop   = Device{OSLinux, FamilyDesktop}
		iosMobile      = Device{OSIOS, FamilyMobile}
		iosTablet      = Device{OSIOS, FamilyTablet}
		androidMobile  = Device{OSAndroid, FamilyMobile}
		androidTablet  = Device{OSAndroid, FamilyTablet}
		androidNA      = Device{OSAndroid, FamilyNA}
		na             = Device{OSNA, FamilyNA}
	)
	tests := []struct {
		name string
		ua   string
		want Device
	}{
		{"chrome windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", windowsDesktop},
		{"edge windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", windowsDesktop},
		{"firefox windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", windowsDesktop},
		{"ie11 windows 7", "Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko", windowsDesktop},
		{"opera windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 OPR/115.0.0.0", windowsDesktop},
		{"safari mac", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", macDesktop},
		{"chrome mac", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", macDesktop},
		{"firefox mac", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.7; rv:133.0) Gecko/20100101 Firefox/133.0", macDesktop},
		// iPadOS 13+ Safari asks for desktop sites by default and then sends
		// exactly the macOS Safari User-Agent.
		{"ipados desktop mode", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15", macDesktop},
		{"chrome linux", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", linuxDesktop},
		{"firefox ubuntu", "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", linuxDesktop},
		{"chromeos", "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", linuxDesktop},
		{"chromeos arm", "Mozilla/5.0 (X11; CrOS aarch64 15917.71.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", linuxDesktop},
		{"safari iphone", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", iosMobile},
		{"chrome iphone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1", iosMobile},
		{"facebook app iphone", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/489.0.0.41.109;FBBV/660374829;FBDV/iPhone15,3;FBMD/iPhone;FBSN/iOS;FBSV/18.1;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5]", iosMobile},
		{"instagram iphone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 352.0.0.24.92 (iPhone14,5; iOS 17_5; en_US; en; scale=3.00; 1170x2532; 645093367)", iosMobile},
		{"safari ipad", "Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.7 Mobile/15E148 Safari/604.1", iosTablet},
		{"ipod touch", "Mozilla/5.0 (iPod touch; CPU iPhone OS 15_8 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/15.6 Mobile/15E148 Safari/604.1", iosMobile},
		{"chrome android phone", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", androidMobile},
		{"samsung phone", "Mozilla/5.0 (Linux; Android 14; SM-S928B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36", androidMobile},
		{"samsung tablet", "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Safari/537.36", androidTablet},
		{"pixel tablet", "Mozilla/5.0 (Linux; Android 13; Pixel Tablet) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", androidTablet},
		{"chrome android tablet reduced", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", androidTablet},
		{"firefox android phone", "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0", androidMobile},
		{"firefox android tablet", "Mozilla/5.0 (Android 14; Tablet; rv:133.0) Gecko/133.0 Firefox/133.0", androidTablet},
		{"kindle fire silk", "Mozilla/5.0 (Linux; Android 9; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/131.3.1 like Chrome/131.0.6778.85 Safari/537.36", androidTablet},
		{"facebook webview android", "Mozilla/5.0 (Linux; Android 13; M2101K6G Build/TKQ1.221013.002; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/131.0.6778.81 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/490.0.0.51.109;]", androidMobile},
		{"opera android", "Mozilla/5.0 (Linux; Android 12; moto g(30)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 OPR/85.0.0.0", androidMobile},
		{"opera mini android", "Opera/9.80 (Android; Opera Mini/36.2.2254/119.132; U; id) Presto/2.12.423 Version/12.16", androidMobile},
		{"old android browser", "Mozilla/5.0 (Linux; U; Android 4.0.3; ko-kr; LG-L160L Build/IML74K) AppleWebkit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30", androidMobile},
		{"fire tv", "Mozilla/5.0 (Linux; Android 11; AFTKA) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.6723.102 Safari/537.36", androidNA},
		{"android tv", "Mozilla/5.0 (Linux; Android 12; BRAVIA 4K VH2 Build/STT1.211025.001.Z4; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.230 Safari/537.36", androidNA},
		{"windows phone", "Mozilla/5.0 (Mobile; Windows Phone 8.1; Android 4.0; ARM; Trident/7.0; Touch; rv:11.0; IEMobile/11.0; NOKIA; Lumia 635) like iPhone OS 7_0_3 Mac OS X AppleWebKit/537 (KHTML, like Gecko) Mobile Safari/537", Device{OSWindows, FamilyMobile}},
		{"googlebot", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", na},
		{"googlebot smartphone", "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.69 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", na},
		{"bingbot", "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", na},
		{"bingbot chrome", "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/131.0.0.0 Safari/537.36", na},
		{"yandexbot", "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)", na},
		{"ahrefsbot", "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", na},
		{"facebook crawler", "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", na},
		{"headless chrome", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36", na},
		{"curl", "curl/8.5.0", na},
		{"python requests", "python-requests/2.32.3", na},
		{"tizen tv", "Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) 76.0.3809.146/6.0 TV Safari/537.36", na},
		{"playstation", "Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.0 Safari/605.1.15", na},
		{"freebsd", "Mozilla/5.0 (X11; FreeBSD amd64; rv:128.0) Gecko/20100101 Firefox/128.0", na},
		{"empty", "", na},
		{"garbage", "\x00\xff(;;/)[", na},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseDevice(tt.ua); got != tt.want {
				t.Errorf("parseDevice(%q) = %+v, want %+v", tt.ua, got, tt.want)
			}
		})
	}
}

func TestDeviceCache(t *testing.T) {
	for _, size := range []int{1, 7, 64, 100, 1000, 5000} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			c := newDeviceCache(size)
			for i := range 3 * size {
				ua := fmt.Sprintf("Mozilla/5.0 (Linux; Android 14; Model%d) Mobile", i)
				if got := c.device(ua); got != (Device{OSAndroid, FamilyMobile}) {
					t.Fatalf("device(%q) = %+v", ua, got)
				}
				if n := c.len(); n > size {
					t.Fatalf("cache of %d holds %d entries", size, n)
				}
			}
			if n := c.len(); n < size/2 {
				t.Errorf("cache of %d holds only %d entries after %d misses", size, n, 3*size)
			}
			// A repeated User-Agent is a hit.
			ua := "Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) Mobile/15E148"
			c.device(ua)
			s := c.shard(ua)
			s.mu.RLock()
			_, ok := s.m[ua]
			s.mu.RUnlock()
			if !ok {
				t.Errorf("%q not cached after a lookup", ua)
			}
		})
	}
}

func TestDeviceCacheSkipsLongUserAgents(t *testing.T) {
	c := newDeviceCache(10)
	long := "Mozilla/5.0 (Windows NT 10.0; Win64; x64) " + strings.Repeat("x", maxCachedUALen)
	if got := c.device(long); got != (Device{OSWindows, FamilyDesktop}) {
		t.Errorf("device(long) = %+v", got)
	}
	if n := c.len(); n != 0 {
		t.Errorf("cache holds %d entries after a User-Agent longer than %d bytes", n, maxCachedUALen)
	}
}

func TestDeviceCacheConcurrent(t *testing.T) {
	uas := userAgents(t)
	c := newDeviceCache(16)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 500 {
				ua := uas[(i*7+g)%len(uas)]
				if got, want := c.device(ua), parseDevice(ua); got != want {
					t.Errorf("device(%q) = %+v, want %+v", ua, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := c.len(); n > 16 {
		t.Errorf("cache of 16 holds %d entries", n)
	}
}

// userAgents returns the User-Agents of testdata/useragents.txt.
func userAgents(tb testing.TB) []string {
	tb.Helper()
	f, err := os.Open("testdata/useragents.txt")
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

// BenchmarkDevice measures a parse of testdata/useragents.txt's User-Agents
// in turn: uncached (every one parsed) and cached (every one a hit).
func BenchmarkDevice(b *testing.B) {
	uas := userAgents(b)
	b.Run("uncached", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			parseDevice(uas[i%len(uas)])
			i++
		}
	})
	b.Run("cached", func(b *testing.B) {
		c := newDeviceCache(DefaultUACacheSize)
		for _, ua := range uas {
			c.device(ua)
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			c.device(uas[i%len(uas)])
			i++
		}
	})
	b.Run("cached-parallel", func(b *testing.B) {
		c := newDeviceCache(DefaultUACacheSize)
		for _, ua := range uas {
			c.device(ua)
		}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				c.device(uas[i%len(uas)])
				i++
			}
		})
	})
}

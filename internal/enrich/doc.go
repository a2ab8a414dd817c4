// Package enrich derives what a visit's raw facts imply: where its IP
// address is (MaxMind databases), which device and operating system its
// User-Agent names, and which search engine and keywords its first page's
// referrer carries.
//
// An [Enricher] does all three behind the methods Geo, Device and Search,
// safe for concurrent use; [OpenGeo], [AnonymizeIP] and [ParseSearch] are the
// parts on their own.
//
// Figures below were measured on the 2-core development machine (Intel Xeon
// 2.50GHz, Go 1.26.8, other jobs running), with go test -bench; they are
// per call.
//
// # Geo
//
// MaxMind GeoIP2 / GeoLite2 databases are read with
// github.com/oschwald/maxminddb-golang/v2, the Go reader of the format
// (geoip2-golang and MaxMind's own mmdbwriter build on it, and it is kept
// current): it memory-maps the file, looks net/netip
// addresses up, is safe for concurrent lookups and decodes only the fields
// of a struct (here the English names, the ISO country code and the ISP
// fields). A lookup in both databases costs about 3-4.5 µs and 4
// allocations (BenchmarkGeoLookup). Tests build tiny City, ISP and ASN
// databases with github.com/maxmind/mmdbwriter; nothing is downloaded.
//
// The ISP database may be a GeoIP2 ISP or a GeoLite2 ASN database. Org and
// ISP are the ISP database's organization and isp; where either is missing,
// as both always are in an ASN database, autonomous_system_organization
// stands in, so that an ASN database gives the AS organisation as both Org
// and ISP. State is the first (most general) subdivision. OpenGeo checks
// each file's database type, so swapped paths fail at start-up.
//
// Addresses are anonymised (see [AnonymizeIP]: a /24 or a /48) by the
// sessionizer as it reads events, before it stores anything, as Google
// Analytics does; Geo then locates the anonymised address, which MaxMind's
// data, mostly at /24 granularity or coarser, places in the same city.
//
// # Device
//
// The User-Agent parser is github.com/mileusna/useragent (v1.3.5). Device
// only needs six operating systems and four device families, and the
// candidates were measured once, when choosing, on the 41 User-Agents of
// testdata/useragents.txt (the comparison is not kept: it needed the
// parsers not chosen in go.mod; BenchmarkDevice measures the one chosen):
//
//	parser                                   uncached                 cached
//	mileusna/useragent v1.3.5                5.0 µs, 15 allocs        none built in
//	ua-parser/uap-go (2026-05-29, embedded   2,535 µs, 45 allocs      2.2 µs, 8 allocs
//	  uap-core regexes)                      (OS and device only:     (its ARC cache; still
//	                                         1,540 µs)                starts 3 goroutines)
//	medama-io/go-useragent                   not measured: the Go module proxy
//	                                         refuses it on this network (403)
//
// uap-go is the most thorough and the most actively updated, but a miss
// costs 2.5 ms of CPU: a 2-core server could parse fewer than a thousand new
// User-Agents a second, and every browser release makes every User-Agent new
// again. Each uap-go parser also compiles its 1,200 regular expressions
// (92 ms and 45 MB allocated) and it brings yaml.v3 and golang-lru. The
// brand and model it adds are not reported here. mileusna/useragent is one
// small tokenizer without dependencies, 500 times cheaper per miss. Its last
// release is from September 2024; what it gets wrong for our six-by-four
// mapping (every Android taken as a phone, iPod unknown, Windows Phone taken
// as Android) is corrected in device.go and pinned by TestParseDevice.
//
// Sightline's Device costs 5.5 µs and 15 allocations per uncached parse,
// 120 ns and no allocation cached (85 ns per call with two goroutines)
// (BenchmarkDevice). The cache is a map split into shards under their own
// locks, bounded by Config.UACacheSize (default [DefaultUACacheSize]);
// a full shard evicts an arbitrary entry. User-Agents longer than 1 KiB are
// not cached, so the cache holds at most about 9 MB at the default size
// whatever clients send (2 MB for typical User-Agents).
//
// The mapping:
//   - Bots and crawlers (known names, "bot" in the name, a URL in the
//     User-Agent, HeadlessChrome), tools such as curl, and an empty
//     User-Agent: NA / NA.
//   - WINDOWS (Windows Phone too), MAC_OS, IOS (iPadOS too), ANDROID (Fire OS
//     too), LINUX (ChromeOS too: a Linux desktop system, for which the
//     enumeration has no value of its own); anything else (FreeBSD, Tizen,
//     game consoles, KaiOS...) is NA.
//   - Windows, macOS, Linux and ChromeOS are DESKTOP; iPhone and iPod are
//     MOBILE, iPad is TABLET.
//   - Android: MOBILE when the User-Agent says "Mobi" (Google's rule for
//     Chrome: phones send "Mobile", tablets do not) or is Opera Mini;
//     TABLET when Firefox says "Tablet" or "Mobi" is missing; NA for
//     televisions and streaming sticks ("TV", BRAVIA, Chromecast, Fire TV).
//   - iPadOS 13+ Safari asks for desktop sites by default and then sends the
//     macOS Safari User-Agent byte for byte: it is MAC_OS / DESKTOP, as is
//     any "request desktop site" mode (Android's gives LINUX / DESKTOP).
//     Only the browser can tell (navigator.maxTouchPoints > 1).
//
// # Search
//
// Search engines are read from searchengines.json, embedded with go:embed
// and parsed on first use. Its "engines" list each engine's "name" (as the
// brand writes it: "Yahoo!" with its exclamation mark, "Yahoo! JAPAN",
// "Brave Search"), its "hosts" and its keyword "params" in order of
// preference (Baidu: wd, then word). A host pattern is
//   - "example.com": that host;
//   - "*.example.com": any subdomain of example.com, not example.com itself;
//   - a pattern ending in ".{tld}", e.g. "google.{tld}": any one-label
//     suffix (google.com, google.de, google.cat) or a two-label country
//     suffix whose first label is listed in "countrySecondLevel"
//     (google.co.uk, google.com.br, yandex.com.tr).
//
// A referrer's host is lowercased and loses a leading "www." before it is
// matched, so patterns leave "www." out. A host may belong to one engine
// only. The engines are Google, Bing, Yahoo!, Yahoo! JAPAN, DuckDuckGo,
// Baidu, Yandex, Ecosia, Naver, Seznam, Sogou, Ask, AOL, Qwant, Startpage,
// Brave Search and Daum.
//
// To add an engine or a host: edit searchengines.json, add real referrers
// of it to TestParseSearch and its name to
// TestSearchEngineTableCoversEngines, and run go test ./internal/enrich,
// which also checks the file (a malformed table makes New fail and
// ParseSearch return nothing). A parse costs about 0.75 µs and 1
// allocation for a referrer without keywords, 2.7 µs and 7 allocations
// with them (BenchmarkParseSearch).
package enrich

package enrich

import (
	"sync"
	"testing"
)

func TestEnricherGeo(t *testing.T) {
	cityPath, ispPath := testCityDB(t), testISPDB(t)
	london := Geo{Country: "United Kingdom", CountryCode: "GB", City: "London", State: "England",
		Org: "STONEHOUSE office network", ISP: "Andrews & Arnold Ltd"}
	tokyo := Geo{Country: "Japan", CountryCode: "JP", City: "Tokyo", State: "Tokyo",
		Org: "NTT Communications", ISP: "NTT Communications"}
	with := func(g Geo, v4, v6 string) Geo { g.IPv4, g.IPv6 = v4, v6; return g }
	tests := []struct {
		name string
		ip   string
		want Geo
	}{
		{"ipv4", "81.2.69.170", with(london, "81.2.69.170", "")},
		{"mapped ipv4", "::ffff:81.2.69.170", with(london, "81.2.69.170", "")},
		{"ipv6", "2001:218:85a3::8a2e:370:7334", with(tokyo, "", "2001:218:85a3::8a2e:370:7334")},
		{"unknown", "8.8.8.8", Geo{IPv4: "8.8.8.8"}},
		{"unparsable", "not an ip", Geo{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := New(Config{GeoCityPath: cityPath, GeoISPPath: ispPath})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			if got := e.Geo(tt.ip); got != tt.want {
				t.Errorf("Geo(%q)\n got %+v\nwant %+v", tt.ip, got, tt.want)
			}
		})
	}
}

func TestEnricherDeviceCacheSizes(t *testing.T) {
	const ua = "Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.7 Mobile/15E148 Safari/604.1"
	tests := []struct {
		size     int
		wantSize int // entries after one lookup; -1: no cache
	}{
		{0, 1},
		{-1, -1},
		{1, 1},
		{100, 1},
	}
	for _, tt := range tests {
		e, err := New(Config{UACacheSize: tt.size})
		if err != nil {
			t.Fatal(err)
		}
		if got := e.Device(ua); got != (Device{OSIOS, FamilyTablet}) {
			t.Errorf("size %d: Device = %+v", tt.size, got)
		}
		switch {
		case tt.wantSize < 0 && e.devices != nil:
			t.Errorf("size %d: cache present, want none", tt.size)
		case tt.wantSize >= 0 && (e.devices == nil || e.devices.len() != tt.wantSize):
			t.Errorf("size %d: cache %v, want %d entries", tt.size, e.devices, tt.wantSize)
		}
		if err := e.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
}

func TestNewErrors(t *testing.T) {
	if e, err := New(Config{GeoCityPath: "testdata/does-not-exist.mmdb"}); err == nil {
		e.Close()
		t.Error("New with a missing city database succeeded")
	}
}

// TestEnricherConcurrent runs every method from several goroutines; run it
// with -race.
func TestEnricherConcurrent(t *testing.T) {
	e, err := New(Config{GeoCityPath: testCityDB(t), GeoISPPath: testISPDB(t), UACacheSize: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	uas := userAgents(t)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				if got := e.Geo("81.2.69.170"); got.City != "London" || got.IPv4 != "81.2.69.170" {
					t.Errorf("Geo = %+v", got)
					return
				}
				if got := e.Search("https://www.google.de/search?q=x"); got.Engine != "Google" {
					t.Errorf("Search = %+v", got)
					return
				}
				ua := uas[(i+g)%len(uas)]
				if got, want := e.Device(ua), parseDevice(ua); got != want {
					t.Errorf("Device(%q) = %+v, want %+v", ua, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

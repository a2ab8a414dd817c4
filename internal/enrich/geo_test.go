package enrich

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/sightline/sightline/internal/enrich/enrichtest"
)

func testCityDB(tb testing.TB) string {
	return enrichtest.WriteMMDB(tb, "GeoIP2-City", map[string]mmdbtype.Map{
		"81.2.69.160/27":   enrichtest.CityRecord("GB", "United Kingdom", "London", "England", "City of London"),
		"89.160.20.128/25": enrichtest.CityRecord("SE", "Sweden", "Linköping", "Östergötland County"),
		"2.125.160.216/29": enrichtest.CityRecord("GB", "United Kingdom", ""),
		"2001:218::/32":    enrichtest.CityRecord("JP", "Japan", "Tokyo", "Tokyo"),
		"2a02:d300::/29":   enrichtest.CityRecord("", "", ""), // continent only
		"175.16.199.0/24": {
			"city":    mmdbtype.Map{"names": enrichtest.Localized("", "Changchun-de")}, // no English name
			"country": mmdbtype.Map{"iso_code": mmdbtype.String("CN"), "names": enrichtest.Localized("China", "China")},
		},
	})
}

func testISPDB(tb testing.TB) string {
	return enrichtest.WriteMMDB(tb, "GeoIP2-ISP", map[string]mmdbtype.Map{
		"81.2.69.160/27":   enrichtest.ISPRecord("Andrews & Arnold Ltd", "STONEHOUSE office network", "Andrews & Arnold Ltd", 20712),
		"89.160.20.128/25": enrichtest.ISPRecord("Bredband2 AB", "", "Bredband2 AB ASO", 29518),
		"2001:218::/32":    enrichtest.ISPRecord("", "", "NTT Communications", 2914),
	})
}

func testASNDB(tb testing.TB) string {
	return enrichtest.WriteMMDB(tb, "GeoLite2-ASN", map[string]mmdbtype.Map{
		"81.2.69.160/27": enrichtest.ISPRecord("", "", "Andrews & Arnold Ltd", 20712),
		"2001:218::/32":  enrichtest.ISPRecord("", "", "NTT Communications", 2914),
	})
}

func TestGeoLookup(t *testing.T) {
	cityPath, ispPath, asnPath := testCityDB(t), testISPDB(t), testASNDB(t)
	london := Geo{Country: "United Kingdom", CountryCode: "GB", City: "London", State: "England",
		Org: "STONEHOUSE office network", ISP: "Andrews & Arnold Ltd"}
	withIP := func(g Geo, v4, v6 string) Geo { g.IPv4, g.IPv6 = v4, v6; return g }
	tests := []struct {
		name      string
		city, isp string
		ip        string
		want      Geo
	}{
		{"ipv4 city and isp", cityPath, ispPath, "81.2.69.170", withIP(london, "81.2.69.170", "")},
		{"ipv4-mapped ipv6 is ipv4", cityPath, ispPath, "::ffff:81.2.69.170", withIP(london, "81.2.69.170", "")},
		{"non-ascii names, isp without organization", cityPath, ispPath, "89.160.20.130", Geo{IPv4: "89.160.20.130",
			Country: "Sweden", CountryCode: "SE", City: "Linköping", State: "Östergötland County",
			Org: "Bredband2 AB ASO", ISP: "Bredband2 AB"}},
		{"ipv6, isp from autonomous system", cityPath, ispPath, "2001:218:85a3::8a2e:370:7334", Geo{IPv6: "2001:218:85a3::8a2e:370:7334",
			Country: "Japan", CountryCode: "JP", City: "Tokyo", State: "Tokyo", Org: "NTT Communications", ISP: "NTT Communications"}},
		{"ipv6 canonical form", cityPath, ispPath, "2001:0218:0000:0000:0000:0000:0000:0001", Geo{IPv6: "2001:218::1",
			Country: "Japan", CountryCode: "JP", City: "Tokyo", State: "Tokyo", Org: "NTT Communications", ISP: "NTT Communications"}},
		{"country only", cityPath, ispPath, "2.125.160.217", Geo{IPv4: "2.125.160.217", Country: "United Kingdom", CountryCode: "GB"}},
		{"continent only", cityPath, ispPath, "2a02:d300::1", Geo{IPv6: "2a02:d300::1"}},
		{"no english name", cityPath, ispPath, "175.16.199.1", Geo{IPv4: "175.16.199.1", Country: "China", CountryCode: "CN"}},
		{"unknown ipv4", cityPath, ispPath, "8.8.8.8", Geo{IPv4: "8.8.8.8"}},
		{"unknown ipv6", cityPath, ispPath, "2606:4700::1111", Geo{IPv6: "2606:4700::1111"}},
		{"private ipv4", cityPath, ispPath, "10.1.2.3", Geo{IPv4: "10.1.2.3"}},
		{"zone dropped", cityPath, ispPath, "fe80::1%eth0", Geo{IPv6: "fe80::1"}},
		{"unparsable", cityPath, ispPath, "not an ip", Geo{}},
		{"empty", cityPath, ispPath, "", Geo{}},
		{"with port", cityPath, ispPath, "81.2.69.170:443", Geo{}},
		{"bracketed ipv6", cityPath, ispPath, "[2001:218::1]", Geo{}},
		{"asn database", cityPath, asnPath, "81.2.69.170", withIP(Geo{Country: "United Kingdom", CountryCode: "GB",
			City: "London", State: "England", Org: "Andrews & Arnold Ltd", ISP: "Andrews & Arnold Ltd"}, "81.2.69.170", "")},
		{"asn database ipv6", "", asnPath, "2001:218::1", Geo{IPv6: "2001:218::1", Org: "NTT Communications", ISP: "NTT Communications"}},
		{"city only", cityPath, "", "81.2.69.170", Geo{IPv4: "81.2.69.170", Country: "United Kingdom", CountryCode: "GB",
			City: "London", State: "England"}},
		{"isp only", "", ispPath, "81.2.69.170", Geo{IPv4: "81.2.69.170", Org: "STONEHOUSE office network", ISP: "Andrews & Arnold Ltd"}},
		{"no databases", "", "", "81.2.69.170", Geo{IPv4: "81.2.69.170"}},
		{"no databases ipv6", "", "", "2001:218::1", Geo{IPv6: "2001:218::1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := OpenGeo(tt.city, tt.isp)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if got := db.Lookup(tt.ip); got != tt.want {
				t.Errorf("Lookup(%q)\n got %+v\nwant %+v", tt.ip, got, tt.want)
			}
		})
	}
}

func TestOpenGeoErrors(t *testing.T) {
	cityPath, ispPath := testCityDB(t), testISPDB(t)
	notMMDB := filepath.Join(t.TempDir(), "notmmdb")
	if err := os.WriteFile(notMMDB, []byte("not a maxmind database"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		city, isp string
	}{
		{"missing city", filepath.Join(t.TempDir(), "missing.mmdb"), ""},
		{"missing isp", cityPath, filepath.Join(t.TempDir(), "missing.mmdb")},
		{"not a database", notMMDB, ""},
		{"swapped", ispPath, cityPath},
		{"isp as city", ispPath, ""},
		{"city as isp", "", cityPath},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := OpenGeo(tt.city, tt.isp)
			if err == nil {
				db.Close()
				t.Fatalf("OpenGeo(%q, %q) succeeded, want error", tt.city, tt.isp)
			}
		})
	}
}

func TestGeoClose(t *testing.T) {
	db, err := OpenGeo(testCityDB(t), testISPDB(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func BenchmarkGeoLookup(b *testing.B) {
	db, err := OpenGeo(testCityDB(b), testISPDB(b))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	b.ReportAllocs()
	for b.Loop() {
		_ = db.Lookup("81.2.69.170")
	}
}

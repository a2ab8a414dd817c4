package enrich

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// writeMMDB builds a MaxMind database of type dbType holding records (by
// network in CIDR notation) and returns its path in a temporary directory.
func writeMMDB(tb testing.TB, dbType string, records map[string]mmdbtype.Map) string {
	tb.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType: dbType,
		Languages:    []string{"en", "de"},
		RecordSize:   28,
	})
	if err != nil {
		tb.Fatal(err)
	}
	for cidr, rec := range records {
		_, network, err := net.ParseCIDR(cidr)
		if err != nil {
			tb.Fatal(err)
		}
		if err := tree.Insert(network, rec); err != nil {
			tb.Fatalf("insert %s: %v", cidr, err)
		}
	}
	path := filepath.Join(tb.TempDir(), dbType+".mmdb")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}

// localized is a GeoIP2 names map.
func localized(en, de string) mmdbtype.Map {
	m := mmdbtype.Map{}
	if en != "" {
		m["en"] = mmdbtype.String(en)
	}
	if de != "" {
		m["de"] = mmdbtype.String(de)
	}
	return m
}

// cityRec is a GeoIP2 City record; empty names leave their part out.
func cityRec(countryCode, country, city string, subdivisions ...string) mmdbtype.Map {
	m := mmdbtype.Map{
		"continent": mmdbtype.Map{"code": mmdbtype.String("EU"), "names": localized("Europe", "Europa")},
	}
	if country != "" {
		m["country"] = mmdbtype.Map{
			"iso_code":   mmdbtype.String(countryCode),
			"geoname_id": mmdbtype.Uint32(1),
			"names":      localized(country, "Land "+country),
		}
		m["registered_country"] = m["country"]
	}
	if city != "" {
		m["city"] = mmdbtype.Map{"geoname_id": mmdbtype.Uint32(2), "names": localized(city, "Stadt "+city)}
	}
	if len(subdivisions) > 0 {
		var s mmdbtype.Slice
		for _, name := range subdivisions {
			s = append(s, mmdbtype.Map{"iso_code": mmdbtype.String("X"), "names": localized(name, "")})
		}
		m["subdivisions"] = s
	}
	m["location"] = mmdbtype.Map{"latitude": mmdbtype.Float64(51.5), "longitude": mmdbtype.Float64(-0.1)}
	return m
}

func testCityDB(tb testing.TB) string {
	return writeMMDB(tb, "GeoIP2-City", map[string]mmdbtype.Map{
		"81.2.69.160/27":   cityRec("GB", "United Kingdom", "London", "England", "City of London"),
		"89.160.20.128/25": cityRec("SE", "Sweden", "Linköping", "Östergötland County"),
		"2.125.160.216/29": cityRec("GB", "United Kingdom", ""),
		"2001:218::/32":    cityRec("JP", "Japan", "Tokyo", "Tokyo"),
		"2a02:d300::/29":   cityRec("", "", ""), // continent only
		"175.16.199.0/24": {
			"city":    mmdbtype.Map{"names": localized("", "Changchun-de")}, // no English name
			"country": mmdbtype.Map{"iso_code": mmdbtype.String("CN"), "names": localized("China", "China")},
		},
	})
}

func ispRec(isp, org, asOrg string, asn uint32) mmdbtype.Map {
	m := mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(asn)}
	if isp != "" {
		m["isp"] = mmdbtype.String(isp)
	}
	if org != "" {
		m["organization"] = mmdbtype.String(org)
	}
	if asOrg != "" {
		m["autonomous_system_organization"] = mmdbtype.String(asOrg)
	}
	return m
}

func testISPDB(tb testing.TB) string {
	return writeMMDB(tb, "GeoIP2-ISP", map[string]mmdbtype.Map{
		"81.2.69.160/27":   ispRec("Andrews & Arnold Ltd", "STONEHOUSE office network", "Andrews & Arnold Ltd", 20712),
		"89.160.20.128/25": ispRec("Bredband2 AB", "", "Bredband2 AB ASO", 29518),
		"2001:218::/32":    ispRec("", "", "NTT Communications", 2914),
	})
}

func testASNDB(tb testing.TB) string {
	return writeMMDB(tb, "GeoLite2-ASN", map[string]mmdbtype.Map{
		"81.2.69.160/27": ispRec("", "", "Andrews & Arnold Ltd", 20712),
		"2001:218::/32":  ispRec("", "", "NTT Communications", 2914),
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

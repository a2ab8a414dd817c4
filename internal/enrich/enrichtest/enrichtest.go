// Package enrichtest holds test helpers that write MaxMind databases:
// GeoIP2 City and ISP (or GeoLite2 ASN) .mmdb files built with
// github.com/maxmind/mmdbwriter, for the tests of package enrich and of
// the commands that take --geoip-city and --geoip-isp. Nothing is
// downloaded.
package enrichtest

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// WriteMMDB builds a MaxMind database of type dbType (such as
// "GeoIP2-City", "GeoIP2-ISP" or "GeoLite2-ASN") holding records (by
// network in CIDR notation) and returns its path in a new temporary
// directory of tb.
func WriteMMDB(tb testing.TB, dbType string, records map[string]mmdbtype.Map) string {
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

// Localized is a GeoIP2 names map with an English and a German name;
// an empty name is left out.
func Localized(en, de string) mmdbtype.Map {
	m := mmdbtype.Map{}
	if en != "" {
		m["en"] = mmdbtype.String(en)
	}
	if de != "" {
		m["de"] = mmdbtype.String(de)
	}
	return m
}

// CityRecord is a GeoIP2 City record in Europe; empty names leave their
// part out.
func CityRecord(countryCode, country, city string, subdivisions ...string) mmdbtype.Map {
	m := mmdbtype.Map{
		"continent": mmdbtype.Map{"code": mmdbtype.String("EU"), "names": Localized("Europe", "Europa")},
	}
	if country != "" {
		m["country"] = mmdbtype.Map{
			"iso_code":   mmdbtype.String(countryCode),
			"geoname_id": mmdbtype.Uint32(1),
			"names":      Localized(country, "Land "+country),
		}
		m["registered_country"] = m["country"]
	}
	if city != "" {
		m["city"] = mmdbtype.Map{"geoname_id": mmdbtype.Uint32(2), "names": Localized(city, "Stadt "+city)}
	}
	if len(subdivisions) > 0 {
		var s mmdbtype.Slice
		for _, name := range subdivisions {
			s = append(s, mmdbtype.Map{"iso_code": mmdbtype.String("X"), "names": Localized(name, "")})
		}
		m["subdivisions"] = s
	}
	m["location"] = mmdbtype.Map{"latitude": mmdbtype.Float64(51.5), "longitude": mmdbtype.Float64(-0.1)}
	return m
}

// ISPRecord is a GeoIP2 ISP record (or, with isp and org empty, a GeoLite2
// ASN one); empty names leave their field out.
func ISPRecord(isp, org, asOrg string, asn uint32) mmdbtype.Map {
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
